package dev.portway.api.validation;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.GoValues;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Checks shared by every kind: object metadata, labels, annotations, label selectors
 * ({@code k8s.io/apimachinery/pkg/api/validation} and {@code .../apis/meta/v1/validation}).
 */
public final class MetaValidation {

    public static final String FIELD_IMMUTABLE = "field is immutable";
    public static final String IS_NEGATIVE = "must be greater than or equal to 0";
    private static final int TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

    private MetaValidation() {
    }

    /** How a kind's names are checked; {@code prefix} is true for generateName. */
    @FunctionalInterface
    public interface NameRule {
        List<String> check(String name, boolean prefix);
    }

    public static final NameRule DNS_SUBDOMAIN = (n, prefix) -> Names.dns1123Subdomain(prefix ? Names.maskTrailingDash(n) : n);
    public static final NameRule DNS_LABEL = (n, prefix) -> Names.dns1123Label(prefix ? Names.maskTrailingDash(n) : n);
    public static final NameRule DNS1035_LABEL = (n, prefix) -> Names.dns1035Label(prefix ? Names.maskTrailingDash(n) : n);

    /** A built-in kind's metadata ({@code pkg/apis/core/validation.ValidateObjectMeta}). */
    public static List<FieldError> objectMeta(ObjectMeta meta, boolean namespaced, NameRule nameRule, FieldPath path) {
        return objectMeta(meta, namespaced, nameRule, path, true);
    }

    /**
     * A custom resource's metadata (apimachinery's {@code ValidateObjectMetaAccessor}): as a
     * built-in kind's, but a finalizer name that is neither standard nor qualified by a domain is
     * only a warning there, not refused.
     */
    public static List<FieldError> customResourceMeta(ObjectMeta meta, boolean namespaced, NameRule nameRule, FieldPath path) {
        return objectMeta(meta, namespaced, nameRule, path, false);
    }

    private static List<FieldError> objectMeta(ObjectMeta meta, boolean namespaced, NameRule nameRule, FieldPath path, boolean builtIn) {
        List<FieldError> errs = new ArrayList<>();
        if (meta == null) {
            errs.add(FieldError.required(path.child("name"), "name or generateName is required"));
            return errs;
        }
        String generateName = nz(meta.getGenerateName());
        if (!generateName.isEmpty()) {
            for (String msg : nameRule.check(generateName, true)) {
                errs.add(FieldError.invalid(path.child("generateName"), generateName, msg));
            }
        }
        String name = nz(meta.getName());
        if (name.isEmpty()) {
            errs.add(FieldError.required(path.child("name"), "name or generateName is required"));
        } else {
            for (String msg : nameRule.check(name, false)) {
                errs.add(FieldError.invalid(path.child("name"), name, msg));
            }
        }
        String namespace = nz(meta.getNamespace());
        if (namespaced) {
            if (namespace.isEmpty()) {
                errs.add(FieldError.required(path.child("namespace"), ""));
            } else {
                for (String msg : Names.dns1123Label(namespace)) {
                    errs.add(FieldError.invalid(path.child("namespace"), namespace, msg));
                }
            }
        } else if (!namespace.isEmpty()) {
            errs.add(FieldError.forbidden(path.child("namespace"), "not allowed on this type"));
        }
        if (meta.getGeneration() != null) {
            errs.addAll(nonNegative(meta.getGeneration(), path.child("generation")));
        }
        errs.addAll(labels(meta.getLabels(), path.child("labels")));
        errs.addAll(annotations(meta.getAnnotations(), path.child("annotations")));
        errs.addAll(ownerReferences(meta.getOwnerReferences(), path.child("ownerReferences")));
        errs.addAll(finalizers(meta.getFinalizers(), path.child("finalizers")));
        if (builtIn) {
            errs.addAll(kubeFinalizerNames(meta.getFinalizers(), path.child("finalizers")));
        }
        return errs;
    }

    /** The standard finalizers, which need no domain ({@code pkg/apis/core/helper.IsStandardFinalizerName}). */
    private static final java.util.Set<String> STANDARD_FINALIZERS = java.util.Set.of("kubernetes", "orphan", "foregroundDeletion");

