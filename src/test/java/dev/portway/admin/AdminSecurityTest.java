package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.admin.auth.Pki;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.runtime.LocalCluster;
import dev.portway.testing.AdminHttp;
import dev.portway.testing.TestCluster;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API server is closed to strangers: every request a browser page, another local user or
 * a rebinding DNS name could make is refused and changes nothing, and the credentials on disk
 * are readable by their owner only.
 */
class AdminSecurityTest {

    private static final String EVIL_POD = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"pwned"},
             "spec":{"containers":[{"name":"c","image":"busybox","command":["sh","-c","id > pwned"]}]}}""";

    @TempDir
    static Path state;

    private static LocalCluster cluster;
    private static AdminHttp http;

    @BeforeAll
    static void start() throws Exception {
        cluster = new LocalCluster(TestCluster.options().withStateDir(state.resolve("portway"))).start();
        http = new AdminHttp(cluster);
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static void assertNoPodCreated() {
        assertThat(cluster.store().get(ResourceKind.POD, "default", "pwned")).isEmpty();
    }

    private static void assertStatus(HttpResponse<String> r, int code, String reason) {
        assertThat(r.statusCode()).isEqualTo(code);
        JsonNode status = Json.readTree(r.body().getBytes());
        assertThat(status.path("kind").asText()).isEqualTo("Status");
        assertThat(status.path("apiVersion").asText()).isEqualTo("v1");
        assertThat(status.path("reason").asText()).isEqualTo(reason);
        assertThat(status.path("code").asInt()).isEqualTo(code);
    }

    @Test
    void anAnonymousRequestIsRefusedAndCreatesNothing() {
        HttpResponse<String> r = http.send(http.anonymous("/api/v1/namespaces/default/pods")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(EVIL_POD)).build());
        assertStatus(r, 401, "Unauthorized");
        assertThat(Json.readTree(r.body().getBytes()).path("message").asText()).isEqualTo("Unauthorized");
        assertThat(http.send(http.anonymous("/api/v1/pods").GET().build()).statusCode()).isEqualTo(401);
        assertNoPodCreated();
    }

    @Test
    void aWrongTokenIsRefusedEvenWhereAnonymousMayReadAndIsNotEchoed() {
        String wrong = "Bearer " + "x".repeat(43);
        HttpResponse<String> r = http.send(http.anonymous("/api/v1/namespaces/default/pods").header("Authorization", wrong)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(EVIL_POD)).build());
        assertStatus(r, 401, "Unauthorized");
        assertThat(r.body()).doesNotContain("xxxx");
        assertStatus(http.send(http.anonymous("/healthz").header("Authorization", wrong).GET().build()), 401, "Unauthorized");
        assertNoPodCreated();
    }

    @Test
    void healthAndVersionAnswerAnonymousReadsAsKubeApiserverDoes() {
        assertThat(http.send(http.anonymous("/healthz").GET().build()).body()).isEqualTo("ok");
        HttpResponse<String> version = http.send(http.anonymous("/version").GET().build());
        assertThat(version.statusCode()).isEqualTo(200);
        assertThat(Json.readTree(version.body().getBytes()).path("minor").asText()).isEqualTo("34");
        assertThat(http.send(http.anonymous("/metrics").GET().build()).statusCode()).isEqualTo(401);
    }

    @Test
    void anAnonymousRequestMayNotCarryABody() {
        HttpResponse<String> r = http.send(http.anonymous("/healthz").header("Content-Type", "application/json")
                .method("GET", HttpRequest.BodyPublishers.ofString("x".repeat(1000))).build());
        assertStatus(r, 401, "Unauthorized");
    }

    @Test
    void aHostThatIsNotAnAddressIsNeverLookedUp() throws Exception {
        int port = cluster.adminAddress().getPort();
        long start = System.nanoTime();
        for (String host : new String[] {"1.2.3.4.5", "999.1.1.1", "localhost.example", "127.0.0.1.nip.io"}) {
            assertThat(http.raw("GET /version HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nConnection: close\r\n\r\n"))
                    .as(host).startsWith("HTTP/1.1 403 Forbidden");
        }
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(2));
    }

    @Test
    void aCrossOriginSimpleRequestIsRefusedWithOrWithoutAToken() {
        // what any web page can make a browser send, with no CORS preflight
        HttpResponse<String> page = http.send(http.anonymous("/api/v1/namespaces/default/pods")
                .header("Origin", "http://evil.example").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(EVIL_POD)).build());
        assertStatus(page, 403, "Forbidden");
        HttpResponse<String> withToken = http.send(http.request("/api/v1/namespaces/default/pods")
                .header("Origin", "http://evil.example").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(EVIL_POD)).build());
        assertStatus(withToken, 403, "Forbidden");
        assertNoPodCreated();
    }

    /**
     * The topology page's files hold no data and are anyone's to read, with a policy that lets the
     * page load nothing and send nothing elsewhere, and be framed by no page; nothing else near
     * them is anonymous, and they take no write.
     */
    @Test
    void theTopologyPagesFilesAreAnyonesAndLockedDown() {
        for (String path : new String[] {"/ui/", "/ui", "/ui/topology.js", "/ui/topology.css"}) {
            HttpResponse<String> r = http.send(http.anonymous(path).GET().build());
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Security-Policy")).as(path)
                    .hasValue("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                            + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
                            + "require-trusted-types-for 'script'; trusted-types 'none'");
            assertThat(r.headers().firstValue("X-Frame-Options")).hasValue("DENY");
            assertThat(r.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
            assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(r.body()).doesNotContain(cluster.credentials().token());
        }
        assertThat(http.send(http.anonymous("/ui/").GET().build()).body()).contains("<script src=\"/ui/topology.js\" defer></script>")
                .doesNotContain("<script>");
        assertStatus(http.send(http.anonymous("/ui/other.js").GET().build()), 401, "Unauthorized");
        assertStatus(http.send(http.anonymous("/ui/").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build()), 401, "Unauthorized");
        assertStatus(http.send(http.request("/ui/").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build()), 405, "MethodNotAllowed");
    }

    /**
     * The topology page's token: minted by an admin, it may read what the page shows and nothing
     * else (no pod, whose spec may carry credentials, no log, no ConfigMap, no Secret), and may mint
     * no other; a browser may only read, even with the admin token.
     */
    @Test
    void aViewerTokenOnlyReadsAndABrowserOnlyReads() {
        HttpResponse<String> minted = http.send(http.request("/apis/portway.dev/v1/viewertokens").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build());
        assertThat(minted.statusCode()).isEqualTo(201);
        String viewer = Json.readTree(minted.body().getBytes()).path("token").asText();
        assertThat(viewer).hasSizeGreaterThanOrEqualTo(43).isNotEqualTo(cluster.credentials().token());
        for (String shown : new String[] {"/api/v1/nodes", "/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices",
            "/apis/gateway.networking.k8s.io/v1/gateways", "/apis/gateway.networking.k8s.io/v1/httproutes", "/metrics", "/api/v1"}) {
            assertThat(http.send(http.anonymous(shown).header("Authorization", "Bearer " + viewer).GET().build()).statusCode())
                    .as(shown).isEqualTo(200);
        }
        for (String hidden : new String[] {"/api/v1/secrets", "/api/v1/namespaces/default/secrets", "/api/v1/namespaces/default/secrets/x",
            "/api/v1/namespaces/default/pods", "/api/v1/namespaces/default/pods/x/log", "/api/v1/configmaps",
            "/api/v1/namespaces/default/services/x/status", "/apis/portway.dev/v1/viewertokens"}) {
            assertStatus(http.send(http.anonymous(hidden).header("Authorization", "Bearer " + viewer).GET().build()), 403, "Forbidden");
        }
        assertStatus(http.send(http.anonymous("/api/v1/nodes").header("Authorization", "Bearer " + viewer)
                .method("GET", HttpRequest.BodyPublishers.ofString("x".repeat(1000))).build()), 403, "Forbidden");
        assertStatus(http.send(http.anonymous("/api/v1/namespaces/default/pods").header("Authorization", "Bearer " + viewer)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(EVIL_POD)).build()), 403, "Forbidden");
        assertStatus(http.send(http.anonymous("/apis/portway.dev/v1/viewertokens").header("Authorization", "Bearer " + viewer)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build()), 403, "Forbidden");

        // a browser sends Sec-Fetch-Site with every request, and no script can take it off
        assertStatus(http.send(http.request("/api/v1/namespaces/default/pods").header("Sec-Fetch-Site", "same-origin")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(EVIL_POD)).build()), 403, "Forbidden");
        assertThat(http.send(http.request("/api/v1/nodes").header("Sec-Fetch-Site", "same-origin").GET().build())
                .statusCode()).isEqualTo(200);
        // a script's read, even with the admin token (pasted into the page's form), is the page's: no Secret, no pod
        for (String hidden : new String[] {"/api/v1/secrets", "/api/v1/namespaces/default/pods"}) {
            assertStatus(http.send(http.request(hidden).header("Sec-Fetch-Site", "same-origin").GET().build()), 403, "Forbidden");
        }
        // the user's own navigation (a typed URL) reads what the credential allows
        assertThat(http.send(http.request("/api/v1/namespaces/default/pods").header("Sec-Fetch-Site", "none").GET().build())
                .statusCode()).isEqualTo(200);
        assertNoPodCreated();
    }

    /**
     * pods/NAME/eviction deletes a pod, so it is an admin's write like any other: refused to no
     * credential (401), to a viewer link and to a browser (403), and a body that is no Eviction of
     * that pod is a 400 that deletes nothing.
     */
    @Test
    void anEvictionIsAnAdminsWrite() {
        assertThat(http.post("/api/v1/namespaces/default/pods", "application/json", """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"kept"},"spec":{"containers":[{"name":"a","image":"portway/echo"}]}}
                """).statusCode()).isEqualTo(201);
        String eviction = "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"kept\"}}";
        String path = "/api/v1/namespaces/default/pods/kept/eviction";
        String viewer = Json.readTree(http.send(http.request("/apis/portway.dev/v1/viewertokens").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build()).body().getBytes()).path("token").asText();
        assertThat(http.send(http.anonymous(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(eviction)).build()).statusCode()).isEqualTo(401);
        assertStatus(http.send(http.anonymous(path).header("Authorization", "Bearer " + viewer).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(eviction)).build()), 403, "Forbidden");
        assertStatus(http.send(http.request(path).header("Sec-Fetch-Site", "same-origin").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(eviction)).build()), 403, "Forbidden");
        assertStatus(http.post(path, "application/json", "{\"kind\":\"Eviction\",\"metadata\":"), 400, "BadRequest");
        assertStatus(http.post(path, "application/json", eviction.replace("\"kept\"", "\"other\"")), 400, "BadRequest");
        assertThat(cluster.store().get(ResourceKind.POD, "default", "kept")).isPresent();
        assertThat(http.post(path, "application/json", eviction).statusCode()).isEqualTo(201);
    }

    /**
     * pods/NAME/exec runs a command, though kubectl asks for it with a GET (a WebSocket upgrade): it
     * is an admin's write. Refused to no credential (401), to a viewer link, to a page of another
     * origin and to a browser even on the server's own origin (403), before anything runs; the same
     * request with the admin's token is upgraded. pods/NAME/portforward alike.
     */
    @Test
    void anExecIsAnAdminsWriteThoughItIsAGet() throws Exception {
        assertThat(http.post("/api/v1/namespaces/default/pods", "application/json", """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"target"},"spec":{"containers":[{"name":"a","image":"portway/echo"}]}}
                """).statusCode()).isEqualTo(201);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> cluster.store()
                .get(io.fabric8.kubernetes.api.model.Pod.class, "default", "target")
                .map(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase())).orElse(false));
        Path marker = state.resolve("exec-ran");
        String viewer = Json.readTree(http.send(http.request("/apis/portway.dev/v1/viewertokens").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build()).body().getBytes()).path("token").asText();
        int port = cluster.adminAddress().getPort();
        java.util.function.Function<String, String> upgrade = extra -> "GET /api/v1/namespaces/default/pods/target/exec?command=touch&command="
                + marker + "&stdout=true HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n" + extra + "\r\n";
        String admin = "Authorization: Bearer " + cluster.credentials().token() + "\r\n";
        assertThat(http.raw(upgrade.apply(""))).startsWith("HTTP/1.1 401 Unauthorized");
        assertThat(http.raw(upgrade.apply("Authorization: Bearer " + viewer + "\r\n"))).startsWith("HTTP/1.1 403 Forbidden");
        assertThat(http.raw(upgrade.apply(admin + "Origin: https://evil.example\r\n"))).startsWith("HTTP/1.1 403 Forbidden");
        assertThat(http.raw(upgrade.apply(admin + "Origin: https://127.0.0.1:" + port + "\r\nSec-Fetch-Site: same-origin\r\n"
                + "Sec-Fetch-Mode: websocket\r\n"))).startsWith("HTTP/1.1 403 Forbidden");
        assertThat(http.raw(upgrade.apply(admin).replace("Connection: Upgrade\r\nUpgrade: websocket\r\n", "Connection: close\r\n")))
                .startsWith("HTTP/1.1 400 Bad Request").contains("Upgrade request required");
        // a browser that holds the admin's client certificate sends an Origin and no token: refused, and
        // Fetch Metadata alone (a browser, whatever its origin) too; kubectl with the certificate sends neither
        SSLContext withCertificate = Pki.tlsContext(cluster.credentials().client(), cluster.credentials().ca());
        assertThat(rawWith(withCertificate, upgrade.apply("Origin: https://127.0.0.1:" + port + "\r\n")))
                .startsWith("HTTP/1.1 403 Forbidden");
        assertThat(http.raw(upgrade.apply(admin + "Sec-Fetch-Mode: websocket\r\n"))).startsWith("HTTP/1.1 403 Forbidden");
        assertThat(marker).doesNotExist();
        assertThat(rawWith(withCertificate, upgrade.apply(""))).startsWith("HTTP/1.1 101 Switching Protocols");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> Files.exists(marker));
        Files.delete(marker);
        // port-forward connects to the pod's ports: the same
        java.util.function.Function<String, String> forward = extra -> upgrade.apply(extra)
                .replaceFirst("/exec\\?[^ ]*", "/portforward").replace("v5.channel.k8s.io", "SPDY/3.1+portforward.k8s.io");
        assertThat(http.raw(forward.apply(""))).startsWith("HTTP/1.1 401 Unauthorized");
        assertThat(http.raw(forward.apply("Authorization: Bearer " + viewer + "\r\n"))).startsWith("HTTP/1.1 403 Forbidden");
        assertThat(http.raw(forward.apply(admin + "Origin: https://127.0.0.1:" + port + "\r\nSec-Fetch-Site: same-origin\r\n")))
                .startsWith("HTTP/1.1 403 Forbidden");
        assertThat(http.raw(upgrade.apply(admin)))
                .startsWith("HTTP/1.1 101 Switching Protocols").contains("v5.channel.k8s.io");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> Files.exists(marker));
    }

    /** {@code request} as it is, over TLS with {@code tls} (a client certificate's), and the whole answer. */
    private static String rawWith(SSLContext tls, String request) throws Exception {
        var a = cluster.adminAddress();
        try (var socket = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket(a.getHostString(), a.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /**
     * A viewer link's chunked lists keep their snapshots apart from an admin's: however many it
     * starts while the store moves on, the admin's list goes on from the state its first page was
     * cut from (before, the viewer's pushed the admin's snapshot out, and its next page was 410).
     */
    @Test
    void aViewersChunkedListsCannotExpireAnAdminsList() {
        String viewer = Json.readTree(http.send(http.request("/apis/portway.dev/v1/viewertokens").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build()).body().getBytes()).path("token").asText();
        assertThat(http.post("/api/v1/namespaces", "application/json",
                "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"paged\"}}").statusCode()).isEqualTo(201);
        for (String name : new String[] {"one", "two"}) {
            assertThat(http.post("/api/v1/namespaces/paged/services", "application/json", "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
                    + "\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"ports\":[{\"port\":80}]}}").statusCode()).isEqualTo(201);
        }
        JsonNode first = Json.readTree(http.get("/api/v1/namespaces/paged/services?limit=1").body().getBytes());
        String token = first.at("/metadata/continue").asText();
        assertThat(token).isNotEmpty();
        for (int i = 0; i < 20; i++) {
            // the store moves on, and the viewer starts a list at each new revision
            assertThat(http.post("/api/v1/namespaces/paged/configmaps", "application/json", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                    + "\"metadata\":{\"name\":\"c" + i + "\"}}").statusCode()).isEqualTo(201);
            assertThat(http.send(http.anonymous("/api/v1/namespaces/paged/services?limit=1").header("Authorization", "Bearer " + viewer)
                    .GET().build()).statusCode()).isEqualTo(200);
        }
        HttpResponse<String> next = http.get("/api/v1/namespaces/paged/services?limit=1&continue=" + token);
        assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
        assertThat(Json.readTree(next.body().getBytes()).at("/items/0/metadata/name").asText()).isEqualTo("two");
    }

    /**
     * A viewer token is a link that may leak: together, viewers hold at most a few watches (each may
     * hold a snapshot and 8 MiB unread while it runs); past that 429, as kube-apiserver answers past
     * max-requests-inflight; a watch that ends gives its place back.
     */
    @Test
    void viewerTokensHoldAFewWatchesAtOnce() throws Exception {
        HttpResponse<String> minted = http.send(http.request("/apis/portway.dev/v1/viewertokens").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build());
        String viewer = Json.readTree(minted.body().getBytes()).path("token").asText();
        java.util.function.Supplier<HttpRequest> watch = () -> http.anonymous("/api/v1/namespaces/default/services?watch=1")
                .header("Authorization", "Bearer " + viewer).GET().build();
        java.util.List<HttpResponse<java.io.InputStream>> open = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < ApiHandler.MAX_VIEWER_WATCHES; i++) {
                HttpResponse<java.io.InputStream> r = http.client().send(watch.get(), HttpResponse.BodyHandlers.ofInputStream());
                open.add(r);
                assertThat(r.statusCode()).as("watch %d", i).isEqualTo(200);
            }
            HttpResponse<String> over = http.send(watch.get());
            assertStatus(over, 429, "TooManyRequests");
            // the admin is not counted with them
            HttpResponse<java.io.InputStream> admin = http.client().send(http.request("/api/v1/namespaces/default/pods?watch=1").GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            open.add(admin);
            assertThat(admin.statusCode()).isEqualTo(200);
            open.removeFirst().body().close(); // a viewer's watch ends with its connection: its place comes back
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> {
                HttpResponse<java.io.InputStream> r = http.client().send(watch.get(), HttpResponse.BodyHandlers.ofInputStream());
                open.add(r);
                return r.statusCode() == 200;
            });
        } finally {
            for (HttpResponse<java.io.InputStream> r : open) {
                r.body().close();
            }
        }
    }

    @Test
    void theServersOwnOriginPassesAsKubernetesClientsSendItAndNoOtherPort() {
        // fabric8's client sends Origin with every watch, naming the API server itself
        int port = cluster.adminAddress().getPort();
        HttpResponse<String> own = http.send(http.request("/api/v1/namespaces/default/pods")
                .header("Origin", "https://127.0.0.1:" + port).GET().build());
        assertThat(own.statusCode()).isEqualTo(200);
        for (String other : new String[] {"http://127.0.0.1:" + port, "https://127.0.0.1:" + (port == 1 ? 2 : port - 1),
                "https://localhost:" + port, "null"}) {
            assertStatus(http.send(http.request("/api/v1/namespaces/default/pods").header("Origin", other).GET().build()), 403, "Forbidden");
        }
    }

    @Test
    void aWriteMustCarryAKubernetesContentType() {
        HttpResponse<String> plain = http.post("/api/v1/namespaces/default/pods", "text/plain", EVIL_POD);
        assertStatus(plain, 415, "UnsupportedMediaType");
        HttpResponse<String> form = http.post("/api/v1/namespaces/default/pods", "application/x-www-form-urlencoded", EVIL_POD);
        assertStatus(form, 415, "UnsupportedMediaType");
        HttpResponse<String> patch = http.patch("/api/v1/namespaces/default/pods/x", "application/json", "{}");
        assertStatus(patch, 415, "UnsupportedMediaType");
        assertNoPodCreated();
    }

    @Test
    void aRebindingHostIsRefused() throws Exception {
        int port = cluster.adminAddress().getPort();
        String request = "POST /api/v1/namespaces/default/pods HTTP/1.1\r\n"
                + "Host: evil.example:" + port + "\r\n"
                + "Authorization: Bearer " + cluster.credentials().token() + "\r\n"
                + "Content-Type: application/json\r\n"
                + "Content-Length: " + EVIL_POD.getBytes().length + "\r\n"
                + "Connection: close\r\n\r\n" + EVIL_POD;
        String answer = http.raw(request);
        assertThat(answer).startsWith("HTTP/1.1 403 Forbidden");
        assertThat(answer).doesNotContain(cluster.credentials().token());
        assertNoPodCreated();
        String good = http.raw("GET /version HTTP/1.1\r\nHost: localhost:" + port + "\r\nConnection: close\r\n\r\n");
        assertThat(good).startsWith("HTTP/1.1 200 OK");
        String otherPort = http.raw("GET /version HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n");
        assertThat(otherPort).startsWith("HTTP/1.1 403 Forbidden");
    }

    @Test
    void plainHttpGetsNoApi() throws Exception {
        var a = cluster.adminAddress();
        try (var s = new java.net.Socket(a.getHostString(), a.getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /api/v1/pods HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes());
            byte[] answer = s.getInputStream().readNBytes(64);
            assertThat(new String(answer)).doesNotContain("PodList");
        }
    }

    @Test
    void aClientCertificateSignedByTheCaAuthenticates() throws Exception {
        var creds = cluster.credentials();
        SSLContext ctx = Pki.tlsContext(creds.client(), creds.ca());
        var client = java.net.http.HttpClient.newBuilder().sslContext(ctx).build();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(http.uri("/api/v1/namespaces")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(Json.readTree(r.body().getBytes()).path("kind").asText()).isEqualTo("NamespaceList");
    }

    /** A certificate for the same user and group, signed by a CA of the client's own making: no way in, nothing created. */
    @Test
    void aClientCertificateFromAnotherCaDoesNotAuthenticate() throws Exception {
        var creds = cluster.credentials();
        java.time.Instant now = java.time.Instant.now();
        Pki.KeyAndCert otherCa = Pki.newCa("portway-ca", now, java.time.Duration.ofDays(1));
        Pki.KeyAndCert forged = Pki.newClientCert(otherCa, "admin", "system:masters", now, java.time.Duration.ofDays(1));
        SSLContext ctx = dev.portway.net.Tls.context(forged.key(), List.of(forged.cert(), otherCa.cert()), creds.ca().cert());
        var client = java.net.http.HttpClient.newBuilder().sslContext(ctx).build();
        HttpRequest create = HttpRequest.newBuilder(http.uri("/api/v1/namespaces/default/pods"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(EVIL_POD))
                .build();
        // the server asks for a client certificate and refuses, in the handshake, one its CA did not sign: the client
        // reads its alert (certificate_unknown) or, in TLS 1.3, where its own side of the handshake may end first,
        // finds the connection closed; either way no request is answered
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.send(create, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(java.io.IOException.class);
        assertNoPodCreated();
    }

    @Test
    void aServerOutsideTheCaIsNotTrusted() {
        var client = java.net.http.HttpClient.newHttpClient();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.send(
                        HttpRequest.newBuilder(http.uri("/version")).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void aNodeStatusWriteOutsideTheNodeRangeIsRejected() {
        String nodeIp = cluster.nodes().getFirst().ip();
        HttpResponse<String> node = http.get("/api/v1/nodes/node1");
        JsonNode tree = Json.readTree(node.body().getBytes());
        String moved = Json.write(tree).replace("\"" + nodeIp + "\"", "\"0.0.0.0\"");
        HttpResponse<String> r = http.put("/api/v1/nodes/node1/status", moved);
        assertStatus(r, 422, "Invalid");
        assertThat(Json.readTree(r.body().getBytes()).path("message").asText()).isEqualTo("Node \"node1\" is invalid: "
                + "status.addresses[0].address: Invalid value: \"0.0.0.0\": must be in the node range " + cluster.config().nodeCidr()
                + " (Portway listens for NodePorts on node addresses)");
        HttpResponse<String> patched = http.patch("/api/v1/nodes/node1/status", "application/merge-patch+json",
                "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.1.10\"}]}}");
        assertStatus(patched, 422, "Invalid");
        assertThat(cluster.store().get(ResourceKind.NODE, null, "node1").orElseThrow().toString()).contains(nodeIp);
        HttpResponse<String> ok = http.patch("/api/v1/nodes/node1/status", "application/strategic-merge-patch+json",
                "{\"status\":{\"addresses\":[{\"type\":\"Hostname\",\"address\":\"node-one\"}]}}");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(Json.readTree(ok.body().getBytes()).at("/status/addresses").findValuesAsText("address"))
                .containsExactly(nodeIp, "node-one");
    }

    @Test
    void aStatusWriteChangesOnlyTheStatus() {
        HttpResponse<String> ns = http.get("/api/v1/namespaces/default");
        String renamedSpec = Json.write(Json.readTree(ns.body().getBytes())).replace("\"Active\"", "\"Terminating\"");
        assertStatus(http.put("/api/v1/namespaces/default/status", renamedSpec), 422, "Invalid");
        assertStatus(http.get("/api/v1/namespaces/default/configmaps/x/status"), 404, "NotFound");
    }

    @Test
    void theStateDirectoryAndItsSecretsAreTheOwnersOnly() throws Exception {
        Path dir = cluster.stateDir();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("pki")))).isEqualTo("rwx------");
        for (Path f : List.of(dir.resolve("token"), dir.resolve("pki/ca.key"), dir.resolve("pki/apiserver.key"),
                dir.resolve("pki/admin.key"), dir.resolve("pki/ca.crt"))) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).as(f.toString()).isEqualTo("rw-------");
        }
        String token = Files.readString(dir.resolve("token")).strip();
        assertThat(token).hasSize(43).isEqualTo(cluster.credentials().token());
    }

    @Test
    void badInputGetsFourHundredsNeverFiveHundreds() {
        assertStatus(http.get("/api/v1/pods?watch=maybe"), 400, "BadRequest");
        assertStatus(http.get("/api/v1/pods?timeoutSeconds=soon&watch=true"), 400, "BadRequest");
        assertStatus(http.get("/api/v1/pods?labelSelector=a%20in%20b"), 400, "BadRequest");
        assertStatus(http.get("/api/v1/pods?fieldSelector=spec.color%3Dred"), 400, "BadRequest");
        assertStatus(http.get("/api/v1/pods?resourceVersion=abc"), 400, "BadRequest");
        assertStatus(http.delete("/api/v1/namespaces/default/pods/x?gracePeriodSeconds=soon"), 400, "BadRequest");
        assertStatus(http.post("/api/v1/namespaces/default/pods?dryRun=Some", "application/json", EVIL_POD), 400, "BadRequest");
        assertStatus(http.post("/api/v1/namespaces/default/pods", "application/json", "{not json"), 400, "BadRequest");
        assertStatus(http.post("/api/v1/namespaces/default/pods", "application/json", "[1]"), 400, "BadRequest");
        assertStatus(http.get("/api/v1/namespaces/default/pods/x/exec"), 404, "NotFound");
        assertNoPodCreated();
    }

    @Test
    void anOversizedBodyIsRefusedFromItsLengthAlone() throws Exception {
        int port = cluster.adminAddress().getPort();
        String answer = http.raw("POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                + "Authorization: Bearer " + cluster.credentials().token() + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + (64 * 1024 * 1024) + "\r\n\r\n{");
        assertThat(answer).startsWith("HTTP/1.1 413 Request Entity Too Large").contains("\"reason\":\"RequestEntityTooLarge\"")
                .contains("Request entity too large: limit is 3145728");
    }
}
