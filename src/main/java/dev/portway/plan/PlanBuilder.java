package dev.portway.plan;

import dev.portway.api.ServiceAnnotations;
import dev.portway.api.validation.Names;
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
import java.util.Comparator;
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
 * become L7 listeners ({@link GatewayPlans}) whose backends are those clusters. In local mode, a
 * pod's {@code hostPort}s become listeners on its node's address, as the CNI portmap plugin maps them.
 */
public final class PlanBuilder {

    private static final Logger log = LoggerFactory.getLogger(PlanBuilder.class);

    /** How the LoadBalancer checks nodes: out of rotation within about a second, back as fast. */
    static final Duration CHECK_INTERVAL = Duration.ofMillis(500);
    static final Duration CHECK_TIMEOUT = Duration.ofMillis(400);
    /** The label that keeps a node out of every load balancer's targets (Kubernetes' well-known label, GA in 1.21). */
    static final String EXCLUDE_FROM_LOAD_BALANCERS = "node.kubernetes.io/exclude-from-external-load-balancers";

    private final Store store;
    private final int nodeHealthPort;
    private final Set<String> warned = new HashSet<>();
    /** {@link #slices()}: null until the first build. */
    private Map<String, List<EndpointSlice>> slicesByService;
    /** The Services ({@code namespace/name}) whose fragments the next build looks at again: those the store's events touched. */
    private final Set<String> dirty = new HashSet<>();
    /** The nodes the fragments were built for; null before the first build. */
    private List<NodeInfo> lastNodes;

    /** The pods ({@code namespace/name}) with host ports, now or before, whose part the next build looks at again. */
    private final Set<String> dirtyPods = new HashSet<>();
    /** Whether the pods with host ports were read once (after the store's events are followed). */
    private boolean podsRead;

    // The plan as it stands, kept from one build to the next and changed one Service at a time.
    /** Each Service's part of the plan, by {@code namespace/name}. */
    private final Map<String, Fragment> fragments = new HashMap<>();
    /** Each pod's host ports' part of the plan, by {@code namespace/name}. */
    private final Map<String, PodFragment> podFragments = new HashMap<>();
    private final Map<String, Plan.Cluster> clusters = new HashMap<>();
    /** The listener each address goes to: of the Services that want it, the first in the store's order. */
    private final Map<Plan.ListenerKey, Plan.Listener> listeners = new HashMap<>();
    /** Every claim on an address more than one listener wants, in the order they were made. */
    private final Map<Plan.ListenerKey, List<Plan.Listener>> contested = new HashMap<>();
    private final Map<String, List<Plan.HealthServer>> healthByService = new java.util.TreeMap<>();
    /** What this build touched, each with its value before the build (null: it was not there). */
    private final Map<String, Plan.Cluster> clustersBefore = new HashMap<>();
    private final Map<Plan.ListenerKey, Plan.Listener> listenersBefore = new HashMap<>();
    /** The externalIPs listeners left out of the last plan because a Gateway or Ingress listens there. */
    private Set<Plan.ListenerKey> shadowedBefore = Set.of();
    private Plan last = Plan.empty();
    private Plan.Changes changes = new Plan.Changes(0, Map.of(), Map.of());
    /** A build failed halfway: the kept plan was thrown away, and the next changes cannot be trusted. */
    private boolean rebuilt;

    private final IngressPorts ingressPorts;
    /**
     * Only the LoadBalancer addresses' listeners: in a real cluster, kube-proxy serves the
     * ClusterIPs, the external IPs, the NodePorts and the health check node ports.
     */
    private final boolean loadBalancersOnly;

    public PlanBuilder(Store store, int nodeHealthPort) {
        this(store, nodeHealthPort, IngressPorts.DEFAULT);
    }

    public PlanBuilder(Store store, int nodeHealthPort, IngressPorts ingressPorts) {
        this(store, nodeHealthPort, ingressPorts, false);
    }

    private PlanBuilder(Store store, int nodeHealthPort, IngressPorts ingressPorts, boolean loadBalancersOnly) {
        this.store = store;
        this.nodeHealthPort = nodeHealthPort;
        this.ingressPorts = ingressPorts;
        this.loadBalancersOnly = loadBalancersOnly;
    }

