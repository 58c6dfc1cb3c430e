package dev.portway.api.validation;

import static dev.portway.api.validation.MetaValidation.nz;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.GoValues;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pod and pod-template validation: the parts of the API server's {@code ValidatePodSpec} that
 * matter for running containers as local processes (names, images, ports, env, probes,
 * volumes, restart policy), with its field paths and messages.
 */
public final class PodValidation {

    /** The volume sources, in the order {@code validateVolumeSource} looks at them. */
    private static final List<String> VOLUME_SOURCES = List.of("emptyDir", "hostPath", "gitRepo", "gcePersistentDisk",
            "awsElasticBlockStore", "secret", "nfs", "iscsi", "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder",
            "cephfs", "downwardAPI", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk", "projected", "portworxVolume",
            "scaleIO", "configMap", "csi", "ephemeral", "image");

    private static final Set<String> FIELD_REF_PATHS = Set.of("metadata.name", "metadata.namespace", "metadata.uid",
            "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs");

    private PodValidation() {
    }

    public static List<FieldError> validate(Pod pod) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(pod.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        PodSpec spec = pod.getSpec() == null ? new PodSpec() : pod.getSpec();
        errs.addAll(podSpec(spec, FieldPath.of("spec")));
        return errs;
    }

    /**
     * {@code ValidatePodUpdate}: a pod's spec may change only in its containers' and init
     * containers' images, {@code activeDeadlineSeconds} (set, or shortened), additions to its
     * tolerations (and their {@code tolerationSeconds}), its scheduling gates (removed), and
     * {@code terminationGracePeriodSeconds} from a negative value to 1. The Forbidden message leaves
     * out the diff of the two specs kube-apiserver appends.
     */
    public static List<FieldError> validateUpdate(Pod updated, Pod old) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        errs.addAll(validate(updated));
        PodSpec a = updated.getSpec() == null ? new PodSpec() : updated.getSpec();
        PodSpec b = old.getSpec() == null ? new PodSpec() : old.getSpec();
        FieldPath spec = FieldPath.of("spec");
        if (containerUpdates(a.getContainers(), b.getContainers(), spec.child("containers"), errs)
                || containerUpdates(a.getInitContainers(), b.getInitContainers(), spec.child("initContainers"), errs)) {
            return errs;
        }
        Long deadline = a.getActiveDeadlineSeconds();
        Long oldDeadline = b.getActiveDeadlineSeconds();
        if (deadline != null) {
            if (deadline < 0 || deadline > Integer.MAX_VALUE) {
                errs.add(FieldError.invalid(spec.child("activeDeadlineSeconds"), deadline, Names.inclusiveRangeError(0, Integer.MAX_VALUE)));
                return errs;
            }
            if (oldDeadline != null && oldDeadline < deadline) {
                errs.add(FieldError.invalid(spec.child("activeDeadlineSeconds"), deadline, "must be less than or equal to previous value"));
                return errs;
            }
        } else if (oldDeadline != null) {
            errs.add(FieldError.invalid(spec.child("activeDeadlineSeconds"), null, "must not update from a positive integer to nil value"));
        }
        errs.addAll(onlyAddedTolerations(a.getTolerations(), b.getTolerations(), spec.child("tolerations")));
        var gates = a.getSchedulingGates() == null ? List.<io.fabric8.kubernetes.api.model.PodSchedulingGate>of() : a.getSchedulingGates();
        var oldGates = b.getSchedulingGates() == null ? List.<io.fabric8.kubernetes.api.model.PodSchedulingGate>of() : b.getSchedulingGates();
        Set<String> oldGateNames = new HashSet<>();
        oldGates.forEach(g -> oldGateNames.add(nz(g.getName())));
        for (int i = 0; i < gates.size(); i++) {
            String gate = nz(gates.get(i).getName());
            if (!oldGateNames.contains(gate)) {
                errs.add(FieldError.forbidden(spec.child("schedulingGates").index(i).child("name"),
                        "only deletion is allowed, but found new scheduling gate '" + gate + "'"));
            }
        }
        // what may change is set to the old values; anything else still different is refused
        PodSpec munged = dev.portway.api.Json.copy(a);
        for (int i = 0; munged.getContainers() != null && i < munged.getContainers().size(); i++) {
            munged.getContainers().get(i).setImage(b.getContainers().get(i).getImage());
        }
        for (int i = 0; munged.getInitContainers() != null && i < munged.getInitContainers().size(); i++) {
            munged.getInitContainers().get(i).setImage(b.getInitContainers().get(i).getImage());
        }
        munged.setActiveDeadlineSeconds(oldDeadline);
        munged.setSchedulingGates(b.getSchedulingGates());
        munged.setTolerations(b.getTolerations());
        if (b.getTerminationGracePeriodSeconds() != null && b.getTerminationGracePeriodSeconds() < 0
                && Long.valueOf(1).equals(munged.getTerminationGracePeriodSeconds())) {
            munged.setTerminationGracePeriodSeconds(b.getTerminationGracePeriodSeconds());
        }
        if (b.getSchedulingGates() != null && !b.getSchedulingGates().isEmpty()) {
            gatedPodMutations(munged, b, spec, errs);
        }
        if (!dev.portway.api.Json.tree(munged).equals(dev.portway.api.Json.tree(b))) {
            errs.add(FieldError.forbidden(spec, "pod updates may not change fields other than "
                    + "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                    + "`spec.tolerations` (only additions to existing tolerations),"
                    + "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
        }
        return errs;
    }

    /**
     * What a pod may still change while it has scheduling gates (KEP-3838, kube's
     * {@code ValidatePodUpdate} for gated pods): keys added to {@code spec.nodeSelector}, and
     * requirements added to the terms of its required node affinity (any, when it had none). Each
     * is judged here and then set back to the old value in {@code munged}, so that the comparison
     * of everything else does not count it.
     */
    private static void gatedPodMutations(PodSpec munged, PodSpec old, FieldPath spec, List<FieldError> errs) {
        java.util.Map<String, String> selector = munged.getNodeSelector();
        java.util.Map<String, String> oldSelector = old.getNodeSelector();
        if (!(selector == null ? java.util.Map.of() : selector).equals(oldSelector == null ? java.util.Map.of() : oldSelector)) {
            // validateNodeSelectorMutation: every old key still there, with its value
            for (var e : oldSelector == null ? java.util.Set.<java.util.Map.Entry<String, String>>of() : oldSelector.entrySet()) {
                if (selector == null || !java.util.Objects.equals(selector.get(e.getKey()), e.getValue())) {
                    errs.add(FieldError.invalid(spec.child("nodeSelector"), selector,
                            "only additions to spec.nodeSelector are allowed (no mutations or deletions)"));
                    break;
                }
            }
            munged.setNodeSelector(oldSelector);
        }
        io.fabric8.kubernetes.api.model.NodeAffinity oldAffinity = old.getAffinity() == null ? null : old.getAffinity().getNodeAffinity();
        io.fabric8.kubernetes.api.model.NodeAffinity affinity = munged.getAffinity() == null ? null : munged.getAffinity().getNodeAffinity();
        if (semanticallyEqual(affinity, oldAffinity)) {
            return;
        }
        errs.addAll(nodeAffinityMutation(spec.child("affinity").child("nodeAffinity"), affinity, oldAffinity));
        if (munged.getAffinity() == null) {
            if (oldAffinity != null) {
                munged.setAffinity(new io.fabric8.kubernetes.api.model.AffinityBuilder().withNodeAffinity(oldAffinity).build());
            }
        } else if (old.getAffinity() == null && munged.getAffinity().getPodAffinity() == null
                && munged.getAffinity().getPodAntiAffinity() == null) {
            munged.setAffinity(null); // only the node affinity was added: nothing else changed
        } else {
            munged.getAffinity().setNodeAffinity(oldAffinity);
        }
    }

    /** {@code validateNodeAffinityMutation}: the required terms may gain requirements, nothing else. */
    private static List<FieldError> nodeAffinityMutation(FieldPath path, io.fabric8.kubernetes.api.model.NodeAffinity updated,
                                                         io.fabric8.kubernetes.api.model.NodeAffinity old) {
        List<FieldError> errs = new ArrayList<>();
        if (old == null || old.getRequiredDuringSchedulingIgnoredDuringExecution() == null) {
            return errs; // none before: anything may be set
        }
        var oldTerms = nonNull(old.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms());
        var terms = updated == null || updated.getRequiredDuringSchedulingIgnoredDuringExecution() == null ? null
                : updated.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms();
        FieldPath termsPath = path.child("requiredDuringSchedulingIgnoredDuringExecution").child("nodeSelectorTerms");
        if (!oldTerms.isEmpty() && oldTerms.size() != nonNull(terms).size()) {
            errs.add(FieldError.invalid(termsPath, terms == null || terms.isEmpty() ? null : goTerms(terms),
                    "no additions/deletions to non-empty NodeSelectorTerms list are allowed"));
            return errs;
        }
        for (int i = 0; i < oldTerms.size(); i++) {
            if (!onlyAdditions(terms.get(i), oldTerms.get(i))) {
                errs.add(FieldError.invalid(termsPath.index(i), goTerm(terms.get(i)), "only additions are allowed (no mutations or deletions)"));
            }
        }
        return errs;
    }

    /** {@code validateNodeSelectorTermHasOnlyAdditions}: the old requirements, in order, then any new ones. */
    private static boolean onlyAdditions(io.fabric8.kubernetes.api.model.NodeSelectorTerm term, io.fabric8.kubernetes.api.model.NodeSelectorTerm old) {
        var oldExpressions = nonNull(old.getMatchExpressions());
        var oldFields = nonNull(old.getMatchFields());
        var expressions = nonNull(term.getMatchExpressions());
        var fields = nonNull(term.getMatchFields());
        if (oldExpressions.isEmpty() && oldFields.isEmpty() && (!expressions.isEmpty() || !fields.isEmpty())) {
            return false;
        }
        return startsWith(expressions, oldExpressions) && startsWith(fields, oldFields);
    }

    private static boolean startsWith(List<io.fabric8.kubernetes.api.model.NodeSelectorRequirement> list,
                                      List<io.fabric8.kubernetes.api.model.NodeSelectorRequirement> prefix) {
        if (list.size() < prefix.size()) {
            return false;
        }
        for (int i = 0; i < prefix.size(); i++) {
            if (!semanticallyEqual(list.get(i), prefix.get(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * A node selector term as kube's message prints it: the internal Go struct, which has no JSON
     * tags, marshalled (field names as Go spells them; a list that is empty here is Go's nil).
     */
    private static GoValues.Struct goTerm(io.fabric8.kubernetes.api.model.NodeSelectorTerm term) {
        return GoValues.Struct.builder()
                .put("MatchExpressions", goRequirements(term.getMatchExpressions()))
                .put("MatchFields", goRequirements(term.getMatchFields()))
                .build();
    }

    private static List<GoValues.Struct> goTerms(List<io.fabric8.kubernetes.api.model.NodeSelectorTerm> terms) {
        return terms.stream().map(PodValidation::goTerm).toList();
    }

    private static List<GoValues.Struct> goRequirements(List<io.fabric8.kubernetes.api.model.NodeSelectorRequirement> requirements) {
        if (requirements == null || requirements.isEmpty()) {
            return null;
        }
        return requirements.stream().map(r -> GoValues.Struct.builder()
                .put("Key", nz(r.getKey()))
                .put("Operator", nz(r.getOperator()))
                .put("Values", nullIfEmpty(r.getValues()))
                .build()).toList();
    }

    private static <T> List<T> nonNull(List<T> list) {
        return list == null ? List.of() : list;
    }

    /**
     * {@code apiequality.Semantic.DeepEqual} of two model objects (structs): an empty list is the
     * same as none, a struct is not the same as none.
     */
    private static boolean semanticallyEqual(Object a, Object b) {
        return withoutEmptyLists(dev.portway.api.Json.tree(a)).equals(withoutEmptyLists(dev.portway.api.Json.tree(b)));
    }

    private static com.fasterxml.jackson.databind.JsonNode withoutEmptyLists(com.fasterxml.jackson.databind.JsonNode node) {
        if (node != null && node.isObject()) {
            var out = dev.portway.api.Json.mapper().createObjectNode();
            node.properties().forEach(e -> {
                if (!e.getValue().isNull() && !(e.getValue().isArray() && e.getValue().isEmpty())) {
                    out.set(e.getKey(), withoutEmptyLists(e.getValue()));
                }
            });
            return out;
        }
        if (node != null && node.isArray()) {
            var out = dev.portway.api.Json.mapper().createArrayNode();
            node.forEach(v -> out.add(withoutEmptyLists(v)));
            return out;
        }
        return node == null ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : node;
    }

    /** {@code ValidateContainerUpdates}: true (stop) when containers were added or removed. */
    private static boolean containerUpdates(List<Container> updated, List<Container> old, FieldPath path, List<FieldError> errs) {
        List<Container> now = updated == null ? List.of() : updated;
        List<Container> before = old == null ? List.of() : old;
        if (now.size() != before.size()) {
            errs.add(FieldError.forbidden(path, "pod updates may not add or remove containers"));
            return true;
        }
        for (int i = 0; i < now.size(); i++) {
            String image = nz(now.get(i).getImage());
            if (image.isEmpty()) {
                errs.add(FieldError.required(path.index(i).child("image"), ""));
            }
            if (image.length() != image.strip().length()) {
                errs.add(FieldError.invalid(path.index(i).child("image"), image, "must not have leading or trailing whitespace"));
            }
        }
        return false;
    }

    /** {@code validateOnlyAddedTolerations}: every old toleration still there, but for its {@code tolerationSeconds}. */
    private static List<FieldError> onlyAddedTolerations(List<io.fabric8.kubernetes.api.model.Toleration> updated,
            List<io.fabric8.kubernetes.api.model.Toleration> old, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        var now = updated == null ? List.<io.fabric8.kubernetes.api.model.Toleration>of() : updated;
        for (var t : old == null ? List.<io.fabric8.kubernetes.api.model.Toleration>of() : old) {
            boolean found = now.stream().anyMatch(n -> {
                var clone = dev.portway.api.Json.copy(t);
                clone.setTolerationSeconds(n.getTolerationSeconds());
                return dev.portway.api.Json.tree(clone).equals(dev.portway.api.Json.tree(n));
            });
            if (!found) {
                errs.add(FieldError.forbidden(path, "existing toleration can not be modified except its tolerationSeconds"));
                return errs;
            }
        }
        return errs;
    }

    public static List<FieldError> podTemplateSpec(PodTemplateSpec template, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (template.getMetadata() != null) {
            errs.addAll(MetaValidation.labels(template.getMetadata().getLabels(), path.child("labels")));
            errs.addAll(MetaValidation.annotations(template.getMetadata().getAnnotations(), path.child("annotations")));
        }
        errs.addAll(podSpec(template.getSpec() == null ? new PodSpec() : template.getSpec(), path.child("spec")));
        return errs;
    }

    public static List<FieldError> podSpec(PodSpec spec, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (spec.getTerminationGracePeriodSeconds() == null) {
            errs.add(FieldError.required(path.child("terminationGracePeriodSeconds"), ""));
        }
        Set<String> volumeNames = new HashSet<>();
        errs.addAll(volumes(spec.getVolumes(), volumeNames, path.child("volumes")));
        // spec.hostUsers unset is true: the pod shares the host's user namespace
        boolean hostUsers = spec.getHostUsers() == null || spec.getHostUsers();
        Long gracePeriod = spec.getTerminationGracePeriodSeconds();
        errs.addAll(containers(spec.getContainers(), volumeNames, hostUsers, gracePeriod, path.child("containers")));
        errs.addAll(initContainers(spec.getInitContainers(), spec.getContainers(), volumeNames, hostUsers, gracePeriod, path.child("initContainers")));

        String restartPolicy = nz(spec.getRestartPolicy());
        switch (restartPolicy) {
            case "Always", "OnFailure", "Never" -> {
            }
            case "" -> errs.add(FieldError.required(path.child("restartPolicy"), ""));
            default -> errs.add(FieldError.notSupported(path.child("restartPolicy"), restartPolicy, "Always", "OnFailure", "Never"));
        }
        String dnsPolicy = nz(spec.getDnsPolicy());
        switch (dnsPolicy) {
            case "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None" -> {
            }
            case "" -> errs.add(FieldError.required(path.child("dnsPolicy"), ""));
            default -> errs.add(FieldError.notSupported(path.child("dnsPolicy"), dnsPolicy,
                    "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"));
        }
        errs.addAll(MetaValidation.labels(spec.getNodeSelector(), path.child("nodeSelector")));
        errs.addAll(podSecurityContext(spec.getSecurityContext(), spec, path.child("securityContext")));
        errs.addAll(affinity(spec.getAffinity(), path.child("affinity")));
        errs.addAll(dnsConfig(spec.getDnsConfig(), dnsPolicy, path.child("dnsConfig")));
        errs.addAll(topologySpreadConstraints(spec.getTopologySpreadConstraints(), path.child("topologySpreadConstraints")));
        errs.addAll(windowsHostProcess(spec, path));
        if (!nz(spec.getServiceAccountName()).isEmpty()) {
            for (String msg : Names.dns1123Subdomain(spec.getServiceAccountName())) {
                errs.add(FieldError.invalid(path.child("serviceAccountName"), spec.getServiceAccountName(), msg));
            }
        }
        if (!nz(spec.getNodeName()).isEmpty()) {
            for (String msg : Names.dns1123Subdomain(spec.getNodeName())) {
                errs.add(FieldError.invalid(path.child("nodeName"), spec.getNodeName(), msg));
            }
        }
        if (spec.getActiveDeadlineSeconds() != null) {
            long v = spec.getActiveDeadlineSeconds();
            if (v < 1 || v > Integer.MAX_VALUE) {
                errs.add(FieldError.invalid(path.child("activeDeadlineSeconds"), v, Names.inclusiveRangeError(1, Integer.MAX_VALUE)));
            }
        }
        if (!nz(spec.getHostname()).isEmpty()) {
            for (String msg : Names.dns1123Label(spec.getHostname())) {
                errs.add(FieldError.invalid(path.child("hostname"), spec.getHostname(), msg));
            }
        }
        if (!nz(spec.getSubdomain()).isEmpty()) {
            for (String msg : Names.dns1123Label(spec.getSubdomain())) {
                errs.add(FieldError.invalid(path.child("subdomain"), spec.getSubdomain(), msg));
            }
        }
        errs.addAll(tolerations(spec.getTolerations(), path.child("tolerations")));
        errs.addAll(hostAliases(spec.getHostAliases(), path.child("hostAliases")));
        errs.addAll(os(spec, path));
        return errs;
    }

    /**
     * {@code validateOS}, then {@code validateLinux} or {@code validateWindows}: a pod that names
     * its operating system names Linux or Windows, and sets none of the other one's security
     * options. A Linux pod has no Windows options; a Windows pod none of Linux's (Kubernetes keeps
     * {@code hostUsers}, {@code hostPID}, {@code hostIPC} and {@code shareProcessNamespace} in the
     * pod's internal security context, so those are checked with it, at their own paths).
     */
    private static List<FieldError> os(PodSpec spec, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (spec.getOs() == null) {
            return errs;
        }
        String name = nz(spec.getOs().getName());
        if (name.isEmpty()) {
            errs.add(FieldError.required(path.child("os").child("name"), "cannot be empty"));
        } else if (name.equals("linux")) {
            linuxOnly(spec, path, errs);
        } else if (name.equals("windows")) {
            windowsOnly(spec, path, errs);
        } else {
            errs.add(FieldError.notSupported(path.child("os"), name, "linux", "windows"));
        }
        return errs;
    }

    private static final String LINUX_POD = "windows options cannot be set for a linux pod";
    private static final String WINDOWS_POD = "cannot be set for a windows pod";

    private static void linuxOnly(PodSpec spec, FieldPath path, List<FieldError> errs) {
        var podSc = spec.getSecurityContext();
        if (podSc != null && podSc.getWindowsOptions() != null) {
            errs.add(FieldError.forbidden(path.child("securityContext").child("windowsOptions"), LINUX_POD));
        }
        eachSecurityContext(spec, path, (c, p) -> {
            if (c != null && c.getWindowsOptions() != null) {
                errs.add(FieldError.forbidden(p.child("securityContext").child("windowsOptions"), LINUX_POD));
            }
        });
    }

    private static void windowsOnly(PodSpec spec, FieldPath path, List<FieldError> errs) {
        var sc = spec.getSecurityContext();
        FieldPath scPath = path.child("securityContext");
        // the internal security context always exists (the conversion puts the host namespaces in it)
        forbidIf(sc != null && sc.getAppArmorProfile() != null, scPath.child("appArmorProfile"), errs);
        forbidIf(sc != null && sc.getSeLinuxOptions() != null, scPath.child("seLinuxOptions"), errs);
        forbidIf(spec.getHostUsers() != null, path.child("hostUsers"), errs);
        forbidIf(Boolean.TRUE.equals(spec.getHostPID()), path.child("hostPID"), errs);
        forbidIf(Boolean.TRUE.equals(spec.getHostIPC()), path.child("hostIPC"), errs);
        forbidIf(sc != null && sc.getSeccompProfile() != null, scPath.child("seccompProfile"), errs);
        forbidIf(sc != null && sc.getFsGroup() != null, scPath.child("fsGroup"), errs);
        forbidIf(sc != null && sc.getFsGroupChangePolicy() != null, scPath.child("fsGroupChangePolicy"), errs);
        forbidIf(sc != null && sc.getSysctls() != null && !sc.getSysctls().isEmpty(), scPath.child("sysctls"), errs);
        forbidIf(spec.getShareProcessNamespace() != null, path.child("shareProcessNamespace"), errs);
        forbidIf(sc != null && sc.getRunAsUser() != null, scPath.child("runAsUser"), errs);
        forbidIf(sc != null && sc.getRunAsGroup() != null, scPath.child("runAsGroup"), errs);
        // Go's nil slice: fabric8 reads an absent list and an empty one alike
        forbidIf(sc != null && sc.getSupplementalGroups() != null && !sc.getSupplementalGroups().isEmpty(),
                scPath.child("supplementalGroups"), errs);
        forbidIf(sc != null && sc.getSupplementalGroupsPolicy() != null, scPath.child("supplementalGroupsPolicy"), errs);
        forbidIf(sc != null && sc.getSeLinuxChangePolicy() != null, scPath.child("seLinuxChangePolicy"), errs);
        eachSecurityContext(spec, path, (csc, p) -> {
            if (csc == null) {
                return;
            }
            FieldPath cPath = p.child("securityContext");
            forbidIf(csc.getAppArmorProfile() != null, cPath.child("appArmorProfile"), errs);
            forbidIf(csc.getSeLinuxOptions() != null, cPath.child("seLinuxOptions"), errs);
            forbidIf(csc.getSeccompProfile() != null, cPath.child("seccompProfile"), errs);
            forbidIf(csc.getCapabilities() != null, cPath.child("capabilities"), errs);
            forbidIf(csc.getReadOnlyRootFilesystem() != null, cPath.child("readOnlyRootFilesystem"), errs);
            forbidIf(csc.getPrivileged() != null, cPath.child("privileged"), errs);
            forbidIf(csc.getAllowPrivilegeEscalation() != null, cPath.child("allowPrivilegeEscalation"), errs);
            forbidIf(csc.getProcMount() != null, cPath.child("procMount"), errs);
            forbidIf(csc.getRunAsUser() != null, cPath.child("runAsUser"), errs);
            forbidIf(csc.getRunAsGroup() != null, cPath.child("runAsGroup"), errs);
        });
    }

    private static void forbidIf(boolean set, FieldPath path, List<FieldError> errs) {
        if (set) {
            errs.add(FieldError.forbidden(path, WINDOWS_POD));
        }
    }

    /**
     * {@code VisitContainersWithPath}, for what these checks read of a container (its security
     * context, maybe null): the init containers, then the containers, then the ephemeral ones.
     */
    private static void eachSecurityContext(PodSpec spec, FieldPath path,
            java.util.function.BiConsumer<io.fabric8.kubernetes.api.model.SecurityContext, FieldPath> visitor) {
        List<Container> init = nonNull(spec.getInitContainers());
        for (int i = 0; i < init.size(); i++) {
            visitor.accept(init.get(i).getSecurityContext(), path.child("initContainers").index(i));
        }
        List<Container> containers = nonNull(spec.getContainers());
        for (int i = 0; i < containers.size(); i++) {
            visitor.accept(containers.get(i).getSecurityContext(), path.child("containers").index(i));
        }
        var ephemeral = nonNull(spec.getEphemeralContainers());
        for (int i = 0; i < ephemeral.size(); i++) {
            visitor.accept(ephemeral.get(i).getSecurityContext(), path.child("ephemeralContainers").index(i));
        }
    }

    /**
     * {@code validateTopologySpreadConstraints}, in its order: a zero {@code maxSkew}, an empty
     * {@code topologyKey}, a {@code whenUnsatisfiable} that is no action (a typo spread nothing,
     * silently), two constraints of one kind, {@code minDomains} with ScheduleAnyway, and
     * {@code matchLabelKeys} without a selector.
     */
    private static List<FieldError> topologySpreadConstraints(List<io.fabric8.kubernetes.api.model.TopologySpreadConstraint> constraints,
            FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        for (int i = 0; constraints != null && i < constraints.size(); i++) {
            var c = constraints.get(i);
            FieldPath p = path.index(i);
            int maxSkew = c.getMaxSkew() == null ? 0 : c.getMaxSkew();
            if (maxSkew <= 0) {
                errs.add(FieldError.invalid(p.child("maxSkew"), maxSkew, IS_NOT_POSITIVE));
            }
            if (nz(c.getTopologyKey()).isEmpty()) {
                errs.add(FieldError.required(p.child("topologyKey"), "can not be empty"));
            }
            String action = nz(c.getWhenUnsatisfiable());
            if (!action.equals("DoNotSchedule") && !action.equals("ScheduleAnyway")) {
                errs.add(FieldError.notSupported(p.child("whenUnsatisfiable"), action, "DoNotSchedule", "ScheduleAnyway"));
            }
            for (int j = i + 1; j < constraints.size(); j++) {
                var later = constraints.get(j);
                if (nz(c.getTopologyKey()).equals(nz(later.getTopologyKey())) && action.equals(nz(later.getWhenUnsatisfiable()))) {
                    errs.add(FieldError.duplicate(p.child("{topologyKey, whenUnsatisfiable}"), "{" + nz(c.getTopologyKey()) + ", " + action + "}"));
                    break;
                }
            }
            if (c.getMinDomains() != null) {
                if (c.getMinDomains() <= 0) {
                    errs.add(FieldError.invalid(p.child("minDomains"), c.getMinDomains(), IS_NOT_POSITIVE));
                }
                if (!action.equals("DoNotSchedule")) {
                    errs.add(FieldError.invalid(p.child("minDomains"), c.getMinDomains(),
                            "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not " + action));
                }
            }
            errs.addAll(nodeInclusionPolicy(c.getNodeAffinityPolicy(), p.child("nodeAffinityPolicy")));
            errs.addAll(nodeInclusionPolicy(c.getNodeTaintsPolicy(), p.child("nodeTaintsPolicy")));
            // matchLabelKeys as kube-apiserver 1.34+ judges them (MatchLabelKeysInPodTopologySpreadSelectorMerge, on by
            // default): validateMatchLabelKeysAndMismatchLabelKeys, after a new pod's labels were merged into the selector
            List<String> keys = c.getMatchLabelKeys() == null ? List.of() : c.getMatchLabelKeys();
            errs.addAll(labelKeys(keys, c.getLabelSelector(), p.child("matchLabelKeys")));
            errs.addAll(keysInSelector(keys, c.getLabelSelector(), p));
            errs.addAll(MetaValidation.labelSelector(c.getLabelSelector(), p.child("labelSelector")));
        }
        return errs;
    }

    /**
     * {@code validateAffinity}, on create: node affinity's terms and requirements (an operator that
     * is none, In without values, a required term's value that is no label value), and pod
     * (anti-)affinity's terms (weights 1-100, selectors, namespaces, topology keys, matchLabelKeys
     * and mismatchLabelKeys).
     */
    private static List<FieldError> affinity(io.fabric8.kubernetes.api.model.Affinity affinity, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (affinity == null) {
            return errs;
        }
        var node = affinity.getNodeAffinity();
        if (node != null) {
            FieldPath np = path.child("nodeAffinity");
            if (node.getRequiredDuringSchedulingIgnoredDuringExecution() != null) {
                FieldPath terms = np.child("requiredDuringSchedulingIgnoredDuringExecution").child("nodeSelectorTerms");
                var list = node.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms();
                if (list == null || list.isEmpty()) {
                    errs.add(FieldError.required(terms, "must have at least one node selector term"));
                } else {
                    for (int i = 0; i < list.size(); i++) {
                        errs.addAll(nodeSelectorTerm(list.get(i), false, terms.index(i)));
                    }
                }
            }
            var preferred = node.getPreferredDuringSchedulingIgnoredDuringExecution();
            for (int i = 0; preferred != null && i < preferred.size(); i++) {
                FieldPath pp = np.child("preferredDuringSchedulingIgnoredDuringExecution").index(i);
                errs.addAll(schedulingWeight(preferred.get(i).getWeight(), pp.child("weight")));
                // a preferred term's values may be any string: it can still succeed on a cluster of one node
                var preference = preferred.get(i).getPreference();
                errs.addAll(nodeSelectorTerm(preference == null ? new io.fabric8.kubernetes.api.model.NodeSelectorTerm() : preference, true,
                        pp.child("preference")));
            }
        }
        if (affinity.getPodAffinity() != null) {
            errs.addAll(podAffinityTerms(affinity.getPodAffinity().getRequiredDuringSchedulingIgnoredDuringExecution(),
                    affinity.getPodAffinity().getPreferredDuringSchedulingIgnoredDuringExecution(), path.child("podAffinity")));
        }
        if (affinity.getPodAntiAffinity() != null) {
            errs.addAll(podAffinityTerms(affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution(),
                    affinity.getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution(), path.child("podAntiAffinity")));
        }
        return errs;
    }

    /** A preferred term's weight, node or pod affinity's: 1-100 (unset is Go's zero). */
    private static List<FieldError> schedulingWeight(Integer weight, FieldPath path) {
        int w = weight == null ? 0 : weight;
        return w <= 0 || w > 100 ? List.of(FieldError.invalid(path, w, "must be in the range 1-100")) : List.of();
    }

    /** {@code ValidateNodeSelectorTerm}: its expressions, then its fields (metadata.name alone). */
    private static List<FieldError> nodeSelectorTerm(io.fabric8.kubernetes.api.model.NodeSelectorTerm term, boolean anyValue, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        var expressions = term.getMatchExpressions();
        for (int j = 0; expressions != null && j < expressions.size(); j++) {
            var rq = expressions.get(j);
            FieldPath p = path.child("matchExpressions").index(j);
            List<String> values = rq.getValues() == null ? List.of() : rq.getValues();
            errs.addAll(MetaValidation.requirementOperator(nz(rq.getOperator()), values.size(), true, p));
            errs.addAll(MetaValidation.labelName(nz(rq.getKey()), p.child("key")));
            if (!anyValue) {
                for (int v = 0; v < values.size(); v++) {
                    for (String msg : Names.labelValue(nz(values.get(v)))) {
                        errs.add(FieldError.invalid(p.child("values").index(v), nz(values.get(v)), msg));
                    }
                }
            }
        }
        var fields = term.getMatchFields();
        for (int j = 0; fields != null && j < fields.size(); j++) {
            var rq = fields.get(j);
            FieldPath p = path.child("matchFields").index(j);
            List<String> values = rq.getValues() == null ? List.of() : rq.getValues();
            String operator = nz(rq.getOperator());
            if (operator.equals("In") || operator.equals("NotIn")) {
                if (values.size() != 1) {
                    errs.add(FieldError.required(p.child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
                }
            } else {
                errs.add(FieldError.invalid(p.child("operator"), operator, "not a valid selector operator"));
            }
            if (!"metadata.name".equals(nz(rq.getKey()))) {
                errs.add(FieldError.invalid(p.child("key"), nz(rq.getKey()), "not a valid field selector key"));
            } else {
                for (int v = 0; v < values.size(); v++) {
                    for (String msg : Names.dns1123Subdomain(nz(values.get(v)))) {
                        errs.add(FieldError.invalid(p.child("values").index(v), nz(values.get(v)), msg));
                    }
                }
            }
        }
        return errs;
    }

    /** {@code validatePodAffinity} and {@code validatePodAntiAffinity}: the required terms, then the weighted ones. */
    private static List<FieldError> podAffinityTerms(List<io.fabric8.kubernetes.api.model.PodAffinityTerm> required,
            List<io.fabric8.kubernetes.api.model.WeightedPodAffinityTerm> preferred, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        for (int i = 0; required != null && i < required.size(); i++) {
            errs.addAll(podAffinityTerm(required.get(i), path.child("requiredDuringSchedulingIgnoredDuringExecution").index(i)));
        }
        for (int j = 0; preferred != null && j < preferred.size(); j++) {
            FieldPath p = path.child("preferredDuringSchedulingIgnoredDuringExecution").index(j);
            errs.addAll(schedulingWeight(preferred.get(j).getWeight(), p.child("weight")));
            var term = preferred.get(j).getPodAffinityTerm();
            errs.addAll(podAffinityTerm(term == null ? new io.fabric8.kubernetes.api.model.PodAffinityTerm() : term, p.child("podAffinityTerm")));
        }
        return errs;
    }

    /** {@code validatePodAffinityTerm}, in its order (a bad namespace is reported at {@code .namespace}, as there). */
    private static List<FieldError> podAffinityTerm(io.fabric8.kubernetes.api.model.PodAffinityTerm term, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        errs.addAll(MetaValidation.labelSelector(term.getLabelSelector(), path.child("labelSelector")));
        errs.addAll(MetaValidation.labelSelector(term.getNamespaceSelector(), path.child("namespaceSelector")));
        for (String name : term.getNamespaces() == null ? List.<String>of() : term.getNamespaces()) {
            for (String msg : Names.dns1123Label(nz(name))) {
                errs.add(FieldError.invalid(path.child("namespace"), nz(name), msg));
            }
        }
        // validateMatchLabelKeysAndMismatchLabelKeys: label names, a selector to go with them, no key both in the
        // selector and matchLabelKeys, and no key in both lists
        List<String> match = term.getMatchLabelKeys() == null ? List.of() : term.getMatchLabelKeys();
        List<String> mismatch = term.getMismatchLabelKeys() == null ? List.of() : term.getMismatchLabelKeys();
        errs.addAll(labelKeys(match, term.getLabelSelector(), path.child("matchLabelKeys")));
        errs.addAll(labelKeys(mismatch, term.getLabelSelector(), path.child("mismatchLabelKeys")));
        errs.addAll(keysInSelector(match, term.getLabelSelector(), path));
        Set<String> mismatched = new HashSet<>(mismatch);
        for (int i = 0; i < match.size(); i++) {
            if (mismatched.contains(match.get(i))) {
                errs.add(FieldError.invalid(path.child("matchLabelKeys").index(i), match.get(i), "exists in both matchLabelKeys and mismatchLabelKeys"));
            }
        }
        if (nz(term.getTopologyKey()).isEmpty()) {
            errs.add(FieldError.required(path.child("topologyKey"), "can not be empty"));
        }
        errs.addAll(MetaValidation.labelName(nz(term.getTopologyKey()), path.child("topologyKey")));
        return errs;
    }

    /**
     * The second rule of {@code validateMatchLabelKeysAndMismatchLabelKeys}: a requirement on a key
     * of {@code matchLabelKeys} that the selector names already (in matchLabels or an earlier
     * requirement). A new pod's selector holds the requirements merged from its labels at its end,
     * so a key the user named in the selector too is named twice; a template's is as written. The
     * error's path is the term's own with the key's index, as kube-apiserver words it
     * ({@code ...requiredDuringSchedulingIgnoredDuringExecution[0][0]}).
     */
    private static List<FieldError> keysInSelector(List<String> keys, io.fabric8.kubernetes.api.model.LabelSelector selector, FieldPath path) {
        if (selector == null || keys.isEmpty()) {
            return List.of();
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            index.put(keys.get(i), i); // a repeated key: its last index, as Go's map assignment leaves it
        }
        Set<String> seen = new HashSet<>(selector.getMatchLabels() == null ? Set.of() : selector.getMatchLabels().keySet());
        List<FieldError> errs = new ArrayList<>();
        for (var requirement : selector.getMatchExpressions() == null ? List.<io.fabric8.kubernetes.api.model.LabelSelectorRequirement>of()
                : selector.getMatchExpressions()) {
            String key = nz(requirement.getKey());
            Integer i = index.get(key);
            if (i != null && seen.contains(key)) {
                errs.add(FieldError.invalid(path.index(i), key, "exists in both matchLabelKeys and labelSelector"));
            }
            seen.add(key);
        }
        return errs;
    }

    /** {@code validateLabelKeys}: keys for matchLabelKeys or mismatchLabelKeys. */
    private static List<FieldError> labelKeys(List<String> keys, io.fabric8.kubernetes.api.model.LabelSelector selector, FieldPath path) {
        if (keys.isEmpty()) {
            return List.of();
        }
        if (selector == null) {
            return List.of(FieldError.forbidden(path, "must not be specified when labelSelector is not set"));
        }
        List<FieldError> errs = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            errs.addAll(MetaValidation.labelName(nz(keys.get(i)), path.index(i)));
        }
        return errs;
    }

    /** {@code validateNodeInclusionPolicy}: unset, Honor or Ignore. */
    private static List<FieldError> nodeInclusionPolicy(String policy, FieldPath path) {
        return policy == null || policy.equals("Honor") || policy.equals("Ignore") ? List.of()
                : List.of(FieldError.notSupported(path, policy, "Honor", "Ignore"));
    }

    /** apimachinery's {@code isNotPositiveErrorMsg}. */
    private static final String IS_NOT_POSITIVE = "must be greater than zero";

    /**
     * {@code ValidateTolerations}: what a pod tolerates is read when it is placed and when it is
     * admitted (a typo such as {@code effect: NoExecut} tolerated nothing, silently).
     */
    private static List<FieldError> tolerations(List<io.fabric8.kubernetes.api.model.Toleration> tolerations, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        for (int i = 0; tolerations != null && i < tolerations.size(); i++) {
            var t = tolerations.get(i);
            FieldPath p = path.index(i);
            String key = nz(t.getKey());
            String operator = nz(t.getOperator());
            String effect = nz(t.getEffect());
            if (!key.isEmpty()) {
                errs.addAll(MetaValidation.labelName(key, p.child("key")));
            }
            if (key.isEmpty() && !operator.equals("Exists")) {
                errs.add(FieldError.invalid(p.child("operator"), operator,
                        "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
            }
            if (t.getTolerationSeconds() != null && !effect.equals("NoExecute")) {
                errs.add(FieldError.invalid(p.child("effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
            }
            switch (operator) {
                case "Equal", "" -> {
                    List<String> msgs = Names.labelValue(nz(t.getValue()));
                    if (!msgs.isEmpty()) {
                        errs.add(FieldError.invalid(p.child("operator"), nz(t.getValue()), String.join(";", msgs)));
                    }
                }
                case "Exists" -> {
                    if (!nz(t.getValue()).isEmpty()) {
                        errs.add(FieldError.invalid(p.child("operator"), t, "value must be empty when `operator` is 'Exists'"));
                    }
                }
                default -> errs.add(FieldError.notSupported(p.child("operator"), operator, "Equal", "Exists"));
            }
            if (!effect.isEmpty() && !List.of("NoSchedule", "PreferNoSchedule", "NoExecute").contains(effect)) {
                errs.add(FieldError.notSupported(p.child("effect"), effect, "NoSchedule", "PreferNoSchedule", "NoExecute"));
            }
        }
        return errs;
    }

    /** The resolver's own limits, which kube-apiserver holds a pod to (core validation's MaxDNS* constants). */
    private static final int MAX_DNS_NAMESERVERS = 3;
    private static final int MAX_DNS_SEARCH_PATHS = 32;
    private static final int MAX_DNS_SEARCH_LIST_CHARS = 2048;

    /**
     * {@code validatePodDNSConfig}: what the pod's {@code resolv.conf} is written from. Search
     * domains as Kubernetes 1.33 takes them by default (RelaxedDNSSearchValidation): a trailing
     * dot, a lone {@code .} and underscores are fine.
     */
    private static List<FieldError> dnsConfig(io.fabric8.kubernetes.api.model.PodDNSConfig config, String dnsPolicy, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (dnsPolicy.equals("None")) {
            if (config == null) {
                errs.add(FieldError.required(path, "must provide `dnsConfig` when `dnsPolicy` is None"));
                return errs;
            }
            if (config.getNameservers() == null || config.getNameservers().isEmpty()) {
                errs.add(FieldError.required(path.child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"));
                return errs;
            }
        }
        if (config == null) {
            return errs;
        }
        List<String> nameservers = config.getNameservers() == null ? List.of() : config.getNameservers();
        if (nameservers.size() > MAX_DNS_NAMESERVERS) {
            errs.add(FieldError.invalid(path.child("nameservers"), nameservers, "must not have more than " + MAX_DNS_NAMESERVERS + " nameservers"));
        }
        for (int i = 0; i < nameservers.size(); i++) {
            FieldPath p = path.child("nameservers").index(i);
            String ns = nz(nameservers.get(i));
            Names.ip(ns).forEach(msg -> errs.add(FieldError.invalid(p, ns, msg)));
        }
        List<String> searches = config.getSearches() == null ? List.of() : config.getSearches();
        if (searches.size() > MAX_DNS_SEARCH_PATHS) {
            errs.add(FieldError.invalid(path.child("searches"), searches, "must not have more than " + MAX_DNS_SEARCH_PATHS + " search paths"));
        }
        if (String.join(" ", searches).length() > MAX_DNS_SEARCH_LIST_CHARS) {
            errs.add(FieldError.invalid(path.child("searches"), searches,
                    "must not have more than " + MAX_DNS_SEARCH_LIST_CHARS + " characters (including spaces) in the search list"));
        }
        for (int i = 0; i < searches.size(); i++) {
            String search = nz(searches.get(i));
            if (search.equals(".")) {
                continue;
            }
            String name = search.endsWith(".") ? search.substring(0, search.length() - 1) : search;
            for (String msg : Names.dns1123SubdomainWithUnderscore(name)) {
                errs.add(FieldError.invalid(path.child("searches").index(i), name, msg));
            }
        }
        var options = config.getOptions() == null ? List.<io.fabric8.kubernetes.api.model.PodDNSConfigOption>of() : config.getOptions();
        for (int i = 0; i < options.size(); i++) {
            if (nz(options.get(i).getName()).isEmpty()) {
                errs.add(FieldError.required(path.child("options").index(i), "must not be empty"));
            }
        }
        return errs;
    }

    /** {@code ValidateHostAliases}: what the pod's hosts file is written from. */
    private static List<FieldError> hostAliases(List<io.fabric8.kubernetes.api.model.HostAlias> aliases, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        for (int i = 0; aliases != null && i < aliases.size(); i++) {
            var alias = aliases.get(i);
            FieldPath p = path.index(i);
            String ip = nz(alias.getIp());
            Names.ip(ip).forEach(msg -> errs.add(FieldError.invalid(p.child("ip"), ip, msg)));
            List<String> hostnames = alias.getHostnames() == null ? List.of() : alias.getHostnames();
            for (int j = 0; j < hostnames.size(); j++) {
                for (String msg : Names.dns1123Subdomain(nz(hostnames.get(j)))) {
                    errs.add(FieldError.invalid(p.child("hostnames").index(j), nz(hostnames.get(j)), msg));
                }
            }
        }
        return errs;
    }

    private static List<FieldError> volumes(List<Volume> volumes, Set<String> names, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (volumes == null) {
            return errs;
        }
        for (int i = 0; i < volumes.size(); i++) {
            Volume v = volumes.get(i);
            FieldPath p = path.index(i);
            String name = nz(v.getName());
            if (name.isEmpty()) {
                errs.add(FieldError.required(p.child("name"), ""));
            } else {
                for (String msg : Names.dns1123Label(name)) {
                    errs.add(FieldError.invalid(p.child("name"), name, msg));
                }
                if (!names.add(name)) {
                    errs.add(FieldError.duplicate(p.child("name"), name));
                }
            }
            // every source kube-apiserver knows counts (a type local mode cannot mount fails the pod at its start, as a
            // kubelet without the plugin would); past the first in its order, each is refused where it stands
            var tree = dev.portway.api.Json.tree(v);
            int sources = 0;
            for (String source : VOLUME_SOURCES) {
                if (tree.hasNonNull(source)) {
                    if (sources++ > 0) {
                        errs.add(FieldError.forbidden(p.child(source), "may not specify more than 1 volume type"));
                    }
                }
            }
            if (sources == 0) {
                errs.add(FieldError.required(p, "must specify a volume type"));
            }
            if (v.getConfigMap() != null && nz(v.getConfigMap().getName()).isEmpty()) {
                errs.add(FieldError.required(p.child("configMap", "name"), ""));
            }
            if (v.getSecret() != null && nz(v.getSecret().getSecretName()).isEmpty()) {
                errs.add(FieldError.required(p.child("secret", "secretName"), ""));
            }
            if (v.getHostPath() != null) {
                errs.addAll(hostPath(v.getHostPath(), p.child("hostPath")));
            }
            if (v.getConfigMap() != null) {
                errs.addAll(fileMode(v.getConfigMap().getDefaultMode(), p.child("configMap", "defaultMode")));
                errs.addAll(keyToPaths(v.getConfigMap().getItems(), p.child("configMap", "items")));
            }
            if (v.getSecret() != null) {
                errs.addAll(fileMode(v.getSecret().getDefaultMode(), p.child("secret", "defaultMode")));
                errs.addAll(keyToPaths(v.getSecret().getItems(), p.child("secret", "items")));
            }
            if (v.getDownwardAPI() != null) {
                errs.addAll(fileMode(v.getDownwardAPI().getDefaultMode(), p.child("downwardAPI", "defaultMode")));
            }
            if (v.getDownwardAPI() != null && v.getDownwardAPI().getItems() != null) {
                var items = v.getDownwardAPI().getItems();
                for (int j = 0; j < items.size(); j++) {
                    FieldPath ip = p.child("downwardAPI", "items").index(j).child("path");
                    if (nz(items.get(j).getPath()).isEmpty()) {
                        errs.add(FieldError.required(ip, ""));
                    } else {
                        errs.addAll(localNonReservedPath(items.get(j).getPath(), ip));
                    }
                    errs.addAll(fileMode(items.get(j).getMode(), p.child("downwardAPI", "items").index(j).child("mode")));
                }
            }
        }
        return errs;
    }

    /** configMap and secret {@code items}: a key, and a path inside the volume. */
    private static List<FieldError> keyToPaths(List<io.fabric8.kubernetes.api.model.KeyToPath> items, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        for (int i = 0; items != null && i < items.size(); i++) {
            var item = items.get(i);
            FieldPath p = path.index(i);
            if (nz(item.getKey()).isEmpty()) {
                errs.add(FieldError.required(p.child("key"), ""));
            }
            if (nz(item.getPath()).isEmpty()) {
                errs.add(FieldError.required(p.child("path"), ""));
            } else {
                errs.addAll(localNonReservedPath(item.getPath(), p.child("path")));
            }
            errs.addAll(fileMode(item.getMode(), p.child("mode")));
        }
        return errs;
    }

    /** A volume file's mode (kube-apiserver's fileModeErrorMsg). */
    private static List<FieldError> fileMode(Integer mode, FieldPath path) {
        return mode != null && (mode > 0777 || mode < 0)
                ? List.of(FieldError.invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive")) : List.of();
    }

    /** The hostPath types kube-apiserver supports, sorted as it lists them. */
    private static final String[] HOST_PATH_TYPES = {"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
        "FileOrCreate", "Socket"};

    /** kube-apiserver's validateHostPathVolumeSource: a path, without a ".." element, and a known type. */
    private static List<FieldError> hostPath(io.fabric8.kubernetes.api.model.HostPathVolumeSource source, FieldPath path) {
        String target = nz(source.getPath());
        if (target.isEmpty()) {
            return List.of(FieldError.required(path.child("path"), ""));
        }
        List<FieldError> errs = new ArrayList<>();
        for (String part : target.split("/", -1)) {
            if (part.equals("..")) {
                errs.add(FieldError.invalid(path.child("path"), target, "must not contain '..'"));
                break;
            }
        }
        if (source.getType() != null && !java.util.Arrays.asList(HOST_PATH_TYPES).contains(source.getType())) {
            errs.add(FieldError.notSupported(path.child("type"), source.getType(), HOST_PATH_TYPES));
        }
        return errs;
    }

    /** Kubernetes' validateLocalNonReservedPath: relative, no "..", not starting with "..". */
    private static List<FieldError> localNonReservedPath(String target, FieldPath path) {
        List<FieldError> errs = localDescendingPath(target, path);
        String first = target.split("/", -1)[0];
        if (first.startsWith("..") && first.length() > 2) {
            errs.add(FieldError.invalid(path, target, "must not start with '..'"));
        }
        return errs;
    }

    /** Kubernetes' validateLocalDescendingPath: not absolute, and no ".." element. */
    static List<FieldError> localDescendingPath(String target, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (target.startsWith("/")) {
            errs.add(FieldError.invalid(path, target, "must be a relative path"));
        }
        for (String part : target.split("/", -1)) {
            if (part.equals("..")) {
                errs.add(FieldError.invalid(path, target, "must not contain '..'"));
                break;
            }
        }
        return errs;
    }

    private static List<FieldError> containers(List<Container> containers, Set<String> volumes, boolean hostUsers, Long gracePeriod,
                                               FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (containers == null || containers.isEmpty()) {
            errs.add(FieldError.required(path, ""));
            return errs;
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < containers.size(); i++) {
            Container c = containers.get(i);
            FieldPath p = path.index(i);
            errs.addAll(containerCommon(c, volumes, hostUsers, p));
            if (!names.add(nz(c.getName()))) {
                errs.add(FieldError.duplicate(p.child("name"), nz(c.getName())));
            }
            errs.addAll(lifecycle(c.getLifecycle(), gracePeriod, p.child("lifecycle")));
            errs.addAll(probe(c.getLivenessProbe(), p.child("livenessProbe"), true));
            errs.addAll(probe(c.getReadinessProbe(), p.child("readinessProbe"), false));
            errs.addAll(probe(c.getStartupProbe(), p.child("startupProbe"), true));
            if (c.getRestartPolicy() != null) {
                errs.add(FieldError.forbidden(p.child("restartPolicy"), "may not be set for non-init containers"));
            }
        }
        // Port conflicts are checked across all regular containers.
        errs.addAll(hostPortConflicts(containers, path));
        return errs;
    }

    /**
     * {@code AccumulateUniqueHostPorts}: a host port may be used once per protocol and host IP;
     * the duplicate is reported as {@code "TCP//8080"} (protocol/hostIP/port).
     */
    static List<FieldError> hostPortConflicts(List<Container> containers, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int ci = 0; ci < containers.size(); ci++) {
            List<ContainerPort> ports = containers.get(ci).getPorts() == null ? List.of() : containers.get(ci).getPorts();
            for (int pi = 0; pi < ports.size(); pi++) {
                ContainerPort port = ports.get(pi);
                int hostPort = nz(port.getHostPort());
                if (hostPort == 0) {
                    continue;
                }
                String key = nz(port.getProtocol()) + "/" + nz(port.getHostIP()) + "/" + hostPort;
                if (!seen.add(key)) {
                    errs.add(FieldError.duplicate(path.index(ci).child("ports").index(pi).child("hostPort"), key));
                }
            }
        }
        return errs;
    }

    private static List<FieldError> initContainers(List<Container> containers, List<Container> regular, Set<String> volumes,
                                                   boolean hostUsers, Long gracePeriod, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (containers == null) {
            return errs;
        }
        Set<String> names = new HashSet<>();
        if (regular != null) {
            regular.forEach(c -> names.add(nz(c.getName())));
        }
        for (int i = 0; i < containers.size(); i++) {
            Container c = containers.get(i);
            FieldPath p = path.index(i);
            errs.addAll(containerCommon(c, volumes, hostUsers, p));
            boolean restartAlways = "Always".equals(c.getRestartPolicy());
            if (c.getRestartPolicy() != null && !restartAlways) {
                errs.add(FieldError.notSupported(p.child("restartPolicy"), c.getRestartPolicy(), "Always"));
            }
            if (names.contains(nz(c.getName()))) {
                errs.add(FieldError.duplicate(p.child("name"), nz(c.getName())));
            } else if (!nz(c.getName()).isEmpty()) {
                names.add(c.getName());
            }
            // Init containers run one by one: each is checked for conflicts on its own.
            errs.addAll(hostPortConflicts(List.of(c), path));
            if (restartAlways) {
                errs.addAll(lifecycle(c.getLifecycle(), gracePeriod, p.child("lifecycle")));
                errs.addAll(probe(c.getLivenessProbe(), p.child("livenessProbe"), true));
                errs.addAll(probe(c.getReadinessProbe(), p.child("readinessProbe"), false));
                errs.addAll(probe(c.getStartupProbe(), p.child("startupProbe"), true));
            } else {
                String why = "may not be set for init containers without restartPolicy=Always";
                if (c.getLifecycle() != null) {
                    errs.add(FieldError.forbidden(p.child("lifecycle"), why));
                }
                if (c.getLivenessProbe() != null) {
                    errs.add(FieldError.forbidden(p.child("livenessProbe"), why));
                }
                if (c.getReadinessProbe() != null) {
                    errs.add(FieldError.forbidden(p.child("readinessProbe"), why));
                }
                if (c.getStartupProbe() != null) {
                    errs.add(FieldError.forbidden(p.child("startupProbe"), why));
                }
            }
        }
        return errs;
    }

    private static List<FieldError> containerCommon(Container c, Set<String> volumes, boolean hostUsers, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        String name = nz(c.getName());
        if (name.isEmpty()) {
            errs.add(FieldError.required(path.child("name"), ""));
        } else {
            for (String msg : Names.dns1123Label(name)) {
                errs.add(FieldError.invalid(path.child("name"), name, msg));
            }
        }
        if (nz(c.getImage()).isEmpty()) {
            errs.add(FieldError.required(path.child("image"), ""));
        }
        String tmp = nz(c.getTerminationMessagePolicy());
        switch (tmp) {
            case "File", "FallbackToLogsOnError" -> {
            }
            case "" -> errs.add(FieldError.required(path.child("terminationMessagePolicy"), ""));
            default -> errs.add(FieldError.notSupported(path.child("terminationMessagePolicy"), tmp, "File", "FallbackToLogsOnError"));
        }
        errs.addAll(containerPorts(c.getPorts(), path.child("ports")));
        errs.addAll(env(c.getEnv(), path.child("env")));
        errs.addAll(envFrom(c.getEnvFrom(), path.child("envFrom")));
        errs.addAll(volumeMounts(c.getVolumeMounts(), volumes, path.child("volumeMounts")));
        String pull = nz(c.getImagePullPolicy());
        switch (pull) {
            case "Always", "IfNotPresent", "Never" -> {
            }
            case "" -> errs.add(FieldError.required(path.child("imagePullPolicy"), ""));
            default -> errs.add(FieldError.notSupported(path.child("imagePullPolicy"), pull, "Always", "IfNotPresent", "Never"));
        }
        errs.addAll(Resources.containerRequirements(c.getResources(), path.child("resources")));
        errs.addAll(securityContext(c.getSecurityContext(), hostUsers, path.child("securityContext")));
        return errs;
    }

    /** The largest user or group ID ({@code IsValidUserID}, {@code IsValidGroupID}): 2^31-1. */
    private static final int MAX_ID = Integer.MAX_VALUE;

    /** {@code IsValidUserID} / {@code IsValidGroupID} of {@code id} at {@code path}, when it is set. */
    private static void id(Long id, FieldPath path, List<FieldError> errs) {
        if (id != null && (id < 0 || id > MAX_ID)) {
            errs.add(FieldError.invalid(path, id, Names.inclusiveRangeError(0, MAX_ID)));
        }
    }

    /**
     * {@code ValidateSecurityContext}: a container's user and group IDs, its {@code procMount}
     * ({@code Unmasked} only in a user namespace of its own, {@code hostUsers: false}), its
     * seccomp profile, {@code allowPrivilegeEscalation: false} with {@code privileged} or with
     * {@code CAP_SYS_ADMIN} added (refused: the two contradict), and its AppArmor profile. (Not
     * yet: Windows options.)
     */
    private static List<FieldError> securityContext(io.fabric8.kubernetes.api.model.SecurityContext sc, boolean hostUsers, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (sc == null) {
            return errs;
        }
        id(sc.getRunAsUser(), path.child("runAsUser"), errs);
        id(sc.getRunAsGroup(), path.child("runAsGroup"), errs);
        if (sc.getProcMount() != null) {
            String procMount = sc.getProcMount();
            if (!procMount.equals("Default") && !procMount.equals("Unmasked")) {
                errs.add(FieldError.notSupported(path.child("procMount"), procMount, "Default", "Unmasked"));
            }
            if (hostUsers && procMount.equals("Unmasked")) {
                errs.add(FieldError.invalid(path.child("procMount"), procMount, "`hostUsers` must be false to use `Unmasked`"));
            }
        }
        errs.addAll(seccompProfile(sc.getSeccompProfile(), path.child("seccompProfile")));
        if (Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) {
            if (Boolean.TRUE.equals(sc.getPrivileged())) {
                errs.add(FieldError.invalid(path, goSecurityContext(sc), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
            }
            if (sc.getCapabilities() != null) {
                for (String cap : nonNull(sc.getCapabilities().getAdd())) {
                    if (cap.equals("CAP_SYS_ADMIN")) {
                        errs.add(FieldError.invalid(path, goSecurityContext(sc),
                                "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"));
                    }
                }
            }
        }
        errs.addAll(windowsOptions(sc.getWindowsOptions(), path.child("windowsOptions")));
        errs.addAll(appArmorProfile(sc.getAppArmorProfile(), path.child("appArmorProfile")));
        return errs;
    }

    /**
     * A container's security context as kube's message prints it: the internal Go struct (no JSON
     * tags, so Go's field names, every field, in declaration order), marshalled.
     */
    private static GoValues.Struct goSecurityContext(io.fabric8.kubernetes.api.model.SecurityContext sc) {
        var caps = sc.getCapabilities();
        var seLinux = sc.getSeLinuxOptions();
        var windows = sc.getWindowsOptions();
        var apparmor = sc.getAppArmorProfile();
        return GoValues.Struct.builder()
                .put("Capabilities", caps == null ? null : GoValues.Struct.builder()
                        .put("Add", nullIfEmpty(caps.getAdd()))
                        .put("Drop", nullIfEmpty(caps.getDrop()))
                        .build())
                .put("Privileged", sc.getPrivileged())
                .put("SELinuxOptions", seLinux == null ? null : GoValues.Struct.builder()
                        .put("User", nz(seLinux.getUser()))
                        .put("Role", nz(seLinux.getRole()))
                        .put("Type", nz(seLinux.getType()))
                        .put("Level", nz(seLinux.getLevel()))
                        .build())
                .put("WindowsOptions", windows == null ? null : GoValues.Struct.builder()
                        .put("GMSACredentialSpecName", windows.getGmsaCredentialSpecName())
                        .put("GMSACredentialSpec", windows.getGmsaCredentialSpec())
                        .put("RunAsUserName", windows.getRunAsUserName())
                        .put("HostProcess", windows.getHostProcess())
                        .build())
                .put("RunAsUser", sc.getRunAsUser())
                .put("RunAsGroup", sc.getRunAsGroup())
                .put("RunAsNonRoot", sc.getRunAsNonRoot())
                .put("ReadOnlyRootFilesystem", sc.getReadOnlyRootFilesystem())
                .put("AllowPrivilegeEscalation", sc.getAllowPrivilegeEscalation())
                .put("ProcMount", sc.getProcMount())
                .put("SeccompProfile", goSeccompProfile(sc.getSeccompProfile()))
                .put("AppArmorProfile", apparmor == null ? null : GoValues.Struct.builder()
                        .put("Type", nz(apparmor.getType()))
                        .put("LocalhostProfile", apparmor.getLocalhostProfile())
                        .build())
                .build();
    }

    /** The internal {@code core.SeccompProfile}, marshalled as kube's message prints it. */
    private static GoValues.Struct goSeccompProfile(io.fabric8.kubernetes.api.model.SeccompProfile profile) {
        return profile == null ? null : GoValues.Struct.builder()
                .put("Type", nz(profile.getType()))
                .put("LocalhostProfile", profile.getLocalhostProfile())
                .build();
    }

    /** Go's nil for a list the decoder left empty (fabric8 cannot tell {@code []} from none). */
    private static <T> List<T> nullIfEmpty(List<T> list) {
        return list == null || list.isEmpty() ? null : list;
    }

    /**
     * {@code validatePodSpecSecurityContext}: the pod's user and group IDs, {@code
     * shareProcessNamespace} with {@code hostPID} (checked when the security context is set, as
     * there), the sysctls, {@code fsGroupChangePolicy}, the seccomp and AppArmor profiles, {@code
     * supplementalGroupsPolicy} and {@code seLinuxChangePolicy}, in kube-apiserver's order. (Not
     * yet: Windows options.)
     */
    private static List<FieldError> podSecurityContext(io.fabric8.kubernetes.api.model.PodSecurityContext sc, PodSpec spec, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (sc == null) {
            return errs;
        }
        id(sc.getFsGroup(), path.child("fsGroup"), errs);
        id(sc.getRunAsUser(), path.child("runAsUser"), errs);
        id(sc.getRunAsGroup(), path.child("runAsGroup"), errs);
        List<Long> groups = sc.getSupplementalGroups() == null ? List.of() : sc.getSupplementalGroups();
        for (int i = 0; i < groups.size(); i++) {
            id(groups.get(i), path.child("supplementalGroups").index(i), errs);
        }
        // spec.hostPID and spec.shareProcessNamespace: fields of the pod's security context in Kubernetes' internal
        // type, which is the path its message names
        if (Boolean.TRUE.equals(spec.getShareProcessNamespace()) && Boolean.TRUE.equals(spec.getHostPID())) {
            errs.add(FieldError.invalid(path.child("shareProcessNamespace"), true, "ShareProcessNamespace and HostPID cannot both be enabled"));
        }
        if (sc.getSysctls() != null && !sc.getSysctls().isEmpty()) {
            errs.addAll(sysctls(sc.getSysctls(), spec, path.child("sysctls")));
        }
        String policy = sc.getFsGroupChangePolicy();
        if (policy != null && !policy.equals("Always") && !policy.equals("OnRootMismatch")) {
            errs.add(FieldError.notSupported(path.child("fsGroupChangePolicy"), policy, "Always", "OnRootMismatch"));
        }
        errs.addAll(seccompProfile(sc.getSeccompProfile(), path.child("seccompProfile")));
        errs.addAll(windowsOptions(sc.getWindowsOptions(), path.child("windowsOptions")));
        errs.addAll(appArmorProfile(sc.getAppArmorProfile(), path.child("appArmorProfile")));
        String groupsPolicy = sc.getSupplementalGroupsPolicy();
        if (groupsPolicy != null && !groupsPolicy.equals("Merge") && !groupsPolicy.equals("Strict")) {
            errs.add(FieldError.notSupported(path.child("supplementalGroupsPolicy"), groupsPolicy, "Merge", "Strict"));
        }
        String seLinux = sc.getSeLinuxChangePolicy();
        // all policies are allowed: the SELinuxChangePolicy feature is on by default (beta since 1.33)
        if (seLinux != null && !seLinux.equals("MountOption") && !seLinux.equals("Recursive")) {
            errs.add(FieldError.notSupported(path.child("seLinuxChangePolicy"), seLinux, "MountOption", "Recursive"));
        }
        return errs;
    }

    /** A sysctl name, dots or slashes between its segments ({@code SysctlContainSlashFmt}), as Go prints the regular expression. */
    private static final String SYSCTL_NAME = "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$";
    private static final java.util.regex.Pattern SYSCTL_NAME_PATTERN = java.util.regex.Pattern.compile(SYSCTL_NAME);
    /** {@code SysctlMaxLength}. */
    private static final int SYSCTL_MAX_LENGTH = 253;

    /**
     * {@code validateSysctls}: each name is set, well formed, and named once; a sysctl of the
     * network namespace is refused to a pod on the host's network, and one of the IPC namespace
     * to a pod that shares the host's IPC namespace ({@code ValidateHostSysctl}: the kubelet would
     * set it on the host's own). A pod is judged as on create, where no old pod allows them.
     */
    private static List<FieldError> sysctls(List<io.fabric8.kubernetes.api.model.Sysctl> sysctls, PodSpec spec, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < sysctls.size(); i++) {
            String name = nz(sysctls.get(i).getName());
            FieldPath p = path.index(i).child("name");
            if (name.isEmpty()) {
                errs.add(FieldError.required(p, ""));
            } else if (name.length() > SYSCTL_MAX_LENGTH || !SYSCTL_NAME_PATTERN.matcher(name).matches()) {
                errs.add(FieldError.invalid(p, name, "must have at most " + SYSCTL_MAX_LENGTH + " characters and match regex " + SYSCTL_NAME));
            } else if (names.contains(name)) {
                errs.add(FieldError.duplicate(p, name));
            }
            String namespace = sysctlNamespace(name);
            if (Boolean.TRUE.equals(spec.getHostNetwork()) && namespace.equals("Net")) {
                errs.add(FieldError.invalid(p, name, "may not be specified when 'hostNetwork' is true"));
            } else if (Boolean.TRUE.equals(spec.getHostIPC()) && namespace.equals("IPC")) {
                errs.add(FieldError.invalid(p, name, "may not be specified when 'hostIPC' is true"));
            }
            names.add(name);
        }
        return errs;
    }

    /** The sysctls of the IPC namespace Kubernetes names one by one (component-helpers' {@code nameToNamespace}). */
    private static final Set<String> IPC_SYSCTLS = Set.of("kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
            "kernel.shm_rmid_forced", "kernel.shm", "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.msg");

    /**
     * The kernel namespace of a sysctl, as component-helpers' {@code GetNamespace} finds it: the
     * name in dotted form ({@code net/ipv4/ip_forward} is {@code net.ipv4.ip_forward}), up to its
     * first {@code *}; "Net", "IPC", or "" when not known to be namespaced.
     */
    static String sysctlNamespace(String sysctl) {
        String name = sysctl;
        int dot = name.indexOf('.');
        int slash = name.indexOf('/');
        if (slash >= 0 && (dot < 0 || slash < dot)) {
            // NormalizeName: slashes for separators, so the dots within a segment were slashes
            StringBuilder b = new StringBuilder(name.length());
            for (char c : name.toCharArray()) {
                b.append(c == '.' ? '/' : c == '/' ? '.' : c);
            }
            name = b.toString();
        }
        int star = name.indexOf('*');
        if (star >= 0) {
            name = name.substring(0, star);
        }
        if (IPC_SYSCTLS.contains(name)) {
            return "IPC";
        }
        if (name.startsWith("net.")) {
            return "Net";
        }
        return name.startsWith("fs.mqueue.") ? "IPC" : "";
    }

    /** The largest gMSA credential spec, in KiB ({@code maxGMSACredentialSpecLengthInKiB}). */
    private static final int MAX_GMSA_SPEC_KIB = 64;
    /** {@code maxRunAsUserNameDomainLength} and {@code maxRunAsUserNameUserLength}. */
    private static final int MAX_WINDOWS_DOMAIN = 256;
    private static final int MAX_WINDOWS_USER = 104;
    private static final java.util.regex.Pattern CONTROL = java.util.regex.Pattern.compile("\\p{Cntrl}");
    /** A NetBIOS domain: no dot first, at most 15 characters, none of \ / : * ? " < > |. */
    private static final java.util.regex.Pattern NETBIOS_DOMAIN = java.util.regex.Pattern.compile("[^\\\\/:*?\"<>|.][^\\\\/:*?\"<>|]{0,14}");
    private static final java.util.regex.Pattern DNS_DOMAIN = java.util.regex.Pattern.compile(
            "[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*");
    private static final java.util.regex.Pattern WINDOWS_USER_CHARS = java.util.regex.Pattern.compile("[\"/\\\\:;|=,+*?<>@\\[\\]]");
    private static final java.util.regex.Pattern DOTS_AND_SPACES = java.util.regex.Pattern.compile("[. ]+");

    /**
     * {@code validateWindowsSecurityContextOptions}: a gMSA credential spec's name is a DNS
     * subdomain, the spec itself neither empty nor over 64 KiB, and {@code runAsUserName} a
     * Windows user name: {@code DOMAIN\USER} or {@code USER}, with the rules and messages of
     * kube-apiserver.
     */
    private static List<FieldError> windowsOptions(io.fabric8.kubernetes.api.model.WindowsSecurityContextOptions options, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (options == null) {
            return errs;
        }
        String specName = options.getGmsaCredentialSpecName();
        if (specName != null) {
            for (String msg : Names.dns1123Subdomain(specName)) {
                errs.add(FieldError.invalid(path.child("gmsaCredentialSpecName"), specName, msg));
            }
        }
        String credentialSpec = options.getGmsaCredentialSpec();
        if (credentialSpec != null) {
            if (credentialSpec.isEmpty()) {
                errs.add(FieldError.invalid(path.child("gmsaCredentialSpec"), credentialSpec, "gmsaCredentialSpec cannot be an empty string"));
            } else if (GoValues.len(credentialSpec) > MAX_GMSA_SPEC_KIB * 1024) {
                errs.add(FieldError.invalid(path.child("gmsaCredentialSpec"), credentialSpec,
                        "gmsaCredentialSpec size must be under " + MAX_GMSA_SPEC_KIB + " KiB"));
            }
        }
        String name = options.getRunAsUserName();
        if (name == null) {
            return errs;
        }
        FieldPath p = path.child("runAsUserName");
        String[] parts = name.split("\\\\", -1);
        if (name.isEmpty()) {
            errs.add(FieldError.invalid(p, name, "runAsUserName cannot be an empty string"));
        } else if (CONTROL.matcher(name).find()) {
            errs.add(FieldError.invalid(p, name, "runAsUserName cannot contain control characters"));
        } else if (parts.length > 2) {
            errs.add(FieldError.invalid(p, name, "runAsUserName cannot contain more than one backslash"));
        } else {
            boolean hasDomain = parts.length == 2;
            String domain = hasDomain ? parts[0] : "";
            String user = hasDomain ? parts[1] : parts[0];
            if (GoValues.len(domain) >= MAX_WINDOWS_DOMAIN) {
                errs.add(FieldError.invalid(p, name, "runAsUserName's Domain length must be under " + MAX_WINDOWS_DOMAIN + " characters"));
            }
            if (hasDomain && !(NETBIOS_DOMAIN.matcher(domain).matches() || DNS_DOMAIN.matcher(domain).matches())) {
                errs.add(FieldError.invalid(p, name, "runAsUserName's Domain doesn't match the NetBios nor the DNS format"));
            }
            if (user.isEmpty()) {
                errs.add(FieldError.invalid(p, name, "runAsUserName's User cannot be empty"));
            } else if (GoValues.len(user) > MAX_WINDOWS_USER) {
                errs.add(FieldError.invalid(p, name, "runAsUserName's User length must not be longer than " + MAX_WINDOWS_USER + " characters"));
            }
            if (DOTS_AND_SPACES.matcher(user).matches()) {
                errs.add(FieldError.invalid(p, name, "runAsUserName's User cannot contain only periods or spaces"));
            }
            if (WINDOWS_USER_CHARS.matcher(user).find()) {
                errs.add(FieldError.invalid(p, name, "runAsUserName's User cannot contain the following characters: \"/\\:;|=,+*?<>@[]"));
            }
        }
        return errs;
    }

    /**
     * {@code validateWindowsHostProcessPod}: a container's {@code hostProcess} agrees with the
     * pod's where both are set, and a pod with a HostProcess container has only those, on the
     * host's network. (Privileged containers are allowed here, as with {@code --allow-privileged}.)
     */
    private static List<FieldError> windowsHostProcess(PodSpec spec, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        var podSc = spec.getSecurityContext();
        Boolean podHostProcess = podSc == null || podSc.getWindowsOptions() == null ? null : podSc.getWindowsOptions().getHostProcess();
        int[] containers = {0};
        int[] hostProcess = {0};
        eachSecurityContext(spec, path, (sc, p) -> {
            containers[0]++;
            Boolean own = sc == null || sc.getWindowsOptions() == null ? null : sc.getWindowsOptions().getHostProcess();
            if (podHostProcess != null && own != null && !podHostProcess.equals(own)) {
                errs.add(FieldError.invalid(p.child("securityContext").child("windowsOptions").child("hostProcess"), own,
                        "pod hostProcess value must be identical if both are specified, was " + podHostProcess));
            }
            if (Boolean.TRUE.equals(own) || own == null && Boolean.TRUE.equals(podHostProcess)) {
                hostProcess[0]++;
            }
        });
        if (hostProcess[0] > 0) {
            if (hostProcess[0] != containers[0]) {
                errs.add(FieldError.invalid(path, "", "If pod contains any hostProcess containers then all containers must be HostProcess containers"));
            }
            if (!Boolean.TRUE.equals(spec.getHostNetwork())) {
                errs.add(FieldError.invalid(path.child("hostNetwork"), false, "hostNetwork must be true if pod contains any hostProcess containers"));
            }
        }
        return errs;
    }

    /** PATH_MAX - 1: the longest Localhost AppArmor profile name. */
    private static final int MAX_APPARMOR_PROFILE_LENGTH = 4095;

    /**
     * {@code ValidateAppArmorProfileField}: a type, one of the three; a Localhost profile names its
     * profile (not blank, not padded, at most 4095 bytes), and only a Localhost one does.
     */
    private static List<FieldError> appArmorProfile(io.fabric8.kubernetes.api.model.AppArmorProfile profile, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (profile == null) {
            return errs;
        }
        String type = nz(profile.getType());
        String localhost = profile.getLocalhostProfile();
        switch (type) {
            case "Localhost" -> {
                if (localhost == null) {
                    errs.add(FieldError.required(path.child("localhostProfile"), "must be set when AppArmor type is Localhost"));
                } else {
                    String trimmed = localhost.strip();
                    if (!trimmed.equals(localhost)) {
                        errs.add(FieldError.invalid(path.child("localhostProfile"), localhost, "must not be padded with whitespace"));
                    } else if (trimmed.isEmpty()) {
                        errs.add(FieldError.required(path.child("localhostProfile"), "must be set when AppArmor type is Localhost"));
                    }
                    if (GoValues.len(localhost) > MAX_APPARMOR_PROFILE_LENGTH) {
                        errs.add(FieldError.tooLong(path.child("localhostProfile"), MAX_APPARMOR_PROFILE_LENGTH));
                    }
                }
            }
            case "RuntimeDefault", "Unconfined" -> {
                if (localhost != null) {
                    errs.add(FieldError.invalid(path.child("localhostProfile"), localhost, "can only be set when AppArmor type is Localhost"));
                }
            }
            case "" -> errs.add(FieldError.required(path.child("type"), "type is required when appArmorProfile is set"));
            default -> errs.add(FieldError.notSupported(path.child("type"), type, "Localhost", "RuntimeDefault", "Unconfined"));
        }
        return errs;
    }

    /**
     * {@code validateSeccompProfileField}: a type, one of the three; a Localhost profile names a
     * file under the kubelet's seccomp directory, and only a Localhost one names a file.
     */
    private static List<FieldError> seccompProfile(io.fabric8.kubernetes.api.model.SeccompProfile profile, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (profile == null) {
            return errs;
        }
        String type = nz(profile.getType());
        switch (type) {
            case "Localhost", "RuntimeDefault", "Unconfined" -> {
            }
            case "" -> errs.add(FieldError.required(path.child("type"), "type is required when seccompProfile is set"));
            default -> errs.add(FieldError.notSupported(path.child("type"), type, "Localhost", "RuntimeDefault", "Unconfined"));
        }
        if (type.equals("Localhost")) {
            if (profile.getLocalhostProfile() == null) {
                errs.add(FieldError.required(path.child("localhostProfile"), "must be set when seccomp type is Localhost"));
            } else {
                errs.addAll(localDescendingPath(profile.getLocalhostProfile(), path.child("localhostProfile")));
            }
        } else if (profile.getLocalhostProfile() != null) {
            errs.add(FieldError.invalid(path.child("localhostProfile"), goSeccompProfile(profile), "can only be set when seccomp type is Localhost"));
        }
        return errs;
    }

    public static List<FieldError> containerPorts(List<ContainerPort> ports, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (ports == null) {
            return errs;
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            ContainerPort port = ports.get(i);
            FieldPath p = path.index(i);
            String name = nz(port.getName());
            if (!name.isEmpty()) {
                List<String> msgs = Names.portName(name);
                if (!msgs.isEmpty()) {
                    msgs.forEach(msg -> errs.add(FieldError.invalid(p.child("name"), name, msg)));
                } else if (!names.add(name)) {
                    errs.add(FieldError.duplicate(p.child("name"), name));
                }
            }
            int containerPort = nz(port.getContainerPort());
            if (containerPort == 0) {
                errs.add(FieldError.required(p.child("containerPort"), ""));
            } else {
                Names.portNum(containerPort).forEach(msg -> errs.add(FieldError.invalid(p.child("containerPort"), containerPort, msg)));
            }
            int hostPort = nz(port.getHostPort());
            if (hostPort != 0) {
                Names.portNum(hostPort).forEach(msg -> errs.add(FieldError.invalid(p.child("hostPort"), hostPort, msg)));
            }
            String protocol = nz(port.getProtocol());
            if (protocol.isEmpty()) {
                errs.add(FieldError.required(p.child("protocol"), ""));
            } else if (!Set.of("TCP", "UDP", "SCTP").contains(protocol)) {
                errs.add(FieldError.notSupported(p.child("protocol"), protocol, "SCTP", "TCP", "UDP"));
            }
        }
        return errs;
    }

    private static List<FieldError> env(List<EnvVar> vars, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (vars == null) {
            return errs;
        }
        for (int i = 0; i < vars.size(); i++) {
            EnvVar ev = vars.get(i);
            FieldPath p = path.index(i);
            String name = nz(ev.getName());
            if (name.isEmpty()) {
                errs.add(FieldError.required(p.child("name"), ""));
            } else {
                // RelaxedEnvironmentVariableValidation is GA in 1.34: any printable ASCII but '='.
                Names.relaxedEnvVarName(name).forEach(msg -> errs.add(FieldError.invalid(p.child("name"), name, msg)));
            }
            EnvVarSource from = ev.getValueFrom();
            if (from == null) {
                continue;
            }
            FieldPath fp = p.child("valueFrom");
            int sources = 0;
            if (from.getFieldRef() != null) {
                sources++;
                String fieldPath = nz(from.getFieldRef().getFieldPath());
                if (nz(from.getFieldRef().getApiVersion()).isEmpty()) {
                    errs.add(FieldError.required(fp.child("fieldRef", "apiVersion"), ""));
                } else if (fieldPath.isEmpty()) {
                    errs.add(FieldError.required(fp.child("fieldRef", "fieldPath"), ""));
                } else if (fieldPath.startsWith("metadata.labels[") || fieldPath.startsWith("metadata.annotations[")) {
                    String subscript = fieldPath.substring(fieldPath.indexOf('[') + 1, fieldPath.length() - 1).replace("'", "");
                    // annotation keys are judged in lower case (they may hold upper-case letters), label keys as written
                    String key = fieldPath.startsWith("metadata.annotations[") ? subscript.toLowerCase(java.util.Locale.ROOT) : subscript;
                    Names.qualifiedName(key).forEach(msg -> errs.add(FieldError.invalid(fp.child("fieldRef"), key, msg)));
                } else if (!FIELD_REF_PATHS.contains(fieldPath)) {
                    errs.add(FieldError.notSupported(fp.child("fieldRef", "fieldPath"), fieldPath,
                            FIELD_REF_PATHS.stream().sorted().toArray(String[]::new)));
                }
            }
            if (from.getResourceFieldRef() != null) {
                sources++;
            }
            if (from.getConfigMapKeyRef() != null) {
                sources++;
                errs.addAll(keySelector(from.getConfigMapKeyRef().getName(), from.getConfigMapKeyRef().getKey(), fp.child("configMapKeyRef")));
            }
            if (from.getSecretKeyRef() != null) {
                sources++;
                errs.addAll(keySelector(from.getSecretKeyRef().getName(), from.getSecretKeyRef().getKey(), fp.child("secretKeyRef")));
            }
            if (sources == 0) {
                errs.add(FieldError.invalid(fp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
            } else if (!nz(ev.getValue()).isEmpty()) {
                errs.add(FieldError.invalid(fp, "", "may not be specified when `value` is not empty"));
            } else if (sources > 1) {
                errs.add(FieldError.invalid(fp, "", "may not have more than one field specified at a time"));
            }
        }
        return errs;
    }

    /**
     * {@code validateConfigMapKeySelector} and {@code validateSecretKeySelector}: the name a DNS
     * subdomain (an empty one included: kube-apiserver checks it as written), the key a config key.
     */
    private static List<FieldError> keySelector(String name, String key, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        for (String msg : Names.dns1123Subdomain(nz(name))) {
            errs.add(FieldError.invalid(path.child("name"), nz(name), msg));
        }
        if (nz(key).isEmpty()) {
            errs.add(FieldError.required(path.child("key"), ""));
        } else {
            for (String msg : Names.configMapKey(key)) {
                errs.add(FieldError.invalid(path.child("key"), key, msg));
            }
        }
        return errs;
    }

    /** {@code validateConfigMapEnvSource} and {@code validateSecretEnvSource}: a name is required, and checked as a prefix (sic). */
    private static List<FieldError> envSourceName(String name, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (nz(name).isEmpty()) {
            errs.add(FieldError.required(path.child("name"), ""));
        } else {
            for (String msg : MetaValidation.DNS_SUBDOMAIN.check(name, true)) {
                errs.add(FieldError.invalid(path.child("name"), name, msg));
            }
        }
        return errs;
    }

    private static List<FieldError> envFrom(List<EnvFromSource> sources, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (sources == null) {
            return errs;
        }
        for (int i = 0; i < sources.size(); i++) {
            EnvFromSource s = sources.get(i);
            FieldPath p = path.index(i);
            if (!nz(s.getPrefix()).isEmpty()) {
                Names.relaxedEnvVarName(s.getPrefix()).forEach(msg -> errs.add(FieldError.invalid(p.child("prefix"), s.getPrefix(), msg)));
            }
            if (s.getConfigMapRef() != null) {
                errs.addAll(envSourceName(s.getConfigMapRef().getName(), p.child("configMapRef")));
            }
            if (s.getSecretRef() != null) {
                errs.addAll(envSourceName(s.getSecretRef().getName(), p.child("secretRef")));
            }
            int n = (s.getConfigMapRef() != null ? 1 : 0) + (s.getSecretRef() != null ? 1 : 0);
            if (n == 0) {
                errs.add(FieldError.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"));
            } else if (n > 1) {
                errs.add(FieldError.invalid(path, "", "may not have more than one field specified at a time"));
            }
        }
        return errs;
    }

    /** {@code ValidateVolumeMounts}, including its quirk of reporting subPath without the index. */
    private static List<FieldError> volumeMounts(List<VolumeMount> mounts, Set<String> volumes, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (mounts == null) {
            return errs;
        }
        Set<String> paths = new HashSet<>();
        for (int i = 0; i < mounts.size(); i++) {
            VolumeMount m = mounts.get(i);
            FieldPath p = path.index(i);
            String name = nz(m.getName());
            if (name.isEmpty()) {
                errs.add(FieldError.required(p.child("name"), ""));
            }
            if (!volumes.contains(name)) {
                errs.add(FieldError.notFound(p.child("name"), name));
            }
            String mountPath = nz(m.getMountPath());
            if (mountPath.isEmpty()) {
                errs.add(FieldError.required(p.child("mountPath"), ""));
            }
            if (!paths.add(mountPath)) {
                errs.add(FieldError.invalid(p.child("mountPath"), mountPath, "must be unique"));
            }
            // The API server passes the list's path, not the item's, for subPath and subPathExpr.
            if (!nz(m.getSubPath()).isEmpty()) {
                errs.addAll(localDescendingPath(m.getSubPath(), path.child("subPath")));
            }
            if (!nz(m.getSubPathExpr()).isEmpty()) {
                if (!nz(m.getSubPath()).isEmpty()) {
                    errs.add(FieldError.invalid(p.child("subPathExpr"), m.getSubPathExpr(), "subPathExpr and subPath are mutually exclusive"));
                }
                errs.addAll(localDescendingPath(m.getSubPathExpr(), path.child("subPathExpr")));
            }
        }
        return errs;
    }

    /**
     * {@code validateHandler}, a probe's or a lifecycle hook's: one handler, and it valid ({@code
     * sleep} only in hooks: at most the pod's grace period).
     */
    private static List<FieldError> handler(io.fabric8.kubernetes.api.model.ExecAction exec, HTTPGetAction httpGet,
            io.fabric8.kubernetes.api.model.TCPSocketAction tcpSocket, io.fabric8.kubernetes.api.model.GRPCAction grpc,
            io.fabric8.kubernetes.api.model.SleepAction sleep, Long gracePeriod, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        int handlers = 0;
        if (exec != null) {
            handlers++;
            if (exec.getCommand() == null || exec.getCommand().isEmpty()) {
                errs.add(FieldError.required(path.child("exec", "command"), ""));
            }
        }
        if (httpGet != null) {
            if (handlers++ > 0) {
                errs.add(FieldError.forbidden(path.child("httpGet"), "may not specify more than 1 handler type"));
            } else {
                if (nz(httpGet.getPath()).isEmpty()) {
                    errs.add(FieldError.required(path.child("httpGet", "path"), ""));
                }
                errs.addAll(ServiceValidation.portNumOrName(httpGet.getPort(), path.child("httpGet", "port")));
                String scheme = nz(httpGet.getScheme());
                if (!scheme.equals("HTTP") && !scheme.equals("HTTPS")) {
                    errs.add(FieldError.notSupported(path.child("httpGet", "scheme"), scheme, "HTTP", "HTTPS"));
                }
                if (httpGet.getHttpHeaders() != null) {
                    for (var header : httpGet.getHttpHeaders()) {
                        String headerName = nz(header.getName());
                        Names.httpHeaderName(headerName).forEach(msg ->
                                errs.add(FieldError.invalid(path.child("httpGet", "httpHeaders"), headerName, msg)));
                    }
                }
            }
        }
        if (tcpSocket != null) {
            if (handlers++ > 0) {
                errs.add(FieldError.forbidden(path.child("tcpSocket"), "may not specify more than 1 handler type"));
            } else {
                errs.addAll(ServiceValidation.portNumOrName(tcpSocket.getPort(), path.child("tcpSocket", "port")));
            }
        }
        if (grpc != null) {
            if (handlers++ > 0) {
                errs.add(FieldError.forbidden(path.child("grpc"), "may not specify more than 1 handler type"));
            } else {
                int grpcPort = nz(grpc.getPort());
                Names.portNum(grpcPort).forEach(msg -> errs.add(FieldError.invalid(path.child("grpc", "port"), grpcPort, msg)));
            }
        }
        if (sleep != null) {
            if (handlers++ > 0) {
                errs.add(FieldError.forbidden(path.child("sleep"), "may not specify more than 1 handler type"));
            } else {
                long seconds = sleep.getSeconds() == null ? 0 : sleep.getSeconds();
                // PodLifecycleSleepActionAllowZero (GA in 1.34): zero is a sleep too
                if (gracePeriod != null && (seconds < 0 || seconds > gracePeriod)) {
                    errs.add(FieldError.invalid(path.child("sleep"), seconds,
                            "must be non-negative and less than terminationGracePeriodSeconds (" + gracePeriod + ")"));
                }
            }
        }
        if (handlers == 0) {
            errs.add(FieldError.required(path, "must specify a handler type"));
        }
        return errs;
    }

    /** {@code validateLifecycle}: the postStart hook, then the preStop hook. */
    private static List<FieldError> lifecycle(io.fabric8.kubernetes.api.model.Lifecycle lifecycle, Long gracePeriod, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (lifecycle == null) {
            return errs;
        }
        errs.addAll(hook(lifecycle.getPostStart(), gracePeriod, path.child("postStart")));
        errs.addAll(hook(lifecycle.getPreStop(), gracePeriod, path.child("preStop")));
        return errs;
    }

    private static List<FieldError> hook(io.fabric8.kubernetes.api.model.LifecycleHandler h, Long gracePeriod, FieldPath path) {
        return h == null ? List.of() : handler(h.getExec(), h.getHttpGet(), h.getTcpSocket(), null, h.getSleep(), gracePeriod, path);
    }

    private static List<FieldError> probe(Probe probe, FieldPath path, boolean successMustBeOne) {
        List<FieldError> errs = new ArrayList<>();
        if (probe == null) {
            return errs;
        }
        errs.addAll(handler(probe.getExec(), probe.getHttpGet(), probe.getTcpSocket(), probe.getGrpc(), null, null, path));
        errs.addAll(MetaValidation.nonNegative(nz(probe.getInitialDelaySeconds()), path.child("initialDelaySeconds")));
        errs.addAll(MetaValidation.nonNegative(nz(probe.getTimeoutSeconds()), path.child("timeoutSeconds")));
        errs.addAll(MetaValidation.nonNegative(nz(probe.getPeriodSeconds()), path.child("periodSeconds")));
        errs.addAll(MetaValidation.nonNegative(nz(probe.getSuccessThreshold()), path.child("successThreshold")));
        errs.addAll(MetaValidation.nonNegative(nz(probe.getFailureThreshold()), path.child("failureThreshold")));
        if (probe.getTerminationGracePeriodSeconds() != null && probe.getTerminationGracePeriodSeconds() <= 0) {
            errs.add(FieldError.invalid(path.child("terminationGracePeriodSeconds"), probe.getTerminationGracePeriodSeconds(),
                    "must be greater than 0"));
        }
        if (!successMustBeOne && probe.getTerminationGracePeriodSeconds() != null) {
            errs.add(FieldError.invalid(path.child("terminationGracePeriodSeconds"), probe.getTerminationGracePeriodSeconds(),
                    "must not be set for readinessProbes"));
        }
        if (successMustBeOne && nz(probe.getSuccessThreshold()) != 1) {
            errs.add(FieldError.invalid(path.child("successThreshold"), nz(probe.getSuccessThreshold()), "must be 1"));
        }
        return errs;
    }
}
