package dev.portway.plan;

import dev.portway.api.ServiceAnnotations;
import dev.portway.api.validation.ServiceValidation;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Derives the data plane's {@link Plan} from the store, as kube-proxy derives its rules: each
 * Service port becomes a cluster of its EndpointSlices' endpoints and listeners at the ClusterIP,
 * the external IPs, every node's NodePort and the LoadBalancer addresses; Gateways and Ingresses
 * become L7 listeners ({@link GatewayPlans}) whose backends are those clusters.
 */
public final class PlanBuilder {

    private static final Logger log = LoggerFactory.getLogger(PlanBuilder.class);

    /** Annotations that tune the data plane for one Service: {@link ServiceAnnotations}. */

    /** How the LoadBalancer checks nodes: out of rotation within about a second, back as fast. */
    static final Duration CHECK_INTERVAL = Duration.ofMillis(500);
    static final Duration CHECK_TIMEOUT = Duration.ofMillis(400);

    private final Store store;
    private final int nodeHealthPort;
    private long version;
    private final Set<String> warned = new HashSet<>();
    /** Each Service's part of the last plan, by namespace/name. */
    private Map<String, Fragment> fragments = Map.of();
    private int lastListeners;
    private int lastClusters;
    /** {@link #slices()}: null until the first build. */
    private Map<String, List<EndpointSlice>> slicesByService;

    private final IngressPorts ingressPorts;

    public PlanBuilder(Store store, int nodeHealthPort) {
        this(store, nodeHealthPort, IngressPorts.DEFAULT);
    }

    public PlanBuilder(Store store, int nodeHealthPort, IngressPorts ingressPorts) {
        this.store = store;
        this.nodeHealthPort = nodeHealthPort;
        this.ingressPorts = ingressPorts;
    }

    private record NodeInfo(String name, String ip, boolean ready) {
    }

    /**
     * The EndpointSlices of each Service ({@code namespace/name}), in the store's order (by name),
     * kept up to date from the store's events after a first full read, so that a build does not
     * list and group every slice of the cluster. Each Service's list is replaced, never changed, when
     * one of its slices changes: a Service whose slices did not change has the same list as before.
     */
    private Map<String, List<EndpointSlice>> slices() {
        if (slicesByService == null) {
            // the first build, on the thread that commits to the store: no change can come in between
            slicesByService = new HashMap<>();
            store.watch(this::sliceEvents);
            Map<String, java.util.TreeMap<String, EndpointSlice>> all = new HashMap<>();
            for (EndpointSlice slice : store.list(EndpointSlice.class)) {
                String svc = serviceOf(slice);
                if (svc != null) {
                    all.computeIfAbsent(svc, k -> new java.util.TreeMap<>()).put(slice.getMetadata().getName(), slice);
                }
            }
            all.forEach((svc, byName) -> slicesByService.put(svc, List.copyOf(byName.values())));
        }
        return slicesByService;
    }

    private void sliceEvents(List<dev.portway.store.WatchEvent> events) {
        for (dev.portway.store.WatchEvent e : events) {
            if (e.kind() != dev.portway.api.ResourceKind.ENDPOINT_SLICE) {
                continue;
            }
            if (e.old() instanceof EndpointSlice old && serviceOf(old) != null) {
                changeSlice(serviceOf(old), old.getMetadata().getName(), null);
            }
            if (e.type() != dev.portway.store.WatchEvent.Type.DELETED && e.object() instanceof EndpointSlice now && serviceOf(now) != null) {
                changeSlice(serviceOf(now), now.getMetadata().getName(), now);
            }
        }
    }

    /** Replaces (or with null removes) one slice in its Service's list. */
    private void changeSlice(String service, String name, EndpointSlice slice) {
        java.util.TreeMap<String, EndpointSlice> byName = new java.util.TreeMap<>();
        for (EndpointSlice s : slicesByService.getOrDefault(service, List.of())) {
            byName.put(s.getMetadata().getName(), s);
        }
        if (slice == null) {
            byName.remove(name);
        } else {
            byName.put(name, slice);
        }
        if (byName.isEmpty()) {
            slicesByService.remove(service);
        } else {
            slicesByService.put(service, List.copyOf(byName.values()));
        }
    }

    private static String serviceOf(EndpointSlice slice) {
        Map<String, String> labels = slice.getMetadata().getLabels();
        String svc = labels == null ? null : labels.get("kubernetes.io/service-name");
        return svc == null ? null : slice.getMetadata().getNamespace() + "/" + svc;
    }

