package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.plan.Plan;
import dev.portway.testing.RawHttp;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Route policy on real sockets: credentials for writes (Basic with a bcrypt htpasswd entry, or a
 * bearer token), deny rules that no spelling of the path gets around, allowed methods, per-client
 * rate limits and body limits.
 */
class GatewayPolicyTest {

    private static GatewayFixture gw;
    private static InetSocketAddress listener;
    private static InetSocketAddress limited;
    private static InetSocketAddress closed;

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void start() {
        gw = new GatewayFixture();
        gw.cluster("stack", gw.echo("stack", 51));
        String hash = OpenBSDBCrypt.generate("2y", "s3cret".toCharArray(), new byte[16], 4);
        Plan.AccessPolicy writes = new Plan.AccessPolicy("monitoring/stack-writes", Map.of("admin", hash), List.of("token-123"),
                List.of("GET", "HEAD"), List.of("GET", "HEAD", "POST", "PUT", "DELETE"),
                List.of(new Plan.DenyRule(new Plan.PathMatch(Plan.MatchType.EXACT, "/admin/quit"), List.of())), null, 16L);
        listener = gw.listen(51, host(null, new Plan.HttpRule("monitoring/stack", 0, prefix("/"), List.of(), List.of(), null,
                List.of(), List.of(to("stack")), null, null, writes)));
        Plan.AccessPolicy slow = new Plan.AccessPolicy("monitoring/limited", Map.of(), List.of(), List.of(), List.of(), List.of(),
                new Plan.RateLimit(2, Duration.ofSeconds(10), 3), null);
        limited = gw.listen(52, host(null, new Plan.HttpRule("monitoring/limited", 0, prefix("/"), List.of(), List.of(), null,
                List.of(), List.of(to("stack")), null, null, slow)));
        // what a policy whose Secrets are missing becomes: both schemes asked for, nothing that passes
        Plan.AccessPolicy broken = new Plan.AccessPolicy("monitoring/broken", Map.of(), List.of(),
                Set.of(Plan.AuthScheme.BASIC, Plan.AuthScheme.BEARER), List.of("GET"), List.of(), List.of(), null, null);
        closed = gw.listen(53, host(null, new Plan.HttpRule("monitoring/broken", 0, prefix("/"), List.of(), List.of(), null,
                List.of(), List.of(to("stack")), null, null, broken)));
        Plan.AccessPolicy noDelete = new Plan.AccessPolicy("monitoring/no-delete", Map.of(), List.of(), List.of(), List.of(),
                List.of(new Plan.DenyRule(prefix("/admin"), List.of("DELETE"))), null, null);
        deleteDenied = gw.listen(54, host(null, new Plan.HttpRule("monitoring/no-delete", 0, prefix("/"), List.of(), List.of(), null,
                List.of(), List.of(to("stack")), null, null, noDelete)));
    }

    private static InetSocketAddress deleteDenied;

