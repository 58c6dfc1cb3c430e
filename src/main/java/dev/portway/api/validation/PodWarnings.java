package dev.portway.api.validation;

import static dev.portway.api.validation.MetaValidation.nz;

import dev.portway.api.FieldPath;
import dev.portway.api.Quantities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodAffinityTerm;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.WeightedPodAffinityTerm;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The warnings kube-apiserver sends back with a pod or a pod template it accepts (the
 * {@code Warning} headers kubectl prints): {@code GetWarningsForPod} and
 * {@code GetWarningsForPodTemplate} of pkg/api/pod, with the pod strategy's warning about a name
 * that is no DNS label. Deprecated node labels, annotations and volume types, duplicate host
 * aliases, pull secrets, variables and ports, fractional byte quantities, a negative grace period,
 * and selectors that match nothing.
 */
public final class PodWarnings {

    private PodWarnings() {
    }

    /** {@code GetNodeLabelDeprecatedMessage}'s labels. */
    private static final Map<String, String> DEPRECATED_NODE_LABELS = Map.of(
            "beta.kubernetes.io/arch", "deprecated since v1.14; use \"kubernetes.io/arch\" instead",
            "beta.kubernetes.io/os", "deprecated since v1.14; use \"kubernetes.io/os\" instead",
            "failure-domain.beta.kubernetes.io/region", "deprecated since v1.17; use \"topology.kubernetes.io/region\" instead",
            "failure-domain.beta.kubernetes.io/zone", "deprecated since v1.17; use \"topology.kubernetes.io/zone\" instead",
            "beta.kubernetes.io/instance-type", "deprecated since v1.17; use \"node.kubernetes.io/instance-type\" instead",
            "app.kubernetes.io/created-by", "deprecated since v1.9",
            "scheduler.alpha.kubernetes.io/preferAvoidPods", "deprecated since v1.22; use Taints and Tolerations instead",
            "node-role.kubernetes.io/master", "use \"node-role.kubernetes.io/control-plane\" instead");

    /** The deprecated annotations, in kube's order. */
    private static final Map<String, String> DEPRECATED_ANNOTATIONS = new LinkedHashMap<>();

    static {
        DEPRECATED_ANNOTATIONS.put("scheduler.alpha.kubernetes.io/critical-pod", "non-functional in v1.16+; use the \"priorityClassName\" field instead");
        DEPRECATED_ANNOTATIONS.put("security.alpha.kubernetes.io/sysctls", "non-functional in v1.11+; use the \"sysctls\" field instead");
        DEPRECATED_ANNOTATIONS.put("security.alpha.kubernetes.io/unsafe-sysctls", "non-functional in v1.11+; use the \"sysctls\" field instead");
    }

    /** A volume type that is deprecated or gone: its field, and what kube-apiserver says of it. */
    private record DeprecatedVolume(String field, java.util.function.Function<Volume, Object> source, String message) {
    }

    /** In kube's order. */
    private static final List<DeprecatedVolume> DEPRECATED_VOLUMES = List.of(
            new DeprecatedVolume("photonPersistentDisk", Volume::getPhotonPersistentDisk, "deprecated in v1.11, non-functional in v1.16+"),
            new DeprecatedVolume("gitRepo", Volume::getGitRepo, "deprecated in v1.11"),
            new DeprecatedVolume("scaleIO", Volume::getScaleIO, "deprecated in v1.16, non-functional in v1.22+"),
            new DeprecatedVolume("flocker", Volume::getFlocker, "deprecated in v1.22, non-functional in v1.25+"),
            new DeprecatedVolume("storageOS", Volume::getStorageos, "deprecated in v1.22, non-functional in v1.25+"),
            new DeprecatedVolume("quobyte", Volume::getQuobyte, "deprecated in v1.22, non-functional in v1.25+"),
            new DeprecatedVolume("glusterfs", Volume::getGlusterfs, "deprecated in v1.25, non-functional in v1.26+"),
            new DeprecatedVolume("cephfs", Volume::getCephfs, "deprecated in v1.28, non-functional in v1.31+"),
            new DeprecatedVolume("rbd", Volume::getRbd, "deprecated in v1.28, non-functional in v1.31+"));

