package dev.portway.api.validation;

import static dev.portway.api.validation.MetaValidation.nz;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.GoValues;
import dev.portway.api.Selectors;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import io.fabric8.kubernetes.api.model.apps.DeploymentStrategy;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetSpec;
import io.fabric8.kubernetes.api.model.apps.RollingUpdateDeployment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Deployment and ReplicaSet validation ({@code pkg/apis/apps/validation}). */
public final class AppsValidation {

    private static final FieldPath SPEC = FieldPath.of("spec");

    private AppsValidation() {
    }

    /** {@code ValidateDeployment} / {@code ValidateDeploymentSpec} ({@code pkg/apis/apps/validation}). */
    public static List<FieldError> validate(Deployment d) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(d.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        DeploymentSpec spec = d.getSpec() == null ? new DeploymentSpec() : d.getSpec();
        errs.addAll(MetaValidation.nonNegative(nz(spec.getReplicas()), SPEC.child("replicas")));
        errs.addAll(selectorAndTemplate(spec.getSelector(), spec.getTemplate(), "ReplicaSet"));
        errs.addAll(strategy(spec.getStrategy(), SPEC.child("strategy")));
        errs.addAll(MetaValidation.nonNegative(nz(spec.getMinReadySeconds()), SPEC.child("minReadySeconds")));
        if (spec.getRevisionHistoryLimit() != null) {
            errs.addAll(MetaValidation.nonNegative(spec.getRevisionHistoryLimit(), SPEC.child("revisionHistoryLimit")));
        }
        if (spec.getProgressDeadlineSeconds() != null) {
            errs.addAll(MetaValidation.nonNegative(spec.getProgressDeadlineSeconds(), SPEC.child("progressDeadlineSeconds")));
            if (spec.getProgressDeadlineSeconds() <= nz(spec.getMinReadySeconds())) {
                errs.add(FieldError.invalid(SPEC.child("progressDeadlineSeconds"), spec.getProgressDeadlineSeconds(),
                        "must be greater than minReadySeconds"));
            }
        }
        return errs;
    }

