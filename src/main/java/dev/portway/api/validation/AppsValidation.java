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
import java.util.TreeMap;

/** Deployment and ReplicaSet validation ({@code pkg/apis/apps/validation}). */
public final class AppsValidation {

    private static final FieldPath SPEC = FieldPath.of("spec");

    private AppsValidation() {
    }

    public static List<FieldError> validate(Deployment d) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(d.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        DeploymentSpec spec = d.getSpec() == null ? new DeploymentSpec() : d.getSpec();
        errs.addAll(MetaValidation.nonNegative(nz(spec.getReplicas()), SPEC.child("replicas")));
        errs.addAll(selector(spec.getSelector(), "deployment"));
        errs.addAll(templateForReplicaSet(spec.getTemplate(), spec.getSelector(), "ReplicaSet"));
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

    public static List<FieldError> validateUpdate(Deployment updated, Deployment old) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        errs.addAll(validate(updated));
        LabelSelector newSelector = updated.getSpec() == null ? null : updated.getSpec().getSelector();
        LabelSelector oldSelector = old.getSpec() == null ? null : old.getSpec().getSelector();
        if (!Objects.equals(dev.portway.api.Json.tree(newSelector), dev.portway.api.Json.tree(oldSelector))) {
            errs.add(FieldError.invalid(SPEC.child("selector"), goSelector(newSelector), MetaValidation.FIELD_IMMUTABLE));
        }
        return errs;
    }

    public static List<FieldError> validate(ReplicaSet rs) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(rs.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        ReplicaSetSpec spec = rs.getSpec() == null ? new ReplicaSetSpec() : rs.getSpec();
        errs.addAll(MetaValidation.nonNegative(nz(spec.getReplicas()), SPEC.child("replicas")));
        errs.addAll(MetaValidation.nonNegative(nz(spec.getMinReadySeconds()), SPEC.child("minReadySeconds")));
        // The API server's message really says "deployment" here too.
        errs.addAll(selector(spec.getSelector(), "deployment"));
        errs.addAll(templateForReplicaSet(spec.getTemplate(), spec.getSelector(), "ReplicaSet"));
        return errs;
    }

    public static List<FieldError> validateUpdate(ReplicaSet updated, ReplicaSet old) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        errs.addAll(validate(updated));
        return errs;
    }

    private static List<FieldError> selector(LabelSelector selector, String kind) {
        List<FieldError> errs = new ArrayList<>();
        if (selector == null) {
            errs.add(FieldError.required(SPEC.child("selector"), ""));
            return errs;
        }
        errs.addAll(MetaValidation.labelSelector(selector, SPEC.child("selector")));
        if (Selectors.isEmpty(selector)) {
            errs.add(FieldError.invalid(SPEC.child("selector"), goSelector(selector), "empty selector is invalid for " + kind));
        }
        return errs;
    }

    private static List<FieldError> templateForReplicaSet(PodTemplateSpec template, LabelSelector selector, String owner) {
        List<FieldError> errs = new ArrayList<>();
        FieldPath path = SPEC.child("template");
        if (template == null) {
            errs.add(FieldError.required(path, ""));
            return errs;
        }
        Map<String, String> labels = template.getMetadata() == null || template.getMetadata().getLabels() == null
                ? Map.of() : template.getMetadata().getLabels();
        if (selector != null && !Selectors.isEmpty(selector) && !Selectors.matches(selector, labels)) {
            errs.add(FieldError.invalid(path.child("metadata", "labels"), new TreeMap<>(labels),
                    "`selector` does not match template `labels`"));
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
                        errs.add(FieldError.invalid(p.child("maxUnavailable"), goIntOrString(ru.getMaxUnavailable()),
                                "may not be 0 when `maxSurge` is 0"));
                    }
                    if (ru.getMaxUnavailable() != null && ru.getMaxUnavailable().getStrVal() != null
                            && Names.percent(ru.getMaxUnavailable().getStrVal()).isEmpty()
                            && intOrPercentValue(ru.getMaxUnavailable()) > 100) {
                        errs.add(FieldError.invalid(p.child("maxUnavailable"), goIntOrString(ru.getMaxUnavailable()),
                                "must not be greater than 100%"));
                    }
                }
            }
            default -> errs.add(FieldError.notSupported(path, new GoValues.Literal("apps.DeploymentStrategy{Type:"
                    + GoValues.quote(type) + "}"), "Recreate", "RollingUpdate"));
        }
        return errs;
    }

    private static List<FieldError> intOrPercent(IntOrString value, FieldPath path) {
        if (value == null) {
            return List.of();
        }
        if (value.getStrVal() != null) {
            List<FieldError> errs = new ArrayList<>();
            for (String msg : Names.percent(value.getStrVal())) {
                errs.add(FieldError.invalid(path, goIntOrString(value), msg));
            }
            return errs;
        }
        return MetaValidation.nonNegative(nz(value.getIntVal()), path);
    }

    /** The integer or the percentage number; 0 for anything unparsable. */
    public static int intOrPercentValue(IntOrString value) {
        if (value == null) {
            return 0;
        }
        if (value.getIntVal() != null) {
            return value.getIntVal();
        }
        String s = nz(value.getStrVal());
        if (Names.percent(s).isEmpty()) {
            try {
                return Integer.parseInt(s.substring(0, s.length() - 1));
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }

    /** IntOrString is a fmt.Stringer in Go: printed bare. */
    private static GoValues.Literal goIntOrString(IntOrString value) {
        if (value == null) {
            return new GoValues.Literal("0");
        }
        return new GoValues.Literal(value.getIntVal() != null ? value.getIntVal().toString() : nz(value.getStrVal()));
    }

    /** The %#v dump of a LabelSelector, as the API server prints it in immutability errors. */
    static GoValues.Literal goSelector(LabelSelector selector) {
        if (selector == null) {
            return new GoValues.Literal("(*v1.LabelSelector)(nil)");
        }
        String labels = selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty()
                ? "map[string]string(nil)" : GoValues.mapLiteral(selector.getMatchLabels());
        String exprs;
        List<LabelSelectorRequirement> ex = selector.getMatchExpressions();
        if (ex == null || ex.isEmpty()) {
            exprs = "[]v1.LabelSelectorRequirement(nil)";
        } else {
            StringBuilder sb = new StringBuilder("[]v1.LabelSelectorRequirement{");
            for (int i = 0; i < ex.size(); i++) {
                LabelSelectorRequirement r = ex.get(i);
                if (i > 0) {
                    sb.append(", ");
                }
                sb.append("v1.LabelSelectorRequirement{Key:").append(GoValues.quote(nz(r.getKey())))
                        .append(", Operator:").append(GoValues.quote(nz(r.getOperator())))
                        .append(", Values:").append(r.getValues() == null || r.getValues().isEmpty()
                                ? "[]string(nil)" : GoValues.sliceLiteral(r.getValues()))
                        .append('}');
            }
            exprs = sb.append('}').toString();
        }
        return new GoValues.Literal("v1.LabelSelector{MatchLabels:" + labels + ", MatchExpressions:" + exprs + "}");
    }
}
