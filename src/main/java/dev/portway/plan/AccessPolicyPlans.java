package dev.portway.plan;

import dev.portway.api.Quantities;
import dev.portway.api.policy.AccessPolicy;
import dev.portway.api.policy.AccessPolicyModel;
import dev.portway.api.policy.AccessPolicySpec;
import dev.portway.api.policy.DenyRule;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The AccessPolicies of the store as the plan's {@link Plan.AccessPolicy}, found by the HTTPRoute or
 * Ingress they guard ({@link AccessPolicyModel} decides which). One plan policy per AccessPolicy,
 * the same for every rule of every target, so that the data plane keeps one set of rate buckets and
 * remembered passwords for it: a client's requests to all of a policy's targets count together.
 */
final class AccessPolicyPlans {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AccessPolicyPlans.class);
    /** Deny expressions already warned about: plans are rebuilt on every change. */
    private static final Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final AccessPolicyModel model;
    private final Map<String, Plan.AccessPolicy> plans = new HashMap<>();

    private AccessPolicyPlans(AccessPolicyModel model) {
        this.model = model;
    }

    static AccessPolicyPlans of(Store store) {
        return new AccessPolicyPlans(AccessPolicyModel.build(store.list(AccessPolicy.class), store.list(HTTPRoute.class),
                store.list(Ingress.class), store.list(Secret.class)));
    }

    /** The policy that guards a target, or null (the plan's "no policy"). */
    Plan.AccessPolicy guarding(AccessPolicyModel.Target target) {
        return model.guarding(target).map(p -> plans.computeIfAbsent(p.namespace() + "/" + p.name(), n -> plan(n, p))).orElse(null);
    }

    private static Plan.AccessPolicy plan(String name, AccessPolicyModel.PolicyInfo info) {
        AccessPolicySpec spec = info.policy().getSpec() == null ? new AccessPolicySpec() : info.policy().getSpec();
        AccessPolicyModel.Credentials c = info.credentials();
        Set<Plan.AuthScheme> schemes = EnumSet.noneOf(Plan.AuthScheme.class);
        if (c.basicAuth()) {
            schemes.add(Plan.AuthScheme.BASIC);
        }
        if (c.bearerTokens()) {
            schemes.add(Plan.AuthScheme.BEARER);
        }
        List<Plan.DenyRule> deny = new ArrayList<>();
        for (DenyRule d : list(spec.getDeny())) {
            String type = d.getPath() == null ? null : d.getPath().getType();
            String value = d.getPath() == null || d.getPath().getValue() == null ? "/" : d.getPath().getValue();
            Plan.MatchType match = GatewayPlans.matchType(type);
            if (match == Plan.MatchType.REGULAR_EXPRESSION && !compiles(value)) {
                // stored before expressions were RE2's (a look-ahead was Java syntax then): the fence fails closed,
                // denying every path to those methods, rather than the whole data plane failing to take a plan
                if (WARNED.add(name + " " + value)) {
                    log.warn("AccessPolicy {}: deny path {} is not an RE2 regular expression; denying every path instead", name, value);
                }
                match = Plan.MatchType.PREFIX;
                value = "/";
            }
            if (match != Plan.MatchType.REGULAR_EXPRESSION) {
                value = PathValues.canonical(value);
            }
            deny.add(new Plan.DenyRule(new Plan.PathMatch(match, value), list(d.getMethods())));
        }
        Plan.RateLimit rate = null;
        if (spec.getRateLimit() != null) {
            var r = spec.getRateLimit();
            Duration per = GatewayPlans.duration(r.getPer());
            if (per != null && r.getRequests() != null && r.getRequests() > 0) {
                rate = new Plan.RateLimit(r.getRequests(), per, r.getBurst() == null ? r.getRequests() : r.getBurst());
            }
        }
        return new Plan.AccessPolicy(name, c.users(), c.tokens(), schemes, list(spec.getAnonymousMethods()),
                list(spec.getAllowedMethods()), deny, rate, bytes(spec));
    }

    /** Whether a deny expression compiles as the gateway compiles it: without case. */
    private static boolean compiles(String regex) {
        return dev.portway.api.RegularExpressions.problem(regex, true) == null;
    }

    /** A list as the plan takes it: null (a field written {@code deny:}) is empty, and null items are left out. */
    private static <T> List<T> list(List<T> list) {
        return list == null ? List.of() : list.stream().filter(Objects::nonNull).toList();
    }

    /** {@code maxRequestBodySize} in bytes, rounded up and capped as Kubernetes' {@code Quantity.Value()} does; null: no limit. */
    private static Long bytes(AccessPolicySpec spec) {
        return Quantities.parse(spec.getMaxRequestBodySize())
                .map(q -> q.value().setScale(0, RoundingMode.CEILING))
                .map(v -> v.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0 ? Long.MAX_VALUE : v.longValueExact())
                .orElse(null);
    }
}
