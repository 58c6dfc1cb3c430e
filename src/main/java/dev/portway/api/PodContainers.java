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
}
