package dev.portway.control;

import dev.portway.api.ApiException;
import dev.portway.api.GoValues;
import dev.portway.api.PodQos;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What kube-apiserver's default admission plugins and pod strategy do to a new pod before it is
 * validated and stored: {@code Priority} (the priority of its class, {@code PreemptLowerPriority}),
 * {@code ServiceAccount} (the {@code default} account), {@code DefaultTolerationSeconds} (five
 * minutes' tolerance of a not-ready or unreachable node), and, from the pod strategy's
 * {@code PrepareForCreate}, the QoS class in its status, the SchedulingGated condition, and the
 * labels {@code matchLabelKeys} name merged into affinity and spread selectors.
 *
 * <p>Not done: the service account's token volume (there is no token to mount in local mode), and
 * checking that the account exists (Portway serves no ServiceAccounts).
 */
final class PodAdmission {

    /** The PriorityClasses every cluster has. */
    private static final Map<String, Integer> SYSTEM_CLASSES = Map.of(
            "system-node-critical", 2000001000,
            "system-cluster-critical", 2000000000);
    private static final long DEFAULT_TOLERATION_SECONDS = 300;

    private PodAdmission() {
    }

    static void admit(Pod pod) {
        var spec = pod.getSpec();
        if (spec == null) {
            return;
        }
        String name = pod.getMetadata().getName();
        String className = spec.getPriorityClassName();
        int priority = 0;
        if (className != null && !className.isEmpty()) {
            Integer value = SYSTEM_CLASSES.get(className);
            if (value == null) {
                throw forbidden(name, "no PriorityClass with name " + className + " was found");
            }
            priority = value;
        }
        if (spec.getPriority() != null && spec.getPriority() != priority) {
            throw forbidden(name, "the integer value of priority (" + spec.getPriority() + ") must not be provided in pod spec; "
                    + "priority admission controller computed " + priority + " from the given PriorityClass name");
        }
        spec.setPriority(priority);
        if (spec.getPreemptionPolicy() == null || spec.getPreemptionPolicy().isEmpty()) {
            spec.setPreemptionPolicy("PreemptLowerPriority");
        }
        if (spec.getServiceAccountName() == null || spec.getServiceAccountName().isEmpty()) {
            spec.setServiceAccountName(spec.getServiceAccount() != null && !spec.getServiceAccount().isEmpty()
                    ? spec.getServiceAccount() : "default");
        }
        spec.setServiceAccount(spec.getServiceAccountName());
        defaultTolerations(pod);
        PodStatus status = pod.getStatus() == null ? new PodStatus() : pod.getStatus();
        status.setQosClass(PodQos.compute(pod));
        pod.setStatus(status);
    }

    /**
     * DefaultTolerationSeconds: a pod tolerates a not-ready or unreachable node for 5 minutes
     * unless it says otherwise. The plugin admits updates too, so that an update that replaces
     * the tolerations (an apply that names some) keeps these, as validation requires.
     */
    static void defaultTolerations(Pod pod) {
        var spec = pod.getSpec();
        if (spec == null) {
            return;
        }
        List<Toleration> tolerations = new ArrayList<>(spec.getTolerations() == null ? List.of() : spec.getTolerations());
        for (String key : List.of("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")) {
            boolean tolerated = tolerations.stream().anyMatch(t -> ("NoExecute".equals(t.getEffect()) || t.getEffect() == null
                    || t.getEffect().isEmpty()) && (key.equals(t.getKey()) || ((t.getKey() == null || t.getKey().isEmpty())
                    && "Exists".equals(t.getOperator()))));
            if (!tolerated) {
                tolerations.add(new TolerationBuilder().withKey(key).withOperator("Exists").withEffect("NoExecute")
                        .withTolerationSeconds(DEFAULT_TOLERATION_SECONDS).build());
            }
        }
        spec.setTolerations(tolerations);
    }

    /**
     * The pod strategy's {@code applySchedulingGatedCondition}: a new pod with scheduling gates
     * says so in its PodScheduled condition ({@code kubectl get pods} prints SchedulingGated).
     */
    static void schedulingGated(Pod pod, String now) {
        if (pod.getSpec() == null || !Scheduler.gated(pod)) {
            return;
        }
        PodStatus status = pod.getStatus() == null ? new PodStatus() : pod.getStatus();
        List<PodCondition> conditions = new ArrayList<>(status.getConditions() == null ? List.of() : status.getConditions());
        if (conditions.stream().anyMatch(c -> "PodScheduled".equals(c.getType()))) {
            return;
        }
        conditions.add(new PodConditionBuilder().withType("PodScheduled").withStatus("False").withReason("SchedulingGated")
                .withMessage("Scheduling is blocked due to non-empty scheduling gates").withLastTransitionTime(now).build());
        status.setConditions(conditions);
        pod.setStatus(status);
    }

    /**
     * The pod strategy's {@code mutatePodAffinity} and {@code mutateTopologySpreadConstraints}
     * (MatchLabelKeysInPodAffinity, GA; MatchLabelKeysInPodTopologySpreadSelectorMerge, on since
     * 1.34): each key of {@code matchLabelKeys} the pod has a label for becomes a requirement
     * {@code key In (value)} at the end of the term's selector, each of {@code mismatchLabelKeys}
     * {@code key NotIn (value)}. A term without a selector matches nothing and is left so.
     */
    static void mergeLabelKeys(Pod pod) {
        var spec = pod.getSpec();
        if (spec == null) {
            return;
        }
        Map<String, String> labels = pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
        var affinity = spec.getAffinity();
        if (affinity != null) {
            List<PodAffinityTerm> terms = new ArrayList<>();
            if (affinity.getPodAffinity() != null) {
                terms.addAll(nz(affinity.getPodAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()));
                nz(affinity.getPodAffinity().getPreferredDuringSchedulingIgnoredDuringExecution()).forEach(w -> terms.add(w.getPodAffinityTerm()));
            }
            if (affinity.getPodAntiAffinity() != null) {
                terms.addAll(nz(affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()));
                nz(affinity.getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution()).forEach(w -> terms.add(w.getPodAffinityTerm()));
            }
            for (PodAffinityTerm term : terms) {
                if (term == null || term.getLabelSelector() == null) {
                    continue;
                }
                merge(term.getLabelSelector(), nz(term.getMatchLabelKeys()), "In", labels);
                merge(term.getLabelSelector(), nz(term.getMismatchLabelKeys()), "NotIn", labels);
            }
        }
        for (TopologySpreadConstraint c : nz(spec.getTopologySpreadConstraints())) {
            if (c.getLabelSelector() != null) {
                merge(c.getLabelSelector(), nz(c.getMatchLabelKeys()), "In", labels);
            }
        }
    }

    /** {@code applyLabelKeysToLabelSelector}. */
    private static void merge(LabelSelector selector, List<String> keys, String operator, Map<String, String> labels) {
        for (String key : keys) {
            String value = labels.get(key);
            if (value != null) {
                List<LabelSelectorRequirement> expressions = new ArrayList<>(nz(selector.getMatchExpressions()));
                expressions.add(new LabelSelectorRequirementBuilder().withKey(key).withOperator(operator).withValues(value).build());
                selector.setMatchExpressions(expressions);
            }
        }
    }

    private static <T> List<T> nz(List<T> list) {
        return list == null ? List.of() : list;
    }

    private static ApiException forbidden(String name, String why) {
        return ApiException.forbidden("pods " + GoValues.quote(name == null ? "" : name) + " is forbidden: " + why);
    }
}
