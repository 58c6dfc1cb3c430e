package dev.portway.cli;

import dev.portway.api.Selectors;
import dev.portway.api.Times;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * {@code portway describe pod NAME} in kubectl's layout: who the pod is, each container's state,
 * last state, restarts, probes, environment and mounts, the conditions, the volumes. Events are
 * added by the caller.
 */
final class PodDescriber {

    /** kubectl's time format in describe output (Go's RFC1123Z). */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private final StringBuilder w = new StringBuilder();

    private PodDescriber() {
    }

    /** The fields of {@code pod}, tab-separated for the describe tab writer, without events. */
    static String describe(Pod pod) {
        PodDescriber d = new PodDescriber();
        d.pod(pod);
        return d.w.toString();
    }

    private void pod(Pod pod) {
        var meta = pod.getMetadata();
        var spec = pod.getSpec();
        var status = pod.getStatus();
        line(0, "Name:", meta.getName());
        line(0, "Namespace:", meta.getNamespace());
        line(0, "Priority:", spec.getPriority() == null ? "0" : spec.getPriority().toString());
        line(0, "Service Account:", spec.getServiceAccountName() == null ? "default" : spec.getServiceAccountName());
        String hostIp = status == null || status.getHostIP() == null ? "" : status.getHostIP();
        line(0, "Node:", spec.getNodeName() == null ? "<none>" : spec.getNodeName() + "/" + hostIp);
        if (status != null && status.getStartTime() != null) {
            line(0, "Start Time:", time(status.getStartTime()));
        }
        labels(0, "Labels:", meta.getLabels() == null ? List.of() : Selectors.format(meta.getLabels()).isEmpty()
                ? List.of() : List.of(Selectors.format(meta.getLabels()).split(",")));
        labels(0, "Annotations:", meta.getAnnotations() == null ? List.of()
                : meta.getAnnotations().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                .map(e -> e.getKey() + ": " + e.getValue()).toList());
        if (meta.getDeletionTimestamp() != null) {
            line(0, "Status:", "Terminating (lasts " + "<unknown>" + ")");
            line(0, "Termination Grace Period:", meta.getDeletionGracePeriodSeconds() + "s");
        } else {
            line(0, "Status:", status == null ? "" : nz(status.getPhase()));
        }
        if (status != null && status.getReason() != null) {
            line(0, "Reason:", status.getReason());
        }
        line(0, "IP:", status == null || status.getPodIP() == null ? "" : status.getPodIP());
        if (status != null && status.getPodIPs() != null && !status.getPodIPs().isEmpty()) {
            line(0, "IPs:", "");
            status.getPodIPs().forEach(ip -> line(1, "IP:", ip.getIp()));
        } else {
            line(0, "IPs:", "<none>");
        }
        for (OwnerReference o : meta.getOwnerReferences() == null ? List.<OwnerReference>of() : meta.getOwnerReferences()) {
            if (Boolean.TRUE.equals(o.getController())) {
                line(0, "Controlled By:", o.getKind() + "/" + o.getName());
            }
        }
        if (spec.getInitContainers() != null && !spec.getInitContainers().isEmpty()) {
            line(0, "Init Containers:", "");
            for (Container c : spec.getInitContainers()) {
                container(c, status(status == null ? null : status.getInitContainerStatuses(), c.getName()));
            }
        }
        line(0, "Containers:", "");
        for (Container c : spec.getContainers()) {
            container(c, status(status == null ? null : status.getContainerStatuses(), c.getName()));
        }
        if (status != null && status.getConditions() != null && !status.getConditions().isEmpty()) {
            line(0, "Conditions:", "");
            w.append("  Type\tStatus\n");
            for (PodCondition c : status.getConditions()) {
                w.append("  ").append(c.getType()).append(" \t").append(c.getStatus()).append(" \n");
            }
        }
        if (spec.getVolumes() == null || spec.getVolumes().isEmpty()) {
            line(0, "Volumes:", "<none>");
        } else {
            line(0, "Volumes:", "");
            spec.getVolumes().forEach(this::volume);
        }
        line(0, "QoS Class:", status == null || status.getQosClass() == null ? "BestEffort" : status.getQosClass());
        line(0, "Node-Selectors:", spec.getNodeSelector() == null || spec.getNodeSelector().isEmpty() ? "<none>"
                : Selectors.format(spec.getNodeSelector()));
        line(0, "Tolerations:", spec.getTolerations() == null || spec.getTolerations().isEmpty() ? "<none>"
                : String.join(", ", spec.getTolerations().stream().map(t -> nz(t.getKey()) + ":" + nz(t.getEffect())).toList()));
    }

