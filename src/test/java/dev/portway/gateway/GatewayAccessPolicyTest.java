package dev.portway.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.api.policy.AccessPolicy;
import dev.portway.testing.RawHttp;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Condition;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * AccessPolicies as users write them, applied to a local cluster with a Gateway, HTTPRoutes and an
 * Ingress, and requests on the real listeners: writes need Basic credentials from an htpasswd Secret
 * or a token from a token Secret, a deny rule no spelling of its path gets around, 429, 413, a new
 * password taking effect when its Secret changes, and a missing Secret failing closed.
 */
class GatewayAccessPolicyTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static TestCluster cluster;
    private static InetSocketAddress gateway;

    private static String bcrypt(String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 4);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static String route(String name) {
        return """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: %1$s}
                spec:
                  parentRefs: [{name: web}]
                  hostnames: [%1$s.test]
                  rules:
                  - backendRefs: [{name: stack, port: 8000}]
                """.formatted(name);
    }

    /** An AccessPolicy of this name guarding the HTTPRoute {@code route}, with {@code spec} after its targetRefs. */
    private static String policy(String name, String route, String spec) {
        return """
                ---
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata: {name: %s}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: %s}]
                """.formatted(name, route) + spec.indent(2);
    }

    private static String htpasswd(String secret, String user, String password) {
        return """
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: %s}
                stringData:
                  auth: |
                    %s:%s
                    guest:$apr1$weak$0123456789abcdefghijkl
                """.formatted(secret, user, bcrypt(password));
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster();
        cluster.apply(TestCluster.echoBackend("stack", 1) + "---\n" + TestCluster.httpGateway("web", 18080) + route("prometheus") + route("limited") + route("rotating") + route("broken")
                + htpasswd("stack-htpasswd", "admin", "s3cret") + htpasswd("rotating-htpasswd", "admin", "old-password") + """
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: stack-tokens}
                stringData:
                  tokens: |
                    # the CI job's
                    token-123
                """ + policy("stack-writes", "prometheus", """
                basicAuth: {secretRef: {name: stack-htpasswd}}
                bearerTokens: {secretRef: {name: stack-tokens}}
                anonymousMethods: [GET, HEAD]
                deny:
                - path: {type: Exact, value: /admin/quit}
                maxRequestBodySize: "16"
                """) + policy("limited", "limited", """
                rateLimit: {requests: 2, per: 10s, burst: 3}
                """) + policy("rotating", "rotating", """
                basicAuth: {secretRef: {name: rotating-htpasswd}}
                """) + policy("broken", "broken", """
                basicAuth: {secretRef: {name: broken-htpasswd}}
                anonymousMethods: [GET]
                """));
        cluster.awaitReady("stack", 1);
        gateway = cluster.gatewayAddress("web", 18080);
        cluster.settle();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static RawHttp.Response send(String host, String method, String path, String authorization, String body) throws Exception {
        return send(gateway, host, method, path, authorization, body);
    }

    private static RawHttp.Response send(InetSocketAddress to, String host, String method, String path, String authorization, String body)
            throws Exception {
        try (RawHttp c = new RawHttp(to)) {
            return c.send(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
                    + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).read();
        }
    }

    private static Condition condition(String policy, String type) {
        AccessPolicy p = cluster.local().store().get(AccessPolicy.class, "default", policy).orElseThrow();
        return p.getStatus().getConditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
    }

    @Test
    void readsAreAnonymousAndWritesNeedAPasswordOrAToken() throws Exception {
        assertThat(send("prometheus.test", "GET", "/api/v1/query", null, "").status()).isEqualTo(200);
        RawHttp.Response anonymous = send("prometheus.test", "POST", "/api/v1/write", null, "hi");
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.header("www-authenticate")).isEqualTo("Basic realm=\"default/stack-writes\", charset=\"UTF-8\", "
                + "Bearer realm=\"default/stack-writes\"");
        assertThat(send("prometheus.test", "POST", "/api/v1/write", basic("admin", "wrong"), "hi").status()).isEqualTo(401);
        RawHttp.Response admin = send("prometheus.test", "POST", "/api/v1/write", basic("admin", "s3cret"), "hi");
        assertThat(admin.status()).isEqualTo(200);
        assertThat(admin.header("x-portway-pod")).startsWith("stack-");
        assertThat(send("prometheus.test", "DELETE", "/api/v1/series", "Bearer token-123", "").status()).isEqualTo(200);
        assertThat(send("prometheus.test", "DELETE", "/api/v1/series", "Bearer token-124", "").status()).isEqualTo(401);
        assertThat(send("prometheus.test", "POST", "/w", basic("guest", "weak"), "").status()).as("a non-bcrypt line lets no one in")
                .isEqualTo(401);
        assertThat(condition("stack-writes", "ResolvedRefs").getMessage()).contains("skipped line 2 (user guest): not a bcrypt hash");
        assertThat(condition("stack-writes", "Accepted").getStatus()).isEqualTo("True");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/admin/quit", "//admin/quit", "/./admin/quit", "/x/../admin/quit", "/%61dmin/quit", "/admin%2Fquit",
            "/ADMIN/quit", "/admin/quit;x", "/admin/quit/"})
    void aDenyRuleCannotBeWalkedAround(String path) throws Exception {
        RawHttp.Response r = send("prometheus.test", "POST", path, "Bearer token-123", "");
        assertThat(r.status()).as(path).isIn(400, 403);
        assertThat(r.header("x-portway-reply")).isEqualTo("gateway");
        assertThat(send("prometheus.test", "GET", path, null, "").status()).as("anonymous GET " + path).isIn(400, 403);
    }

    @Test
    void aBodyOverTheLimitIs413OnceTheCredentialsPass() throws Exception {
        assertThat(send("prometheus.test", "POST", "/w", null, "a".repeat(17)).status()).isEqualTo(401);
        assertThat(send("prometheus.test", "POST", "/w", "Bearer token-123", "a".repeat(17)).status()).isEqualTo(413);
        assertThat(send("prometheus.test", "POST", "/w", basic("admin", "s3cret"), "a".repeat(17)).status()).isEqualTo(413);
        assertThat(send("prometheus.test", "POST", "/w", "Bearer token-123", "a".repeat(16)).status()).isEqualTo(200);
    }

    @Test
    void aClientOverItsRateGets429WithRetryAfter() throws Exception {
        try (RawHttp c = new RawHttp(gateway)) {
            for (int i = 0; i < 3; i++) {
                assertThat(c.get("limited.test", "/").status()).as("within the burst").isEqualTo(200);
            }
            RawHttp.Response r = c.get("limited.test", "/");
            assertThat(r.status()).isEqualTo(429);
            assertThat(Integer.parseInt(r.header("retry-after"))).isBetween(1, 5);
        }
    }

    @Test
    void aNewPasswordInTheSecretTakesEffectWithoutARestart() throws Exception {
        assertThat(send("rotating.test", "POST", "/", basic("admin", "old-password"), "").status()).isEqualTo(200);
        cluster.apply(htpasswd("rotating-htpasswd", "admin", "new-password"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(send("rotating.test", "POST", "/", basic("admin", "old-password"), "").status())
                        .as("the old password, remembered as good before").isEqualTo(401));
        assertThat(send("rotating.test", "POST", "/", basic("admin", "new-password"), "").status()).isEqualTo(200);
    }

    @Test
    void aMissingSecretFailsClosedAndSaysSoUntilItAppears() throws Exception {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Condition resolved = condition("broken", "ResolvedRefs");
            assertThat(resolved.getStatus()).isEqualTo("False");
            assertThat(resolved.getReason()).isEqualTo("SecretNotFound");
            assertThat(resolved.getMessage()).startsWith("Secret \"broken-htpasswd\" (basicAuth) not found");
        });
        assertThat(send("broken.test", "GET", "/", null, "").status()).as("anonymous methods still pass").isEqualTo(200);
        assertThat(send("broken.test", "POST", "/", null, "").status()).isEqualTo(401);
        assertThat(send("broken.test", "POST", "/", basic("admin", "anything"), "").status()).isEqualTo(401);

        cluster.apply(htpasswd("broken-htpasswd", "admin", "fixed"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(condition("broken", "ResolvedRefs").getStatus()).isEqualTo("True");
            assertThat(send("broken.test", "POST", "/", basic("admin", "fixed"), "").status()).isEqualTo(200);
        });
    }

    @Test
    void anIngressIsGuardedToo() throws Exception {
        cluster.apply("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: shop}
                spec:
                  ingressClassName: portway
                  rules:
                  - host: shop.test
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: stack, port: {number: 8000}}}}
                ---
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata: {name: shop-reads}
                spec:
                  targetRefs: [{group: networking.k8s.io, kind: Ingress, name: shop}]
                  allowedMethods: [GET, HEAD]
                  deny:
                  - path: {type: PathPrefix, value: /internal}
                """);
        InetSocketAddress at = cluster.ingressAddress("shop");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(send(at, "shop.test", "GET", "/cart", null, "").status()).isEqualTo(200);
            RawHttp.Response post = send(at, "shop.test", "POST", "/cart", null, "");
            assertThat(post.status()).isEqualTo(405);
            assertThat(post.header("allow")).isEqualTo("GET, HEAD");
        });
        assertThat(send(at, "shop.test", "GET", "/Internal/metrics", null, "").status()).isEqualTo(403);
        assertThat(condition("shop-reads", "Accepted").getMessage()).isEqualTo("Guards Ingress/shop");
    }
}
