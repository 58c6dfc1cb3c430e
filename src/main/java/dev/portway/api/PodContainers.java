package dev.portway.api;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import java.util.ArrayList;
import java.util.List;

/** The containers of a pod spec, as Kubernetes' {@code VisitContainers} walks them. */
public final class PodContainers {

    private PodContainers() {
    }

    /** The init containers, then the containers (none for a null list). */
    public static List<Container> all(PodSpec spec) {
        List<Container> all = new ArrayList<>();
        if (spec.getInitContainers() != null) {
            all.addAll(spec.getInitContainers());
        }
        if (spec.getContainers() != null) {
            all.addAll(spec.getContainers());
        }
        return all;
    }

    /**
     * The containers that run as long as the pod: its sidecars (init containers with
     * {@code restartPolicy: Always}) and its containers, as {@code GetHostPorts} takes their ports.
     */
    public static List<Container> serving(PodSpec spec) {
        List<Container> serving = new ArrayList<>();
        if (spec.getInitContainers() != null) {
            spec.getInitContainers().stream().filter(c -> "Always".equals(c.getRestartPolicy())).forEach(serving::add);
        }
        if (spec.getContainers() != null) {
            serving.addAll(spec.getContainers());
        }
        return serving;
    }
}