    static final String SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod";
    static final String SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/";
    static final String APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

    /**
     * What kube-apiserver warns of when {@code now} is written over {@code old} (null: created):
     * its strategies' {@code WarningsOnCreate} and {@code WarningsOnUpdate} for pods (none on
     * update) and for the Deployment's and ReplicaSet's templates (on update, when the generation moved).
     */
    public static List<String> onWrite(io.fabric8.kubernetes.api.model.HasMetadata now, io.fabric8.kubernetes.api.model.HasMetadata old) {
        return switch (now) {
            case Pod pod -> old == null ? forNewPod(pod) : List.of();
            case io.fabric8.kubernetes.api.model.apps.Deployment d -> old == null ? forNewWorkload(d.getMetadata(), d.getSpec().getTemplate())
                    : generationMoved(now, old) ? forTemplate(d.getSpec().getTemplate()) : List.of();
            case io.fabric8.kubernetes.api.model.apps.ReplicaSet rs -> old == null ? forNewWorkload(rs.getMetadata(), rs.getSpec().getTemplate())
                    : generationMoved(now, old) ? forTemplate(rs.getSpec().getTemplate()) : List.of();
            default -> List.of();
        };
    }

    private static boolean generationMoved(io.fabric8.kubernetes.api.model.HasMetadata now, io.fabric8.kubernetes.api.model.HasMetadata old) {
        return !java.util.Objects.equals(now.getMetadata().getGeneration(), old.getMetadata().getGeneration());
    }

    /** A new pod's warnings: the strategy's about its name, then {@code GetWarningsForPod}. */
    public static List<String> forNewPod(Pod pod) {
        List<String> warnings = new ArrayList<>();
        List<String> msgs = Names.dns1123Label(nz(pod.getMetadata().getName()));
        if (!msgs.isEmpty()) {
            warnings.add("metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; "
                    + "a DNS label is recommended: " + goList(msgs));
        }
        warnings.addAll(forSpec(null, pod.getSpec(), pod.getMetadata()));
        return warnings;
    }

    /**
     * A new Deployment's or ReplicaSet's warnings (their strategies' {@code WarningsOnCreate}):
     * its name, then its template's at {@code spec.template}.
     */
    public static List<String> forNewWorkload(ObjectMeta meta, PodTemplateSpec template) {
        List<String> warnings = new ArrayList<>();
        List<String> msgs = Names.dns1123Label(nz(meta.getName()));
        if (!msgs.isEmpty()) {
            warnings.add("metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; "
                    + "a DNS label is recommended: " + goList(msgs));
        }
        warnings.addAll(forTemplate(template));
        return warnings;
    }

    /** {@code GetWarningsForPodTemplate} at {@code spec.template}. */
    public static List<String> forTemplate(PodTemplateSpec template) {
        if (template == null || template.getSpec() == null) {
            return List.of();
        }
        ObjectMeta meta = template.getMetadata() == null ? new ObjectMeta() : template.getMetadata();
        return forSpec(FieldPath.of("spec", "template"), template.getSpec(), meta);
    }

