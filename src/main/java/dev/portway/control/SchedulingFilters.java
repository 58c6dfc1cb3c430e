package dev.portway.control;

import dev.portway.api.Selectors;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * kube-scheduler's filter plugins, in its order, judging one pending pod against every node of
 * the cluster as it stands: NodeUnschedulable, TaintToleration, NodeAffinity (with its PreFilter,
 * which narrows the nodes to those a {@code metadata.name} field requirement names),
 * NodePorts (host ports), NodeResourcesFit (the pod count only: local nodes do not account CPU and memory),
 * PodTopologySpread (its {@code DoNotSchedule} constraints) and InterPodAffinity (the required
 * terms, and existing pods' required anti-affinity). Each reason is worded as the plugin words
 * it (Kubernetes 1.34, with the 1.34.2 change that no longer names an untolerated taint).
 *
 * <p>What is not here: the scoring plugins (the scheduler takes the least-loaded node that
 * passes), volumes, and preemption.
 */
final class SchedulingFilters {

    static final String UNSCHEDULABLE = "node(s) were unschedulable";
    static final String UNTOLERATED_TAINT = "node(s) had untolerated taint(s)";
    static final String NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
    /** For the nodes NodeAffinity's PreFilter left out (kube-scheduler's status for absent nodes). */
    static final String NOT_NAMED = "node(s) didn't satisfy plugin(s) [NodeAffinity]";
    static final String HOST_PORTS = "node(s) didn't have free ports for the requested pod ports";
    /** The node holds as many pods as its {@code status.allocatable.pods} (pods are processes here: the cap matters). */
    static final String TOO_MANY_PODS = "Too many pods";
    static final String SPREAD = "node(s) didn't match pod topology spread constraints";
    static final String SPREAD_LABEL = SPREAD + " (missing required label)";
    static final String AFFINITY = "node(s) didn't match pod affinity rules";
    static final String ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
    static final String EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

    /**
     * The reasons a plugin gives as {@code Unschedulable}, which preemption looks at (and here finds
     * no victim); every other one is {@code UnschedulableAndUnresolvable}, where preemption "is not helpful".
     */
    static final Set<String> RESOLVABLE = Set.of(HOST_PORTS, TOO_MANY_PODS, SPREAD, ANTI_AFFINITY, EXISTING_ANTI_AFFINITY);

    /** The taints a node's conditions give it (the node lifecycle controller's, read from the status here). */
    private static final Taint NOT_READY = new TaintBuilder().withKey("node.kubernetes.io/not-ready").withEffect("NoSchedule").build();
    private static final Taint CORDONED = new TaintBuilder().withKey("node.kubernetes.io/unschedulable").withEffect("NoSchedule").build();

    /** A pod bound to a node and not yet done, with its required anti-affinity terms: what the scheduler's cache holds. */
    record Bound(Pod pod, Node node, List<Term> antiAffinity) {
    }

    /**
     * The cluster as one scheduling pass sees it: the nodes, the pods bound to them (those bound
     * earlier in the pass too), and the pods among them with required anti-affinity, which every
     * pending pod is judged against.
     */
    static final class Snapshot {
        final List<Node> nodes;
        final Function<String, Map<String, String>> namespaceLabels;
        final List<Bound> bound = new ArrayList<>();
        final List<Bound> withAntiAffinity = new ArrayList<>();
        final Map<String, Integer> podsOnNode = new HashMap<>();
        /** The host ports the pods bound to each node use. */
        final Map<String, List<HostPort>> hostPortsOnNode = new HashMap<>();

        /** @param namespaceLabels a namespace's labels, by name (empty when it has none) */
        Snapshot(List<Node> nodes, Function<String, Map<String, String>> namespaceLabels) {
            this.nodes = nodes;
            this.namespaceLabels = namespaceLabels;
        }

        /** A pod bound to {@code node} and not Succeeded or Failed. */
        void bind(Pod pod, Node node) {
            var affinity = pod.getSpec().getAffinity();
            List<Term> anti = affinity == null || affinity.getPodAntiAffinity() == null ? List.of()
                    : terms(pod, affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution());
            Bound b = new Bound(pod, node, anti);
            bound.add(b);
            podsOnNode.merge(node.getMetadata().getName(), 1, Integer::sum);
            List<HostPort> ports = hostPorts(pod);
            if (!ports.isEmpty()) {
                hostPortsOnNode.computeIfAbsent(node.getMetadata().getName(), k -> new ArrayList<>()).addAll(ports);
            }
            if (!anti.isEmpty()) {
                withAntiAffinity.add(b);
            }
        }

        int podsOn(Node node) {
            return podsOnNode.getOrDefault(node.getMetadata().getName(), 0);
        }
    }

    /** An affinity term as kube-scheduler's framework holds it: namespaces, selectors, topology key. */
    record Term(Set<String> namespaces, LabelSelector namespaceSelector, LabelSelector selector, String topologyKey) {

        static Term of(Pod owner, PodAffinityTerm t) {
            Set<String> namespaces = new HashSet<>(t.getNamespaces() == null ? List.of() : t.getNamespaces());
            if (namespaces.isEmpty() && t.getNamespaceSelector() == null) {
                namespaces.add(owner.getMetadata().getNamespace());
            }
            return new Term(namespaces, t.getNamespaceSelector(), t.getLabelSelector(), nz(t.getTopologyKey()));
        }

        boolean matches(Pod pod, Map<String, String> namespaceLabels) {
            return (namespaces.contains(pod.getMetadata().getNamespace()) || Selectors.matches(namespaceSelector, namespaceLabels))
                    && Selectors.matches(selector, pod.getMetadata().getLabels());
        }
    }

    private record TopologyPair(String key, String value) {
    }

    /** A host port a container asks for: {@code HostPortInfo}'s address (0.0.0.0 when unset), protocol and port. */
    record HostPort(String ip, String protocol, int port) {

        /** {@code HostPortInfo.CheckConflict}: the same protocol and port, on the same address or either on all of them. */
        boolean conflicts(HostPort other) {
            return port == other.port && protocol.equals(other.protocol)
                    && (ip.equals(other.ip) || ip.equals("0.0.0.0") || other.ip.equals("0.0.0.0"));
        }
    }

    /** The host ports of a pod's containers and sidecars ({@code GetHostPorts}). */
    static List<HostPort> hostPorts(Pod pod) {
        return dev.portway.api.PodContainers.hostPorts(pod.getSpec()).stream().map(p -> new HostPort(
                nz(p.getHostIP()).isEmpty() ? "0.0.0.0" : p.getHostIP(), nz(p.getProtocol()).isEmpty() ? "TCP" : p.getProtocol(),
                p.getHostPort())).toList();
    }

    private final Pod pod;
    private final Snapshot cluster;
    private final Set<String> named;
    private final List<HostPort> wantedPorts;
    private final List<Term> affinity;
    private final List<Term> antiAffinity;
    private final Map<TopologyPair, Integer> affinityCounts = new HashMap<>();
    private final Map<TopologyPair, Integer> antiAffinityCounts = new HashMap<>();
    private final Map<TopologyPair, Integer> existingAntiAffinityCounts = new HashMap<>();
    private final List<TopologySpreadConstraint> spread;
    private boolean prepared;
    /** Per hard spread constraint: the matching pods of each domain (the topology values of the nodes it counts). */
    private final List<Map<String, Integer>> spreadCounts = new ArrayList<>();

    SchedulingFilters(Pod pod, Snapshot cluster) {
        this.pod = pod;
        this.cluster = cluster;
        this.named = namedNodes(pod);
        this.wantedPorts = hostPorts(pod);
        var podAffinity = pod.getSpec().getAffinity();
        this.affinity = podAffinity == null || podAffinity.getPodAffinity() == null ? List.of()
                : terms(pod, podAffinity.getPodAffinity().getRequiredDuringSchedulingIgnoredDuringExecution());
        this.antiAffinity = podAffinity == null || podAffinity.getPodAntiAffinity() == null ? List.of()
                : terms(pod, podAffinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution());
        this.spread = (pod.getSpec().getTopologySpreadConstraints() == null ? List.<TopologySpreadConstraint>of()
                : pod.getSpec().getTopologySpreadConstraints()).stream().filter(c -> "DoNotSchedule".equals(c.getWhenUnsatisfiable())).toList();
    }

    /**
     * The PreFilter state of topology spread and pod (anti-)affinity: counted over the bound pods
     * when a node first gets as far as those filters, so that a pass over thousands of pending
     * pods that no node has room for does not count for each of them.
     */
    private void prepare() {
        if (prepared) {
            return;
        }
        prepared = true;
        if (!affinity.isEmpty() || !antiAffinity.isEmpty()) {
            for (Bound b : cluster.bound) {
                Map<String, String> theirNamespace = cluster.namespaceLabels.apply(b.pod().getMetadata().getNamespace());
                if (!affinity.isEmpty() && affinity.stream().allMatch(t -> t.matches(b.pod(), theirNamespace))) {
                    for (Term t : affinity) {
                        count(affinityCounts, b.node(), t.topologyKey());
                    }
                }
                for (Term t : antiAffinity) {
                    if (t.matches(b.pod(), theirNamespace)) {
                        count(antiAffinityCounts, b.node(), t.topologyKey());
                    }
                }
            }
        }
        Map<String, String> ownNamespace = cluster.namespaceLabels.apply(pod.getMetadata().getNamespace());
        for (Bound b : cluster.withAntiAffinity) {
            for (Term t : b.antiAffinity()) {
                if (t.matches(pod, ownNamespace)) {
                    count(existingAntiAffinityCounts, b.node(), t.topologyKey());
                }
            }
        }
        for (TopologySpreadConstraint c : spread) {
            Map<String, Integer> counts = new HashMap<>();
            Map<String, String> domainOf = new HashMap<>();
            for (Node n : cluster.nodes) {
                if (hasSpreadKeys(n) && counted(c, n)) {
                    String value = labels(n).get(c.getTopologyKey());
                    domainOf.put(n.getMetadata().getName(), value);
                    counts.putIfAbsent(value, 0);
                }
            }
            for (Bound b : cluster.bound) {
                String value = domainOf.get(b.node().getMetadata().getName());
                // countPodsMatchSelector: none for an empty selector, the pod's namespace only, and no pod on its way out
                if (value != null && !Selectors.isEmpty(c.getLabelSelector()) && b.pod().getMetadata().getDeletionTimestamp() == null
                        && b.pod().getMetadata().getNamespace().equals(pod.getMetadata().getNamespace())
                        && Selectors.matches(c.getLabelSelector(), b.pod().getMetadata().getLabels())) {
                    counts.merge(value, 1, Integer::sum);
                }
            }
            spreadCounts.add(counts);
        }
    }

    /** Why the pod cannot go to {@code node}, in the first failing plugin's words, or null when it can. */
    String unfit(Node node) {
        if (named != null && !named.contains(node.getMetadata().getName())) {
            return NOT_NAMED;
        }
        if (cordoned(node) && !tolerated(CORDONED)) {
            return UNSCHEDULABLE;
        }
        if (hasUntoleratedTaint(node)) {
            return UNTOLERATED_TAINT;
        }
        if (!nodeAffinityMatches(pod, node)) {
            return NODE_AFFINITY;
        }
        List<HostPort> used = cluster.hostPortsOnNode.getOrDefault(node.getMetadata().getName(), List.of());
        for (HostPort wanted : wantedPorts) {
            if (used.stream().anyMatch(wanted::conflicts)) {
                return HOST_PORTS;
            }
        }
        if (cluster.podsOn(node) >= allocatablePods(node)) {
            return TOO_MANY_PODS;
        }
        prepare();
        String spreadReason = spreadReason(node);
        if (spreadReason != null) {
            return spreadReason;
        }
        if (!affinitySatisfied(node)) {
            return AFFINITY;
        }
        for (Term t : antiAffinity) {
            String value = labels(node).get(t.topologyKey());
            if (value != null && antiAffinityCounts.getOrDefault(new TopologyPair(t.topologyKey(), value), 0) > 0) {
                return ANTI_AFFINITY;
            }
        }
        for (Map.Entry<String, String> label : labels(node).entrySet()) {
            if (existingAntiAffinityCounts.getOrDefault(new TopologyPair(label.getKey(), label.getValue()), 0) > 0) {
                return EXISTING_ANTI_AFFINITY;
            }
        }
        return null;
    }

    /** The node's taints, with those its conditions imply (not ready, cordoned) as the lifecycle controller adds them. */
    private static List<Taint> taints(Node node) {
        List<Taint> taints = new ArrayList<>(node.getSpec() == null || node.getSpec().getTaints() == null ? List.of() : node.getSpec().getTaints());
        if (!Scheduler.isReady(node) && taints.stream().noneMatch(t -> NOT_READY.getKey().equals(t.getKey()) && "NoSchedule".equals(t.getEffect()))) {
            taints.add(NOT_READY);
        }
        if (cordoned(node) && taints.stream().noneMatch(t -> CORDONED.getKey().equals(t.getKey()) && "NoSchedule".equals(t.getEffect()))) {
            taints.add(CORDONED);
        }
        return taints;
    }

    private static boolean cordoned(Node node) {
        return node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
    }

    /** TaintToleration's filter: a NoSchedule or NoExecute taint of the node (its conditions' too) that the pod does not tolerate. */
    private boolean hasUntoleratedTaint(Node node) {
        for (Taint taint : taints(node)) {
            if (("NoSchedule".equals(taint.getEffect()) || "NoExecute".equals(taint.getEffect())) && !tolerated(taint)) {
                return true;
            }
        }
        return false;
    }

    /** {@code TolerationsTolerateTaint}: some toleration of the pod tolerates the taint. */
    private boolean tolerated(Taint taint) {
        for (Toleration t : pod.getSpec().getTolerations() == null ? List.<Toleration>of() : pod.getSpec().getTolerations()) {
            if (tolerates(t, taint)) {
                return true;
            }
        }
        return false;
    }

    /** {@code Toleration.ToleratesTaint}: an empty effect or key matches any; an empty operator is Equal. */
    static boolean tolerates(Toleration t, Taint taint) {
        if (!nz(t.getEffect()).isEmpty() && !t.getEffect().equals(taint.getEffect())) {
            return false;
        }
        if (!nz(t.getKey()).isEmpty() && !t.getKey().equals(taint.getKey())) {
            return false;
        }
        return switch (nz(t.getOperator())) {
            case "", "Equal" -> nz(t.getValue()).equals(nz(taint.getValue()));
            case "Exists" -> true;
            default -> false;
        };
    }

    /** NodeAffinity's filter: {@code nodeSelector}, and any one of the required node selector terms. */
    static boolean nodeAffinityMatches(Pod pod, Node node) {
        Map<String, String> nodeSelector = pod.getSpec().getNodeSelector();
        if (nodeSelector != null && !nodeSelector.isEmpty() && !Selectors.matches(nodeSelector, labels(node))) {
            return false;
        }
        var affinity = pod.getSpec().getAffinity();
        if (affinity == null || affinity.getNodeAffinity() == null || affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution() == null) {
            return true;
        }
        List<NodeSelectorTerm> terms = affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms();
        for (NodeSelectorTerm term : terms == null ? List.<NodeSelectorTerm>of() : terms) {
            List<NodeSelectorRequirement> expressions = term.getMatchExpressions() == null ? List.of() : term.getMatchExpressions();
            List<NodeSelectorRequirement> fields = term.getMatchFields() == null ? List.of() : term.getMatchFields();
            if (expressions.isEmpty() && fields.isEmpty()) {
                continue; // an empty term matches no node
            }
            boolean all = true;
            for (NodeSelectorRequirement r : expressions) {
                all &= Selectors.requirement(r.getKey(), r.getOperator(), r.getValues(), labels(node));
            }
            for (NodeSelectorRequirement r : fields) {
                all &= "metadata.name".equals(r.getKey())
                        && Selectors.requirement(r.getKey(), r.getOperator(), r.getValues(), Map.of("metadata.name", node.getMetadata().getName()));
            }
            if (all) {
                return true;
            }
        }
        return false;
    }

    /**
     * NodeAffinity's PreFilter: when every required term names nodes by {@code metadata.name In},
     * the nodes named (the union over the terms of each term's intersection); null when any term
     * leaves all nodes possible.
     */
    private static Set<String> namedNodes(Pod pod) {
        var affinity = pod.getSpec().getAffinity();
        if (affinity == null || affinity.getNodeAffinity() == null || affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution() == null) {
            return null;
        }
        List<NodeSelectorTerm> terms = affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms();
        if (terms == null || terms.isEmpty()) {
            return null;
        }
        Set<String> names = new HashSet<>();
        for (NodeSelectorTerm term : terms) {
            Set<String> termNames = null;
            for (NodeSelectorRequirement r : term.getMatchFields() == null ? List.<NodeSelectorRequirement>of() : term.getMatchFields()) {
                if ("metadata.name".equals(r.getKey()) && "In".equals(r.getOperator())) {
                    Set<String> these = new LinkedHashSet<>(r.getValues() == null ? List.of() : r.getValues());
                    if (termNames == null) {
                        termNames = these;
                    } else {
                        termNames.retainAll(these);
                    }
                }
            }
            if (termNames == null) {
                return null;
            }
            names.addAll(termNames);
        }
        return names;
    }

    /** PodTopologySpread's filter over the hard constraints: the node has every key, and placing the pod keeps each skew. */
    private String spreadReason(Node node) {
        for (int i = 0; i < spread.size(); i++) {
            TopologySpreadConstraint c = spread.get(i);
            String value = labels(node).get(c.getTopologyKey());
            if (value == null) {
                return SPREAD_LABEL;
            }
            Map<String, Integer> counts = spreadCounts.get(i);
            int min = counts.values().stream().mapToInt(Integer::intValue).min().orElse(0);
            if (c.getMinDomains() != null && counts.size() < c.getMinDomains()) {
                min = 0;
            }
            int self = Selectors.matches(c.getLabelSelector(), pod.getMetadata().getLabels()) ? 1 : 0;
            int skew = counts.getOrDefault(value, 0) + self - min;
            if (skew > (c.getMaxSkew() == null ? 1 : c.getMaxSkew())) {
                return SPREAD;
            }
        }
        return null;
    }

    /** Whether a node has every hard constraint's topology key (a node that lacks one counts for none). */
    private boolean hasSpreadKeys(Node node) {
        return spread.stream().allMatch(c -> labels(node).containsKey(c.getTopologyKey()));
    }

    /** A constraint's node inclusion policies: node affinity honoured unless Ignore, taints ignored unless Honor. */
    private boolean counted(TopologySpreadConstraint c, Node node) {
        if (!"Ignore".equals(c.getNodeAffinityPolicy()) && !nodeAffinityMatches(pod, node)) {
            return false;
        }
        return !"Honor".equals(c.getNodeTaintsPolicy()) || !hasUntoleratedTaint(node);
    }

    /**
     * {@code satisfyPodAffinity}: the node has every term's topology key, and each term's domain
     * holds a pod that matches all the terms; or no pod anywhere does and the pod matches its own
     * terms (the first of a group that wants to be together).
     */
    private boolean affinitySatisfied(Node node) {
        boolean podsExist = true;
        for (Term t : affinity) {
            String value = labels(node).get(t.topologyKey());
            if (value == null) {
                return false;
            }
            if (affinityCounts.getOrDefault(new TopologyPair(t.topologyKey(), value), 0) <= 0) {
                podsExist = false;
            }
        }
        if (podsExist) {
            return true;
        }
        Map<String, String> ownNamespace = cluster.namespaceLabels.apply(pod.getMetadata().getNamespace());
        return affinityCounts.isEmpty() && affinity.stream().allMatch(t -> t.matches(pod, ownNamespace));
    }

    private static List<Term> terms(Pod owner, List<PodAffinityTerm> terms) {
        return terms == null ? List.of() : terms.stream().map(t -> Term.of(owner, t)).toList();
    }

    private static void count(Map<TopologyPair, Integer> counts, Node node, String topologyKey) {
        String value = labels(node).get(topologyKey);
        if (value != null) {
            counts.merge(new TopologyPair(topologyKey, value), 1, Integer::sum);
        }
    }

    private static Map<String, String> labels(Node node) {
        return node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    }

    private static long allocatablePods(Node node) {
        var allocatable = node.getStatus() == null ? null : node.getStatus().getAllocatable();
        var pods = allocatable == null ? null : allocatable.get("pods");
        if (pods == null) {
            return Long.MAX_VALUE;
        }
        try {
            return pods.getNumericalAmount().longValue();
        } catch (RuntimeException e) {
            return Long.MAX_VALUE;
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