    /**
     * apimachinery's {@code ValidateFinalizers}: each a qualified name, and not both {@code orphan}
     * and {@code foregroundDeletion} (a delete cannot both keep and delete the dependents).
     */
    static List<FieldError> finalizers(List<String> finalizers, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (finalizers == null) {
            return errs;
        }
        for (String f : finalizers) {
            for (String msg : Names.qualifiedName(f)) {
                errs.add(FieldError.invalid(path, f, msg));
            }
        }
        if (finalizers.contains("orphan") && finalizers.contains("foregroundDeletion")) {
            errs.add(FieldError.invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set"));
        }
        return errs;
    }

    /** The core API's {@code validateKubeFinalizerName}: a name without a {@code /} must be a standard one. */
    static List<FieldError> kubeFinalizerNames(List<String> finalizers, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        for (int i = 0; finalizers != null && i < finalizers.size(); i++) {
            String f = finalizers.get(i);
            if (f.indexOf('/') < 0 && !STANDARD_FINALIZERS.contains(f)) {
                errs.add(FieldError.invalid(path.index(i), f, "name is neither a standard finalizer name nor is it fully qualified"));
            }
        }
        return errs;
    }

    /** What an update of a built-in kind may not change in metadata, plus the checks every object gets. */
    public static List<FieldError> objectMetaUpdate(ObjectMeta updated, ObjectMeta old, FieldPath path) {
        List<FieldError> errs = customResourceMetaUpdate(updated, old, path);
        errs.addAll(kubeFinalizerNames(updated.getFinalizers(), path.child("finalizers")));
        return errs;
    }

    /**
     * What an update of a custom resource may not change in metadata (apimachinery's
     * {@code ValidateObjectMetaAccessorUpdate}), and the finalizer checks every update runs
     * ({@code rest.BeforeUpdate}'s common fields, after labels, annotations and owner references).
     */
    public static List<FieldError> customResourceMetaUpdate(ObjectMeta updated, ObjectMeta old, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (old.getDeletionTimestamp() != null) {
            // ValidateNoNewFinalizers: nothing may hold back an object already on its way out
            java.util.TreeSet<String> extra = new java.util.TreeSet<>(updated.getFinalizers() == null ? List.of() : updated.getFinalizers());
            if (old.getFinalizers() != null) {
                extra.removeAll(old.getFinalizers());
            }
            if (!extra.isEmpty()) {
                errs.add(FieldError.forbidden(path.child("finalizers"), "no new finalizers can be added if the object is being deleted, "
                        + "found new finalizers []string{" + String.join(", ", extra.stream().map(dev.portway.api.GoValues::quote).toList()) + "}"));
            }
        }
        long newGeneration = updated.getGeneration() == null ? 0 : updated.getGeneration();
        long oldGeneration = old.getGeneration() == null ? 0 : old.getGeneration();
        if (newGeneration < oldGeneration) {
            errs.add(FieldError.invalid(path.child("generation"), newGeneration, "must not be decremented"));
        }
        errs.addAll(immutable(updated.getName(), old.getName(), path.child("name")));
        errs.addAll(immutable(nz(updated.getNamespace()), nz(old.getNamespace()), path.child("namespace")));
        errs.addAll(immutable(updated.getUid(), old.getUid(), path.child("uid")));
        errs.addAll(immutable(updated.getCreationTimestamp(), old.getCreationTimestamp(), path.child("creationTimestamp")));
        errs.addAll(labels(updated.getLabels(), path.child("labels")));
        errs.addAll(annotations(updated.getAnnotations(), path.child("annotations")));
        errs.addAll(ownerReferences(updated.getOwnerReferences(), path.child("ownerReferences")));
        errs.addAll(finalizers(updated.getFinalizers(), path.child("finalizers")));
        return errs;
    }

    public static List<FieldError> labels(Map<String, String> labels, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (labels == null) {
            return errs;
        }
        for (Map.Entry<String, String> e : new TreeMap<>(labels).entrySet()) {
            errs.addAll(labelName(e.getKey(), path));
            for (String msg : Names.labelValue(nz(e.getValue()))) {
                errs.add(FieldError.invalid(path, nz(e.getValue()), msg));
            }
        }
        return errs;
    }

    public static List<FieldError> labelName(String name, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        for (String msg : Names.qualifiedName(name)) {
            errs.add(FieldError.invalid(path, name, msg));
        }
        return errs;
    }

    public static List<FieldError> annotations(Map<String, String> annotations, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (annotations == null) {
            return errs;
        }
        long size = 0;
        for (Map.Entry<String, String> e : new TreeMap<>(annotations).entrySet()) {
            for (String msg : Names.qualifiedName(e.getKey().toLowerCase(java.util.Locale.ROOT))) {
                errs.add(FieldError.invalid(path, e.getKey(), msg));
            }
            size += dev.portway.api.GoValues.len(e.getKey()) + dev.portway.api.GoValues.len(e.getValue());
        }
        if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
            // 1.32+ wording (field.TooLong); older releases said "must have at most 262144 bytes".
            errs.add(FieldError.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
        }
        return errs;
    }

    /** {@code ValidateOwnerReferences}: each reference complete, at most one controller. */
    private static List<FieldError> ownerReferences(List<OwnerReference> refs, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (refs == null) {
            return errs;
        }
        String firstController = "";
        for (OwnerReference ref : refs) {
            String apiVersion = nz(ref.getApiVersion());
            String version = apiVersion.contains("/") ? apiVersion.substring(apiVersion.indexOf('/') + 1) : apiVersion;
            if (apiVersion.chars().filter(c -> c == '/').count() > 1) {
                version = "";
            }
            if (version.isEmpty()) {
                errs.add(FieldError.invalid(path.child("apiVersion"), apiVersion, "version must not be empty"));
            }
            if (nz(ref.getKind()).isEmpty()) {
                errs.add(FieldError.invalid(path.child("kind"), nz(ref.getKind()), "must not be empty"));
            }
            if (nz(ref.getName()).isEmpty()) {
                errs.add(FieldError.invalid(path.child("name"), nz(ref.getName()), "must not be empty"));
            }
            if (nz(ref.getUid()).isEmpty()) {
                errs.add(FieldError.invalid(path.child("uid"), nz(ref.getUid()), "must not be empty"));
            }
            if (Boolean.TRUE.equals(ref.getController())) {
                String current = nz(ref.getKind()) + "/" + nz(ref.getName());
                if (!firstController.isEmpty()) {
                    errs.add(FieldError.invalid(path, refs.stream().map(MetaValidation::goOwnerReference).toList(),
                            "Only one reference can have Controller set to true. Found \"true\" in references for "
                                    + firstController + " and " + current));
                } else {
                    firstController = current;
                }
            }
        }
        return errs;
    }

    /** A metav1.OwnerReference as json.Marshal prints it. */
    static GoValues.Struct goOwnerReference(OwnerReference ref) {
        return GoValues.Struct.builder()
                .put("apiVersion", nz(ref.getApiVersion()))
                .put("kind", nz(ref.getKind()))
                .put("name", nz(ref.getName()))
                .put("uid", nz(ref.getUid()))
                .putOmitEmpty("controller", ref.getController())
                .putOmitEmpty("blockOwnerDeletion", ref.getBlockOwnerDeletion())
                .build();
    }

    /** A metav1.LabelSelector as json.Marshal prints it: {@code {"matchLabels":{"app":"web"}}}. */
    public static Object goSelector(LabelSelector selector) {
        if (selector == null) {
            return null;
        }
        List<GoValues.Struct> expressions = new ArrayList<>();
        if (selector.getMatchExpressions() != null) {
            for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                expressions.add(GoValues.Struct.builder()
                        .put("key", nz(r.getKey()))
                        .put("operator", nz(r.getOperator()))
                        .putOmitEmpty("values", r.getValues())
                        .build());
            }
        }
        return GoValues.Struct.builder()
                .putOmitEmpty("matchLabels", selector.getMatchLabels())
                .putOmitEmpty("matchExpressions", expressions)
                .build();
    }