    /** {@code warningsForPodSpecAndMeta}; {@code root} is null for a pod. */
    private static List<String> forSpec(FieldPath root, PodSpec spec, ObjectMeta meta) {
        List<String> warnings = new ArrayList<>();
        Map<String, String> annotations = meta.getAnnotations() == null ? Map.of() : meta.getAnnotations();
        for (String key : spec.getNodeSelector() == null ? Set.<String>of() : spec.getNodeSelector().keySet()) {
            String msg = DEPRECATED_NODE_LABELS.get(key);
            if (msg != null) {
                warnings.add(path(root, "spec", "nodeSelector").key(key) + ": " + msg);
            }
        }
        var affinity = spec.getAffinity();
        if (affinity != null && affinity.getNodeAffinity() != null) {
            var n = affinity.getNodeAffinity();
            if (n.getRequiredDuringSchedulingIgnoredDuringExecution() != null) {
                FieldPath terms = path(root, "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms");
                List<NodeSelectorTerm> list = n.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms();
                for (int i = 0; list != null && i < list.size(); i++) {
                    warnings.addAll(nodeSelectorTerm(list.get(i), false, terms.index(i)));
                }
            }
            FieldPath preferred = path(root, "spec", "affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution");
            var list = n.getPreferredDuringSchedulingIgnoredDuringExecution();
            for (int i = 0; list != null && i < list.size(); i++) {
                if (list.get(i).getPreference() != null) {
                    warnings.addAll(nodeSelectorTerm(list.get(i).getPreference(), true, preferred.index(i).child("preference")));
                }
            }
        }
        var spread = spec.getTopologySpreadConstraints();
        for (int i = 0; spread != null && i < spread.size(); i++) {
            var t = spread.get(i);
            String msg = DEPRECATED_NODE_LABELS.get(nz(t.getTopologyKey()));
            FieldPath p = path(root, "spec", "topologySpreadConstraints").index(i);
            if (msg != null) {
                warnings.add(p.child("topologyKey") + ": " + t.getTopologyKey() + " is " + msg);
            }
            if (t.getLabelSelector() == null) {
                warnings.add(p.child("labelSelector") + ": a null labelSelector results in matching no pod");
            }
        }
        DEPRECATED_ANNOTATIONS.forEach((key, msg) -> {
            if (annotations.containsKey(key)) {
                warnings.add(path(root, "metadata", "annotations").key(key) + ": " + msg);
            }
        });
        volumes(root, spec, warnings);
        hostAliasesAndPullSecrets(root, spec, warnings);
        for (String resource : List.of("memory", "ephemeral-storage")) {
            fractional(spec.getOverhead(), resource, path(root, "spec", "overhead"), warnings);
        }
        boolean podSeccomp = spec.getSecurityContext() != null && spec.getSecurityContext().getSeccompProfile() != null;
        if (!podSeccomp && annotations.containsKey(SECCOMP_POD_ANNOTATION)) {
            warnings.add(path(root, "metadata", "annotations").key(SECCOMP_POD_ANNOTATION)
                    + ": non-functional in v1.27+; use the \"seccompProfile\" field instead");
        }
        boolean podAppArmor = spec.getSecurityContext() != null && spec.getSecurityContext().getAppArmorProfile() != null;
        visit(root, spec, (c, p) -> {
            var sc = c.getSecurityContext();
            if ((sc == null || sc.getSeccompProfile() == null) && annotations.containsKey(SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.getName())) {
                warnings.add(path(root, "metadata", "annotations").key(SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.getName())
                        + ": non-functional in v1.27+; use the \"seccompProfile\" field instead");
            }
            // a pod's own are warned of as its annotations become fields (applyAppArmorVersionSkew), not here
            boolean appArmorField = podAppArmor || (sc != null && sc.getAppArmorProfile() != null);
            if (root != null && !appArmorField && annotations.containsKey(APPARMOR_ANNOTATION_PREFIX + c.getName())) {
                warnings.add(path(root, "metadata", "annotations").key(APPARMOR_ANNOTATION_PREFIX + c.getName())
                        + ": deprecated since v1.30; use the \"appArmorProfile\" field instead");
            }
            var resources = c.getResources();
            if (resources != null) {
                fractional(resources.getLimits(), "memory", p.child("resources", "limits"), warnings);
                fractional(resources.getRequests(), "memory", p.child("resources", "requests"), warnings);
                fractional(resources.getLimits(), "ephemeral-storage", p.child("resources", "limits"), warnings);
                fractional(resources.getRequests(), "ephemeral-storage", p.child("resources", "requests"), warnings);
            }
            duplicateEnv(c, p, warnings);
        });
        ports(root, spec, warnings);
        if (spec.getTerminationGracePeriodSeconds() != null && spec.getTerminationGracePeriodSeconds() < 0) {
            warnings.add(path(root, "spec", "terminationGracePeriodSeconds") + ": must be >= 0; negative values are invalid and will be treated as 1");
        }
        if (affinity != null) {
            if (affinity.getPodAffinity() != null) {
                nullSelectors(affinity.getPodAffinity().getRequiredDuringSchedulingIgnoredDuringExecution(),
                        affinity.getPodAffinity().getPreferredDuringSchedulingIgnoredDuringExecution(),
                        path(root, "spec", "affinity", "podAffinity"), warnings);
            }
            if (affinity.getPodAntiAffinity() != null) {
                nullSelectors(affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution(),
                        affinity.getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution(),
                        path(root, "spec", "affinity", "podAntiAffinity"), warnings);
            }
        }
        return warnings;
    }