    private void container(Container c, ContainerStatus s) {
        line(1, c.getName() + ":", "");
        if (s != null && s.getContainerID() != null) {
            line(2, "Container ID:", s.getContainerID());
        }
        line(2, "Image:", nz(c.getImage()));
        line(2, "Image ID:", s == null ? "" : nz(s.getImageID()));
        List<ContainerPort> ports = c.getPorts() == null ? List.of() : c.getPorts();
        if (ports.isEmpty()) {
            line(2, "Port:", "<none>");
            line(2, "Host Port:", "<none>");
        } else {
            line(2, ports.size() == 1 ? "Port:" : "Ports:", String.join(", ", ports.stream()
                    .map(p -> p.getContainerPort() + "/" + p.getProtocol() + (p.getName() == null ? "" : " (" + p.getName() + ")")).toList()));
            line(2, ports.size() == 1 ? "Host Port:" : "Host Ports:", String.join(", ", ports.stream()
                    .map(p -> (p.getHostPort() == null ? 0 : p.getHostPort()) + "/" + p.getProtocol()).toList()));
        }
        words(2, "Command:", c.getCommand());
        words(2, "Args:", c.getArgs());
        if (s != null) {
            state(2, "State:", s.getState());
            if (s.getLastState() != null && (s.getLastState().getTerminated() != null || s.getLastState().getRunning() != null
                    || s.getLastState().getWaiting() != null)) {
                state(2, "Last State:", s.getLastState());
            }
            line(2, "Ready:", Boolean.TRUE.equals(s.getReady()) ? "True" : "False");
            line(2, "Restart Count:", String.valueOf(s.getRestartCount() == null ? 0 : s.getRestartCount()));
        } else {
            line(2, "State:", "Waiting");
            line(2, "Ready:", "False");
            line(2, "Restart Count:", "0");
        }
        probe(2, "Liveness:", c.getLivenessProbe());
        probe(2, "Readiness:", c.getReadinessProbe());
        probe(2, "Startup:", c.getStartupProbe());
        if (c.getEnvFrom() != null && !c.getEnvFrom().isEmpty()) {
            line(2, "Environment Variables from:", "");
            for (EnvFromSource f : c.getEnvFrom()) {
                String what = f.getConfigMapRef() != null ? f.getConfigMapRef().getName() + "\tConfigMap"
                        : f.getSecretRef() != null ? f.getSecretRef().getName() + "\tSecret" : "";
                line(3, what, "Optional: false" + (f.getPrefix() == null ? "" : " with prefix '" + f.getPrefix() + "'"));
            }
        }
        if (c.getEnv() == null || c.getEnv().isEmpty()) {
            line(2, "Environment:", "<none>");
        } else {
            line(2, "Environment:", "");
            for (EnvVar e : c.getEnv()) {
                line(3, e.getName() + ":", envValue(e));
            }
        }
        List<VolumeMount> mounts = c.getVolumeMounts() == null ? List.of() : c.getVolumeMounts();
        if (mounts.isEmpty()) {
            line(2, "Mounts:", "<none>");
        } else {
            line(2, "Mounts:", "");
            for (VolumeMount m : mounts) {
                w.append("      ").append(m.getMountPath()).append(" from ").append(m.getName())
                        .append(" (").append(Boolean.TRUE.equals(m.getReadOnly()) ? "ro" : "rw").append(")\n");
            }
        }
    }

    private static String envValue(EnvVar e) {
        if (e.getValueFrom() == null) {
            return nz(e.getValue());
        }
        var from = e.getValueFrom();
        if (from.getFieldRef() != null) {
            return " (" + (from.getFieldRef().getApiVersion() == null ? "v1" : from.getFieldRef().getApiVersion()) + ":"
                    + from.getFieldRef().getFieldPath() + ")";
        }
        if (from.getConfigMapKeyRef() != null) {
            return "<set to the key '" + from.getConfigMapKeyRef().getKey() + "' of config map '" + from.getConfigMapKeyRef().getName()
                    + "'>\tOptional: " + Boolean.TRUE.equals(from.getConfigMapKeyRef().getOptional());
        }
        if (from.getSecretKeyRef() != null) {
            return "<set to the key '" + from.getSecretKeyRef().getKey() + "' in secret '" + from.getSecretKeyRef().getName()
                    + "'>\tOptional: " + Boolean.TRUE.equals(from.getSecretKeyRef().getOptional());
        }
        return "";
    }

