package dev.portway.cli;

import static dev.portway.cli.DescribeWriter.LEVEL_0;
import static dev.portway.cli.DescribeWriter.LEVEL_1;
import static dev.portway.cli.DescribeWriter.LEVEL_2;
import static dev.portway.cli.DescribeWriter.LEVEL_3;

import dev.portway.api.GoValues;
import dev.portway.api.Quantities;
import dev.portway.api.Times;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeDevice;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * {@code portway describe pod NAME}: what kubectl's {@code describePod} prints for the same object,
 * line for line (kubectl 1.32, {@code k8s.io/kubectl/pkg/describe}): which lines appear and when,
 * in its order and wording, through the same prefix and tab writers.
 */
final class PodDescriber {

    /** kubectl's time format in describe output (Go's RFC1123Z), in the local zone as Go prints it. */
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ROOT);

    private static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
    private static final int MAX_ANNOTATION_LEN = 140;

    private final DescribeWriter w = new DescribeWriter();
    private final Pod pod;
    private final Instant now;
    private final ZoneId zone;

    private PodDescriber(Pod pod, Instant now, ZoneId zone) {
        this.pod = pod;
        this.now = now;
        this.zone = zone;
    }

    /** The whole description, events included, with times in the JVM's zone (as kubectl uses its local zone). */
    static String describe(Pod pod, List<Event> events, Instant now) {
        return describe(pod, events, now, ZoneId.systemDefault());
    }

    static String describe(Pod pod, List<Event> events, Instant now, ZoneId zone) {
        PodDescriber d = new PodDescriber(pod, now, zone);
        d.pod(events);
        return d.w.finish();
    }

    private void pod(List<Event> events) {
        var meta = pod.getMetadata();
        var spec = pod.getSpec();
        var status = pod.getStatus() == null ? new io.fabric8.kubernetes.api.model.PodStatus() : pod.getStatus();
        w.write(LEVEL_0, "Name:\t" + nz(meta.getName()) + "\n");
        w.write(LEVEL_0, "Namespace:\t" + nz(meta.getNamespace()) + "\n");
        if (spec.getPriority() != null) {
            w.write(LEVEL_0, "Priority:\t" + spec.getPriority() + "\n");
        }
        if (!nz(spec.getPriorityClassName()).isEmpty()) {
            w.write(LEVEL_0, "Priority Class Name:\t" + spec.getPriorityClassName() + "\n");
        }
        if (!nz(spec.getRuntimeClassName()).isEmpty()) {
            w.write(LEVEL_0, "Runtime Class Name:\t" + spec.getRuntimeClassName() + "\n");
        }
        if (!nz(spec.getServiceAccountName()).isEmpty()) {
            w.write(LEVEL_0, "Service Account:\t" + spec.getServiceAccountName() + "\n");
        }
        if (nz(spec.getNodeName()).isEmpty()) {
            w.write(LEVEL_0, "Node:\t<none>\n");
        } else {
            w.write(LEVEL_0, "Node:\t" + spec.getNodeName() + "/" + nz(status.getHostIP()) + "\n");
        }
        if (Times.parse(status.getStartTime()) != null) {
            w.write(LEVEL_0, "Start Time:\t" + time(status.getStartTime()) + "\n");
        }
        labels(LEVEL_0, "", "Labels", "\t", meta.getLabels());
        annotations("Annotations", meta.getAnnotations());
        String phase = nz(status.getPhase());
        if (meta.getDeletionTimestamp() != null && !phase.equals("Failed") && !phase.equals("Succeeded")) {
            w.write(LEVEL_0, "Status:\tTerminating (lasts " + DescribeEvents.since(meta.getDeletionTimestamp(), now) + ")\n");
            w.write(LEVEL_0, "Termination Grace Period:\t" + n(meta.getDeletionGracePeriodSeconds()) + "s\n");
        } else {
            w.write(LEVEL_0, "Status:\t" + phase + "\n");
        }
        if (!nz(status.getReason()).isEmpty()) {
            w.write(LEVEL_0, "Reason:\t" + status.getReason() + "\n");
        }
        if (!nz(status.getMessage()).isEmpty()) {
            w.write(LEVEL_0, "Message:\t" + status.getMessage() + "\n");
        }
        if (spec.getSecurityContext() != null && spec.getSecurityContext().getSeccompProfile() != null) {
            SeccompProfile profile = spec.getSecurityContext().getSeccompProfile();
            w.write(LEVEL_0, "SeccompProfile:\t" + nz(profile.getType()) + "\n");
            if ("Localhost".equals(profile.getType())) {
                w.write(LEVEL_0, "LocalhostProfile:\t" + nz(profile.getLocalhostProfile()) + "\n");
            }
        }
        w.write(LEVEL_0, "IP:\t" + nz(status.getPodIP()) + "\n");
        if (status.getPodIPs() == null || status.getPodIPs().isEmpty()) {
            w.write(LEVEL_0, "IPs:\t<none>\n");
        } else {
            w.write(LEVEL_0, "IPs:\n");
            status.getPodIPs().forEach(ip -> w.write(LEVEL_1, "IP:\t" + nz(ip.getIp()) + "\n"));
        }
        for (OwnerReference o : list(meta.getOwnerReferences())) {
            if (Boolean.TRUE.equals(o.getController())) {
                w.write(LEVEL_0, "Controlled By:\t" + nz(o.getKind()) + "/" + nz(o.getName()) + "\n");
                break;
            }
        }
        if (!nz(status.getNominatedNodeName()).isEmpty()) {
            w.write(LEVEL_0, "NominatedNodeName:\t" + status.getNominatedNodeName() + "\n");
        }
        if (spec.getResources() != null) {
            w.write(LEVEL_0, "Resources:\n");
            resources(spec.getResources(), LEVEL_1);
        }
        if (!list(spec.getInitContainers()).isEmpty()) {
            containers("Init Containers", spec.getInitContainers(), status.getInitContainerStatuses());
        }
        containers("Containers", list(spec.getContainers()), status.getContainerStatuses());
        if (!list(spec.getEphemeralContainers()).isEmpty()) {
            List<Container> ephemeral = new ArrayList<>();
            for (var e : spec.getEphemeralContainers()) {
                ephemeral.add(dev.portway.api.Json.convert(e, Container.class));
            }
            containers("Ephemeral Containers", ephemeral, status.getEphemeralContainerStatuses());
        }
        if (!list(spec.getReadinessGates()).isEmpty()) {
            w.write(LEVEL_0, "Readiness Gates:\n  Type\tStatus\n");
            for (var gate : spec.getReadinessGates()) {
                String value = "<none>";
                for (PodCondition c : list(status.getConditions())) {
                    if (Objects.equals(c.getType(), gate.getConditionType())) {
                        value = nz(c.getStatus());
                        break;
                    }
                }
                w.write(LEVEL_1, nz(gate.getConditionType()) + " \t" + value + " \n");
            }
        }
        if (!list(status.getConditions()).isEmpty()) {
            w.write(LEVEL_0, "Conditions:\n  Type\tStatus\n");
            for (PodCondition c : status.getConditions()) {
                w.write(LEVEL_1, nz(c.getType()) + " \t" + nz(c.getStatus()) + " \n");
            }
        }
        volumes(list(spec.getVolumes()));
        w.write(LEVEL_0, "QoS Class:\t" + (nz(status.getQosClass()).isEmpty() ? computeQos() : status.getQosClass()) + "\n");
        labels(LEVEL_0, "", "Node-Selectors", "\t", spec.getNodeSelector());
        tolerations(list(spec.getTolerations()));
        topologySpreadConstraints(list(spec.getTopologySpreadConstraints()));
        DescribeEvents.write(events, w, now);
    }

    // --- containers ---

    private void containers(String label, List<Container> containers, List<ContainerStatus> containerStatuses) {
        Map<String, ContainerStatus> statuses = new HashMap<>();
        for (ContainerStatus s : list(containerStatuses)) {
            statuses.put(s.getName(), s);
        }
        w.write(LEVEL_0, label + ":" + (containers.isEmpty() ? " <none>" : "") + "\n");
        for (Container c : containers) {
            ContainerStatus status = statuses.get(c.getName());
            basicInfo(c, status);
            command(c);
            if (status != null) {
                state("State", status.getState());
                if (status.getLastState() != null && status.getLastState().getTerminated() != null) {
                    state("Last State", status.getLastState());
                }
                w.write(LEVEL_2, "Ready:\t" + (Boolean.TRUE.equals(status.getReady()) ? "True" : "False") + "\n");
                w.write(LEVEL_2, "Restart Count:\t" + n(status.getRestartCount()) + "\n");
            }
            resources(c.getResources(), LEVEL_2);
            probes(c);
            if (!list(c.getEnvFrom()).isEmpty()) {
                envFrom(c);
            }
            env(c);
            mounts(c);
        }
    }

    private void basicInfo(Container c, ContainerStatus status) {
        w.write(LEVEL_1, nz(c.getName()) + ":\n");
        if (status != null) {
            w.write(LEVEL_2, "Container ID:\t" + nz(status.getContainerID()) + "\n");
        }
        w.write(LEVEL_2, "Image:\t" + nz(c.getImage()) + "\n");
        if (status != null) {
            w.write(LEVEL_2, "Image ID:\t" + nz(status.getImageID()) + "\n");
        }
        List<String> ports = new ArrayList<>();
        List<String> hostPorts = new ArrayList<>();
        for (ContainerPort p : list(c.getPorts())) {
            ports.add(n(p.getContainerPort()) + "/" + nz(p.getProtocol()));
            hostPorts.add(n(p.getHostPort()) + "/" + nz(p.getProtocol()));
        }
        String portString = String.join(", ", ports);
        w.write(LEVEL_2, (portString.contains(",") ? "Ports:\t" + portString : "Port:\t" + orNone(portString)) + "\n");
        String hostPortString = String.join(", ", hostPorts);
        w.write(LEVEL_2, (hostPortString.contains(",") ? "Host Ports:\t" + hostPortString : "Host Port:\t" + orNone(hostPortString)) + "\n");
        if (c.getSecurityContext() != null && c.getSecurityContext().getSeccompProfile() != null) {
            SeccompProfile profile = c.getSecurityContext().getSeccompProfile();
            w.write(LEVEL_2, "SeccompProfile:\t" + nz(profile.getType()) + "\n");
            if ("Localhost".equals(profile.getType())) {
                w.write(LEVEL_3, "LocalhostProfile:\t" + nz(profile.getLocalhostProfile()) + "\n");
            }
        }
    }

    private void command(Container c) {
        if (!list(c.getCommand()).isEmpty()) {
            w.write(LEVEL_2, "Command:\n");
            for (String command : c.getCommand()) {
                for (String s : nz(command).split("\n", -1)) {
                    w.write(LEVEL_3, s + "\n");
                }
            }
        }
        if (!list(c.getArgs()).isEmpty()) {
            w.write(LEVEL_2, "Args:\n");
            for (String arg : c.getArgs()) {
                for (String s : nz(arg).split("\n", -1)) {
                    w.write(LEVEL_3, s + "\n");
                }
            }
        }
    }

    /** {@code describeStatus}. */
    private void state(String name, ContainerState state) {
        if (state != null && state.getRunning() != null) {
            w.write(LEVEL_2, name + ":\tRunning\n");
            w.write(LEVEL_3, "Started:\t" + time(state.getRunning().getStartedAt()) + "\n");
        } else if (state != null && state.getWaiting() != null) {
            w.write(LEVEL_2, name + ":\tWaiting\n");
            if (!nz(state.getWaiting().getReason()).isEmpty()) {
                w.write(LEVEL_3, "Reason:\t" + state.getWaiting().getReason() + "\n");
            }
        } else if (state != null && state.getTerminated() != null) {
            var t = state.getTerminated();
            w.write(LEVEL_2, name + ":\tTerminated\n");
            if (!nz(t.getReason()).isEmpty()) {
                w.write(LEVEL_3, "Reason:\t" + t.getReason() + "\n");
            }
            if (!nz(t.getMessage()).isEmpty()) {
                w.write(LEVEL_3, "Message:\t" + t.getMessage() + "\n");
            }
            w.write(LEVEL_3, "Exit Code:\t" + n(t.getExitCode()) + "\n");
            if (n(t.getSignal()) > 0) {
                w.write(LEVEL_3, "Signal:\t" + t.getSignal() + "\n");
            }
            w.write(LEVEL_3, "Started:\t" + time(t.getStartedAt()) + "\n");
            w.write(LEVEL_3, "Finished:\t" + time(t.getFinishedAt()) + "\n");
        } else {
            w.write(LEVEL_2, name + ":\tWaiting\n");
        }
    }

    private void resources(ResourceRequirements resources, int level) {
        if (resources == null) {
            return;
        }
        Map<String, Quantity> limits = sorted(resources.getLimits());
        if (!limits.isEmpty()) {
            w.write(level, "Limits:\n");
        }
        limits.forEach((name, q) -> w.write(level + 1, name + ":\t" + Quantities.canonical(q) + "\n"));
        Map<String, Quantity> requests = sorted(resources.getRequests());
        if (!requests.isEmpty()) {
            w.write(level, "Requests:\n");
        }
        requests.forEach((name, q) -> w.write(level + 1, name + ":\t" + Quantities.canonical(q) + "\n"));
    }

    private void probes(Container c) {
        if (c.getLivenessProbe() != null) {
            w.write(LEVEL_2, "Liveness:\t" + probe(c.getLivenessProbe()) + "\n");
        }
        if (c.getReadinessProbe() != null) {
            w.write(LEVEL_2, "Readiness:\t" + probe(c.getReadinessProbe()) + "\n");
        }
        if (c.getStartupProbe() != null) {
            w.write(LEVEL_2, "Startup:\t" + probe(c.getStartupProbe()) + "\n");
        }
    }

    /** {@code DescribeProbe}: {@code http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3}. */
    static String probe(Probe p) {
        String attrs = "delay=" + n(p.getInitialDelaySeconds()) + "s timeout=" + n(p.getTimeoutSeconds()) + "s period="
                + n(p.getPeriodSeconds()) + "s #success=" + n(p.getSuccessThreshold()) + " #failure=" + n(p.getFailureThreshold());
        if (p.getExec() != null) {
            return "exec [" + String.join(" ", list(p.getExec().getCommand())) + "] " + attrs;
        }
        if (p.getHttpGet() != null) {
            var h = p.getHttpGet();
            String port = port(h.getPort());
            String host = port.isEmpty() ? nz(h.getHost()) : joinHostPort(nz(h.getHost()), port);
            return "http-get " + GoUrl.string(nz(h.getScheme()).toLowerCase(Locale.ROOT), host, nz(h.getPath())) + " " + attrs;
        }
        if (p.getTcpSocket() != null) {
            return "tcp-socket " + nz(p.getTcpSocket().getHost()) + ":" + port(p.getTcpSocket().getPort()) + " " + attrs;
        }
        if (p.getGrpc() != null) {
            return "grpc <pod>:" + n(p.getGrpc().getPort()) + " " + nz(p.getGrpc().getService()) + " " + attrs;
        }
        return "unknown " + attrs;
    }

    private void envFrom(Container c) {
        w.write(LEVEL_2, "Environment Variables from:\n");
        for (EnvFromSource e : c.getEnvFrom()) {
            String from = "";
            String name = "";
            boolean optional = false;
            if (e.getConfigMapRef() != null) {
                from = "ConfigMap";
                name = nz(e.getConfigMapRef().getName());
                optional = Boolean.TRUE.equals(e.getConfigMapRef().getOptional());
            } else if (e.getSecretRef() != null) {
                from = "Secret";
                name = nz(e.getSecretRef().getName());
                optional = Boolean.TRUE.equals(e.getSecretRef().getOptional());
            }
            if (nz(e.getPrefix()).isEmpty()) {
                w.write(LEVEL_3, name + "\t" + from + "\tOptional: " + optional + "\n");
            } else {
                w.write(LEVEL_3, name + "\t" + from + " with prefix '" + e.getPrefix() + "'\tOptional: " + optional + "\n");
            }
        }
    }

    private void env(Container c) {
        List<EnvVar> env = list(c.getEnv());
        w.write(LEVEL_2, "Environment:" + (env.isEmpty() ? "\t<none>" : "") + "\n");
        for (EnvVar e : env) {
            String name = nz(e.getName());
            var from = e.getValueFrom();
            if (from == null) {
                String[] lines = nz(e.getValue()).split("\n", -1);
                for (int i = 0; i < lines.length; i++) {
                    w.write(LEVEL_3, (i == 0 ? name + ":\t" : "\t") + lines[i] + "\n");
                }
            } else if (from.getFieldRef() != null) {
                var ref = from.getFieldRef();
                w.write(LEVEL_3, name + ":\t" + fieldRefValue(nz(ref.getApiVersion()), nz(ref.getFieldPath())) + " ("
                        + nz(ref.getApiVersion()) + ":" + nz(ref.getFieldPath()) + ")\n");
            } else if (from.getResourceFieldRef() != null) {
                String resource = nz(from.getResourceFieldRef().getResource());
                String value = resourceFieldValue(from.getResourceFieldRef(), c);
                if (value.equals("0") && (resource.equals("limits.cpu") || resource.equals("limits.memory"))) {
                    value = "node allocatable";
                }
                w.write(LEVEL_3, name + ":\t" + value + " (" + resource + ")\n");
            } else if (from.getSecretKeyRef() != null) {
                var ref = from.getSecretKeyRef();
                w.write(LEVEL_3, name + ":\t<set to the key '" + nz(ref.getKey()) + "' in secret '" + nz(ref.getName())
                        + "'>\tOptional: " + Boolean.TRUE.equals(ref.getOptional()) + "\n");
            } else if (from.getConfigMapKeyRef() != null) {
                var ref = from.getConfigMapKeyRef();
                w.write(LEVEL_3, name + ":\t<set to the key '" + nz(ref.getKey()) + "' of config map '" + nz(ref.getName())
                        + "'>\tOptional: " + Boolean.TRUE.equals(ref.getOptional()) + "\n");
            }
        }
    }

    /**
     * kubectl's {@code EnvValueRetriever}: it converts the field path with its own scheme, which
     * has no field label conversions for pods, so only {@code metadata.name} and
     * {@code metadata.namespace} get past it; anything else (or an API version that does not
     * parse) shows as empty.
     */
    private String fieldRefValue(String apiVersion, String fieldPath) {
        if (apiVersion.chars().filter(ch -> ch == '/').count() > 1) {
            return "";
        }
        return switch (fieldPath) {
            case "metadata.name" -> nz(pod.getMetadata().getName());
            case "metadata.namespace" -> nz(pod.getMetadata().getNamespace());
            default -> "";
        };
    }

    /** {@code resourcehelper.ExtractContainerResourceValue}, rounded up in units of the divisor; "" when unsupported. */
    private static String resourceFieldValue(io.fabric8.kubernetes.api.model.ResourceFieldSelector ref, Container c) {
        BigDecimal divisor = ref.getDivisor() == null ? BigDecimal.ZERO
                : Quantities.parse(ref.getDivisor()).map(Quantities.Parsed::value).orElse(BigDecimal.ZERO);
        if (divisor.signum() == 0) {
            divisor = BigDecimal.ONE;
        }
        String resource = nz(ref.getResource());
        Map<String, Quantity> limits = c.getResources() == null || c.getResources().getLimits() == null ? Map.of() : c.getResources().getLimits();
        Map<String, Quantity> requests = c.getResources() == null || c.getResources().getRequests() == null ? Map.of() : c.getResources().getRequests();
        return switch (resource) {
            case "limits.cpu" -> cpu(limits.get("cpu"), divisor);
            case "limits.memory" -> bytes(limits.get("memory"), divisor);
            case "limits.ephemeral-storage" -> bytes(limits.get("ephemeral-storage"), divisor);
            case "requests.cpu" -> cpu(requests.get("cpu"), divisor);
            case "requests.memory" -> bytes(requests.get("memory"), divisor);
            case "requests.ephemeral-storage" -> bytes(requests.get("ephemeral-storage"), divisor);
            default -> {
                if (resource.startsWith("requests.hugepages-")) {
                    yield bytes(requests.get(resource.substring("requests.".length())), divisor);
                } else if (resource.startsWith("limits.hugepages-")) {
                    yield bytes(limits.get(resource.substring("limits.".length())), divisor);
                }
                yield "";
            }
        };
    }

    /** {@code ceil(MilliValue(cpu) / MilliValue(divisor))}. */
    private static String cpu(Quantity q, BigDecimal divisor) {
        BigDecimal milli = value(q).movePointRight(3).setScale(0, RoundingMode.CEILING);
        BigDecimal divisorMilli = divisor.movePointRight(3).setScale(0, RoundingMode.CEILING);
        return String.valueOf((long) Math.ceil(milli.doubleValue() / divisorMilli.doubleValue()));
    }

    /** {@code ceil(Value(q) / Value(divisor))}. */
    private static String bytes(Quantity q, BigDecimal divisor) {
        BigDecimal value = value(q).setScale(0, RoundingMode.CEILING);
        return String.valueOf((long) Math.ceil(value.doubleValue() / divisor.setScale(0, RoundingMode.CEILING).doubleValue()));
    }

    private static BigDecimal value(Quantity q) {
        return q == null ? BigDecimal.ZERO : Quantities.parse(q).map(Quantities.Parsed::value).orElse(BigDecimal.ZERO);
    }

    private void mounts(Container c) {
        List<VolumeMount> mounts = new ArrayList<>(list(c.getVolumeMounts()));
        String none = mounts.isEmpty() ? "\t<none>" : "";
        w.write(LEVEL_2, "Mounts:" + none + "\n");
        GoSort.sort(mounts, Comparator.comparing((VolumeMount m) -> nz(m.getMountPath()), PodDescriber::compareBytes));
        for (VolumeMount m : mounts) {
            String flags = Boolean.TRUE.equals(m.getReadOnly()) ? "ro" : "rw";
            if (!nz(m.getSubPath()).isEmpty()) {
                flags += ",path=" + GoValues.quote(m.getSubPath());
            }
            w.write(LEVEL_3, nz(m.getMountPath()) + " from " + nz(m.getName()) + " (" + flags + ")\n");
        }
        List<VolumeDevice> devices = new ArrayList<>(list(c.getVolumeDevices()));
        if (!devices.isEmpty()) {
            w.write(LEVEL_2, "Devices:" + none + "\n");
            GoSort.sort(devices, Comparator.comparing((VolumeDevice d) -> nz(d.getDevicePath()), PodDescriber::compareBytes));
            for (VolumeDevice d : devices) {
                w.write(LEVEL_3, nz(d.getDevicePath()) + " from " + nz(d.getName()) + "\n");
            }
        }
    }

    // --- volumes ---

    private void volumes(List<Volume> volumes) {
        if (volumes.isEmpty()) {
            w.write(LEVEL_0, "Volumes:\t<none>\n");
            return;
        }
        w.write(LEVEL_0, "Volumes:\n");
        for (Volume v : volumes) {
            w.write(LEVEL_1, nz(v.getName()) + ":\n");
            if (v.getHostPath() != null) {
                w.write(LEVEL_2, "Type:\tHostPath (bare host directory volume)\n    Path:\t" + nz(v.getHostPath().getPath())
                        + "\n    HostPathType:\t" + (v.getHostPath().getType() == null ? "<none>" : v.getHostPath().getType()) + "\n");
            } else if (v.getEmptyDir() != null) {
                Quantity limit = v.getEmptyDir().getSizeLimit();
                String sizeLimit = limit != null && value(limit).signum() > 0 ? Quantities.canonical(limit) : "<unset>";
                w.write(LEVEL_2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t"
                        + nz(v.getEmptyDir().getMedium()) + "\n    SizeLimit:\t" + sizeLimit + "\n");
            } else if (v.getGitRepo() != null) {
                w.write(LEVEL_2, "Type:\tGitRepo (a volume that is pulled from git when the pod is created)\n    Repository:\t"
                        + nz(v.getGitRepo().getRepository()) + "\n    Revision:\t" + nz(v.getGitRepo().getRevision()) + "\n");
            } else if (v.getSecret() != null) {
                w.write(LEVEL_2, "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t" + nz(v.getSecret().getSecretName())
                        + "\n    Optional:\t" + Boolean.TRUE.equals(v.getSecret().getOptional()) + "\n");
            } else if (v.getConfigMap() != null) {
                w.write(LEVEL_2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t" + nz(v.getConfigMap().getName())
                        + "\n    Optional:\t" + Boolean.TRUE.equals(v.getConfigMap().getOptional()) + "\n");
            } else if (v.getNfs() != null) {
                w.write(LEVEL_2, "Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n    Server:\t" + nz(v.getNfs().getServer())
                        + "\n    Path:\t" + nz(v.getNfs().getPath()) + "\n    ReadOnly:\t" + Boolean.TRUE.equals(v.getNfs().getReadOnly()) + "\n");
            } else if (v.getPersistentVolumeClaim() != null) {
                w.write(LEVEL_2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n"
                        + "    ClaimName:\t" + nz(v.getPersistentVolumeClaim().getClaimName()) + "\n    ReadOnly:\t"
                        + Boolean.TRUE.equals(v.getPersistentVolumeClaim().getReadOnly()) + "\n");
            } else if (v.getDownwardAPI() != null) {
                w.write(LEVEL_2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n");
                for (var item : list(v.getDownwardAPI().getItems())) {
                    if (item.getFieldRef() != null) {
                        w.write(LEVEL_3, nz(item.getFieldRef().getFieldPath()) + " -> " + nz(item.getPath()) + "\n");
                    }
                    if (item.getResourceFieldRef() != null) {
                        w.write(LEVEL_3, nz(item.getResourceFieldRef().getResource()) + " -> " + nz(item.getPath()) + "\n");
                    }
                }
            } else if (v.getProjected() != null) {
                projected(v.getProjected());
            } else if (v.getCsi() != null) {
                var csi = v.getCsi();
                w.write(LEVEL_2, "Type:\tCSI (a Container Storage Interface (CSI) volume source)\n    Driver:\t" + nz(csi.getDriver())
                        + "\n    FSType:\t" + nz(csi.getFsType()) + "\n    ReadOnly:\t" + Boolean.TRUE.equals(csi.getReadOnly()) + "\n");
                csiAttributes(csi.getVolumeAttributes());
            } else if (v.getImage() != null) {
                w.write(LEVEL_2, "Type:\tImage (a container image or OCI artifact)\n    Reference:\t" + nz(v.getImage().getReference())
                        + "\n    PullPolicy:\t" + nz(v.getImage().getPullPolicy()) + "\n");
            } else {
                // kubectl knows more (cloud disks, iSCSI, Ceph, ...), none of which a local pod can mount.
                w.write(LEVEL_1, "<unknown>\n");
            }
        }
    }

    private void projected(io.fabric8.kubernetes.api.model.ProjectedVolumeSource projected) {
        w.write(LEVEL_2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n");
        for (var source : list(projected.getSources())) {
            if (source.getSecret() != null) {
                // kubectl prints the *bool itself: <nil> when unset (and a pointer when set, which no one can match).
                w.write(LEVEL_2, "SecretName:\t" + nz(source.getSecret().getName()) + "\n    SecretOptionalName:\t"
                        + (source.getSecret().getOptional() == null ? "<nil>" : source.getSecret().getOptional()) + "\n");
            } else if (source.getDownwardAPI() != null) {
                w.write(LEVEL_2, "DownwardAPI:\ttrue\n");
            } else if (source.getConfigMap() != null) {
                w.write(LEVEL_2, "ConfigMapName:\t" + nz(source.getConfigMap().getName()) + "\n    ConfigMapOptional:\t"
                        + (source.getConfigMap().getOptional() == null ? "<nil>" : source.getConfigMap().getOptional()) + "\n");
            } else if (source.getServiceAccountToken() != null) {
                w.write(LEVEL_2, "TokenExpirationSeconds:\t" + n(source.getServiceAccountToken().getExpirationSeconds()) + "\n");
            }
        }
    }

    // --- labels, annotations, tolerations ---

    /** {@code printLabelsMultilineWithIndent} (Labels, Node-Selectors, CSI attributes). */
    private void labels(int level, String initialIndent, String title, String innerIndent, Map<String, String> labels) {
        w.write(level, initialIndent + title + ":" + innerIndent);
        if (labels == null || labels.isEmpty()) {
            w.writeLine("<none>");
            return;
        }
        boolean first = true;
        for (Map.Entry<String, String> e : sorted(labels).entrySet()) {
            if (!first) {
                w.write(LEVEL_0, initialIndent);
                w.write(LEVEL_0, innerIndent);
            }
            first = false;
            w.write(LEVEL_0, e.getKey() + "=" + e.getValue() + "\n");
        }
    }

    /**
     * {@code printCSIPersistentVolumeAttributesMultilineIndent}: every write at level 2, so each
     * value carries the level's indent too, and lines past 140 bytes are cut.
     */
    private void csiAttributes(Map<String, String> attributes) {
        w.write(LEVEL_2, "VolumeAttributes:\t");
        if (attributes == null || attributes.isEmpty()) {
            w.writeLine("<none>");
            return;
        }
        boolean first = true;
        for (Map.Entry<String, String> e : sorted(attributes).entrySet()) {
            if (!first) {
                w.write(LEVEL_2, "");
                w.write(LEVEL_2, "\t");
            }
            first = false;
            String line = e.getKey() + "=" + e.getValue();
            w.write(LEVEL_2, utf8Length(line) > MAX_ANNOTATION_LEN ? cut(line, MAX_ANNOTATION_LEN) + "...\n" : line + "\n");
        }
    }

    /** {@code printAnnotationsMultiline}: without the last-applied configuration, long or multi-line values below their key. */
    private void annotations(String title, Map<String, String> annotations) {
        w.write(LEVEL_0, title + ":\t");
        Map<String, String> keys = sorted(annotations);
        keys.remove(LAST_APPLIED);
        if (keys.isEmpty()) {
            w.writeLine("<none>");
            return;
        }
        String indent = "\t";
        boolean first = true;
        for (Map.Entry<String, String> e : keys.entrySet()) {
            if (!first) {
                w.write(LEVEL_0, indent);
            }
            first = false;
            String key = e.getKey();
            String value = nz(e.getValue());
            if (value.endsWith("\n")) {
                value = value.substring(0, value.length() - 1);
            }
            if (utf8Length(value) + utf8Length(key) + 2 > MAX_ANNOTATION_LEN || value.contains("\n")) {
                w.write(LEVEL_0, key + ":\n");
                for (String s : value.split("\n", -1)) {
                    w.write(LEVEL_0, indent + "  " + shorten(s, MAX_ANNOTATION_LEN - 2) + "\n");
                }
            } else {
                w.write(LEVEL_0, key + ": " + value + "\n");
            }
        }
    }

    /** {@code printTolerationsMultilineWithIndent}: sorted by key. */
    private void tolerations(List<Toleration> tolerations) {
        w.write(LEVEL_0, "Tolerations:\t");
        if (tolerations.isEmpty()) {
            w.writeLine("<none>");
            return;
        }
        List<Toleration> sorted = new ArrayList<>(tolerations);
        GoSort.sort(sorted, Comparator.comparing((Toleration t) -> nz(t.getKey()), PodDescriber::compareBytes));
        for (int i = 0; i < sorted.size(); i++) {
            Toleration t = sorted.get(i);
            if (i != 0) {
                w.write(LEVEL_0, "");
                w.write(LEVEL_0, "\t");
            }
            w.write(LEVEL_0, nz(t.getKey()));
            if (!nz(t.getValue()).isEmpty()) {
                w.write(LEVEL_0, "=" + t.getValue());
            }
            if (!nz(t.getEffect()).isEmpty()) {
                w.write(LEVEL_0, ":" + t.getEffect());
            }
            if ("Exists".equals(t.getOperator()) && nz(t.getValue()).isEmpty()) {
                w.write(LEVEL_0, !nz(t.getKey()).isEmpty() || !nz(t.getEffect()).isEmpty() ? " op=Exists" : "op=Exists");
            }
            if (t.getTolerationSeconds() != null) {
                w.write(LEVEL_0, " for " + t.getTolerationSeconds() + "s");
            }
            w.write(LEVEL_0, "\n");
        }
    }

    private void topologySpreadConstraints(List<TopologySpreadConstraint> constraints) {
        if (constraints.isEmpty()) {
            return;
        }
        List<TopologySpreadConstraint> sorted = new ArrayList<>(constraints);
        GoSort.sort(sorted, Comparator.comparing((TopologySpreadConstraint t) -> nz(t.getTopologyKey()), PodDescriber::compareBytes));
        w.write(LEVEL_0, "Topology Spread Constraints:\t");
        for (int i = 0; i < sorted.size(); i++) {
            TopologySpreadConstraint t = sorted.get(i);
            if (i != 0) {
                w.write(LEVEL_0, "");
                w.write(LEVEL_0, "\t");
            }
            w.write(LEVEL_0, nz(t.getTopologyKey()) + ":");
            w.write(LEVEL_0, nz(t.getWhenUnsatisfiable()));
            w.write(LEVEL_0, " when max skew " + n(t.getMaxSkew()) + " is exceeded");
            if (t.getLabelSelector() != null) {
                w.write(LEVEL_0, " for selector " + formatLabelSelector(t.getLabelSelector()));
            }
            w.write(LEVEL_0, "\n");
        }
    }

    /** {@code metav1.FormatLabelSelector}: requirements sorted by key, {@code <none>} for an empty selector. */
    static String formatLabelSelector(LabelSelector selector) {
        List<String[]> requirements = new ArrayList<>();
        if (selector.getMatchLabels() != null) {
            selector.getMatchLabels().forEach((k, v) -> requirements.add(new String[] {k, k + "=" + v}));
        }
        for (LabelSelectorRequirement r : list(selector.getMatchExpressions())) {
            List<String> values = new ArrayList<>(list(r.getValues()));
            values.sort(PodDescriber::compareBytes);
            String text = switch (nz(r.getOperator())) {
                case "In" -> r.getKey() + " in (" + String.join(",", values) + ")";
                case "NotIn" -> r.getKey() + " notin (" + String.join(",", values) + ")";
                case "Exists" -> r.getKey();
                case "DoesNotExist" -> "!" + r.getKey();
                default -> null;
            };
            if (text == null) {
                return "<error>";
            }
            requirements.add(new String[] {nz(r.getKey()), text});
        }
        requirements.sort(Comparator.comparing((String[] r) -> r[0], PodDescriber::compareBytes));
        String text = String.join(",", requirements.stream().map(r -> r[1]).toList());
        return text.isEmpty() ? "<none>" : text;
    }

    // --- QoS ---

    /** {@code qos.ComputePodQOS}, which kubectl falls back on when the status has no QoS class. */
    private String computeQos() {
        return dev.portway.api.PodQos.compute(pod);
    }

    // --- helpers ---

    private String time(String timestamp) {
        Instant t = Times.parse(timestamp);
        // Go prints the zero time for a missing one; the API server always sets these.
        return TIME.format((t == null ? Instant.parse("0001-01-01T00:00:00Z") : t).atZone(zone));
    }

    private static <T> Map<String, T> sorted(Map<String, T> map) {
        Map<String, T> sorted = new TreeMap<>(PodDescriber::compareBytes);
        if (map != null) {
            sorted.putAll(map);
        }
        return sorted;
    }

    /** Go compares strings by their UTF-8 bytes. */
    static int compareBytes(String a, String b) {
        byte[] x = a.getBytes(StandardCharsets.UTF_8);
        byte[] y = b.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.compareUnsigned(x, y);
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** kubectl's {@code shorten}, which counts bytes. */
    private static String shorten(String s, int max) {
        return utf8Length(s) <= max ? s : cut(s, max) + "...";
    }

    /** Go's {@code s[:max]}: the first {@code max} bytes (a character cut in two cannot be printed as Go prints it). */
    private static String cut(String s, int max) {
        return new String(s.getBytes(StandardCharsets.UTF_8), 0, max, StandardCharsets.UTF_8);
    }

    private static String joinHostPort(String host, String port) {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    private static String port(IntOrString p) {
        if (p == null) {
            return "0";
        }
        return p.getIntVal() != null ? p.getIntVal().toString() : nz(p.getStrVal());
    }

    private static String orNone(String s) {
        return s.isEmpty() ? "<none>" : s;
    }

    private static <T> List<T> list(List<T> list) {
        return list == null ? List.of() : list;
    }

    private static long n(Number v) {
        return v == null ? 0 : v.longValue();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