    public Plan build() {
        List<NodeInfo> nodes = new ArrayList<>();
        for (Node n : store.list(Node.class)) {
            String ip = internalIp(n);
            if (ip != null) {
                nodes.add(new NodeInfo(n.getMetadata().getName(), ip, isReady(n)));
            }
        }
        Map<String, List<EndpointSlice>> slices = slices();
        // sized as the last plan was: thousands of Services make these large, and regrowing them costs
        List<Plan.Listener> listeners = new ArrayList<>(lastListeners + 16);
        Map<String, Plan.Cluster> clusters = LinkedHashMap.newLinkedHashMap(lastClusters + 16);
        List<Plan.HealthServer> health = new ArrayList<>();
        Set<Plan.ListenerKey> taken = HashSet.newHashSet(lastListeners + 16);
        for (NodeInfo n : nodes) {
            health.add(new Plan.HealthServer(new InetSocketAddress(n.ip, nodeHealthPort), n.name, null, 0));
        }
        Map<String, Fragment> built = HashMap.newHashMap(fragments.size() + 16);
        for (Service svc : store.list(Service.class)) {
            String service = svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName();
            List<EndpointSlice> svcSlices = slices.getOrDefault(service, List.of());
            Fragment f = fragments.get(service);
            if (f == null || !f.isFor(svc, svcSlices, nodes)) {
                f = fragment(svc, service, svcSlices, nodes);
            }
            built.put(service, f);
            for (Plan.Listener l : f.listeners()) {
                add(listeners, taken, l);
            }
            for (Plan.Cluster c : f.clusters()) {
                clusters.put(c.name(), c);
            }
            health.addAll(f.health());
        }
        fragments = built;
        lastListeners = listeners.size();
        lastClusters = clusters.size();
        return new Plan(++version, listeners, clusters, health, GatewayPlans.build(store, clusters, ingressPorts));
    }

    /**
     * What one Service adds to the plan, kept from one build to the next: a change to one Service
     * or its slices among thousands rebuilds its own fragment, and the others are the same objects
     * as in the last plan (so the data plane's diff finds them unchanged at a glance).
     *
     * @param service the Service object it was built from (stored objects are replaced, never changed)
     * @param slices  its EndpointSlices, the same way
     * @param nodes   the nodes it was built for
     */
    private record Fragment(Service service, List<EndpointSlice> slices, List<NodeInfo> nodes, List<Plan.Listener> listeners,
                            List<Plan.Cluster> clusters, List<Plan.HealthServer> health) {

        boolean isFor(Service svc, List<EndpointSlice> svcSlices, List<NodeInfo> currentNodes) {
            if (service != svc || !nodes.equals(currentNodes)) {
                return false;
            }
            if (slices == svcSlices) {
                return true;
            }
            if (slices.size() != svcSlices.size()) {
                return false;
            }
            for (int i = 0; i < slices.size(); i++) {
                if (slices.get(i) != svcSlices.get(i)) {
                    return false;
                }
            }
            return true;
        }
    }

