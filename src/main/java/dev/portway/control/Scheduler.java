package dev.portway.control;

import dev.portway.api.Selectors;
import dev.portway.store.Store;
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

/**
 * Binds pending pods to nodes: the Ready, schedulable node (matching {@code nodeSelector}) with
 * the fewest pods, so a Deployment's replicas spread evenly; ties go to the first by name.
 */
public final class Scheduler implements Controller {

    static final String COMPONENT = "default-scheduler";

    private final ApiServer api;
    private final Store store;
    private final EventRecorder events;
    private final Clock clock;

    public Scheduler(ControlPlane control) {
        this.api = control.api();
        this.store = control.store();
        this.events = control.events();
        this.clock = api.config().clock();
    }

    @Override
    public void reconcile() {
        List<Node> nodes = new ArrayList<>();
        for (Node n : store.list(Node.class)) {
            if (isReady(n) && (n.getSpec() == null || !Boolean.TRUE.equals(n.getSpec().getUnschedulable()))) {
                nodes.add(n);
            }
        }
        nodes.sort(Comparator.comparing(n -> n.getMetadata().getName()));
        Map<String, Integer> load = new HashMap<>();
        List<Pod> pending = new ArrayList<>();
        for (Pod p : store.list(Pod.class)) {
            String node = p.getSpec().getNodeName();
            if (node != null && !node.isEmpty()) {
                if (!isTerminal(p)) {
                    load.merge(node, 1, Integer::sum);
                }
            } else if (p.getMetadata().getDeletionTimestamp() == null) {
                pending.add(p);
            }
        }
        pending.sort(Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp()))
                .thenComparing(p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName()));
        for (Pod pod : pending) {
            Node best = null;
            for (Node n : nodes) {
                if (pod.getSpec().getNodeSelector() != null && !pod.getSpec().getNodeSelector().isEmpty()
                        && !Selectors.matches(pod.getSpec().getNodeSelector(), n.getMetadata().getLabels())) {
                    continue;
                }
                if (best == null || load.getOrDefault(n.getMetadata().getName(), 0) < load.getOrDefault(best.getMetadata().getName(), 0)) {
                    best = n;
                }
            }
            if (best == null) {
                unschedulable(pod, nodes.size());
                continue;
            }
            String nodeName = best.getMetadata().getName();
            load.merge(nodeName, 1, Integer::sum);
            api.mutate(Pod.class, pod.getMetadata().getNamespace(), pod.getMetadata().getName(), p -> {
                p.getSpec().setNodeName(nodeName);
                setCondition(p, new PodConditionBuilder().withType("PodScheduled").withStatus("True")
                        .withLastTransitionTime(dev.portway.api.Times.format(clock.instant())).build());
                return p;
            });
            events.normal(pod, "Scheduled", "Successfully assigned " + pod.getMetadata().getNamespace() + "/"
                    + pod.getMetadata().getName() + " to " + nodeName, COMPONENT);
        }
    }

    private void unschedulable(Pod pod, int nodeCount) {
        String message = "0/" + nodeCount + " nodes are available: no node matches the pod's node selector or is ready.";
        boolean changed = api.mutate(Pod.class, pod.getMetadata().getNamespace(), pod.getMetadata().getName(), p -> {
            setCondition(p, new PodConditionBuilder().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
                    .withMessage(message).withLastTransitionTime(dev.portway.api.Times.format(clock.instant())).build());
            return p;
        }).map(p -> !p.getMetadata().getResourceVersion().equals(pod.getMetadata().getResourceVersion())).orElse(false);
        if (changed) {
            events.warning(pod, "FailedScheduling", message, COMPONENT);
        }
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
