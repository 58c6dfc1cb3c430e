package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.policy.AccessPolicy;
import dev.portway.testing.StepClock;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * AccessPolicy status: Accepted (TargetNotFound, Conflicted, and the oldest policy winning a route)
 * and ResolvedRefs (SecretNotFound, InvalidSecret, skipped htpasswd lines), with observedGeneration,
 * following the objects as they appear and change.
 */
class AccessPolicyControllerTest {

    /** Which policy is older is the test's to say. */
    private final StepClock clock = new StepClock(Instant.parse("2026-03-01T10:00:00Z"));
    private final List<ControlPlane> planes = new ArrayList<>();

    @AfterEach
    void close() {
        planes.forEach(ControlPlane::close);
    }

    private ControlPlane cluster() {
        ControlPlane control = new ControlPlane(new dev.portway.store.Store(), ClusterConfig.local().withClock(clock), new Random(3));
        planes.add(control);
        control.addController(new AccessPolicyController(control));
        List<HasMetadata> namespaces = new ArrayList<>();
        for (String ns : List.of("default", "monitoring")) {
            namespaces.add(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build());
        }
        control.call(() -> control.api().apply(namespaces, "default", false));
        apply(control, httpRoute("prometheus") + "---\n" + httpRoute("grafana"));
        return control;
    }

    private static String httpRoute(String name) {
        return """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: %1$s, namespace: monitoring}
                spec:
                  rules:
                  - backendRefs: [{name: %1$s, port: 8000}]
                """.formatted(name);
    }

    private static void apply(ControlPlane control, String yaml) {
        control.call(() -> control.api().apply(TestApi.decode(yaml), "default", false));
        control.awaitIdle();
    }

    private static String policy(String name, String targets, String more) {
        return """
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata: {name: %s, namespace: monitoring}
                spec:
                  targetRefs: %s
                %s""".formatted(name, targets, more.stripIndent().indent(2));
    }

    private static String targetRef(String name) {
        return "{group: gateway.networking.k8s.io, kind: HTTPRoute, name: " + name + "}";
    }

    private static String secret(String name, String key, String content) {
        return """
                apiVersion: v1
                kind: Secret
                metadata: {name: %s, namespace: monitoring}
                data: {%s: %s}
                """.formatted(name, key, Base64.getEncoder().encodeToString(content.getBytes(StandardCharsets.UTF_8)));
    }

    private static Condition condition(ControlPlane control, String policy, String type) {
        AccessPolicy p = control.store().get(AccessPolicy.class, "monitoring", policy).orElseThrow();
        return p.getStatus().getConditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
    }

    private static String summary(Condition c) {
        return c.getStatus() + "/" + c.getReason() + ": " + c.getMessage();
    }

    @Test
    void aPolicyIsAcceptedForTheRoutesThatExist() {
        ControlPlane control = cluster();
        apply(control, policy("p", "[" + targetRef("prometheus") + ", " + targetRef("later") + "]", "allowedMethods: [GET]\n"));
        assertThat(summary(condition(control, "p", "Accepted"))).isEqualTo("True/Accepted: Guards HTTPRoute/prometheus; HTTPRoute/later not found");
        assertThat(summary(condition(control, "p", "ResolvedRefs"))).isEqualTo("True/ResolvedRefs: No Secret is referenced");
        assertThat(condition(control, "p", "Accepted").getObservedGeneration()).isEqualTo(1L);

        apply(control, policy("only-missing", "[" + targetRef("nope") + "]", "allowedMethods: [GET]\n"));
        assertThat(summary(condition(control, "only-missing", "Accepted"))).isEqualTo("False/TargetNotFound: HTTPRoute/nope not found");
        String since = condition(control, "only-missing", "Accepted").getLastTransitionTime();

        clock.advance(Duration.ofMinutes(1));
        apply(control, httpRoute("nope"));
        Condition now = condition(control, "only-missing", "Accepted");
        assertThat(summary(now)).isEqualTo("True/Accepted: Guards HTTPRoute/nope");
        assertThat(now.getLastTransitionTime()).isNotEqualTo(since);

        apply(control, policy("only-missing", "[" + targetRef("nope") + "]", "allowedMethods: [GET, POST]\n"));
        assertThat(condition(control, "only-missing", "Accepted").getObservedGeneration()).isEqualTo(2L);
    }

