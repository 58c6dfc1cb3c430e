package dev.portway.control;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.List;

/** Small questions about pods that several controllers ask. */
public final class Pods {

    private Pods() {
    }

    /** The Ready condition is True. */
    public static boolean isReady(Pod pod) {
        return readyCondition(pod) != null;
    }

    /** When the Ready condition last became True (its lastTransitionTime), or null when it is not True. */
    public static java.time.Instant readySince(Pod pod) {
        PodCondition ready = readyCondition(pod);
        return ready == null ? null : dev.portway.api.Times.parse(ready.getLastTransitionTime());
    }

    /** The pod's Ready condition when it is True, else null. */
    private static PodCondition readyCondition(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
            return null;
        }
        for (PodCondition c : pod.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus()) ? c : null;
            }
        }
        return null;
    }

    public static boolean isTerminating(Pod pod) {
        return pod.getMetadata().getDeletionTimestamp() != null;
    }

    public static boolean isTerminal(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    /** Counts toward a ReplicaSet: neither finished nor on its way out. */
    public static boolean isActive(Pod pod) {
        return !isTerminal(pod) && !isTerminating(pod);
    }

    public static String podIp(Pod pod) {
        return pod.getStatus() == null ? null : pod.getStatus().getPodIP();
    }

    /** Whether {@code object} names {@code owner} as its controller. */
    public static boolean isControlledBy(HasMetadata object, HasMetadata owner) {
        List<OwnerReference> refs = object.getMetadata().getOwnerReferences();
        if (refs == null) {
            return false;
        }
        for (OwnerReference r : refs) {
            if (Boolean.TRUE.equals(r.getController()) && owner.getMetadata().getUid().equals(r.getUid())) {
                return true;
            }
        }
        return false;
    }

    /** The owner reference a controller puts on what it creates. */
    public static OwnerReference controllerRef(HasMetadata owner) {
        return new OwnerReferenceBuilder()
                .withApiVersion(owner.getApiVersion())
                .withKind(owner.getKind())
                .withName(owner.getMetadata().getName())
                .withUid(owner.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build();
    }
}