    private Fragment fragment(Service svc, String service, List<EndpointSlice> svcSlices, List<NodeInfo> nodes) {
        List<Plan.Listener> listeners = new ArrayList<>();
        List<Plan.Cluster> clusters = new ArrayList<>();
        List<Plan.HealthServer> health = new ArrayList<>();
        var spec = svc.getSpec();
        if (ServiceValidation.EXTERNAL_NAME.equals(spec.getType()) || spec.getClusterIP() == null
                || spec.getClusterIP().isEmpty()) {
            return new Fragment(svc, List.copyOf(svcSlices), nodes, List.of(), List.of(), List.of());
        }
        // a headless Service has no address of its own, but the L7 gateway sends to its endpoints as to any Service's
        boolean headless = ServiceValidation.isHeadless(spec);
        boolean local = "Local".equals(spec.getExternalTrafficPolicy());
        Map<String, Set<String>> localByNode = new LinkedHashMap<>();
        for (ServicePort sp : spec.getPorts()) {
            Plan.Protocol protocol;
            if ("TCP".equals(sp.getProtocol())) {
                protocol = Plan.Protocol.TCP;
            } else if ("UDP".equals(sp.getProtocol())) {
                protocol = Plan.Protocol.UDP;
            } else {
                continue; // SCTP: refused with a warning when applied
            }
            String portId = sp.getPort() + "/" + sp.getProtocol();
            List<Plan.Endpoint> endpoints = endpoints(svcSlices, sp);
            for (Plan.Endpoint e : endpoints) {
                if (e.ready() && e.nodeName() != null) {
                    localByNode.computeIfAbsent(e.nodeName(), k -> new HashSet<>()).add(e.address().getAddress().getHostAddress());
                }
            }
            Plan.Cluster cluster = new Plan.Cluster(service + ":" + portId, service, protocol, endpoints,
                    ServiceAnnotations.random(svc) ? Plan.Balancer.RANDOM : Plan.Balancer.ROUND_ROBIN,
                    affinity(svc), ServiceAnnotations.proxyProtocol(svc), ServiceAnnotations.drainTimeout(svc),
                    ServiceAnnotations.udpIdleTimeout(svc), ServiceAnnotations.tcpIdleTimeout(svc),
                    ServiceAnnotations.maxConnections(svc), null);
            clusters.add(cluster);
            if (headless) {
                continue;
            }
            boolean anyUsable = cluster.hasUsableEndpoints(null);
            listeners.add(new Plan.Listener(key(protocol, spec.getClusterIP(), sp.getPort()), Plan.Role.CLUSTER_IP, service,
                    cluster.name(), null, null, false, Plan.Source.CLIENT, List.of(), anyUsable));
            for (String externalIp : spec.getExternalIPs() == null ? List.<String>of() : spec.getExternalIPs()) {
                listeners.add(new Plan.Listener(key(protocol, externalIp, sp.getPort()), Plan.Role.EXTERNAL_IP, service,
                        cluster.name(), null, null, false, Plan.Source.CLIENT, List.of(), anyUsable));
            }
            int nodePort = sp.getNodePort() == null ? 0 : sp.getNodePort();
            if (nodePort > 0) {
                for (NodeInfo n : nodes) {
                    listeners.add(new Plan.Listener(key(protocol, n.ip, nodePort), Plan.Role.NODE_PORT, service,
                            cluster.name(), n.name, n.ip, local, local ? Plan.Source.CLIENT : Plan.Source.NODE, List.of(),
                            cluster.hasUsableEndpoints(local ? n.name : null)));
                }
            }
            if ("LoadBalancer".equals(spec.getType())) {
                addLoadBalancer(svc, sp, protocol, cluster, nodes, local, listeners, clusters);
            }
        }
        if (ServiceValidation.needsHealthCheck(spec) && spec.getHealthCheckNodePort() != null) {
            for (NodeInfo n : nodes) {
                health.add(new Plan.HealthServer(new InetSocketAddress(n.ip, spec.getHealthCheckNodePort()), n.name, service,
                        localByNode.getOrDefault(n.name, Set.of()).size()));
            }
        }
        return new Fragment(svc, List.copyOf(svcSlices), nodes, List.copyOf(listeners), List.copyOf(clusters), List.copyOf(health));
    }

    private void addLoadBalancer(Service svc, ServicePort sp, Plan.Protocol protocol, Plan.Cluster podCluster, List<NodeInfo> nodes,
                                 boolean local, List<Plan.Listener> listeners, List<Plan.Cluster> clusters) {
        var spec = svc.getSpec();
        String service = podCluster.service();
        List<String> ips = new ArrayList<>();
        if (svc.getStatus() != null && svc.getStatus().getLoadBalancer() != null && svc.getStatus().getLoadBalancer().getIngress() != null) {
            for (LoadBalancerIngress in : svc.getStatus().getLoadBalancer().getIngress()) {
                if (in.getIp() != null && !in.getIp().isEmpty()) {
                    ips.add(in.getIp());
                }
            }
        }
        if (ips.isEmpty()) {
            return;
        }
        List<String> sourceRanges = new ArrayList<>();
        if (spec.getLoadBalancerSourceRanges() != null) {
            spec.getLoadBalancerSourceRanges().forEach(r -> sourceRanges.add(r.trim()));
        } else if (svc.getMetadata().getAnnotations() != null
                && svc.getMetadata().getAnnotations().get(ServiceValidation.SOURCE_RANGES_ANNOTATION) != null) {
            for (String r : svc.getMetadata().getAnnotations().get(ServiceValidation.SOURCE_RANGES_ANNOTATION).split(",")) {
                if (!r.isBlank()) {
                    sourceRanges.add(r.trim());
                }
            }
        }
        int nodePort = sp.getNodePort() == null ? 0 : sp.getNodePort();
        Plan.Cluster target;
        if (nodePort == 0) {
            // allocateLoadBalancerNodePorts: false: the load balancer goes straight to the pods.
            target = podCluster;
        } else {
            Plan.HealthCheck check = local && spec.getHealthCheckNodePort() != null
                    ? new Plan.HealthCheck(spec.getHealthCheckNodePort(), "/", CHECK_INTERVAL, CHECK_TIMEOUT, 1, 2)
                    : new Plan.HealthCheck(nodeHealthPort, "/healthz", CHECK_INTERVAL, CHECK_TIMEOUT, 1, 2);
            List<Plan.Endpoint> nodeEndpoints = new ArrayList<>();
            for (NodeInfo n : nodes) {
                boolean expected = n.ready && (!local || podCluster.hasUsableEndpoints(n.name));
                nodeEndpoints.add(new Plan.Endpoint(new InetSocketAddress(n.ip, nodePort), n.name, n.name, expected, expected, false));
            }
            target = new Plan.Cluster("lb:" + podCluster.name(), service, protocol, nodeEndpoints, podCluster.balancer(),
                    podCluster.affinityTimeout(), false, podCluster.drainTimeout(), podCluster.udpIdleTimeout(),
                    podCluster.tcpIdleTimeout(), podCluster.maxConnections(), check);
            clusters.add(target);
        }
        boolean active = podCluster.hasUsableEndpoints(null);
        for (String ip : ips) {
            listeners.add(new Plan.Listener(key(protocol, ip, sp.getPort()), Plan.Role.LOAD_BALANCER, service,
                    target.name(), null, null, false, Plan.Source.CLIENT, sourceRanges, active));
        }
    }

