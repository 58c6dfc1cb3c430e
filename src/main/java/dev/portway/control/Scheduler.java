package dev.portway.control;

import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Binds pending pods to nodes: of the nodes that pass kube-scheduler's filters
 * ({@link SchedulingFilters}: cordons, taints, node selector and affinity, room under
 * {@code status.allocatable.pods}, topology spread, pod affinity and anti-affinity), the one with
 * the fewest pods, so a Deployment's replicas spread evenly; ties go to the first by name. A pod
 * no node can take stays Pending with kube-scheduler's reasons ({@code 0/2 nodes are available: 2
 * Too many pods. ...}): pods are processes here, and a Deployment of ten thousand replicas must
 * not start ten thousand. A pod with scheduling gates is not tried until they are gone.
 */
public final class Scheduler implements Controller {

    static final String COMPONENT = "default-scheduler";

    /** How often a pod that cannot be placed is tried again, and its FailedScheduling event recorded again (kube-scheduler's podMaxInUnschedulablePodsDuration). */
    static final java.time.Duration RETRY = java.time.Duration.ofMinutes(5);

    private final ControlPlane control;
    private final ApiServer api;
    private final Store store;
    private final EventRecorder events;
    private final Clock clock;
    /** When each pod that could not be placed last had its FailedScheduling event recorded. */
    private final Map<String, java.time.Instant> reported = new HashMap<>();
    private java.util.concurrent.ScheduledFuture<?> retry;
    /**
     * Events recorded again in one pass at most (each lists its namespace's Events): thousands of
     * pending pods do not all write at once, and a namespace keeps 1,000 Events anyway.
     */
    static final int MAX_REREPORTS_PER_PASS = 250;
    private int rereported;

    public Scheduler(ControlPlane control) {
        this.control = control;
        this.api = control.api();
        this.store = control.store();
        this.events = control.events();
        this.clock = api.config().clock();
    }