    /**
     * {@code ValidateDeploymentUpdate}, plus the selector immutability the registry strategy adds
     * for apps/v1 ({@code pkg/registry/apps/deployment/strategy.go}).
     */
    public static List<FieldError> validateUpdate(Deployment updated, Deployment old) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        errs.addAll(validate(updated));
        errs.addAll(immutableSelector(updated.getSpec() == null ? null : updated.getSpec().getSelector(),
                old.getSpec() == null ? null : old.getSpec().getSelector()));
        return errs;
    }

    /** apps/v1's strategies: a selector may not change (only extensions/v1beta1 let it). */
    private static List<FieldError> immutableSelector(LabelSelector newSelector, LabelSelector oldSelector) {
        if (Objects.equals(dev.portway.api.Json.tree(newSelector), dev.portway.api.Json.tree(oldSelector))) {
            return List.of();
        }
        return List.of(FieldError.invalid(SPEC.child("selector"), MetaValidation.goSelector(newSelector), MetaValidation.FIELD_IMMUTABLE));
    }

    /** {@code ValidateReplicaSet} / {@code ValidateReplicaSetSpec}. */
    public static List<FieldError> validate(ReplicaSet rs) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(rs.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        ReplicaSetSpec spec = rs.getSpec() == null ? new ReplicaSetSpec() : rs.getSpec();
        errs.addAll(MetaValidation.nonNegative(nz(spec.getReplicas()), SPEC.child("replicas")));
        errs.addAll(MetaValidation.nonNegative(nz(spec.getMinReadySeconds()), SPEC.child("minReadySeconds")));
        errs.addAll(selectorAndTemplate(spec.getSelector(), spec.getTemplate(), "ReplicaSet"));
        return errs;
    }

    public static List<FieldError> validateUpdate(ReplicaSet updated, ReplicaSet old) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        errs.addAll(validate(updated));
        errs.addAll(immutableSelector(updated.getSpec() == null ? null : updated.getSpec().getSelector(),
                old.getSpec() == null ? null : old.getSpec().getSelector()));
        return errs;
    }

    /**
     * The selector and the template, as {@code ValidateDeploymentSpec} and
     * {@code ValidateReplicaSetSpec} check them. A selector that {@code LabelSelectorAsSelector}
     * cannot turn into a selector (a bad operator, key or value) is {@code invalid label selector}
     * and the template is then not checked at all; a missing selector selects nothing, so the
     * template's labels never match it.
     */
    private static List<FieldError> selectorAndTemplate(LabelSelector selector, PodTemplateSpec template, String owner) {
        List<FieldError> errs = new ArrayList<>();
        FieldPath selectorPath = SPEC.child("selector");
        if (selector == null) {
            errs.add(FieldError.required(selectorPath, ""));
        } else {
            errs.addAll(MetaValidation.labelSelector(selector, selectorPath));
            if (Selectors.isEmpty(selector)) {
                // The API server's message says "deployment" for ReplicaSets too.
                errs.add(FieldError.invalid(selectorPath, MetaValidation.goSelector(selector), "empty selector is invalid for deployment"));
            }
        }
        if (selector != null && !convertible(selector)) {
            errs.add(FieldError.invalid(selectorPath, MetaValidation.goSelector(selector), "invalid label selector"));
            return errs;
        }
        errs.addAll(templateForReplicaSet(template == null ? new PodTemplateSpec() : template, selector, owner));
        return errs;
    }

    /** Whether {@code metav1.LabelSelectorAsSelector} accepts the selector ({@code labels.NewRequirement}'s checks). */
    static boolean convertible(LabelSelector selector) {
        if (selector.getMatchLabels() != null) {
            for (Map.Entry<String, String> e : selector.getMatchLabels().entrySet()) {
                if (!Names.qualifiedName(nz(e.getKey())).isEmpty() || !Names.labelValue(nz(e.getValue())).isEmpty()) {
                    return false;
                }
            }
        }
        if (selector.getMatchExpressions() != null) {
            for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                List<String> values = r.getValues() == null ? List.of() : r.getValues();
                boolean valuesOk = switch (nz(r.getOperator())) {
                    case "In", "NotIn" -> !values.isEmpty();
                    case "Exists", "DoesNotExist" -> values.isEmpty();
                    default -> false;
                };
                if (!valuesOk || !Names.qualifiedName(nz(r.getKey())).isEmpty()
                        || values.stream().anyMatch(v -> !Names.labelValue(nz(v)).isEmpty())) {
                    return false;
                }
            }
        }
        return true;
    }

    /** {@code ValidatePodTemplateSpecForReplicaSet}. */
    private static List<FieldError> templateForReplicaSet(PodTemplateSpec template, LabelSelector selector, String owner) {
        List<FieldError> errs = new ArrayList<>();
        FieldPath path = SPEC.child("template");
        Map<String, String> labels = template.getMetadata() == null ? null : template.getMetadata().getLabels();
        // A nil selector is labels.Nothing(): not empty, and matches nothing.
        boolean selectorEmpty = selector != null && Selectors.isEmpty(selector);
        if (!selectorEmpty && (selector == null || !Selectors.matches(selector, labels == null ? Map.of() : labels))) {
            errs.add(FieldError.invalid(path.child("metadata", "labels"), labels, "`selector` does not match template `labels`"));
        }
        errs.addAll(PodValidation.podTemplateSpec(template, path));
        String restartPolicy = template.getSpec() == null ? "" : nz(template.getSpec().getRestartPolicy());
        if (!restartPolicy.equals("Always")) {
            errs.add(FieldError.notSupported(path.child("spec", "restartPolicy"), restartPolicy, "Always"));
        }
        if (template.getSpec() != null && template.getSpec().getActiveDeadlineSeconds() != null) {
            errs.add(FieldError.forbidden(path.child("spec", "activeDeadlineSeconds"),
                    "activeDeadlineSeconds in " + owner + " is not Supported"));
        }
        return errs;
    }

    /** {@code ValidateDeploymentStrategy} and {@code ValidateRollingUpdateDeployment}. */
    private static List<FieldError> strategy(DeploymentStrategy strategy, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        String type = strategy == null ? "" : nz(strategy.getType());
        switch (type) {
            case "Recreate" -> {
                if (strategy.getRollingUpdate() != null) {
                    errs.add(FieldError.forbidden(path.child("rollingUpdate"),
                            "may not be specified when strategy `type` is 'Recreate'"));
                }
            }
            case "RollingUpdate" -> {
                RollingUpdateDeployment ru = strategy.getRollingUpdate();
                if (ru == null) {
                    errs.add(FieldError.required(path.child("rollingUpdate"), "this should be defaulted and never be nil"));
                } else {
                    FieldPath p = path.child("rollingUpdate");
                    errs.addAll(intOrPercent(ru.getMaxUnavailable(), p.child("maxUnavailable")));
                    errs.addAll(intOrPercent(ru.getMaxSurge(), p.child("maxSurge")));
                    if (intOrPercentValue(ru.getMaxUnavailable()) == 0 && intOrPercentValue(ru.getMaxSurge()) == 0) {
                        errs.add(FieldError.invalid(p.child("maxUnavailable"), intOrString(ru.getMaxUnavailable()),
                                "may not be 0 when `maxSurge` is 0"));
                    }
                    IntOrString maxUnavailable = ru.getMaxUnavailable();
                    if (maxUnavailable != null && maxUnavailable.getStrVal() != null && Names.percent(maxUnavailable.getStrVal()).isEmpty()
                            && intOrPercentValue(maxUnavailable) > 100) {
                        errs.add(FieldError.invalid(p.child("maxUnavailable"), maxUnavailable, "must not be greater than 100%"));
                    }
                }
            }
            default -> errs.add(FieldError.notSupported(path, goStrategy(strategy), "Recreate", "RollingUpdate"));
        }
        return errs;
    }

    /** {@code ValidatePositiveIntOrPercent}. */
    private static List<FieldError> intOrPercent(IntOrString value, FieldPath path) {
        IntOrString v = intOrString(value);
        if (v.getStrVal() != null) {
            List<FieldError> errs = new ArrayList<>();
            for (String msg : Names.percent(v.getStrVal())) {
                errs.add(FieldError.invalid(path, v, msg));
            }
            return errs;
        }
        return MetaValidation.nonNegative(nz(v.getIntVal()), path);
    }

    /**
     * {@code getIntOrPercentValue}: the percentage's number, else {@code IntOrString.IntValue()}
     * (a string that is not a percentage counts as its integer value, or 0).
     */
    public static int intOrPercentValue(IntOrString value) {
        IntOrString v = intOrString(value);
        if (v.getIntVal() != null) {
            return v.getIntVal();
        }
        String s = nz(v.getStrVal());
        try {
            if (Names.percent(s).isEmpty()) {
                return Integer.parseInt(s.substring(0, s.length() - 1));
            }
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** A Go IntOrString is never nil: a missing one is the integer 0. */
    private static IntOrString intOrString(IntOrString value) {
        return value == null || (value.getIntVal() == null && value.getStrVal() == null) ? new IntOrString(0) : value;
    }

    /** The internal apps.DeploymentStrategy as json.Marshal prints it (no JSON tags: Go field names). */
    private static GoValues.Struct goStrategy(DeploymentStrategy strategy) {
        RollingUpdateDeployment ru = strategy == null ? null : strategy.getRollingUpdate();
        return GoValues.Struct.builder()
                .put("Type", strategy == null ? "" : nz(strategy.getType()))
                .put("RollingUpdate", ru == null ? null : GoValues.Struct.builder()
                        .put("MaxUnavailable", intOrString(ru.getMaxUnavailable()))
                        .put("MaxSurge", intOrString(ru.getMaxSurge()))
                        .build())
                .build();
    }
}