    /**
     * A builder for Portway as a real cluster's LoadBalancer implementation: listeners at the
     * LoadBalancer addresses only, each balancing to the nodes' NodePorts (kube-proxy's), with
     * the nodes checked at {@code nodeHealthPort}'s {@code /healthz} (kube-proxy's 10256), or at a
     * Service's {@code healthCheckNodePort} with the Local traffic policy.
     */
    public static PlanBuilder loadBalancersOnly(Store store, int nodeHealthPort) {
        return new PlanBuilder(store, nodeHealthPort, IngressPorts.DEFAULT, true);
    }

    /**
     * A node as the plan needs it.
     *
     * @param excluded labelled {@code node.kubernetes.io/exclude-from-external-load-balancers}: no
     *                 load balancer sends to it, as cloud load balancers and MetalLB leave it out
     */
    private record NodeInfo(String name, String ip, boolean ready, boolean excluded) {
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
            store.watch(this::changed);
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

    /** Follows the slices, and notes the Services whose part of the plan may have changed. */
    private void changed(List<dev.portway.store.WatchEvent> events) {
        for (dev.portway.store.WatchEvent e : events) {
            if (e.kind() == dev.portway.api.ResourceKind.SERVICE) {
                dirty.add(e.object().getMetadata().getNamespace() + "/" + e.object().getMetadata().getName());
            }
            if (e.kind() == dev.portway.api.ResourceKind.POD && (hasHostPorts(e.old()) || hasHostPorts(e.object()))) {
                dirtyPods.add(e.object().getMetadata().getNamespace() + "/" + e.object().getMetadata().getName());
            }
            if (e.kind() != dev.portway.api.ResourceKind.ENDPOINT_SLICE) {
                continue;
            }
            if (e.old() instanceof EndpointSlice old && serviceOf(old) != null) {
                dirty.add(serviceOf(old));
                changeSlice(serviceOf(old), old.getMetadata().getName(), null);
            }
            if (e.type() != dev.portway.store.WatchEvent.Type.DELETED && e.object() instanceof EndpointSlice now && serviceOf(now) != null) {
                dirty.add(serviceOf(now));
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

    /**
     * The plan for the store as it is now. Only the Services the store's events touched since the
     * last build are looked at again (every Service when the nodes changed); when nothing differs
     * from the last plan, the last plan itself is returned. {@link #changes()} tells what differs.
     */
    public Plan build() {
        try {
            return buildChanges();
        } catch (RuntimeException | Error e) {
            // Part of the plan may have been changed and part not: start again from nothing, and
            // tell the data plane to diff the next plan whole (changes from a version no plan has).
            fragments.clear();
            podFragments.clear();
            podsRead = false;
            clusters.clear();
            listeners.clear();
            contested.clear();
            healthByService.clear();
            lastNodes = null;
            rebuilt = true;
            throw e;
        }
    }

    private Plan buildChanges() {
        List<NodeInfo> nodes = new ArrayList<>();
        for (Node n : store.list(Node.class)) {
            String ip = internalIp(n);
            if (ip != null) {
                nodes.add(new NodeInfo(n.getMetadata().getName(), ip, isReady(n), excludedFromLoadBalancers(n)));
            }
        }
        Map<String, List<EndpointSlice>> slices = slices();
        clustersBefore.clear();
        listenersBefore.clear();
        boolean nodesChanged = !nodes.equals(lastNodes);
        if (nodesChanged) {
            // the nodes are part of every Service's fragment: look at them all
            Set<String> gone = new HashSet<>(fragments.keySet());
            for (Service svc : store.list(Service.class)) {
                String service = svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName();
                gone.remove(service);
                refresh(service, svc, slices, nodes);
            }
            for (String service : gone) {
                refresh(service, null, slices, nodes);
            }
            lastNodes = nodes;
        } else {
            for (String service : dirty) {
                int slash = service.indexOf('/');
                refresh(service, store.get(Service.class, service.substring(0, slash), service.substring(slash + 1)).orElse(null), slices, nodes);
            }
        }
        dirty.clear();
        if (!loadBalancersOnly) {
            if (!podsRead || nodesChanged) {
                for (io.fabric8.kubernetes.api.model.Pod p : store.list(io.fabric8.kubernetes.api.model.Pod.class)) {
                    if (hasHostPorts(p)) {
                        dirtyPods.add(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName());
                    }
                }
                dirtyPods.addAll(podFragments.keySet());
                podsRead = true;
            }
            for (String pod : dirtyPods) {
                int slash = pod.indexOf('/');
                refreshPod(pod, store.get(io.fabric8.kubernetes.api.model.Pod.class, pod.substring(0, slash), pod.substring(slash + 1))
                        .orElse(null), nodes);
            }
        }
        dirtyPods.clear();

        List<Plan.HealthServer> health = new ArrayList<>();
        for (NodeInfo n : loadBalancersOnly ? List.<NodeInfo>of() : nodes) {
            health.add(new Plan.HealthServer(new InetSocketAddress(n.ip, nodeHealthPort), n.name, null, 0));
        }
        healthByService.values().forEach(health::addAll);
        List<Plan.HttpListener> http = GatewayPlans.build(store, clusters, ingressPorts);
        Map<String, Plan.Cluster> changedClusters = changed(clustersBefore, clusters);
        Map<Plan.ListenerKey, Plan.Listener> changedListeners = changed(listenersBefore, listeners);
        Set<Plan.ListenerKey> shadowed = shadowed(http, health);
        for (Plan.ListenerKey key : shadowed) {
            if (changedListeners.containsKey(key) || !shadowedBefore.contains(key)) {
                changedListeners.put(key, null);
            }
        }
        for (Plan.ListenerKey key : shadowedBefore) {
            if (!shadowed.contains(key)) {
                changedListeners.put(key, listeners.get(key)); // the Gateway went: the Service's listener comes back
            }
        }
        shadowedBefore = shadowed;
        if (!rebuilt && changedClusters.isEmpty() && changedListeners.isEmpty() && health.equals(last.healthServers())
                && http.equals(last.httpListeners())) {
            changes = new Plan.Changes(last.version(), Map.of(), Map.of());
            return last;
        }
        List<Plan.Listener> planned = new ArrayList<>(listeners.size());
        for (Plan.Listener l : listeners.values()) {
            if (!shadowed.contains(l.key())) {
                planned.add(l);
            }
        }
        Plan plan = new Plan(last.version() + 1, planned, clusters, health, http);
        changes = new Plan.Changes(rebuilt ? -1 : last.version(), changedClusters, changedListeners);
        rebuilt = false;
        last = plan;
        return plan;
    }

    /**
     * What the last {@link #build} changed, against the plan before it: the clusters and the
     * L4 listeners that were added, changed or removed. The health servers and the L7 listeners
     * are few, and are always taken whole from the plan.
     */
    public Plan.Changes changes() {
        return changes;
    }

    /** Rebuilds one Service's fragment if its Service, slices or nodes changed; a null Service takes its fragment away. */
    private void refresh(String service, Service svc, Map<String, List<EndpointSlice>> slices, List<NodeInfo> nodes) {
        Fragment old = fragments.get(service);
        List<EndpointSlice> svcSlices = slices.getOrDefault(service, List.of());
        if (svc != null && old != null && old.isFor(svc, svcSlices, nodes)) {
            return;
        }
        if (old != null) {
            withdraw(service, old);
        }
        if (svc == null) {
            fragments.remove(service);
            return;
        }
        Fragment f = fragment(svc, service, svcSlices, nodes);
        fragments.put(service, f);
        place(f.clusters(), f.listeners());
        if (!f.health().isEmpty()) {
            healthByService.put(service, f.health());
        }
    }

    private void withdraw(String service, Fragment f) {
        retract(f.clusters(), f.listeners());
        healthByService.remove(service);
    }

    /** Puts a fragment's clusters into the plan and claims its listeners' addresses. */
    private void place(List<Plan.Cluster> fragmentClusters, List<Plan.Listener> fragmentListeners) {
        for (Plan.Cluster c : fragmentClusters) {
            touch(clustersBefore, clusters, c.name());
            clusters.put(c.name(), c);
        }
        fragmentListeners.forEach(this::claim);
    }

    /** Takes a fragment's clusters out of the plan and gives up its listeners' claims. */
    private void retract(List<Plan.Cluster> fragmentClusters, List<Plan.Listener> fragmentListeners) {
        for (Plan.Cluster c : fragmentClusters) {
            touch(clustersBefore, clusters, c.name());
            clusters.remove(c.name());
        }
        fragmentListeners.forEach(this::unclaim);
    }

    /** Rebuilds one pod's host port listeners if the pod or the nodes changed; a null pod takes them away. */
    private void refreshPod(String key, io.fabric8.kubernetes.api.model.Pod pod, List<NodeInfo> nodes) {
        PodFragment old = podFragments.get(key);
        if (pod != null && old != null && old.pod() == pod && old.nodes().equals(nodes)) {
            return;
        }
        if (old != null) {
            retract(old.clusters(), old.listeners());
            podFragments.remove(key);
        }
        if (pod == null || !hasHostPorts(pod)) {
            return;
        }
        PodFragment f = hostPorts(pod, key, nodes);
        podFragments.put(key, f);
        place(f.clusters(), f.listeners());
    }

    /** Whether {@code o} is a pod that asks for a port on its node's address. */
    private static boolean hasHostPorts(Object o) {
        return o instanceof io.fabric8.kubernetes.api.model.Pod pod && pod.getSpec() != null
                && !dev.portway.api.PodContainers.hostPorts(pod.getSpec()).isEmpty();
    }

    /**
     * A pod's host ports, as the CNI portmap plugin maps them: each {@code hostPort} on its node's
     * address (the {@code hostIP}, which may only be that address, or unset) to the pod's own
     * address and container port, the client's address kept. Nothing for a pod not yet on a node,
     * on the node's own network (its process binds the port itself), or done; a pod with no
     * address yet gets its listeners closed (refused), as its sandbox does not exist yet.
     */
    private PodFragment hostPorts(io.fabric8.kubernetes.api.model.Pod pod, String key, List<NodeInfo> nodes) {
        String nodeName = pod.getSpec().getNodeName();
        NodeInfo node = nodes.stream().filter(n -> n.name().equals(nodeName)).findFirst().orElse(null);
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if (node == null || Boolean.TRUE.equals(pod.getSpec().getHostNetwork()) || "Succeeded".equals(phase) || "Failed".equals(phase)) {
            return new PodFragment(pod, nodes, List.of(), List.of());
        }
        String podIp = pod.getStatus() == null || pod.getStatus().getPodIP() == null || pod.getStatus().getPodIP().isEmpty()
                ? null : pod.getStatus().getPodIP();
        List<Plan.Listener> listeners = new ArrayList<>();
        List<Plan.Cluster> clusters = new ArrayList<>();
        for (io.fabric8.kubernetes.api.model.ContainerPort p : dev.portway.api.PodContainers.hostPorts(pod.getSpec())) {
            if (p.getContainerPort() == null) {
                continue;
            }
            Plan.Protocol protocol = "UDP".equals(p.getProtocol()) ? Plan.Protocol.UDP
                    : p.getProtocol() == null || "TCP".equals(p.getProtocol()) ? Plan.Protocol.TCP : null;
            if (protocol == null) {
                continue; // SCTP
            }
            String asked = p.getHostIP() == null ? "" : p.getHostIP();
            // an address literal only: a name here would be looked up on every build (validation takes any string)
            String hostIp = asked.isEmpty() || (Names.isIp(asked) && isWildcard(asked)) ? node.ip() : asked;
            if (!hostIp.equals(node.ip())) {
                // an address that is not the node's could be another Service's or a Gateway's: not taken from them
                if (warned.add("hostIP " + key + " " + hostIp + ":" + p.getHostPort())) {
                    log.warn("pod {} asks for host port {} on {}, which is not its node's address ({}); not listening there",
                            key, p.getHostPort(), hostIp, node.ip());
                }
                continue;
            }
            List<Plan.Endpoint> endpoints = podIp == null ? List.of() : List.of(new Plan.Endpoint(
                    new InetSocketAddress(podIp, p.getContainerPort()), nodeName, pod.getMetadata().getName(), true, true, false));
            Plan.Cluster cluster = new Plan.Cluster("hostport:" + key + ":" + hostIp + ":" + p.getHostPort() + "/" + protocol.name(),
                    key, protocol, endpoints, Plan.Balancer.ROUND_ROBIN, null, false, ServiceAnnotations.DEFAULT_DRAIN,
                    ServiceAnnotations.DEFAULT_UDP_IDLE, ServiceAnnotations.DEFAULT_TCP_IDLE, ServiceAnnotations.DEFAULT_MAX_CONNECTIONS, null);
            clusters.add(cluster);
            listeners.add(new Plan.Listener(key(protocol, hostIp, p.getHostPort()), Plan.Role.HOST_PORT, key, cluster.name(), nodeName,
                    node.ip(), false, Plan.Source.CLIENT, List.of(), podIp != null));
        }
        return new PodFragment(pod, nodes, List.copyOf(listeners), List.copyOf(clusters));
    }

    /** A pod's host ports' part of the plan, kept while the pod object and the nodes are the same. */
    private record PodFragment(io.fabric8.kubernetes.api.model.Pod pod, List<NodeInfo> nodes, List<Plan.Listener> listeners,
                               List<Plan.Cluster> clusters) {
    }

    /** Remembers what {@code key} held before this build's first change to it (null: nothing). */
    private static <K, V> void touch(Map<K, V> before, Map<K, V> now, K key) {
        if (!before.containsKey(key)) {
            before.put(key, now.get(key));
        }
    }

    /**
     * The addresses a Gateway or Ingress listens on that a Service only names in
     * {@code externalIPs} (or a pod as a host port): the gateway keeps them (an address it was handed out), and the
     * Service's listener is left out of the plan while it does. Warns once about each.
     */
    private Set<Plan.ListenerKey> shadowed(List<Plan.HttpListener> http, List<Plan.HealthServer> health) {
        Set<Plan.ListenerKey> shadowed = new HashSet<>();
        for (Plan.HealthServer h : health) {
            // a node's health check ports (kube-proxy's, a Service's healthCheckNodePort) are the load balancers': no pod answers them
            Plan.ListenerKey key = new Plan.ListenerKey(Plan.Protocol.TCP, h.address());
            Plan.Listener l = listeners.get(key);
            if (l != null && l.role() == Plan.Role.HOST_PORT) {
                shadowed.add(key);
                if (warned.add("health " + l.service() + " " + key)) {
                    log.warn("{} asks for host port {}, a health check port of its node; not listening for it", l.service(), key);
                }
            }
        }
        for (Plan.HttpListener h : http) {
            Plan.Listener l = listeners.get(h.key());
            if (l != null && (l.role() == Plan.Role.EXTERNAL_IP || l.role() == Plan.Role.HOST_PORT)) {
                shadowed.add(h.key());
                if (warned.add("shadowed " + l.service() + " " + h.key())) {
                    log.warn("{} names {} in {}, where {} listens; not listening for it", l.service(), h.key(),
                            l.role() == Plan.Role.HOST_PORT ? "a hostPort" : "externalIPs", h.owner());
                }
            }
        }
        return shadowed.isEmpty() ? Set.of() : shadowed;
    }

    /** Of the keys touched, those whose value differs now, each with its value now (null: gone). */
    private static <K, V> Map<K, V> changed(Map<K, V> before, Map<K, V> now) {
        Map<K, V> changed = new HashMap<>();
        before.forEach((key, was) -> {
            V is = now.get(key);
            if (!Objects.equals(was, is)) {
                changed.put(key, is);
            }
        });
        return changed;
    }

    /** A Service's listener wants its address: it gets it unless a Service before it in the store's order has it. */
    private void claim(Plan.Listener listener) {
        Plan.ListenerKey key = listener.key();
        touch(listenersBefore, listeners, key);
        Plan.Listener holder = listeners.get(key);
        if (holder == null) {
            listeners.put(key, listener);
            return;
        }
        List<Plan.Listener> claims = contested.computeIfAbsent(key, k -> new ArrayList<>(List.of(holder)));
        claims.add(listener);
        award(key, claims);
    }

    private void unclaim(Plan.Listener listener) {
        Plan.ListenerKey key = listener.key();
        touch(listenersBefore, listeners, key);
        List<Plan.Listener> claims = contested.get(key);
        if (claims == null) {
            listeners.remove(key);
            return;
        }
        claims.remove(listener);
        if (claims.size() == 1) {
            contested.remove(key);
        }
        award(key, claims);
    }

    /**
     * Gives a contested address to an address Portway handed out (a ClusterIP, a NodePort on a
     * node, a LoadBalancer address) before one a Service only names in {@code externalIPs} or a
     * pod asks for as a host port, then to the first in the store's order; warns once about each
     * other claim. A Service cannot take another's address by listing it in {@code externalIPs}
     * (CVE-2020-8554's interception) and sorting first, nor a pod a NodePort.
     */
    private void award(Plan.ListenerKey key, List<Plan.Listener> claims) {
        Comparator<Plan.Listener> precedence = Comparator.comparing((Plan.Listener l) -> l.role() == Plan.Role.EXTERNAL_IP
                        || l.role() == Plan.Role.HOST_PORT)
                .thenComparing(Plan.Listener::service).thenComparing(Plan.Listener::role);
        Plan.Listener winner = claims.getFirst();
        for (Plan.Listener l : claims) {
            if (precedence.compare(l, winner) < 0) {
                winner = l;
            }
        }
        listeners.put(key, winner);
        for (Plan.Listener l : claims) {
            if (l != winner && warned.add(l.service() + " " + key)) {
                log.warn("{} wants {}, which {} already has; not listening for it", l.service(), key, winner.service());
            }
        }
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
            if (loadBalancersOnly) {
                if ("LoadBalancer".equals(spec.getType())) {
                    addLoadBalancer(svc, sp, protocol, cluster, nodes, local, listeners, clusters);
                }
                continue;
            }
            boolean anyUsable = cluster.hasUsableEndpoints(null);
            listeners.add(new Plan.Listener(key(protocol, spec.getClusterIP(), sp.getPort()), Plan.Role.CLUSTER_IP, service,
                    cluster.name(), null, null, false, Plan.Source.CLIENT, List.of(), anyUsable));
            for (String externalIp : spec.getExternalIPs() == null ? List.<String>of() : spec.getExternalIPs()) {
                // kube-proxy masquerades traffic to external destinations under the Cluster policy; an external IP here has
                // no node, so its own address stands for the node's
                listeners.add(new Plan.Listener(key(protocol, externalIp, sp.getPort()), Plan.Role.EXTERNAL_IP, service,
                        cluster.name(), null, local ? null : externalIp, false, local ? Plan.Source.CLIENT : Plan.Source.NODE,
                        List.of(), anyUsable));
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
        if (!loadBalancersOnly && ServiceValidation.needsHealthCheck(spec) && spec.getHealthCheckNodePort() != null) {
            for (NodeInfo n : nodes) {
                health.add(new Plan.HealthServer(new InetSocketAddress(n.ip, spec.getHealthCheckNodePort()), n.name, service,
                        localByNode.getOrDefault(n.name, Set.of()).size()));
            }
        }
        return new Fragment(svc, List.copyOf(svcSlices), nodes, List.copyOf(listeners), List.copyOf(clusters), List.copyOf(health));
    }

    /**
     * Whether listening on {@code ip} would listen on every interface: judged on the address Java
     * makes of it, as the listener is made ({@code ::ffff:0.0.0.0} and {@code ::0.0.0.0} are
     * 0.0.0.0 and :: there, whatever their bytes look like).
     */
    private static boolean isWildcard(String ip) {
        java.net.InetAddress a = new InetSocketAddress(ip, 0).getAddress();
        return a != null && (a.isAnyLocalAddress() || a.isMulticastAddress());
    }

    private void addLoadBalancer(Service svc, ServicePort sp, Plan.Protocol protocol, Plan.Cluster podCluster, List<NodeInfo> nodes,
                                 boolean local, List<Plan.Listener> listeners, List<Plan.Cluster> clusters) {
        var spec = svc.getSpec();
        String service = podCluster.service();
        List<String> ips = new ArrayList<>();
        if (svc.getStatus() != null && svc.getStatus().getLoadBalancer() != null && svc.getStatus().getLoadBalancer().getIngress() != null) {
            for (LoadBalancerIngress in : svc.getStatus().getLoadBalancer().getIngress()) {
                if (in.getIp() != null && !in.getIp().isEmpty()) {
                    if (isWildcard(in.getIp())) {
                        // valid in status (kube checks only that it is an IP), but listening there would open the
                        // Service port on every interface of the machine
                        if (warned.add("wildcard " + service + " " + in.getIp())) {
                            log.warn("{} has {} in status.loadBalancer.ingress, an address of every interface; not listening there",
                                    service, in.getIp());
                        }
                        continue;
                    }
                    ips.add(in.getIp());
                }
            }
        }
        if (ips.isEmpty()) {
            return;
        }
        List<String> sourceRanges = new ArrayList<>();
        // the field, or where it is empty the annotation (kube's GetLoadBalancerSourceRanges): a Service read
        // from JSON has an empty list, not null, in the field it did not give
        if (spec.getLoadBalancerSourceRanges() != null && !spec.getLoadBalancerSourceRanges().isEmpty()) {
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
                if (n.excluded) {
                    continue;
                }
                // every node is a target, ready or not, as with a cloud load balancer since KEP-3458: the checks decide which
                // get traffic (with the Local policy, the node's health check node port answers 200 only where an endpoint is
                // local); until the first checks, a node counts as healthy where it is Ready and the EndpointSlices say it will
                // be: with the Local policy, where a local endpoint is ready, as its health check port counts them
                // (terminating ones serve only what comes)
                boolean expected = n.ready && (!local || podCluster.hasReadyEndpoints(n.name));
                nodeEndpoints.add(new Plan.Endpoint(new InetSocketAddress(n.ip, nodePort), n.name, n.name, true, true, false, expected));
            }
            if (nodeEndpoints.isEmpty() && !nodes.isEmpty() && warned.add("excluded " + service)) {
                // kubeadm labels control-plane nodes so: on a one-node cluster, nothing is left to send to
                log.warn("{}: every node is labelled {} (or being deleted); the load balancer has no node to send to", service,
                        EXCLUDE_FROM_LOAD_BALANCERS);
            }
            // the PROXY protocol header goes to the pods: in a local cluster the node's listener writes it (fused hop or
            // not); a cluster's node is kube-proxy, which passes the header on to the pod as a cloud's NLB has it
            boolean proxyProtocol = loadBalancersOnly && podCluster.proxyProtocol();
            target = new Plan.Cluster("lb:" + podCluster.name(), service, protocol, nodeEndpoints, podCluster.balancer(),
                    podCluster.affinityTimeout(), proxyProtocol, podCluster.drainTimeout(), podCluster.udpIdleTimeout(),
                    podCluster.tcpIdleTimeout(), podCluster.maxConnections(), check);
            clusters.add(target);
        }
        // with no node to send to, connections are refused as with no endpoint, not taken and dropped
        boolean active = podCluster.hasUsableEndpoints(null) && !target.endpoints().isEmpty();
        for (String ip : ips) {
            listeners.add(new Plan.Listener(key(protocol, ip, sp.getPort()), Plan.Role.LOAD_BALANCER, service,
                    target.name(), null, null, false, Plan.Source.CLIENT, sourceRanges, active));
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
                    // as kube-proxy's endpointslicecache: serving unset is true (a terminating endpoint so written is a fallback)
                    boolean serving = c == null || c.getServing() == null || c.getServing();
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
        // the IPv4 one where there are two (a dual-stack node lists its primary family first): Portway's Services
        // are IPv4, and kube-proxy serves an IPv4 Service's NodePort on IPv4 addresses only
        String first = null;
        for (NodeAddress a : n.getStatus().getAddresses()) {
            if ("InternalIP".equals(a.getType()) && a.getAddress() != null) {
                if (!a.getAddress().contains(":")) {
                    return a.getAddress();
                }
                first = first == null ? a.getAddress() : first;
            }
        }
        return first;
    }

    /**
     * Whether a node is left out of every load balancer's set, as the service controller's stable node
     * set (KEP-3458, GA in 1.30) leaves it out: labelled so, being deleted, or tainted for deletion by
     * the cluster autoscaler. Not for its readiness: a node that is not Ready stays in the set, and the
     * load balancer's checks decide (its kube-proxy may well serve on).
     */
    private static boolean excludedFromLoadBalancers(Node n) {
        if (n.getMetadata().getLabels() != null && n.getMetadata().getLabels().containsKey(EXCLUDE_FROM_LOAD_BALANCERS)) {
            return true;
        }
        if (n.getMetadata().getDeletionTimestamp() != null) {
            return true;
        }
        return n.getSpec() != null && n.getSpec().getTaints() != null
                && n.getSpec().getTaints().stream().anyMatch(t -> TO_BE_DELETED_TAINT.equals(t.getKey()));
    }

    /** The cluster autoscaler's taint on a node it is about to delete. */
    static final String TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler";

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