    /**
     * A method is a case-sensitive token (RFC 9110), and "delete" is not "DELETE"; but many a
     * framework upper-cases what it reads, and ran the DELETE that a deny rule of DELETE let pass
     * as "delete". A deny rule's methods match in any case now (allowed and anonymous methods
     * already failed closed: "delete" is neither).
     */
    @ParameterizedTest
    @ValueSource(strings = {"DELETE", "delete", "Delete", "dElEtE"})
    void aDenyRuleOfAMethodMatchesItInAnyCase(String method) throws Exception {
        // lower case is refused before any rule (400, as NGINX refuses it); the rule matches any case besides
        assertThat(send(deleteDenied, method + " /admin/users/1 HTTP/1.1\r\nHost: x\r\n\r\n").status()).as(method)
                .isEqualTo(method.equals("DELETE") ? 403 : 400);
        assertThat(send(deleteDenied, "GET /admin/users/1 HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(200);
    }

    /**
     * Express's method-override, Symfony, ASP.NET and Rack take a POST for the method a field names:
     * a POST that asked to be a DELETE passed a deny rule of DELETE. And a HEAD is the GET it is
     * without a body: a deny rule of GET denies it too.
     */
    @Test
    void aMethodAFieldAsksForAndAHeadAreJudgedAsTheMethodsTheyAre() throws Exception {
        for (String field : List.of("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override")) {
            assertThat(send(deleteDenied, "POST /admin/users/1 HTTP/1.1\r\nHost: x\r\n" + field + ": delete\r\nContent-Length: 0\r\n\r\n")
                    .status()).as(field).isEqualTo(403);
        }
        assertThat(send(deleteDenied, "POST /admin/users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status()).isEqualTo(200);
        // reads are anonymous there, writes are not: a GET that asks to be a DELETE needs credentials
        assertThat(send("GET /api/v1/x HTTP/1.1\r\nHost: x\r\nX-HTTP-Method-Override: DELETE\r\n\r\n").status()).isEqualTo(401);
        // and a method outside the allowed list is 405 however it is asked for
        assertThat(send("POST /api/v1/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-123\r\nX-HTTP-Method-Override: PATCH\r\n"
                + "Content-Length: 0\r\n\r\n").status()).isEqualTo(405);
        Plan.AccessPolicy noReads = new Plan.AccessPolicy("monitoring/no-reads", Map.of(), List.of(), List.of(), List.of(),
                List.of(new Plan.DenyRule(prefix("/secret"), List.of("GET"))), null, null);
        InetSocketAddress noGet = gw.listen(55, host(null, new Plan.HttpRule("monitoring/no-reads", 0, prefix("/"), List.of(), List.of(),
                null, List.of(), List.of(to("stack")), null, null, noReads)));
        try (RawHttp c = new RawHttp(noGet)) {
            assertThat(c.send("HEAD /secret/x HTTP/1.1\r\nHost: x\r\n\r\n").readHead().status()).isEqualTo(403);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    private static RawHttp.Response send(String raw) throws Exception {
        return send(listener, raw);
    }

    private static RawHttp.Response send(InetSocketAddress to, String raw) throws Exception {
        try (RawHttp c = new RawHttp(to)) {
            return c.send(raw).read();
        }
    }

    @Test
    void readsAreAnonymousAndWritesNeedCredentials() throws Exception {
        assertThat(send("GET /api/v1/query HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(200);
        RawHttp.Response anonymous = send("POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.header("www-authenticate")).contains("Basic realm=\"monitoring/stack-writes\"").contains("Bearer");
        assertThat(send("POST /api/v1/write HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("admin", "wrong")
                + "\r\nContent-Length: 2\r\n\r\nhi").status()).isEqualTo(401);
        for (int i = 0; i < 2; i++) { // the second time from memory
            RawHttp.Response ok = send("POST /api/v1/write HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("admin", "s3cret")
                    + "\r\nContent-Length: 2\r\n\r\nhi");
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.header("x-portway-pod")).isEqualTo("stack");
        }
        assertThat(send("DELETE /api/v1/series HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-123\r\n\r\n").status()).isEqualTo(200);
        assertThat(send("DELETE /api/v1/series HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-124\r\n\r\n").status()).isEqualTo(401);
    }

    /**
     * Over HTTP/2 the refusal comes before the body's end: the gateway resets the stream with
     * NO_ERROR once the 401 is out (RFC 9113 section 8.1), and the client keeps the answer. A
     * CANCEL there made the JDK's client throw away the 401.
     */
    @Test
    void anEarlyRefusalOverHttp2ReachesTheClient() throws Exception {
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_2).build();
        java.net.URI base = java.net.URI.create("http://" + listener.getHostString() + ":" + listener.getPort());
        var read = client.send(java.net.http.HttpRequest.newBuilder(base.resolve("/api/v1/query")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(read.statusCode()).isEqualTo(200);
        for (int i = 0; i < 3; i++) {
            var write = client.send(java.net.http.HttpRequest.newBuilder(base.resolve("/metrics/job/x"))
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[12_000])).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(write.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
            assertThat(write.statusCode()).isEqualTo(401);
        }
        var after = client.send(java.net.http.HttpRequest.newBuilder(base.resolve("/api/v1/query")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(after.statusCode()).as("the connection is still good").isEqualTo(200);
    }

    @Test
    void aSchemeWithNothingThatPassesFailsClosed() throws Exception {
        assertThat(send(closed, "GET /api/v1/query HTTP/1.1\r\nHost: x\r\n\r\n").status()).as("anonymous").isEqualTo(200);
        RawHttp.Response anonymous = send(closed, "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.header("www-authenticate")).isEqualTo("Basic realm=\"monitoring/broken\", charset=\"UTF-8\", "
                + "Bearer realm=\"monitoring/broken\"");
        assertThat(send(closed, "POST /w HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("admin", "s3cret")
                + "\r\nContent-Length: 0\r\n\r\n").status()).isEqualTo(401);
        assertThat(send(closed, "POST /w HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \r\nContent-Length: 0\r\n\r\n").status())
                .as("an empty token is no token").isEqualTo(401);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/admin/quit", "//admin/quit", "/./admin/quit", "/x/../admin/quit", "/%61dmin/quit", "/admin%2Fquit",
            "/ADMIN/quit", "/admin/quit;x", "/admin/quit/.", "/admin//quit", "/%2e/admin/quit", "/admin/%71uit"})
    void aDenyRuleCannotBeWalkedAround(String path) throws Exception {
        RawHttp.Response r = send("POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-123\r\n\r\n");
        assertThat(r.status()).as(path).isIn(400, 403);
        assertThat(r.header("x-portway-reply")).isEqualTo("gateway");
    }

    @Test
    void methodsOutsideTheListAre405() throws Exception {
        RawHttp.Response r = send("PATCH /x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-123\r\n\r\n");
        assertThat(r.status()).isEqualTo(405);
        assertThat(r.header("allow")).isEqualTo("GET, HEAD, POST, PUT, DELETE");
    }

    @Test
    void credentialsComeBeforeTheBodyLimit() throws Exception {
        String big = "Content-Length: 17\r\n\r\n" + "a".repeat(17);
        assertThat(send("POST /w HTTP/1.1\r\nHost: x\r\n" + big).status()).as("no credentials: not even the limit is told")
                .isEqualTo(401);
        assertThat(send("POST /w HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("admin", "wrong") + "\r\n" + big).status())
                .isEqualTo(401);
        assertThat(send("POST /w HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("admin", "s3cret") + "\r\n" + big).status())
                .as("a password checked off the event loop, then the limit").isEqualTo(413);
        assertThat(send("GET /w HTTP/1.1\r\nHost: x\r\n" + big).status()).as("an anonymous method").isEqualTo(413);
    }

    @Test
    void bodiesOverTheLimitAre413WhetherDeclaredOrStreamed() throws Exception {
        assertThat(send("POST /w HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-123\r\nContent-Length: 17\r\n\r\n"
                + "a".repeat(17)).status()).isEqualTo(413);
        RawHttp.Response chunked = send("POST /w HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-123\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "10\r\n" + "a".repeat(16) + "\r\n1\r\nb\r\n0\r\n\r\n");
        assertThat(chunked.status()).isEqualTo(413);
        assertThat(send("POST /w HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-123\r\nContent-Length: 16\r\n\r\n"
                + "a".repeat(16)).status()).isEqualTo(200);
    }

    @Test
    void aClientOverItsRateGets429WithRetryAfter() throws Exception {
        try (RawHttp c = new RawHttp(limited)) {
            for (int i = 0; i < 3; i++) {
                assertThat(c.get("x", "/").status()).as("within the burst").isEqualTo(200);
            }
            RawHttp.Response r = c.get("x", "/");
            assertThat(r.status()).isEqualTo(429);
            assertThat(Integer.parseInt(r.header("retry-after"))).isBetween(1, 5);
        }
    }
}
