package dev.portway.api.print;

import dev.portway.api.ResourceKind;
import dev.portway.api.Selectors;
import dev.portway.api.Times;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.policy.AccessPolicy;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The table columns and cells the API server serves for each kind ({@code kubectl get}, and
 * server-side printing: {@code Accept: application/json;as=Table;v=v1;g=meta.k8s.io}), as
 * kube-apiserver's {@code pkg/printers/internalversion/printers.go} defines them, cell for cell.
 * Portway's own {@code get} prints from the same columns, so the two cannot disagree.
 *
 * <p>Cells are computed as the API server does for tables (its {@code Wide} option on: nothing
 * is clipped); which columns a client shows is up to their {@link Column#priority()}: 0 always,
 * 1 with {@code -o wide}.
 */
public final class Tables {

    /**
     * A column as a {@code meta.k8s.io/v1} {@code TableColumnDefinition}.
     *
     * @param name     as the API server names it ({@code Cluster-IP}); kubectl prints it upper-cased
     * @param type     {@code string}, {@code integer}, {@code boolean}, ...
     * @param format   {@code name} for the object name column, else empty
     * @param priority 0: always shown; 1: only with {@code -o wide}
     */
    public record Column(String name, String type, String format, String description, int priority) {

        /** The header kubectl prints: the name upper-cased. */
        public String header() {
            return name.toUpperCase(java.util.Locale.ROOT);
        }
    }

    private static final String NAME_DOC = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
    private static final String AGE_DOC = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.";

    private static Column name() {
        return new Column("Name", "string", "name", NAME_DOC, 0);
    }

    private static Column age() {
        return new Column("Age", "string", "", AGE_DOC, 0);
    }

    private static Column col(String name, String type, String description) {
        return new Column(name, type, "", description, 0);
    }

    private static Column wide(String name, String type, String description) {
        return new Column(name, type, "", description, 1);
    }

    private static final java.util.Map<ResourceKind, List<Column>> COLUMNS = new java.util.EnumMap<>(ResourceKind.class);

    static {
        COLUMNS.put(ResourceKind.SERVICE, List.of(name(),
                col("Type", "string", "type determines how the Service is exposed."),
                col("Cluster-IP", "string", "clusterIP is the IP address of the service."),
                col("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
                col("Port(s)", "string", "The list of ports that are exposed by this service."),
                age(),
                wide("Selector", "string", "Route service traffic to pods with label keys and values matching this selector.")));
        COLUMNS.put(ResourceKind.POD, List.of(name(),
                col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
                col("Status", "string", "The aggregate status of the containers in this pod."),
                col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
                age(),
                wide("IP", "string", "podIP address allocated to the pod."),
                wide("Node", "string", "NodeName indicates in which node this pod is scheduled."),
                wide("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node."),
                wide("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.")));
        COLUMNS.put(ResourceKind.DEPLOYMENT, List.of(name(),
                col("Ready", "string", "Number of the pod with ready state"),
                col("Up-to-date", "integer", "Total number of non-terminating pods targeted by this deployment that have the desired template spec."),
                col("Available", "integer", "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment."),
                age(),
                wide("Containers", "string", "Names of each container in the template."),
                wide("Images", "string", "Images referenced by each container in the template."),
                wide("Selector", "string", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.")));
        COLUMNS.put(ResourceKind.REPLICA_SET, List.of(name(),
                col("Desired", "integer", "Replicas is the number of desired pods."),
                col("Current", "integer", "Replicas is the most recently observed number of non-terminating pods."),
                col("Ready", "integer", "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition."),
                age(),
                wide("Containers", "string", "Names of each container in the template."),
                wide("Images", "string", "Images referenced by each container in the template."),
                wide("Selector", "string", "Selector is a label query over pods that should match the replica count.")));
        COLUMNS.put(ResourceKind.NODE, List.of(name(),
                col("Status", "string", "The status of the node"),
                col("Roles", "string", "The roles of the node"),
                age(),
                col("Version", "string", "Kubelet Version reported by the node."),
                wide("Internal-IP", "string", "List of addresses reachable to the node."),
                wide("External-IP", "string", "List of addresses reachable to the node."),
                wide("OS-Image", "string", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
                wide("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
                wide("Container-Runtime", "string", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).")));
        COLUMNS.put(ResourceKind.ENDPOINT_SLICE, List.of(name(),
                col("AddressType", "string", "addressType specifies the type of address carried by this EndpointSlice."),
                col("Ports", "string", "ports specifies the list of network ports exposed by each endpoint in this slice."),
                col("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
                age()));
        COLUMNS.put(ResourceKind.NAMESPACE, List.of(name(), col("Status", "string", "The status of the namespace"), age()));
        COLUMNS.put(ResourceKind.CONFIG_MAP, List.of(name(),
                col("Data", "integer", "Data contains the configuration data."), age()));
        COLUMNS.put(ResourceKind.SECRET, List.of(name(),
                col("Type", "string", "Used to facilitate programmatic handling of secret data."),
                col("Data", "integer", "Data contains the secret data."), age()));
        COLUMNS.put(ResourceKind.EVENT, List.of(
                col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
                col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
                col("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
                col("Object", "string", "The object that this event is about."),
                wide("Subobject", "string", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]."),
                wide("Source", "string", "The component reporting this event. Should be a short machine understandable string."),
                col("Message", "string", "A human-readable description of the status of this operation."),
                wide("First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
                wide("Count", "string", "The number of times this event has occurred."),
                new Column("Name", "string", "name", NAME_DOC, 1)));
        // MetalLB's CRDs: their additionalPrinterColumns, then Age as the API server adds it
        COLUMNS.put(ResourceKind.IP_ADDRESS_POOL, List.of(name(),
                col("Auto Assign", "boolean", ""), col("Avoid Buggy IPs", "boolean", ""), col("Addresses", "string", ""), age(),
                wide("Assigned", "string", ""), wide("Available", "string", "")));
        COLUMNS.put(ResourceKind.L2_ADVERTISEMENT, List.of(name(), col("IPAddressPools", "string", ""), age()));
        // The Gateway API's CRDs (v1.6.1 standard): their additionalPrinterColumns, as the CRD table convertor serves them
        COLUMNS.put(ResourceKind.GATEWAY_CLASS, List.of(name(), col("Controller", "string", ""), col("Accepted", "string", ""),
                crdAge(), wide("Description", "string", "")));
        COLUMNS.put(ResourceKind.GATEWAY, List.of(name(), col("Class", "string", ""), col("Address", "string", ""),
                col("Programmed", "string", ""), crdAge()));
        COLUMNS.put(ResourceKind.HTTP_ROUTE, List.of(name(), col("Hostnames", "string", ""), crdAge()));
        COLUMNS.put(ResourceKind.REFERENCE_GRANT, List.of(name(), crdAge()));
        COLUMNS.put(ResourceKind.INGRESS, List.of(name(),
                col("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
                col("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
                col("Address", "string", "Address is a list containing ingress points for the load-balancer"),
                col("Ports", "string", "Ports of TLS configurations that open"),
                age()));
        // Portway's AccessPolicy, printed as a CRD with these additionalPrinterColumns would be
        COLUMNS.put(ResourceKind.ACCESS_POLICY, List.of(name(), col("Targets", "string", "The routes and Ingresses the policy names"),
                col("Accepted", "string", ""), crdAge()));
        COLUMNS.put(ResourceKind.INGRESS_CLASS, List.of(name(),
                col("Controller", "string", "Controller that is responsible for handling this class"),
                col("Parameters", "string", "A reference to a resource with additional parameters"),
                age()));
    }

    /** A CRD's {@code Age} printer column: {@code type: date}, no description. */
    private static Column crdAge() {
        return new Column("Age", "date", "", "", 0);
    }

    private final Clock clock;

    public Tables(Clock clock) {
        this.clock = clock;
    }

    /** The columns of a kind, wide ones included. */
    public static List<Column> columns(ResourceKind kind) {
        return COLUMNS.getOrDefault(kind, List.of(name(), age()));
    }

    /** The headers kubectl prints for a kind, with or without {@code -o wide}. */
    public static List<String> headers(ResourceKind kind, boolean wide) {
        return columns(kind).stream().filter(c -> wide || c.priority() == 0).map(Column::header).toList();
    }

    /** The cells of an object's row as the API server computes them: strings, longs and booleans, one per column. */
    public List<Object> cells(HasMetadata o) {
        List<String> text = row(o);
        List<Column> columns = columns(ResourceKind.of(o));
        List<Object> cells = new ArrayList<>(text.size());
        for (int i = 0; i < text.size(); i++) {
            String type = i < columns.size() ? columns.get(i).type() : "string";
            String t = text.get(i);
            cells.add(switch (type) {
                case "integer" -> parseLongOr(t);
                case "boolean" -> "true".equals(t) ? Boolean.TRUE : "false".equals(t) ? (Object) Boolean.FALSE : t;
                default -> t;
            });
        }
        return cells;
    }

    private static Object parseLongOr(String t) {
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            return t;
        }
    }

    /** The cells as kubectl prints them, with or without {@code -o wide}. */
    public List<String> printed(HasMetadata o, boolean wide) {
        List<String> text = row(o);
        List<Column> columns = columns(ResourceKind.of(o));
        List<String> shown = new ArrayList<>();
        for (int i = 0; i < text.size(); i++) {
            if (wide || i >= columns.size() || columns.get(i).priority() == 0) {
                shown.add(text.get(i));
            }
        }
        return shown;
    }

    private List<String> row(HasMetadata o) {
        return switch (o) {
            case Service s -> service(s);
            case Pod p -> pod(p);
            case Deployment d -> deployment(d);
            case ReplicaSet rs -> replicaSet(rs);
            case Node n -> node(n);
            case EndpointSlice es -> endpointSlice(es);
            case Namespace ns -> List.of(ns.getMetadata().getName(),
                    ns.getStatus() == null || ns.getStatus().getPhase() == null ? "" : ns.getStatus().getPhase(), age(o));
            case ConfigMap cm -> List.of(cm.getMetadata().getName(),
                    Integer.toString(size(cm.getData()) + size(cm.getBinaryData())), age(o));
            case Secret s -> List.of(s.getMetadata().getName(), nz(s.getType()), Integer.toString(size(s.getData())), age(o));
            case Event e -> event(e);
            case IPAddressPool p -> pool(p);
            case dev.portway.api.metallb.L2Advertisement ad -> List.of(ad.getMetadata().getName(),
                    ad.getSpec() == null || ad.getSpec().getIpAddressPools().isEmpty() ? "" : "[\"" + String.join("\",\"", ad.getSpec().getIpAddressPools()) + "\"]", age(ad));
            case io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass gc -> List.of(gc.getMetadata().getName(),
                    gc.getSpec() == null ? "" : nz(gc.getSpec().getControllerName()),
                    gc.getStatus() == null ? "" : conditionStatus(gc.getStatus().getConditions(), "Accepted"), age(gc),
                    gc.getSpec() == null ? "" : nz(gc.getSpec().getDescription()));
            case io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway gw -> List.of(gw.getMetadata().getName(),
                    gw.getSpec() == null ? "" : nz(gw.getSpec().getGatewayClassName()),
                    gw.getStatus() == null || list(gw.getStatus().getAddresses()).isEmpty() ? ""
                            : nz(gw.getStatus().getAddresses().getFirst().getValue()),
                    gw.getStatus() == null ? "" : conditionStatus(gw.getStatus().getConditions(), "Programmed"), age(gw));
            case io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute r -> List.of(r.getMetadata().getName(),
                    r.getSpec() == null || list(r.getSpec().getHostnames()).isEmpty() ? ""
                            : dev.portway.api.GoValues.json(r.getSpec().getHostnames()), age(r));
            case io.fabric8.kubernetes.api.model.networking.v1.Ingress ing -> ingress(ing);
            case io.fabric8.kubernetes.api.model.networking.v1.IngressClass ic -> ingressClass(ic);
            case AccessPolicy p -> List.of(p.getMetadata().getName(), p.getSpec() == null ? ""
                            : String.join(",", p.getSpec().getTargetRefs().stream().map(t -> t.getKind() + "/" + t.getName()).toList()),
                    p.getStatus() == null ? "" : conditionStatus(p.getStatus().getConditions(), "Accepted"), age(p));
            default -> List.of(o.getMetadata().getName(), age(o));
        };
    }

    /** A CRD column {@code .status.conditions[?(@.type=="T")].status}: empty when there is no such condition. */
    private static String conditionStatus(List<io.fabric8.kubernetes.api.model.Condition> conditions, String type) {
        for (var c : list(conditions)) {
            if (type.equals(c.getType())) {
                return nz(c.getStatus());
            }
        }
        return "";
    }

    /** kubectl's printIngress: class, up to three hosts, addresses (not clipped in server tables), ports. */
    private List<String> ingress(io.fabric8.kubernetes.api.model.networking.v1.Ingress ing) {
        var spec = ing.getSpec();
        String className = spec == null || spec.getIngressClassName() == null ? "<none>" : spec.getIngressClassName();
        List<String> hosts = new ArrayList<>();
        boolean more = false;
        var rules = spec == null ? List.<io.fabric8.kubernetes.api.model.networking.v1.IngressRule>of() : list(spec.getRules());
        for (var rule : rules) {
            if (hosts.size() == 3) {
                more = true;
            }
            if (!more && !nz(rule.getHost()).isEmpty()) {
                hosts.add(rule.getHost());
            }
        }
        String hostText = hosts.isEmpty() ? "*" : String.join(",", hosts) + (more ? " + " + (rules.size() - 3) + " more..." : "");
        TreeSet<String> addresses = new TreeSet<>();
        if (ing.getStatus() != null && ing.getStatus().getLoadBalancer() != null) {
            for (var in : list(ing.getStatus().getLoadBalancer().getIngress())) {
                if (!nz(in.getIp()).isEmpty()) {
                    addresses.add(in.getIp());
                } else if (!nz(in.getHostname()).isEmpty()) {
                    addresses.add(in.getHostname());
                }
            }
        }
        String ports = spec != null && !list(spec.getTls()).isEmpty() ? "80, 443" : "80";
        return List.of(ing.getMetadata().getName(), className, hostText, String.join(",", addresses), ports, age(ing));
    }

    private List<String> ingressClass(io.fabric8.kubernetes.api.model.networking.v1.IngressClass ic) {
        String parameters = "<none>";
        var p = ic.getSpec() == null ? null : ic.getSpec().getParameters();
        if (p != null) {
            parameters = nz(p.getKind()) + (p.getApiGroup() != null ? "." + p.getApiGroup() : "") + "/" + nz(p.getName());
        }
        return List.of(ic.getMetadata().getName(), ic.getSpec() == null ? "" : nz(ic.getSpec().getController()), parameters, age(ic));
    }

    private List<String> event(Event e) {
        String first = e.getFirstTimestamp() == null || e.getFirstTimestamp().isEmpty()
                ? (e.getEventTime() == null || e.getEventTime().getTime() == null ? "<unknown>" : since(e.getEventTime().getTime()))
                : since(e.getFirstTimestamp());
        String last = e.getLastTimestamp() == null || e.getLastTimestamp().isEmpty() ? first : since(e.getLastTimestamp());
        int count = e.getCount() == null || e.getCount() == 0 ? 1 : e.getCount();
        if (e.getSeries() != null) {
            last = e.getSeries().getLastObservedTime() == null ? "<unknown>" : since(e.getSeries().getLastObservedTime().getTime());
            count = e.getSeries().getCount() == null ? count : e.getSeries().getCount();
        }
        var involved = e.getInvolvedObject();
        String kind = involved == null ? "" : nz(involved.getKind()).toLowerCase(java.util.Locale.ROOT);
        String target = involved != null && !nz(involved.getName()).isEmpty() ? kind + "/" + involved.getName() : kind;
        return List.of(last, nz(e.getType()), nz(e.getReason()), target, involved == null ? "" : nz(involved.getFieldPath()),
                source(e), nz(e.getMessage()).strip(), first, Integer.toString(count), e.getMetadata().getName());
    }

    /** {@code formatEventSource}: "component, host", or the reporting controller and instance. */
    private static String source(Event e) {
        var s = e.getSource();
        String component = s == null ? "" : nz(s.getComponent());
        String host = s == null ? "" : nz(s.getHost());
        if (component.isEmpty()) {
            component = nz(e.getReportingComponent());
            host = nz(e.getReportingInstance());
        }
        return host.isEmpty() ? component : component + ", " + host;
    }

    private List<String> service(Service s) {
        var spec = s.getSpec();
        String clusterIp = spec.getClusterIPs() == null || spec.getClusterIPs().isEmpty() ? "<none>" : spec.getClusterIPs().getFirst();
        StringBuilder ports = new StringBuilder();
        for (ServicePort p : list(spec.getPorts())) {
            if (!ports.isEmpty()) {
                ports.append(',');
            }
            ports.append(p.getPort());
            if (p.getNodePort() != null && p.getNodePort() > 0) {
                ports.append(':').append(p.getNodePort());
            }
            ports.append('/').append(p.getProtocol());
        }
        List<String> row = new ArrayList<>(List.of(s.getMetadata().getName(), nz(spec.getType()), clusterIp, externalIp(s),
                ports.isEmpty() ? "<none>" : ports.toString(), age(s)));
        {
            row.add(spec.getSelector() == null || spec.getSelector().isEmpty() ? "<none>" : Selectors.format(spec.getSelector()));
        }
        return row;
    }

    private String externalIp(Service s) {
        var spec = s.getSpec();
        List<String> externalIps = list(spec.getExternalIPs());
        switch (nz(spec.getType())) {
            case "ClusterIP", "NodePort" -> {
                return externalIps.isEmpty() ? "<none>" : String.join(",", externalIps);
            }
            case "LoadBalancer" -> {
                TreeSet<String> ingress = new TreeSet<>();
                if (s.getStatus() != null && s.getStatus().getLoadBalancer() != null) {
                    for (LoadBalancerIngress in : list(s.getStatus().getLoadBalancer().getIngress())) {
                        if (in.getIp() != null && !in.getIp().isEmpty()) {
                            ingress.add(in.getIp());
                        } else if (in.getHostname() != null && !in.getHostname().isEmpty()) {
                            ingress.add(in.getHostname());
                        }
                    }
                }
                String lb = String.join(",", ingress);
                if (!externalIps.isEmpty()) {
                    List<String> all = new ArrayList<>();
                    if (!lb.isEmpty()) {
                        all.addAll(List.of(lb.split(",")));
                    }
                    all.addAll(externalIps);
                    return String.join(",", all);
                }
                return lb.isEmpty() ? "<pending>" : lb;
            }
            case "ExternalName" -> {
                return nz(spec.getExternalName());
            }
            default -> {
                return "<unknown>";
            }
        }
    }

    private List<String> pod(Pod pod) {
        // kubectl's printPod: sidecars (init containers with restartPolicy Always) count among the containers
        java.util.Set<String> sidecars = new java.util.HashSet<>();
        for (var c : list(pod.getSpec().getInitContainers())) {
            if (dev.portway.api.PodContainers.isSidecar(c)) {
                sidecars.add(c.getName());
            }
        }
        int total = list(pod.getSpec().getContainers()).size() + sidecars.size();
        int ready = 0;
        int restarts = 0;
        int sidecarRestarts = 0;
        Instant lastRestart = null;
        Instant lastSidecarRestart = null;
        String phase = pod.getStatus() == null ? "" : nz(pod.getStatus().getPhase());
        String reason = pod.getStatus() != null && pod.getStatus().getReason() != null && !pod.getStatus().getReason().isEmpty()
                ? pod.getStatus().getReason() : phase;
        if (pod.getStatus() != null && list(pod.getStatus().getConditions()).stream()
                .anyMatch((PodCondition c) -> "PodScheduled".equals(c.getType()) && "SchedulingGated".equals(c.getReason()))) {
            reason = "SchedulingGated";
        }
        // init containers first: the first one not done names the status
        boolean initializing = false;
        List<ContainerStatus> initStatuses = pod.getStatus() == null ? List.of() : list(pod.getStatus().getInitContainerStatuses());
        int initTotal = list(pod.getSpec().getInitContainers()).size();
        for (int i = 0; i < initStatuses.size(); i++) {
            ContainerStatus c = initStatuses.get(i);
            int count = c.getRestartCount() == null ? 0 : c.getRestartCount();
            restarts += count;
            lastRestart = latestRestart(c, lastRestart);
            boolean sidecar = sidecars.contains(c.getName());
            if (sidecar) {
                sidecarRestarts += count;
                lastSidecarRestart = latestRestart(c, lastSidecarRestart);
            }
            var state = c.getState();
            if (state != null && state.getTerminated() != null && Integer.valueOf(0).equals(state.getTerminated().getExitCode())) {
                continue;
            }
            if (sidecar && Boolean.TRUE.equals(c.getStarted())) {
                if (Boolean.TRUE.equals(c.getReady())) {
                    ready++;
                }
                continue;
            }
            if (state != null && state.getTerminated() != null) {
                var t = state.getTerminated();
                reason = !nz(t.getReason()).isEmpty() ? "Init:" + t.getReason()
                        : t.getSignal() != null && t.getSignal() != 0 ? "Init:Signal:" + t.getSignal() : "Init:ExitCode:" + t.getExitCode();
            } else if (state != null && state.getWaiting() != null && !nz(state.getWaiting().getReason()).isEmpty()
                    && !state.getWaiting().getReason().equals("PodInitializing")) {
                reason = "Init:" + state.getWaiting().getReason();
            } else {
                reason = "Init:" + i + "/" + initTotal;
            }
            initializing = true;
            break;
        }
        boolean initialized = pod.getStatus() != null && list(pod.getStatus().getConditions()).stream()
                .anyMatch((PodCondition c) -> "Initialized".equals(c.getType()) && "True".equals(c.getStatus()));
        if (!initializing || initialized) {
            restarts = sidecarRestarts;
            lastRestart = lastSidecarRestart;
            boolean hasRunning = false;
            List<ContainerStatus> statuses = pod.getStatus() == null ? List.of() : list(pod.getStatus().getContainerStatuses());
            for (int i = statuses.size() - 1; i >= 0; i--) {
                ContainerStatus c = statuses.get(i);
                restarts += c.getRestartCount() == null ? 0 : c.getRestartCount();
                lastRestart = latestRestart(c, lastRestart);
                var state = c.getState();
                if (state != null && state.getWaiting() != null && !nz(state.getWaiting().getReason()).isEmpty()) {
                    reason = state.getWaiting().getReason();
                } else if (state != null && state.getTerminated() != null && !nz(state.getTerminated().getReason()).isEmpty()) {
                    reason = state.getTerminated().getReason();
                } else if (state != null && state.getTerminated() != null) {
                    var t = state.getTerminated();
                    reason = t.getSignal() != null && t.getSignal() != 0 ? "Signal:" + t.getSignal() : "ExitCode:" + t.getExitCode();
                } else if (Boolean.TRUE.equals(c.getReady()) && state != null && state.getRunning() != null) {
                    hasRunning = true;
                    ready++;
                }
            }
            if (reason.equals("Completed") && hasRunning) {
                boolean podReady = pod.getStatus() != null && list(pod.getStatus().getConditions()).stream()
                        .anyMatch((PodCondition c) -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
                reason = podReady ? "Running" : "NotReady";
            }
        }
        if (pod.getMetadata().getDeletionTimestamp() != null && pod.getStatus() != null && "NodeLost".equals(pod.getStatus().getReason())) {
            reason = "Unknown";
        } else if (pod.getMetadata().getDeletionTimestamp() != null && !phase.equals("Succeeded") && !phase.equals("Failed")) {
            reason = "Terminating";
        }
        String restartsText = Integer.toString(restarts);
        if (restarts != 0 && lastRestart != null) {
            restartsText = restarts + " (" + HumanDuration.format(Duration.between(lastRestart, clock.instant())) + " ago)";
        }
        List<String> row = new ArrayList<>(List.of(pod.getMetadata().getName(), ready + "/" + total, reason, restartsText, age(pod)));
        {
            String ip = pod.getStatus() == null || pod.getStatus().getPodIPs() == null || pod.getStatus().getPodIPs().isEmpty()
                    ? "<none>" : pod.getStatus().getPodIPs().getFirst().getIp();
            String node = pod.getSpec().getNodeName() == null || pod.getSpec().getNodeName().isEmpty() ? "<none>" : pod.getSpec().getNodeName();
            String nominated = pod.getStatus() == null || nz(pod.getStatus().getNominatedNodeName()).isEmpty()
                    ? "<none>" : pod.getStatus().getNominatedNodeName();
            var gates = pod.getSpec().getReadinessGates();
            row.addAll(List.of(ip, node, nominated, gates == null || gates.isEmpty() ? "<none>" : readinessGates(pod)));
        }
        return row;
    }

    /** The later of {@code latest} and when {@code c}'s last run ended. */
    private static Instant latestRestart(ContainerStatus c, Instant latest) {
        if (c.getLastState() != null && c.getLastState().getTerminated() != null) {
            Instant finished = Times.parse(c.getLastState().getTerminated().getFinishedAt());
            if (finished != null && (latest == null || latest.isBefore(finished))) {
                return finished;
            }
        }
        return latest;
    }

    private List<String> deployment(Deployment d) {
        var status = d.getStatus();
        int desired = d.getSpec().getReplicas() == null ? 0 : d.getSpec().getReplicas();
        int readyReplicas = status == null || status.getReadyReplicas() == null ? 0 : status.getReadyReplicas();
        int updated = status == null || status.getUpdatedReplicas() == null ? 0 : status.getUpdatedReplicas();
        int available = status == null || status.getAvailableReplicas() == null ? 0 : status.getAvailableReplicas();
        List<String> row = new ArrayList<>(List.of(d.getMetadata().getName(), readyReplicas + "/" + desired,
                Integer.toString(updated), Integer.toString(available), age(d)));
        {
            row.addAll(containerCells(d.getSpec().getTemplate().getSpec().getContainers()));
            row.add(Selectors.format(d.getSpec().getSelector()));
        }
        return row;
    }

    private List<String> replicaSet(ReplicaSet rs) {
        var status = rs.getStatus();
        List<String> row = new ArrayList<>(List.of(rs.getMetadata().getName(),
                Integer.toString(rs.getSpec().getReplicas() == null ? 0 : rs.getSpec().getReplicas()),
                Integer.toString(status == null || status.getReplicas() == null ? 0 : status.getReplicas()),
                Integer.toString(status == null || status.getReadyReplicas() == null ? 0 : status.getReadyReplicas()), age(rs)));
        {
            row.addAll(containerCells(rs.getSpec().getTemplate().getSpec().getContainers()));
            String selector = Selectors.format(rs.getSpec().getSelector());
            row.add(selector.isEmpty() ? "<none>" : selector);
        }
        return row;
    }

    private static List<String> containerCells(List<Container> containers) {
        List<String> names = new ArrayList<>();
        List<String> images = new ArrayList<>();
        for (Container c : list(containers)) {
            names.add(c.getName());
            images.add(c.getImage());
        }
        return List.of(String.join(",", names), String.join(",", images));
    }

    private List<String> node(Node n) {
        List<String> status = new ArrayList<>();
        if (n.getStatus() != null) {
            for (NodeCondition c : list(n.getStatus().getConditions())) {
                if ("Ready".equals(c.getType())) {
                    status.add("True".equals(c.getStatus()) ? "Ready" : "NotReady");
                }
            }
        }
        if (status.isEmpty()) {
            status.add("Unknown");
        }
        if (n.getSpec() != null && Boolean.TRUE.equals(n.getSpec().getUnschedulable())) {
            status.add("SchedulingDisabled");
        }
        TreeSet<String> roles = new TreeSet<>();
        Map<String, String> labels = n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
        labels.forEach((k, v) -> {
            if (k.startsWith("node-role.kubernetes.io/") && k.length() > "node-role.kubernetes.io/".length()) {
                roles.add(k.substring("node-role.kubernetes.io/".length()));
            } else if (k.equals("kubernetes.io/role") && !v.isEmpty()) {
                roles.add(v);
            }
        });
        var info = n.getStatus() == null ? null : n.getStatus().getNodeInfo();
        List<String> row = new ArrayList<>(List.of(n.getMetadata().getName(), String.join(",", status),
                roles.isEmpty() ? "<none>" : String.join(",", roles), age(n), info == null ? "" : nz(info.getKubeletVersion())));
        {
            row.add(nodeAddress(n, "InternalIP"));
            row.add(nodeAddress(n, "ExternalIP"));
            row.add(info == null || nz(info.getOsImage()).isEmpty() ? "<unknown>" : info.getOsImage());
            row.add(info == null || nz(info.getKernelVersion()).isEmpty() ? "<unknown>" : info.getKernelVersion());
            row.add(info == null || nz(info.getContainerRuntimeVersion()).isEmpty() ? "<unknown>" : info.getContainerRuntimeVersion());
        }
        return row;
    }

    private static String nodeAddress(Node n, String type) {
        if (n.getStatus() != null) {
            for (NodeAddress a : list(n.getStatus().getAddresses())) {
                if (type.equals(a.getType())) {
                    return a.getAddress();
                }
            }
        }
        return "<none>";
    }

    private List<String> endpointSlice(EndpointSlice es) {
        List<String> ports = new ArrayList<>();
        int portCount = 0;
        for (EndpointPort p : list(es.getPorts())) {
            if (ports.size() < 3) {
                ports.add(p.getPort() != null ? p.getPort().toString() : p.getName() != null ? p.getName() : "*");
            }
            portCount++;
        }
        List<String> addresses = new ArrayList<>();
        int addressCount = 0;
        for (Endpoint e : list(es.getEndpoints())) {
            for (String a : list(e.getAddresses())) {
                if (addresses.size() < 3) {
                    addresses.add(a);
                }
                addressCount++;
            }
        }
        return List.of(es.getMetadata().getName(), nz(es.getAddressType()), withMore(ports, portCount),
                withMore(addresses, addressCount), age(es));
    }

    private static String withMore(List<String> shown, int count) {
        String joined = String.join(",", shown);
        if (count > shown.size()) {
            return joined + " + " + (count - shown.size()) + " more...";
        }
        return joined.isEmpty() ? "<unset>" : joined;
    }

    private List<String> pool(IPAddressPool p) {
        var spec = p.getSpec();
        List<String> row = new ArrayList<>(List.of(p.getMetadata().getName(),
                Boolean.toString(spec == null || !Boolean.FALSE.equals(spec.getAutoAssign())),
                Boolean.toString(spec != null && Boolean.TRUE.equals(spec.getAvoidBuggyIPs())),
                spec == null ? "" : "[\"" + String.join("\",\"", spec.getAddresses()) + "\"]", age(p)));
        {
            var status = p.getStatus();
            row.add(status == null || status.getAssignedIPv4() == null ? "0" : status.getAssignedIPv4().toString());
            row.add(status == null || status.getAvailableIPv4() == null ? "0" : status.getAvailableIPv4().toString());
        }
        return row;
    }

    public String age(HasMetadata o) {
        String ts = o.getMetadata().getCreationTimestamp();
        return ts == null || ts.isEmpty() ? "<unknown>" : since(ts);
    }

    private String since(String timestamp) {
        Instant t = Times.parse(timestamp);
        return t == null ? "<unknown>" : HumanDuration.format(Duration.between(t, clock.instant()));
    }

    /** {@code N/M}: how many of the pod's readiness gates have their condition True. */
    private static String readinessGates(Pod pod) {
        var gates = pod.getSpec().getReadinessGates();
        int ok = 0;
        for (var g : gates) {
            boolean met = pod.getStatus() != null && list(pod.getStatus().getConditions()).stream()
                    .anyMatch(c -> g.getConditionType().equals(c.getType()) && "True".equals(c.getStatus()));
            if (met) {
                ok++;
            }
        }
        return ok + "/" + gates.size();
    }

    private static int size(Map<?, ?> m) {
        return m == null ? 0 : m.size();
    }

    private static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : l;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