    private void state(int level, String title, ContainerState s) {
        if (s == null) {
            line(level, title, "Waiting");
        } else if (s.getRunning() != null) {
            line(level, title, "Running");
            line(level + 1, "Started:", time(s.getRunning().getStartedAt()));
        } else if (s.getWaiting() != null) {
            line(level, title, "Waiting");
            if (s.getWaiting().getReason() != null) {
                line(level + 1, "Reason:", s.getWaiting().getReason());
            }
            if (s.getWaiting().getMessage() != null) {
                line(level + 1, "Message:", s.getWaiting().getMessage());
            }
        } else if (s.getTerminated() != null) {
            var t = s.getTerminated();
            line(level, title, "Terminated");
            if (t.getReason() != null) {
                line(level + 1, "Reason:", t.getReason());
            }
            if (t.getMessage() != null) {
                line(level + 1, "Message:", t.getMessage());
            }
            line(level + 1, "Exit Code:", String.valueOf(t.getExitCode()));
            if (t.getSignal() != null && t.getSignal() > 0) {
                line(level + 1, "Signal:", String.valueOf(t.getSignal()));
            }
            line(level + 1, "Started:", time(t.getStartedAt()));
            line(level + 1, "Finished:", time(t.getFinishedAt()));
        } else {
            line(level, title, "Waiting");
        }
    }

    /** {@code http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3}. */
    private void probe(int level, String title, Probe p) {
        if (p == null) {
            return;
        }
        String handler;
        if (p.getHttpGet() != null) {
            var h = p.getHttpGet();
            handler = "http-get " + (h.getScheme() == null ? "http" : h.getScheme().toLowerCase(Locale.ROOT)) + "://"
                    + nz(h.getHost()) + ":" + port(h.getPort()) + nz(h.getPath());
        } else if (p.getTcpSocket() != null) {
            handler = "tcp-socket " + nz(p.getTcpSocket().getHost()) + ":" + port(p.getTcpSocket().getPort());
        } else if (p.getExec() != null) {
            handler = "exec [" + String.join(" ", p.getExec().getCommand() == null ? List.of() : p.getExec().getCommand()) + "]";
        } else if (p.getGrpc() != null) {
            handler = "grpc <pod>:" + p.getGrpc().getPort() + " " + nz(p.getGrpc().getService());
        } else {
            handler = "unknown";
        }
        line(level, title, handler + " delay=" + n(p.getInitialDelaySeconds(), 0) + "s timeout=" + n(p.getTimeoutSeconds(), 1)
                + "s period=" + n(p.getPeriodSeconds(), 10) + "s #success=" + n(p.getSuccessThreshold(), 1)
                + " #failure=" + n(p.getFailureThreshold(), 3));
    }

    private void volume(Volume v) {
        line(1, v.getName() + ":", "");
        if (v.getEmptyDir() != null) {
            line(2, "Type:", "EmptyDir (a temporary directory that shares a pod's lifetime)");
            line(2, "Medium:", nz(v.getEmptyDir().getMedium()));
            line(2, "SizeLimit:", v.getEmptyDir().getSizeLimit() == null ? "<unset>" : v.getEmptyDir().getSizeLimit().toString());
        } else if (v.getConfigMap() != null) {
            line(2, "Type:", "ConfigMap (a volume populated by a ConfigMap)");
            line(2, "Name:", v.getConfigMap().getName());
            line(2, "Optional:", String.valueOf(Boolean.TRUE.equals(v.getConfigMap().getOptional())));
        } else if (v.getSecret() != null) {
            line(2, "Type:", "Secret (a volume populated by a Secret)");
            line(2, "SecretName:", v.getSecret().getSecretName());
            line(2, "Optional:", String.valueOf(Boolean.TRUE.equals(v.getSecret().getOptional())));
        } else if (v.getHostPath() != null) {
            line(2, "Type:", "HostPath (bare host directory volume)");
            line(2, "Path:", v.getHostPath().getPath());
        } else if (v.getDownwardAPI() != null) {
            line(2, "Type:", "DownwardAPI (a volume populated by information about the pod)");
        } else {
            line(2, "Type:", "<unknown>");
        }
    }

    private void words(int level, String title, List<String> words) {
        if (words == null || words.isEmpty()) {
            return;
        }
        line(level, title, "");
        for (String word : words) {
            for (String l : word.split("\n", -1)) {
                w.append("  ".repeat(level + 1)).append(l).append('\n');
            }
        }
    }

    private void labels(int level, String title, List<String> values) {
        if (values.isEmpty()) {
            line(level, title, "<none>");
            return;
        }
        line(level, title, values.getFirst());
        for (String v : values.subList(1, values.size())) {
            w.append("  ".repeat(level)).append('\t').append(v).append('\n');
        }
    }

    private void line(int level, String title, String value) {
        w.append("  ".repeat(level)).append(title).append('\t').append(value).append('\n');
    }

    private static ContainerStatus status(List<ContainerStatus> statuses, String name) {
        if (statuses != null) {
            for (ContainerStatus s : statuses) {
                if (s.getName().equals(name)) {
                    return s;
                }
            }
        }
        return null;
    }

    private static String port(IntOrString p) {
        return p == null ? "" : p.getIntVal() != null ? p.getIntVal().toString() : p.getStrVal();
    }

    private static String time(String timestamp) {
        Instant t = Times.parse(timestamp);
        return t == null ? "" : TIME.format(t);
    }

    private static int n(Integer v, int fallback) {
        return v == null ? fallback : v;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