    @Test
    void theOlderPolicyGuardsARouteThatTwoName() {
        ControlPlane control = cluster();
        // the newer one sorts first by name: age, not name, decides
        apply(control, policy("z-older", "[" + targetRef("prometheus") + "]", "allowedMethods: [GET]\n"));
        clock.advance(Duration.ofSeconds(5));
        apply(control, policy("a-newer", "[" + targetRef("prometheus") + "]", "allowedMethods: [GET]\n"));
        apply(control, policy("a-partly", "[" + targetRef("prometheus") + ", " + targetRef("grafana") + "]", "allowedMethods: [GET]\n"));
        assertThat(summary(condition(control, "z-older", "Accepted"))).isEqualTo("True/Accepted: Guards HTTPRoute/prometheus");
        assertThat(summary(condition(control, "a-newer", "Accepted")))
                .isEqualTo("False/Conflicted: HTTPRoute/prometheus is guarded by the older AccessPolicy \"z-older\"");
        assertThat(summary(condition(control, "a-partly", "Accepted"))).isEqualTo("True/Accepted: Guards HTTPRoute/grafana; "
                + "HTTPRoute/prometheus is guarded by the older AccessPolicy \"z-older\"");

        control.call(() -> control.api().delete(dev.portway.api.ResourceKind.ACCESS_POLICY, "monitoring", "z-older", DeleteOptions.DEFAULT));
        control.awaitIdle();
        assertThat(summary(condition(control, "a-newer", "Accepted"))).as("the older one gone, the next oldest by name takes over")
                .isEqualTo("True/Accepted: Guards HTTPRoute/prometheus");
        assertThat(summary(condition(control, "a-partly", "Accepted"))).isEqualTo("True/Accepted: Guards HTTPRoute/grafana; "
                + "HTTPRoute/prometheus is guarded by the older AccessPolicy \"a-newer\"");
    }

    @Test
    void secretsThatDoNotResolveFailClosedAndSaySo() {
        ControlPlane control = cluster();
        apply(control, policy("writes", "[" + targetRef("prometheus") + "]", """
                basicAuth: {secretRef: {name: htpasswd}}
                bearerTokens: {secretRef: {name: tokens}}
                anonymousMethods: [GET]
                """));
        assertThat(summary(condition(control, "writes", "ResolvedRefs"))).isEqualTo("False/SecretNotFound: Secret \"htpasswd\" (basicAuth) "
                + "not found; Secret \"tokens\" (bearerTokens) not found; until then no one passes with those credentials (the policy "
                + "fails closed)");
        assertThat(summary(condition(control, "writes", "Accepted"))).as("it still guards the route").startsWith("True/Accepted");

        apply(control, secret("htpasswd", "htpasswd", "admin:x") + "---\n" + secret("tokens", "tokens", "# none yet\n"));
        assertThat(summary(condition(control, "writes", "ResolvedRefs"))).isEqualTo("False/InvalidSecret: Secret \"htpasswd\" (basicAuth) "
                + "has no key \"auth\"; Secret \"tokens\" (bearerTokens) has no usable tokens under key \"tokens\"; until then no one "
                + "passes with those credentials (the policy fails closed)");

        String hash = OpenBSDBCrypt.generate("2y", "pw".toCharArray(), new byte[16], 4);
        apply(control, secret("htpasswd", "auth", "admin:" + hash + "\nguest:plain-text\n") + "---\n"
                + secret("tokens", "tokens", "t-1\nt-2\n"));
        assertThat(summary(condition(control, "writes", "ResolvedRefs"))).isEqualTo("True/ResolvedRefs: basicAuth: 1 user from Secret "
                + "\"htpasswd\" (skipped line 2 (user guest): not a bcrypt hash ($2y$, $2a$ or $2b$)); bearerTokens: 2 tokens from "
                + "Secret \"tokens\"");
    }
}
