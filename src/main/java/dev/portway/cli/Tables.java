package dev.portway.cli;

import dev.portway.api.ResourceKind;
import dev.portway.api.Selectors;
import dev.portway.api.Times;
import dev.portway.api.metallb.IPAddressPool;
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
 * The table columns and cells {@code kubectl get} prints for each kind
 * ({@code pkg/printers/internalversion/printers.go}), cell for cell.
 */
final class Tables {

    private static final int LOAD_BALANCER_WIDTH = 16;

    private final Clock clock;
    private final boolean wide;

    Tables(Clock clock, boolean wide) {
        this.clock = clock;
        this.wide = wide;
    }

    List<String> headers(ResourceKind kind) {
        List<String> h = new ArrayList<>(switch (kind) {
            case SERVICE -> List.of("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE");
            case POD -> List.of("NAME", "READY", "STATUS", "RESTARTS", "AGE");
            case DEPLOYMENT -> List.of("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE");
            case REPLICA_SET -> List.of("NAME", "DESIRED", "CURRENT", "READY", "AGE");
            case NODE -> List.of("NAME", "STATUS", "ROLES", "AGE", "VERSION");
            case ENDPOINT_SLICE -> List.of("NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE");
            case NAMESPACE -> List.of("NAME", "STATUS", "AGE");
            case CONFIG_MAP -> List.of("NAME", "DATA", "AGE");
            case SECRET -> List.of("NAME", "TYPE", "DATA", "AGE");
            case EVENT -> List.of("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE");
            case IP_ADDRESS_POOL -> List.of("NAME", "AUTO ASSIGN", "AVOID BUGGY IPS", "ADDRESSES", "AGE");
            case L2_ADVERTISEMENT -> List.of("NAME", "IPADDRESSPOOLS", "AGE");
        });
        if (wide) {
            h.addAll(switch (kind) {
                case SERVICE -> List.of("SELECTOR");
                case POD -> List.of("IP", "NODE", "NOMINATED NODE", "READINESS GATES");
                case DEPLOYMENT, REPLICA_SET -> List.of("CONTAINERS", "IMAGES", "SELECTOR");
                case NODE -> List.of("INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME");
                case IP_ADDRESS_POOL -> List.of("ASSIGNED", "AVAILABLE");
                default -> List.of();
            });
        }
        return h;
    }

    List<String> row(HasMetadata o) {
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
            case Event e -> List.of(e.getLastTimestamp() == null ? "<unknown>" : since(e.getLastTimestamp()), nz(e.getType()),
                    nz(e.getReason()), e.getInvolvedObject().getKind().toLowerCase() + "/" + e.getInvolvedObject().getName(),
                    nz(e.getMessage()).strip());
            case IPAddressPool p -> pool(p);
            case dev.portway.api.metallb.L2Advertisement ad -> List.of(ad.getMetadata().getName(),
                    ad.getSpec() == null || ad.getSpec().getIpAddressPools().isEmpty() ? "" : "[\"" + String.join("\",\"", ad.getSpec().getIpAddressPools()) + "\"]", age(ad));
            default -> List.of(o.getMetadata().getName(), age(o));
        };
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
        if (wide) {
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
                if (!wide && lb.length() > LOAD_BALANCER_WIDTH) {
                    lb = lb.substring(0, LOAD_BALANCER_WIDTH - 3) + "...";
                }
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
        int total = list(pod.getSpec().getContainers()).size();
        int ready = 0;
        int restarts = 0;
        Instant lastRestart = null;
        String phase = pod.getStatus() == null ? "" : nz(pod.getStatus().getPhase());
        String reason = pod.getStatus() != null && pod.getStatus().getReason() != null && !pod.getStatus().getReason().isEmpty()
                ? pod.getStatus().getReason() : phase;
        boolean hasRunning = false;
        // init containers first, as kubectl's printPod: the first one not done names the status
        boolean initializing = false;
        List<ContainerStatus> initStatuses = pod.getStatus() == null ? List.of() : list(pod.getStatus().getInitContainerStatuses());
        int initTotal = list(pod.getSpec().getInitContainers()).size();
        for (int i = 0; i < initStatuses.size(); i++) {
            ContainerStatus c = initStatuses.get(i);
            restarts += c.getRestartCount() == null ? 0 : c.getRestartCount();
            lastRestart = latestRestart(c, lastRestart);
            var state = c.getState();
            if (state != null && state.getTerminated() != null && Integer.valueOf(0).equals(state.getTerminated().getExitCode())) {
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
        List<ContainerStatus> statuses = List.of();
        if (!initializing || initialized) {
            statuses = pod.getStatus() == null ? List.of() : list(pod.getStatus().getContainerStatuses());
            restarts = 0;
            lastRestart = null;
        }
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
        if (pod.getMetadata().getDeletionTimestamp() != null && !phase.equals("Succeeded") && !phase.equals("Failed")) {
            reason = "Terminating";
        }
        String restartsText = Integer.toString(restarts);
        if (restarts != 0 && lastRestart != null) {
            restartsText = restarts + " (" + HumanDuration.format(Duration.between(lastRestart, clock.instant())) + " ago)";
        }
        List<String> row = new ArrayList<>(List.of(pod.getMetadata().getName(), ready + "/" + total, reason, restartsText, age(pod)));
        if (wide) {
            String ip = pod.getStatus() == null || pod.getStatus().getPodIPs() == null || pod.getStatus().getPodIPs().isEmpty()
                    ? "<none>" : pod.getStatus().getPodIPs().getFirst().getIp();
            String node = pod.getSpec().getNodeName() == null || pod.getSpec().getNodeName().isEmpty() ? "<none>" : pod.getSpec().getNodeName();
            String nominated = pod.getStatus() == null || nz(pod.getStatus().getNominatedNodeName()).isEmpty()
                    ? "<none>" : pod.getStatus().getNominatedNodeName();
            row.addAll(List.of(ip, node, nominated, "<none>"));
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
        if (wide) {
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
        if (wide) {
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
        if (wide) {
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
        if (wide) {
            var status = p.getStatus();
            row.add(status == null || status.getAssignedIPv4() == null ? "0" : status.getAssignedIPv4().toString());
            row.add(status == null || status.getAvailableIPv4() == null ? "0" : status.getAvailableIPv4().toString());
        }
        return row;
    }

    String age(HasMetadata o) {
        String ts = o.getMetadata().getCreationTimestamp();
        return ts == null || ts.isEmpty() ? "<unknown>" : since(ts);
    }

    private String since(String timestamp) {
        Instant t = Times.parse(timestamp);
        return t == null ? "<unknown>" : HumanDuration.format(Duration.between(t, clock.instant()));
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