    /** {@code GetWarningsForNodeSelectorTerm}: deprecated keys, and (in preferred terms) values that are no label values. */
    private static List<String> nodeSelectorTerm(NodeSelectorTerm term, boolean checkValues, FieldPath path) {
        List<String> warnings = new ArrayList<>();
        List<NodeSelectorRequirement> expressions = term.getMatchExpressions() == null ? List.of() : term.getMatchExpressions();
        for (int i = 0; i < expressions.size(); i++) {
            NodeSelectorRequirement e = expressions.get(i);
            String msg = DEPRECATED_NODE_LABELS.get(nz(e.getKey()));
            FieldPath p = path.child("matchExpressions").index(i);
            if (msg != null) {
                warnings.add(p.child("key") + ": " + e.getKey() + " is " + msg);
            }
            if (checkValues) {
                List<String> values = e.getValues() == null ? List.of() : e.getValues();
                for (int j = 0; j < values.size(); j++) {
                    for (String m : Names.labelValue(nz(values.get(j)))) {
                        warnings.add(p.child("values").index(j) + ": " + values.get(j) + " is invalid, " + m);
                    }
                }
            }
        }
        return warnings;
    }

    private static void volumes(FieldPath root, PodSpec spec, List<String> warnings) {
        List<Volume> volumes = spec.getVolumes() == null ? List.of() : spec.getVolumes();
        Set<String> tokenPaths = new HashSet<>();
        for (int i = 0; i < volumes.size(); i++) {
            Volume v = volumes.get(i);
            FieldPath p = path(root, "spec", "volumes").index(i);
            for (DeprecatedVolume d : DEPRECATED_VOLUMES) {
                if (d.source().apply(v) != null) {
                    warnings.add(p.child(d.field()) + ": " + d.message());
                }
            }
            if (v.getProjected() != null && v.getProjected().getSources() != null) {
                v.getProjected().getSources().forEach(s -> {
                    if (s.getServiceAccountToken() != null) {
                        tokenPaths.add(nz(s.getServiceAccountToken().getPath()));
                    }
                });
            }
        }
        if (tokenPaths.isEmpty()) {
            return;
        }
        for (int i = 0; i < volumes.size(); i++) {
            Volume v = volumes.get(i);
            if (v.getProjected() == null || v.getProjected().getSources() == null) {
                continue;
            }
            FieldPath sources = path(root, "spec", "volumes").index(i).child("projected", "sources");
            for (var s : v.getProjected().getSources()) {
                if (s.getConfigMap() != null && s.getConfigMap().getItems() != null) {
                    clashes(s.getConfigMap().getItems().stream().map(io.fabric8.kubernetes.api.model.KeyToPath::getPath).toList(),
                            sources.child("configMap"), tokenPaths, warnings);
                }
                if (s.getSecret() != null && s.getSecret().getItems() != null) {
                    clashes(s.getSecret().getItems().stream().map(io.fabric8.kubernetes.api.model.KeyToPath::getPath).toList(),
                            sources.child("secrets"), tokenPaths, warnings);
                }
                if (s.getDownwardAPI() != null && s.getDownwardAPI().getItems() != null) {
                    clashes(s.getDownwardAPI().getItems().stream().map(io.fabric8.kubernetes.api.model.DownwardAPIVolumeFile::getPath).toList(),
                            sources.child("downwardAPI"), tokenPaths, warnings);
                }
                if (s.getClusterTrustBundle() != null && tokenPaths.contains(nz(s.getClusterTrustBundle().getPath()))) {
                    warnings.add(sources.child("ClusterTrustBundle") + ": has duplicated path with ServiceAccountToken "
                            + quote(nz(s.getClusterTrustBundle().getPath())));
                }
            }
        }
    }

