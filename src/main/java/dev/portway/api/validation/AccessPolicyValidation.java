package dev.portway.api.validation;

import static dev.portway.api.validation.CrdSchema.array;
import static dev.portway.api.validation.CrdSchema.has;
import static dev.portway.api.validation.CrdSchema.integer;
import static dev.portway.api.validation.CrdSchema.items;
import static dev.portway.api.validation.CrdSchema.object;
import static dev.portway.api.validation.CrdSchema.str;
import static dev.portway.api.validation.CrdSchema.string;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.Quantities;
import dev.portway.api.policy.AccessPolicy;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Portway's AccessPolicy as the API server would judge it if it were installed as a CRD with this
 * schema: OpenAPI constraints, defaults and CEL rules in the forms of {@link CrdSchema}, so that its
 * messages read like those of the Gateway API's kinds ({@code spec.targetRefs[0].kind: Unsupported
 * value: "Service": supported values: "HTTPRoute", "Ingress"}). Deny paths reuse the HTTPRoute's
 * path match (its defaults and its rules against {@code //}, {@code /./}, {@code %2F}...), since
 * they are compared with the normalized request path, where such a value could never match.
 *
 * <p>Beyond a CRD's reach, as a validating webhook would add them: regular expressions must
 * compile (RE2 syntax, which the data plane runs), and {@code maxRequestBodySize} must be a
 * positive quantity.
 */
public final class AccessPolicyValidation {

    /** HTTP method tokens (RFC 9110 tchar), upper case: methods are case-sensitive and compared as written. */
    static final String METHOD_PATTERN = "^[-A-Z0-9!#$%&'*+.^_`|~]+$";
    private static final String KIND_RULE = "group must be gateway.networking.k8s.io for kind HTTPRoute and networking.k8s.io "
            + "for kind Ingress";

    private AccessPolicyValidation() {
    }

    private static CrdSchema.Node methods() {
        return array(string().minLength(1).maxLength(32).pattern(METHOD_PATTERN)).maxItems(16).listSet();
    }

    private static CrdSchema.Node secretSource() {
        return object().required("secretRef")
                .prop("secretRef", object().required("name").prop("name", string().minLength(1).maxLength(253)));
    }

    private static CrdSchema.Node targetRef() {
        return object().required("group", "kind", "name")
                .prop("group", string().enumOf(GatewayValidation.GROUP, "networking.k8s.io"))
                .prop("kind", string().enumOf("HTTPRoute", "Ingress"))
                .prop("name", string().minLength(1).maxLength(253))
                .rule(KIND_RULE, t -> "HTTPRoute".equals(str(t, "kind")) ? GatewayValidation.GROUP.equals(str(t, "group"))
                        : "networking.k8s.io".equals(str(t, "group")));
    }

    private static boolean uniqueTargets(JsonNode refs) {
        List<String> seen = new ArrayList<>();
        for (JsonNode r : items(refs)) {
            String key = str(r, "group") + "/" + str(r, "kind") + "/" + str(r, "name");
            if (seen.contains(key)) {
                return false;
            }
            seen.add(key);
        }
        return true;
    }

    static final CrdSchema.Node SCHEMA = object().required("spec")
            .prop("spec", object().required("targetRefs")
                    .prop("targetRefs", array(targetRef()).minItems(1).maxItems(16)
                            .rule("targetRefs must be unique", AccessPolicyValidation::uniqueTargets))
                    .prop("basicAuth", secretSource())
                    .prop("bearerTokens", secretSource())
                    .prop("anonymousMethods", methods())
                    .prop("allowedMethods", methods())
                    .prop("deny", array(object()
                            .prop("path", GatewayValidation.pathMatch().check(AccessPolicyValidation::regexCompiles))
                            .prop("methods", methods())).maxItems(32))
                    .prop("rateLimit", object().required("requests", "per")
                            .prop("requests", integer().min(1))
                            .prop("per", string().pattern(GatewayValidation.DURATION_PATTERN)
                                    .rule("must be greater than zero", per -> GatewayValidation.duration(per.asText()) > 0))
                            .prop("burst", integer().min(1)))
                    .prop("maxRequestBodySize", string().check(AccessPolicyValidation::positiveQuantity))
                    .rule("at least one of basicAuth, bearerTokens, allowedMethods, deny, rateLimit or maxRequestBodySize must be set",
                            s -> List.of("basicAuth", "bearerTokens", "allowedMethods", "deny", "rateLimit", "maxRequestBodySize").stream()
                                    .anyMatch(f -> has(s, f)))
                    .rule("anonymousMethods needs basicAuth or bearerTokens: without credentials every method is anonymous",
                            s -> !has(s, "anonymousMethods") || has(s, "basicAuth") || has(s, "bearerTokens")));

    private static List<FieldError> regexCompiles(JsonNode match, FieldPath path, String name) {
        if (!"RegularExpression".equals(str(match, "type"))) {
            return List.of();
        }
        String value = str(match, "value");
        String problem = dev.portway.api.RegularExpressions.problem(value, true); // deny paths compare without case
        return problem == null ? List.of() : List.of(FieldError.invalid(path.child("value"), value, "must be a valid regular expression: "
                + problem));
    }

    private static List<FieldError> positiveQuantity(JsonNode value, FieldPath path, String name) {
        // a malformed quantity never gets here: the decoder refuses it as the API server's does
        return Quantities.parse(value.asText()).filter(q -> q.value().compareTo(BigDecimal.ZERO) <= 0)
                .map(q -> List.of(FieldError.invalid(path, value.asText(), "must be greater than zero"))).orElse(List.of());
    }

    /** The schema's defaults ({@code deny[].path}: PathPrefix {@code /}). Mutates {@code policy}'s spec. */
    public static void applyDefaults(AccessPolicy policy) {
        AccessPolicy defaulted = CrdSchema.defaulted(SCHEMA, policy);
        if (defaulted != null) {
            policy.setSpec(defaulted.getSpec());
        }
    }

    /** Create (and, after the metadata's update rules, update): metadata as for any custom resource, then the schema. */
    public static List<FieldError> validate(AccessPolicy policy) {
        List<FieldError> errs = new ArrayList<>(MetaValidation.customResourceMeta(policy.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN,
                FieldPath.of("metadata")));
        errs.addAll(CrdSchema.validateBody(SCHEMA, policy));
        return errs;
    }
}
