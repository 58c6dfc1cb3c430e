package dev.portway.control;

import dev.portway.api.ApiException;
import dev.portway.api.GoValues;
import dev.portway.api.PodQos;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What kube-apiserver's default admission plugins and pod strategy do to a new pod before it is
 * validated and stored: {@code Priority} (the priority of its class, {@code PreemptLowerPriority}),
 * {@code ServiceAccount} (the {@code default} account), {@code DefaultTolerationSeconds} (five
 * minutes' tolerance of a not-ready or unreachable node), and the QoS class in its status.
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

    private static ApiException forbidden(String name, String why) {
        return ApiException.forbidden("pods " + GoValues.quote(name == null ? "" : name) + " is forbidden: " + why);
    }
}