    private void add(List<Plan.Listener> listeners, Set<Plan.ListenerKey> taken, Plan.Listener listener) {
        if (taken.add(listener.key())) {
            listeners.add(listener);
        } else if (warned.add(listener.service() + " " + listener.key())) {
            log.warn("{} wants {}, which another Service already has; not listening for it", listener.service(), listener.key());
        }
    }

    /** The endpoints of one Service port: the slices' ports of the same name and protocol. */
    static List<Plan.Endpoint> endpoints(List<EndpointSlice> slices, ServicePort sp) {
        List<Plan.Endpoint> endpoints = new ArrayList<>();
        String name = sp.getName() == null ? "" : sp.getName();
        for (EndpointSlice slice : slices) {
            if (!"IPv4".equals(slice.getAddressType())) {
                continue;
            }
            for (EndpointPort port : slice.getPorts() == null ? List.<EndpointPort>of() : slice.getPorts()) {
                String portName = port.getName() == null ? "" : port.getName();
                if (!portName.equals(name) || !Objects.equals(port.getProtocol() == null ? "TCP" : port.getProtocol(), sp.getProtocol())
                        || port.getPort() == null) {
                    continue;
                }
                for (Endpoint e : slice.getEndpoints() == null ? List.<Endpoint>of() : slice.getEndpoints()) {
                    if (e.getAddresses() == null || e.getAddresses().isEmpty()) {
                        continue;
                    }
                    var c = e.getConditions();
                    boolean ready = c == null || c.getReady() == null || c.getReady();
                    boolean serving = c == null || c.getServing() == null ? ready : c.getServing();
                    boolean terminating = c != null && Boolean.TRUE.equals(c.getTerminating());
                    String target = e.getTargetRef() == null ? e.getAddresses().getFirst() : e.getTargetRef().getName();
                    endpoints.add(new Plan.Endpoint(new InetSocketAddress(e.getAddresses().getFirst(), port.getPort()), e.getNodeName(),
                            target, ready, serving, terminating));
                }
            }
        }
        return endpoints;
    }

    private static Duration affinity(Service svc) {
        var spec = svc.getSpec();
        if (!"ClientIP".equals(spec.getSessionAffinity())) {
            return null;
        }
        Integer seconds = spec.getSessionAffinityConfig() == null || spec.getSessionAffinityConfig().getClientIP() == null
                ? null : spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
        return Duration.ofSeconds(seconds == null ? 10800 : seconds);
    }

    private static Plan.ListenerKey key(Plan.Protocol protocol, String ip, int port) {
        return new Plan.ListenerKey(protocol, new InetSocketAddress(ip, port));
    }

    private static String internalIp(Node n) {
        if (n.getStatus() == null || n.getStatus().getAddresses() == null) {
            return null;
        }
        for (NodeAddress a : n.getStatus().getAddresses()) {
            if ("InternalIP".equals(a.getType())) {
                return a.getAddress();
            }
        }
        return null;
    }

    private static boolean isReady(Node n) {
        if (n.getStatus() == null || n.getStatus().getConditions() == null) {
            return false;
        }
        for (NodeCondition c : n.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus());
            }
        }
        return false;
    }
}