    /** A projected source's item paths that a service account token of the pod also writes. */
    private static void clashes(List<String> paths, FieldPath path, Set<String> tokenPaths, List<String> warnings) {
        for (int j = 0; j < paths.size(); j++) {
            String item = nz(paths.get(j));
            if (tokenPaths.contains(item)) {
                warnings.add(path.index(j) + ": has duplicated path with ServiceAccountToken " + quote(item));
            }
        }
    }

    private static void hostAliasesAndPullSecrets(FieldPath root, PodSpec spec, List<String> warnings) {
        var aliases = spec.getHostAliases() == null ? List.<io.fabric8.kubernetes.api.model.HostAlias>of() : spec.getHostAliases();
        Set<String> ips = new HashSet<>();
        for (int i = 0; aliases.size() > 1 && i < aliases.size(); i++) {
            String ip = nz(aliases.get(i).getIp());
            if (!ips.add(ip)) {
                warnings.add(path(root, "spec", "hostAliases").index(i).child("ip") + ": duplicate ip " + quote(ip));
            }
        }
        var secrets = spec.getImagePullSecrets() == null ? List.<io.fabric8.kubernetes.api.model.LocalObjectReference>of() : spec.getImagePullSecrets();
        Set<String> names = new HashSet<>();
        for (int i = 0; secrets.size() > 1 && i < secrets.size(); i++) {
            String name = nz(secrets.get(i).getName());
            if (!names.add(name)) {
                warnings.add(path(root, "spec", "imagePullSecrets").index(i).child("name") + ": duplicate name " + quote(name));
            }
        }
        for (int i = 0; i < secrets.size(); i++) {
            if (nz(secrets.get(i).getName()).isEmpty()) {
                warnings.add(path(root, "spec", "imagePullSecrets").index(i).child("name") + ": invalid empty name \"\"");
            }
        }
    }

    /** A memory or storage quantity with a fraction of a byte ({@code MilliValue() % 1000 != 0}). */
    private static void fractional(Map<String, Quantity> quantities, String resource, FieldPath path, List<String> warnings) {
        Quantity q = quantities == null ? null : quantities.get(resource);
        if (q == null) {
            return;
        }
        Quantities.parse(q).ifPresent(parsed -> {
            BigDecimal value = parsed.value();
            if (value.signum() != 0 && value.stripTrailingZeros().scale() > 0) {
                warnings.add(path.key(resource) + ": fractional byte value " + quote(Quantities.canonical(parsed)) + " is invalid, must be an integer");
            }
        });
    }

    /** A variable defined again in a way that hides the first (which apply may drop). */
    private static void duplicateEnv(Container c, FieldPath p, List<String> warnings) {
        List<EnvVar> env = c.getEnv() == null ? List.of() : c.getEnv();
        if (env.size() < 2) {
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < env.size(); i++) {
            EnvVar item = env.get(i);
            String name = nz(item.getName());
            if (seen.add(name)) {
                continue;
            }
            String ref = "$(" + name + ")";
            String value = nz(item.getValue());
            if (item.getValueFrom() != null || value.equals(ref) || !value.contains(ref)) {
                warnings.add(p.child("env").index(i) + ": hides previous definition of " + quote(name) + ", which may be dropped when using apply");
            }
        }
    }

