package dev.portway.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.policy.AccessPolicyModel.Target;
import dev.portway.testing.TestApi;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;

/** An AccessPolicy as the plan carries it: names, defaults, units, and the schemes it asks for whether or not its Secrets resolve. */
class AccessPolicyPlansTest {

    private static final String ROUTES = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: prometheus, namespace: team-a}
            spec:
              rules:
              - backendRefs: [{name: prometheus, port: 9090}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: alertmanager, namespace: team-a}
            spec:
              defaultBackend: {service: {name: alertmanager, port: {number: 9093}}}
            ---
            """;

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theExamplePolicyBecomesOnePlanPolicyForAllItsTargets() {
        TestApi api = new TestApi();
        String hash = OpenBSDBCrypt.generate("2y", "pw".toCharArray(), new byte[16], 4);
        api.apply(ROUTES + """
                apiVersion: v1
                kind: Secret
                metadata: {name: stack-htpasswd, namespace: team-a}
                data: {auth: %s}
                ---
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata: {name: stack-writes, namespace: team-a}
                spec:
                  targetRefs:
                  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: prometheus}
                  - {group: networking.k8s.io, kind: Ingress, name: alertmanager}
                  basicAuth: {secretRef: {name: stack-htpasswd}}
                  bearerTokens: {secretRef: {name: stack-tokens}}
                  anonymousMethods: [GET, HEAD]
                  allowedMethods: [GET, HEAD, POST]
                  deny:
                  - path: {type: PathPrefix, value: /-/quit}
                    methods: [POST, PUT]
                  - path: {type: RegularExpression, value: "/api/v1/admin/.*"}
                  - methods: [DELETE]
                  rateLimit: {requests: 100, per: 1m30s}
                  maxRequestBodySize: 10Mi
                """.formatted(base64("admin:" + hash + "\n")));
        AccessPolicyPlans plans = AccessPolicyPlans.of(api.api().store());
        Plan.AccessPolicy p = plans.guarding(Target.httpRoute("team-a", "prometheus"));
        assertThat(p).isEqualTo(new Plan.AccessPolicy("team-a/stack-writes", Map.of("admin", hash), List.of(),
                Set.of(Plan.AuthScheme.BASIC, Plan.AuthScheme.BEARER), List.of("GET", "HEAD"), List.of("GET", "HEAD", "POST"),
                List.of(new Plan.DenyRule(new Plan.PathMatch(Plan.MatchType.PREFIX, "/-/quit"), List.of("POST", "PUT")),
                        new Plan.DenyRule(new Plan.PathMatch(Plan.MatchType.REGULAR_EXPRESSION, "/api/v1/admin/.*"), List.of()),
                        new Plan.DenyRule(new Plan.PathMatch(Plan.MatchType.PREFIX, "/"), List.of("DELETE"))),
                new Plan.RateLimit(100, Duration.ofSeconds(90), 100), 10L * 1024 * 1024));
        assertThat(p.bearerTokens()).as("the token Secret is missing: Bearer is asked for, and nothing passes").isEmpty();
        assertThat(plans.guarding(Target.ingress("team-a", "alertmanager"))).isSameAs(p);
        assertThat(plans.guarding(Target.httpRoute("team-b", "prometheus"))).as("another namespace's route").isNull();
    }

    @Test
    void bodySizesRoundUpToWholeBytes() {
        TestApi api = new TestApi();
        api.apply(ROUTES + """
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata: {name: small, namespace: team-a}
                spec:
                  targetRefs: [{group: networking.k8s.io, kind: Ingress, name: alertmanager}]
                  maxRequestBodySize: 1500m
                """);
        Plan.AccessPolicy p = AccessPolicyPlans.of(api.api().store()).guarding(Target.ingress("team-a", "alertmanager"));
        assertThat(p.maxBodyBytes()).isEqualTo(2L);
        assertThat(p.schemes()).as("no credentials asked for: anyone passes").isEmpty();
        assertThat(p.rateLimit()).isNull();
    }

    /**
     * A deny expression stored when expressions were Java's (a look-ahead) does not compile in RE2:
     * its rule denies every path to its methods, rather than the data plane failing every plan.
     */
    @Test
    void aDenyExpressionThatIsNotRe2FailsClosed() {
        TestApi api = new TestApi();
        api.apply(ROUTES);
        var batch = api.api().store().begin();
        TestApi.decode("""
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata: {name: old, namespace: team-a}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: prometheus}]
                  deny:
                  - path: {type: RegularExpression, value: "/admin(?!/health).*"}
                    methods: [POST]
                  - path: {type: RegularExpression, value: '/x/[a-\\x{2000}]'}
                    methods: [PUT]
                """).forEach(batch::put);
        batch.commit();
        // the second would never finish compiling without case (re2j folds U+1C80 for ever)
        Plan.AccessPolicy p = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> AccessPolicyPlans.of(api.api().store()).guarding(Target.httpRoute("team-a", "prometheus")));
        assertThat(p.deny()).containsExactly(new Plan.DenyRule(new Plan.PathMatch(Plan.MatchType.PREFIX, "/"), List.of("POST")),
                new Plan.DenyRule(new Plan.PathMatch(Plan.MatchType.PREFIX, "/"), List.of("PUT")));
    }

    /** Deny paths compare as the gateway normalizes request paths; expressions are left as written. */
    @Test
    void denyPathsAreWrittenAsRequestPathsAreNormalized() {
        TestApi api = new TestApi();
        api.apply(ROUTES + """
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata: {name: fence, namespace: team-a}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: prometheus}]
                  deny:
                  - path: {type: PathPrefix, value: "/%61dmin/keys%3aexport"}
                  - path: {type: Exact, value: "/caf%c3%a9"}
                  - path: {type: RegularExpression, value: "/%61.*"}
                """);
        Plan.AccessPolicy p = AccessPolicyPlans.of(api.api().store()).guarding(Target.httpRoute("team-a", "prometheus"));
        assertThat(p.deny()).extracting(Plan.DenyRule::path).containsExactly(
                new Plan.PathMatch(Plan.MatchType.PREFIX, "/admin/keys%3Aexport"),
                new Plan.PathMatch(Plan.MatchType.EXACT, "/caf%C3%A9"),
                new Plan.PathMatch(Plan.MatchType.REGULAR_EXPRESSION, "/%61.*"));
        assertThat(PathValues.canonical("/plain")).isSameAs("/plain");
        assertThat(PathValues.canonical("/bad%zz%4")).as("malformed escapes stay").isEqualTo("/bad%zz%4");
    }
}