    @Override
    public void reconcile() {
        rereported = 0;
        List<Node> nodes = new ArrayList<>(store.list(Node.class));
        nodes.sort(Comparator.comparing(n -> n.getMetadata().getName()));
        Map<String, Node> byName = new HashMap<>();
        nodes.forEach(n -> byName.put(n.getMetadata().getName(), n));
        Map<String, Map<String, String>> namespaceLabels = new HashMap<>();
        for (Namespace ns : store.list(Namespace.class)) {
            namespaceLabels.put(ns.getMetadata().getName(), ns.getMetadata().getLabels() == null ? Map.of() : ns.getMetadata().getLabels());
        }
        SchedulingFilters.Snapshot cluster = new SchedulingFilters.Snapshot(nodes, ns -> namespaceLabels.getOrDefault(ns, Map.of()));
        List<Pod> pending = new ArrayList<>();
        for (Pod p : store.list(Pod.class)) {
            String node = p.getSpec().getNodeName();
            if (node != null && !node.isEmpty()) {
                if (!isTerminal(p) && byName.containsKey(node)) {
                    cluster.bind(p, byName.get(node));
                }
            } else if (p.getMetadata().getDeletionTimestamp() == null && !gated(p)) {
                pending.add(p);
            }
        }
        pending.sort(Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp()))
                .thenComparing(p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName()));
        java.util.Set<String> unplaced = new java.util.HashSet<>();
        for (Pod pod : pending) {
            SchedulingFilters filters = new SchedulingFilters(pod, cluster);
            Node best = null;
            Map<String, Integer> reasons = new TreeMap<>();
            for (Node n : nodes) {
                String reason = filters.unfit(n);
                if (reason != null) {
                    reasons.merge(reason, 1, Integer::sum);
                } else if (best == null || cluster.podsOn(n) < cluster.podsOn(best)) {
                    best = n;
                }
            }
            if (best == null) {
                unschedulable(pod, nodes.size(), reasons);
                unplaced.add(pod.getMetadata().getUid());
                continue;
            }
            String nodeName = best.getMetadata().getName();
            Node chosen = best;
            api.mutate(Pod.class, pod.getMetadata().getNamespace(), pod.getMetadata().getName(), p -> {
                p.getSpec().setNodeName(nodeName);
                setCondition(p, new PodConditionBuilder().withType("PodScheduled").withStatus("True")
                        .withLastTransitionTime(dev.portway.api.Times.format(clock.instant())).build());
                return p;
            }).ifPresent(p -> cluster.bind(p, chosen));
            events.normal(pod, "Scheduled", "Successfully assigned " + pod.getMetadata().getNamespace() + "/"
                    + pod.getMetadata().getName() + " to " + nodeName, COMPONENT);
        }
        reported.keySet().retainAll(unplaced);
        if (!unplaced.isEmpty() && (retry == null || retry.isDone())) {
            // tried again in a while even when nothing changes, as kube-scheduler flushes its unschedulable
            // queue: the FailedScheduling event is recorded again (its count, and its hour to live, renewed)
            retry = control.schedule(() -> { }, RETRY);
        }
    }

    /**
     * A pod with scheduling gates waits outside the scheduling queue (the SchedulingGates
     * plugin's PreEnqueue): no attempt, no FailedScheduling event, until the gates are removed.
     */
    static boolean gated(Pod pod) {
        return pod.getSpec().getSchedulingGates() != null && !pod.getSpec().getSchedulingGates().isEmpty();
    }

    /**
     * kube-scheduler's FitError: each reason with the count of nodes it ruled out, then what
     * preemption found (nothing here: there are no priorities to preempt by).
     */
    static String fitError(int nodeCount, Map<String, Integer> reasons) {
        if (nodeCount == 0) {
            return "no nodes available to schedule pods";
        }
        List<String> filtered = new ArrayList<>();
        Map<String, Integer> preemption = new HashMap<>();
        reasons.forEach((reason, count) -> {
            filtered.add(count + " " + reason);
            preemption.merge(SchedulingFilters.RESOLVABLE.contains(reason) ? "No preemption victims found for incoming pod"
                    : "Preemption is not helpful for scheduling", count, Integer::sum);
        });
        java.util.Collections.sort(filtered);
        List<String> afterPreemption = new ArrayList<>();
        preemption.forEach((reason, count) -> afterPreemption.add(count + " " + reason));
        java.util.Collections.sort(afterPreemption); // a FitError of its own: its histogram sorted as strings too
        return "0/" + nodeCount + " nodes are available: " + String.join(", ", filtered) + ". preemption: 0/" + nodeCount
                + " nodes are available: " + String.join(", ", afterPreemption) + ".";
    }

    private void unschedulable(Pod pod, int nodeCount, Map<String, Integer> reasons) {
        String message = fitError(nodeCount, reasons);
        String uid = pod.getMetadata().getUid();
        java.time.Instant now = clock.instant();
        if (saysAlready(pod, message)) {
            // nothing to write: a pass over thousands of pending pods must not copy each (kube-scheduler parks
            // them); the event is recorded again once a retry period has gone by
            java.time.Instant last = reported.get(uid);
            if ((last == null || !now.isBefore(last.plus(RETRY))) && rereported++ < MAX_REREPORTS_PER_PASS) {
                reported.put(uid, now);
                events.warning(pod, "FailedScheduling", message, COMPONENT);
            }
            return;
        }
        reported.put(uid, now);
        boolean changed = api.mutate(Pod.class, pod.getMetadata().getNamespace(), pod.getMetadata().getName(), p -> {
            setCondition(p, new PodConditionBuilder().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
                    .withMessage(message).withLastTransitionTime(dev.portway.api.Times.format(clock.instant())).build());
            return p;
        }).map(p -> !p.getMetadata().getResourceVersion().equals(pod.getMetadata().getResourceVersion())).orElse(false);
        if (changed) {
            events.warning(pod, "FailedScheduling", message, COMPONENT);
        }
    }

    private static boolean saysAlready(Pod pod, String message) {
        if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
            return false;
        }
        for (PodCondition c : pod.getStatus().getConditions()) {
            if ("PodScheduled".equals(c.getType())) {
                return "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason()) && message.equals(c.getMessage());
            }
        }
        return false;
    }

    /** Replaces the condition of the same type, keeping its transition time when the status is unchanged. */
    static void setCondition(Pod pod, PodCondition condition) {
        if (pod.getStatus() == null) {
            pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
        }
        List<PodCondition> conditions = new ArrayList<>(pod.getStatus().getConditions() == null ? List.of() : pod.getStatus().getConditions());
        for (int i = 0; i < conditions.size(); i++) {
            PodCondition c = conditions.get(i);
            if (c.getType().equals(condition.getType())) {
                if (c.getStatus().equals(condition.getStatus())) {
                    condition.setLastTransitionTime(c.getLastTransitionTime());
                }
                conditions.set(i, condition);
                pod.getStatus().setConditions(conditions);
                return;
            }
        }
        conditions.add(condition);
        pod.getStatus().setConditions(conditions);
    }

    static boolean isReady(Node node) {
        if (node.getStatus() == null || node.getStatus().getConditions() == null) {
            return false;
        }
        for (NodeCondition c : node.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus());
            }
        }
        return false;
    }

    static boolean isTerminal(Pod p) {
        String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }
}
