package dev.portway.api;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.PodSpec;
import java.util.ArrayList;
import java.util.List;

/** The containers of a pod spec that run as long as the pod, and the host ports they ask for. */
public final class PodContainers {

    private PodContainers() {
    }

    /** A sidecar: an init container with {@code restartPolicy: Always}, which runs beside the pod's containers. */
    public static boolean isSidecar(Container initContainer) {
        return "Always".equals(initContainer.getRestartPolicy());
    }

    /** The pod's sidecars, then its containers: those that run as long as it does (none for a null list). */
    public static List<Container> serving(PodSpec spec) {
        List<Container> serving = new ArrayList<>();
        if (spec.getInitContainers() != null) {
            spec.getInitContainers().stream().filter(PodContainers::isSidecar).forEach(serving::add);
        }
        if (spec.getContainers() != null) {
            serving.addAll(spec.getContainers());
        }
        return serving;
    }

    /** {@code GetHostPorts}: the ports of the serving containers that ask for a port on the node ({@code hostPort} set). */
    public static List<ContainerPort> hostPorts(PodSpec spec) {
        List<ContainerPort> ports = new ArrayList<>();
        for (Container c : serving(spec)) {
            for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
                if (p.getHostPort() != null && p.getHostPort() > 0) {
                    ports.add(p);
                }
            }
        }
        return ports;
    }
}