    /** Ports: a hostIP without a hostPort, and the same container port twice (duplicate, overlapping, or ambiguous). */
    private static void ports(FieldPath root, PodSpec spec, List<String> warnings) {
        record Block(String field, ContainerPort port) {
        }
        Map<String, List<Block>> all = new HashMap<>();
        visit(root, spec, (c, p) -> {
            List<ContainerPort> ports = c.getPorts() == null ? List.of() : c.getPorts();
            for (int i = 0; i < ports.size(); i++) {
                ContainerPort port = ports.get(i);
                String field = p.child("ports").index(i).toString();
                int hostPort = port.getHostPort() == null ? 0 : port.getHostPort();
                String hostIp = nz(port.getHostIP());
                if (!hostIp.isEmpty() && hostPort == 0) {
                    warnings.add(field + ": hostIP set without hostPort: " + goStruct(port));
                }
                String k = (port.getContainerPort() == null ? 0 : port.getContainerPort()) + "/" + nz(port.getProtocol());
                List<Block> others = all.computeIfAbsent(k, x -> new ArrayList<>());
                for (Block other : others) {
                    int otherHostPort = other.port().getHostPort() == null ? 0 : other.port().getHostPort();
                    String otherIp = nz(other.port().getHostIP());
                    if (hostIp.equals(otherIp) && hostPort == otherHostPort) {
                        warnings.add(field + ": duplicate port definition with " + other.field());
                    } else if (hostPort == 0 || otherHostPort == 0) {
                        warnings.add(field + ": overlapping port definition with " + other.field());
                    } else if (hostPort == otherHostPort && (hostIp.isEmpty() != otherIp.isEmpty())) {
                        warnings.add(field + ": dangerously ambiguous port definition with " + other.field());
                    }
                }
                others.add(new Block(field, port));
            }
        });
    }

    /** {@code %+v} of the internal ContainerPort: {@code {Name:http HostPort:0 ContainerPort:80 Protocol:TCP HostIP:1.2.3.4}}. */
    private static String goStruct(ContainerPort port) {
        return "{Name:" + nz(port.getName()) + " HostPort:" + (port.getHostPort() == null ? 0 : port.getHostPort())
                + " ContainerPort:" + (port.getContainerPort() == null ? 0 : port.getContainerPort())
                + " Protocol:" + nz(port.getProtocol()) + " HostIP:" + nz(port.getHostIP()) + "}";
    }

    private static void nullSelectors(List<PodAffinityTerm> required, List<WeightedPodAffinityTerm> preferred, FieldPath path,
                                      List<String> warnings) {
        for (int i = 0; required != null && i < required.size(); i++) {
            if (required.get(i).getLabelSelector() == null) {
                warnings.add(path.child("requiredDuringSchedulingIgnoredDuringExecution").index(i).child("labelSelector")
                        + ": a null labelSelector results in matching no pod");
            }
        }
        for (int i = 0; preferred != null && i < preferred.size(); i++) {
            var term = preferred.get(i).getPodAffinityTerm();
            if (term == null || term.getLabelSelector() == null) {
                warnings.add(path.child("preferredDuringSchedulingIgnoredDuringExecution").index(i).child("podAffinityTerm", "labelSelector")
                        + ": a null labelSelector results in matching no pod");
            }
        }
    }

    /** {@code VisitContainersWithPath}: init containers, containers, ephemeral containers, each with its path. */
    private static void visit(FieldPath root, PodSpec spec, java.util.function.BiConsumer<Container, FieldPath> visitor) {
        List<Container> init = spec.getInitContainers() == null ? List.of() : spec.getInitContainers();
        for (int i = 0; i < init.size(); i++) {
            visitor.accept(init.get(i), path(root, "spec", "initContainers").index(i));
        }
        List<Container> containers = spec.getContainers() == null ? List.of() : spec.getContainers();
        for (int i = 0; i < containers.size(); i++) {
            visitor.accept(containers.get(i), path(root, "spec", "containers").index(i));
        }
    }

    private static FieldPath path(FieldPath root, String name, String... more) {
        return root == null ? FieldPath.of(name, more) : root.child(name, more);
    }

    /** Go's {@code %v} of a []string. */
    private static String goList(List<String> items) {
        return "[" + String.join(" ", items) + "]";
    }

    /** Go's {@code %q}. */
    private static String quote(String s) {
        return dev.portway.api.GoValues.quote(s);
    }
}