    public static List<FieldError> labelSelector(LabelSelector selector, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (selector == null) {
            return errs;
        }
        errs.addAll(labels(selector.getMatchLabels(), path.child("matchLabels")));
        List<LabelSelectorRequirement> expressions = selector.getMatchExpressions();
        if (expressions != null) {
            for (int i = 0; i < expressions.size(); i++) {
                LabelSelectorRequirement r = expressions.get(i);
                FieldPath p = path.child("matchExpressions").index(i);
                List<String> values = r.getValues() == null ? List.of() : r.getValues();
                errs.addAll(requirementOperator(nz(r.getOperator()), values.size(), false, p));
                errs.addAll(labelName(nz(r.getKey()), p.child("key")));
                for (int v = 0; v < values.size(); v++) {
                    for (String msg : Names.labelValue(nz(values.get(v)))) {
                        errs.add(FieldError.invalid(p.child("values").index(v), values.get(v), msg));
                    }
                }
            }
        }
        return errs;
    }

    /**
     * A selector requirement's operator against the number of its values, as a label selector's
     * ({@code ValidateLabelSelectorRequirement}) and a node selector's ({@code
     * ValidateNodeSelectorRequirement}, whose {@code comparisons} Gt and Lt take one) judge them.
     */
    static List<FieldError> requirementOperator(String operator, int values, boolean comparisons, FieldPath p) {
        switch (operator) {
            case "In", "NotIn" -> {
                if (values == 0) {
                    return List.of(FieldError.required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
                }
            }
            case "Exists", "DoesNotExist" -> {
                if (values > 0) {
                    return List.of(FieldError.forbidden(p.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
                }
            }
            case "Gt", "Lt" -> {
                if (!comparisons) {
                    return List.of(FieldError.invalid(p.child("operator"), operator, "not a valid selector operator"));
                }
                if (values != 1) {
                    return List.of(FieldError.required(p.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
                }
            }
            default -> {
                return List.of(FieldError.invalid(p.child("operator"), operator, "not a valid selector operator"));
            }
        }
        return List.of();
    }

    public static List<FieldError> immutable(Object updated, Object old, FieldPath path) {
        return Objects.equals(updated, old) ? List.of() : List.of(FieldError.invalid(path, updated, FIELD_IMMUTABLE));
    }

    public static List<FieldError> nonNegative(long value, FieldPath path) {
        return value < 0 ? List.of(FieldError.invalid(path, value, IS_NEGATIVE)) : List.of();
    }

    static String nz(String s) {
        return s == null ? "" : s;
    }

    static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
