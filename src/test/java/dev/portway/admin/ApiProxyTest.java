package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.portway.admin.auth.AdminCredentials;
import dev.portway.api.Json;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy subresources against a real HTTP server on loopback standing in for a pod: what
 * kube-apiserver's proxy sends the pod, what it sends back, where it leads and its errors, as
 * kube-apiserver words them.
 */
class ApiProxyTest extends AdminServerTestBase {

    private HttpServer pod;
    /** What the pod got last: the request line and its fields, by lower-case name. */
    private final Map<String, String> seen = new ConcurrentHashMap<>();
    private HttpClient http;
    private int podPort;
    /** A pod that answers by script, byte for byte, for what a well-behaved server never sends. */
    private java.net.ServerSocket rawPod;
    /** What the raw pod wrote of its last answer, so far. */
    private final java.util.concurrent.atomic.AtomicLong rawWritten = new java.util.concurrent.atomic.AtomicLong();

    @Override
    AdminServer.Options options(AdminCredentials credentials) {
        return AdminServer.Options.defaults(credentials);
    }

    @BeforeEach
    void podAndObjects() throws IOException {
        pod = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        pod.createContext("/", this::answer);
        pod.start();
        podPort = pod.getAddress().getPort();
        http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
        put(new PodBuilder().withNewMetadata().withName("web").withNamespace("default").withUid("u1").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("x").addNewPort().withContainerPort(podPort).endPort()
                .endContainer().endSpec()
                .withNewStatus().withPhase("Running").addNewPodIP("127.0.0.1").withPodIP("127.0.0.1").endStatus().build());
        put(new PodBuilder().withNewMetadata().withName("pending").withNamespace("default").withUid("u2").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("x").endContainer().endSpec().build());
        put(new ServiceBuilder().withNewMetadata().withName("web").withNamespace("default").endMetadata()
                .withNewSpec().withSelector(Map.of("app", "web")).addNewPort().withName("http").withPort(80).withNewTargetPort(podPort).endPort()
                .addNewPort().withName("other").withPort(81).withNewTargetPort(9).endPort().endSpec().build());
        put(new EndpointSliceBuilder().withNewMetadata().withName("web-abc").withNamespace("default")
                .withLabels(Map.of("kubernetes.io/service-name", "web")).endMetadata().withAddressType("IPv4")
                .addNewEndpoint().withAddresses("127.0.0.1").withNewConditions().withReady(true).endConditions()
                .withNewTargetRef().withKind("Pod").withNamespace("default").withName("web").endTargetRef().endEndpoint()
                // an address no pod has (a hand-written slice): never proxied to
                .addNewEndpoint().withAddresses("127.0.0.9").withNewConditions().withReady(true).endConditions().endEndpoint()
                .addNewPort().withName("http").withPort(podPort).endPort()
                .addNewPort().withName("other").withPort(9).endPort().build());
        rawPod = new java.net.ServerSocket(0, 16, java.net.InetAddress.getByName("127.0.0.1"));
        Thread.ofVirtual().start(this::serveRaw);
        put(new PodBuilder().withNewMetadata().withName("raw").withNamespace("default").withUid("u3").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("x").addNewPort().withContainerPort(rawPod.getLocalPort())
                .endPort().endContainer().endSpec()
                .withNewStatus().withPhase("Running").addNewPodIP("127.0.0.1").withPodIP("127.0.0.1").endStatus().build());
        put(new ServiceBuilder().withNewMetadata().withName("idle").withNamespace("default").endMetadata()
                .withNewSpec().withSelector(Map.of("app", "idle")).addNewPort().withPort(80).endPort().endSpec().build());
        put(new ServiceBuilder().withNewMetadata().withName("starting").withNamespace("default").endMetadata()
                .withNewSpec().withSelector(Map.of("app", "starting")).addNewPort().withPort(80).endPort().endSpec().build());
        put(new EndpointSliceBuilder().withNewMetadata().withName("starting-abc").withNamespace("default")
                .withLabels(Map.of("kubernetes.io/service-name", "starting")).endMetadata().withAddressType("IPv4")
                .addNewEndpoint().withAddresses("127.0.0.1").withNewConditions().withReady(false).endConditions()
                .withNewTargetRef().withKind("Pod").withNamespace("default").withName("web").endTargetRef().endEndpoint()
                .addNewPort().withPort(podPort).endPort().build());
    }

    @AfterEach
    void stopPod() throws IOException {
        pod.stop(0);
        rawPod.close();
    }

    private void serveRaw() {
        while (!rawPod.isClosed()) {
            java.net.Socket s;
            try {
                s = rawPod.accept();
            } catch (IOException e) {
                return;
            }
            Thread.ofVirtual().start(() -> {
                try (s) {
                    StringBuilder head = new StringBuilder();
                    InputStream in = s.getInputStream();
                    while (!head.toString().endsWith("\r\n\r\n")) {
                        int b = in.read();
                        if (b < 0) {
                            return;
                        }
                        head.append((char) b);
                    }
                    String path = head.substring(head.indexOf(" ") + 1, head.indexOf(" ", head.indexOf(" ") + 1));
                    OutputStream out = new java.io.BufferedOutputStream(s.getOutputStream(), 64 * 1024);
                    rawWritten.set(0);
                    switch (path) {
                        case "/early-hints-then-head" -> out.write(("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                                + "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-Raw: yes\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        case "/switch" -> out.write("HTTP/1.1 101 Switching Protocols\r\n\r\nraw bytes after".getBytes(StandardCharsets.US_ASCII));
                        case "/cut" -> out.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly this much".getBytes(StandardCharsets.US_ASCII));
                        case "/torrent" -> {
                            // 64 MiB in chunks of 512 bytes: many small parts in every read the proxy makes
                            out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                            byte[] chunk = ("200\r\n" + "z".repeat(512) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                            for (int i = 0; i < 128 * 1024; i++) {
                                out.write(chunk);
                                rawWritten.addAndGet(512);
                            }
                            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                        default -> out.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.flush();
                    s.shutdownOutput();
                    in.readAllBytes(); // until the proxy closes its side
                } catch (IOException e) {
                    // the proxy went
                }
            });
        }
    }

    private void put(HasMetadata o) {
        Store.Batch batch = control.store().begin();
        batch.put(o);
        batch.commit();
    }

    /** The pod: echoes what it got; {@code /big} streams 3 MiB chunked; {@code /moved} redirects; it sets CORS fields. */
    private void answer(HttpExchange e) throws IOException {
        seen.clear();
        seen.put("line", e.getRequestMethod() + " " + e.getRequestURI().getRawPath()
                + (e.getRequestURI().getRawQuery() == null ? "" : "?" + e.getRequestURI().getRawQuery()));
        e.getRequestHeaders().forEach((k, v) -> seen.put(k.toLowerCase(), String.join(",", v)));
        byte[] body = e.getRequestBody().readAllBytes();
        seen.put("body", new String(body, StandardCharsets.UTF_8));
        e.getResponseHeaders().add("Access-Control-Allow-Origin", "*");
        e.getResponseHeaders().add("Access-Control-Allow-Credentials", "true");
        e.getResponseHeaders().add("X-Pod", "web");
        String path = e.getRequestURI().getPath();
        if (path.equals("/moved")) {
            e.getResponseHeaders().add("Location", e.getRequestURI().getQuery()); // where the query says
            e.sendResponseHeaders(302, -1);
            e.close();
            return;
        }
        if (path.equals("/big")) {
            e.sendResponseHeaders(200, 0); // chunked
            byte[] block = new byte[64 * 1024];
            try (OutputStream out = e.getResponseBody()) {
                for (int i = 0; i < 48; i++) {
                    java.util.Arrays.fill(block, (byte) ('a' + i % 26));
                    out.write(block);
                }
            }
            return;
        }
        byte[] answer = ("pod got " + seen.get("line")).getBytes(StandardCharsets.UTF_8);
        e.sendResponseHeaders(200, e.getRequestMethod().equals("HEAD") ? -1 : answer.length);
        if (!e.getRequestMethod().equals("HEAD")) {
            e.getResponseBody().write(answer);
        }
        e.close();
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + address.getPort() + path))
                .header("Authorization", "Bearer " + credentials.token()).timeout(Duration.ofSeconds(20));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(request(path).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode status(HttpResponse<String> r) throws IOException {
        return Json.readTree(r.body().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aPodsProxyCarriesTheRequestWithoutTheAdminsTokenAndTheAnswerWithoutCors() throws Exception {
        String answer;
        try (SSLSocket s = connect()) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET /api/v1/namespaces/default/pods/web/proxy/a/./b/../c/?q=1&r=%20x HTTP/1.1\r\n"
                    + "Host: 127.0.0.1:" + address.getPort() + "\r\nAuthorization: Bearer " + credentials.token() + "\r\n"
                    + "Connection: X-Secret, close\r\nX-Secret: hop\r\nX-Kept: yes\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(answer).startsWith("HTTP/1.1 200 ").containsIgnoringCase("\r\nX-Pod: web\r\n")
                .doesNotContainIgnoringCase("access-control-")
                // the path cleaned as Go's path.Join cleans it, the query as it was sent, the first port its containers declare
                .endsWith("\r\n\r\npod got GET /a/c/?q=1&r=%20x");
        assertThat(seen).doesNotContainKeys("authorization", "x-secret").containsEntry("x-kept", "yes")
                .containsEntry("x-forwarded-for", "10.0.0.1, 127.0.0.1")
                .containsEntry("x-forwarded-uri", "/api/v1/namespaces/default/pods/web/proxy/a/c/")
                .containsEntry("host", "127.0.0.1:" + address.getPort());

        HttpResponse<String> posted = http.send(request("/api/v1/namespaces/default/pods/web:" + podPort + "/proxy/form")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("a=1&b=2")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.body()).isEqualTo("pod got POST /form");
        assertThat(seen).containsEntry("body", "a=1&b=2").containsEntry("content-type", "application/x-www-form-urlencoded");

        HttpResponse<String> head = http.send(request("/api/v1/namespaces/default/pods/web/proxy/h")
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(seen).containsEntry("line", "HEAD /h");
    }

    @Test
    void theRootOfTheProxyIsAskedWithASlashAndLocationsLeadBackThroughIt() throws Exception {
        HttpResponse<String> root = get("/api/v1/namespaces/default/pods/web/proxy?x=1");
        assertThat(root.statusCode()).isEqualTo(301);
        assertThat(root.headers().firstValue("Location")).contains("/api/v1/namespaces/default/pods/web/proxy/?x=1");

        String prefix = "/api/v1/namespaces/default/pods/web/proxy";
        String podAt = "127.0.0.1:" + podPort;
        String asked = "127.0.0.1:" + address.getPort();
        assertThat(ApiProxy.rewriteLocation("/login?next=/", podAt, asked, prefix)).isEqualTo(prefix + "/login?next=/");
        assertThat(ApiProxy.rewriteLocation("http://" + podAt + "/graph/", podAt, asked, prefix)).isEqualTo(prefix + "/graph/");
        assertThat(ApiProxy.rewriteLocation("https://" + asked + "/x", podAt, asked, prefix)).isEqualTo("https://" + asked + prefix + "/x");
        assertThat(ApiProxy.rewriteLocation(prefix + "/already", podAt, asked, prefix)).isEqualTo(prefix + "/already");
        assertThat(ApiProxy.rewriteLocation("relative/path", podAt, asked, prefix)).isEqualTo("relative/path");
        assertThat(ApiProxy.rewriteLocation("https://example.com/elsewhere", podAt, asked, prefix)).isEqualTo("https://example.com/elsewhere");

        // end to end: the pod's redirect to an absolute path comes back under the proxy
        HttpResponse<String> moved = get("/api/v1/namespaces/default/services/web:http/proxy/moved?/next");
        assertThat(moved.statusCode()).isEqualTo(302);
        assertThat(moved.headers().firstValue("Location")).contains("/api/v1/namespaces/default/services/web:http/proxy/next");
    }

    @Test
    void aServicesProxyGoesToAReadyEndpointOfThePortItNames() throws Exception {
        for (String id : List.of("web:http", "web:80", "http:web:http")) {
            HttpResponse<String> r = get("/api/v1/namespaces/default/services/" + id + "/proxy/status");
            assertThat(r.statusCode()).as(id).isEqualTo(200);
            assertThat(r.body()).isEqualTo("pod got GET /status");
            assertThat(seen).containsEntry("x-forwarded-uri", "/api/v1/namespaces/default/services/" + id + "/proxy/status");
        }
        // the port named "other" is 9 on the pod, where nothing listens
        assertError(get("/api/v1/namespaces/default/services/web:81/proxy/"), 503, "ServiceUnavailable",
                "error trying to reach service: dial tcp 127.0.0.1:9: connect: connection refused");
        assertError(get("/api/v1/namespaces/default/services/web:82/proxy/"), 503, "ServiceUnavailable",
                "no service port 82 found for service \"web\"");
        // the Service's one port is named "http": none is unnamed
        assertError(get("/api/v1/namespaces/default/services/web/proxy/"), 503, "ServiceUnavailable",
                "no endpoints available for service \"web\"");
        assertError(get("/api/v1/namespaces/default/services/idle/proxy/"), 503, "ServiceUnavailable",
                "no endpoints available for service \"idle\"");
        assertError(get("/api/v1/namespaces/default/services/starting:80/proxy/"), 503, "ServiceUnavailable",
                "no endpoints available for service \"starting:80\"");
        assertError(get("/api/v1/namespaces/default/services/missing/proxy/"), 404, "NotFound", "endpoints \"missing\" not found");
        put(new ServiceBuilder().withNewMetadata().withName("manual").withNamespace("default").endMetadata()
                .withNewSpec().addNewPort().withPort(80).endPort().endSpec().build());
        assertError(get("/api/v1/namespaces/default/services/manual/proxy/"), 404, "NotFound", "endpoints \"manual\" not found");
        assertError(get("/api/v1/namespaces/default/services/missing:80/proxy/"), 404, "NotFound", "services \"missing\" not found");
        assertError(get("/api/v1/namespaces/default/services/ftp:web:80/proxy/"), 400, "BadRequest", "invalid service request \"ftp:web:80\"");
    }

    @Test
    void aPodsProxySaysWhyItCannotReachThePod() throws Exception {
        assertError(get("/api/v1/namespaces/default/pods/missing/proxy/"), 404, "NotFound", "pods \"missing\" not found");
        assertError(get("/api/v1/namespaces/default/pods/pending/proxy/"), 400, "BadRequest", "address not allowed");
        assertError(get("/api/v1/namespaces/default/pods/web:9/proxy/"), 503, "ServiceUnavailable",
                "error trying to reach service: dial tcp 127.0.0.1:9: connect: connection refused");
        assertError(get("/api/v1/namespaces/default/pods/web:http/proxy/"), 503, "ServiceUnavailable",
                "error trying to reach service: dial tcp: lookup tcp/http: unknown port");
        assertError(get("/api/v1/namespaces/default/pods/a:b:c:d/proxy/"), 400, "BadRequest", "invalid pod request \"a:b:c:d\"");
        try (SSLSocket s = connect()) {
            s.getOutputStream().write(("GET /api/v1/namespaces/default/pods/web/proxy/ws HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort()
                    + "\r\nAuthorization: Bearer " + credentials.token() + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            assertThat(head(s)).startsWith("HTTP/1.1 400 ");
        }
        assertThat(seen).isEmpty();
        // an h2c upgrade (Java's HTTP client offers one with every http:// request, and kubectl proxy passes it on) is declined
        try (SSLSocket s = connect()) {
            s.getOutputStream().write(("GET /api/v1/namespaces/default/pods/web/proxy/h2c HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort()
                    + "\r\nAuthorization: Bearer " + credentials.token() + "\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            assertThat(head(s)).startsWith("HTTP/1.1 200 ");
        }
        assertThat(seen).containsEntry("line", "GET /h2c").doesNotContainKeys("upgrade", "http2-settings", "connection");
        HttpResponse<String> trace = http.send(request("/api/v1/namespaces/default/pods/web/proxy/")
                .method("TRACE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(trace.statusCode()).isEqualTo(405);
    }

    private static void assertError(HttpResponse<String> r, int code, String reason, String message) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(code);
        JsonNode s = status(r);
        assertThat(s.path("kind").asText()).isEqualTo("Status");
        assertThat(s.path("reason").asText()).isEqualTo(reason);
        assertThat(s.path("message").asText()).isEqualTo(message);
    }

    /**
     * A long answer comes through whole, read from the pod only as the client reads it, and the
     * connection serves the next request after it (in order, as pipelined).
     */
    @Test
    void aStreamedAnswerComesWholeAndTheConnectionGoesOn() throws Exception {
        try (SSLSocket s = connect()) {
            s.setSoTimeout(20_000);
            String auth = "Authorization: Bearer " + credentials.token() + "\r\n";
            String host = "Host: 127.0.0.1:" + address.getPort() + "\r\n";
            s.getOutputStream().write(("GET /api/v1/namespaces/default/pods/web/proxy/big HTTP/1.1\r\n" + host + auth + "\r\n"
                    + "GET /api/v1/namespaces/default/pods/web/proxy/after HTTP/1.1\r\n" + host + auth + "\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            String first = head(s);
            assertThat(first).startsWith("HTTP/1.1 200 ").containsIgnoringCase("transfer-encoding: chunked");
            byte[] body = dechunk(in);
            assertThat(body).hasSize(48 * 64 * 1024);
            assertThat(body[0]).isEqualTo((byte) 'a');
            assertThat(body[body.length - 1]).isEqualTo((byte) ('a' + 47 % 26));
            String second = head(s);
            assertThat(second).startsWith("HTTP/1.1 200 ");
            assertThat(new String(in.readNBytes("pod got GET /after".length()), StandardCharsets.UTF_8)).isEqualTo("pod got GET /after");
        }
    }

    private static byte[] dechunk(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) != '\n') {
                if (c < 0) {
                    throw new IOException("ended in a chunk's size");
                }
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            int size = Integer.parseInt(line.toString().strip(), 16);
            if (size == 0) {
                in.readNBytes(2); // the last chunk's CRLF (no trailers)
                return out.toByteArray();
            }
            out.write(in.readNBytes(size));
            in.readNBytes(2);
        }
    }

    /**
     * What a pod may send that a well-behaved server does not: an interim answer before the
     * answer to a HEAD (which is the head alone), a 101 nobody asked for, an answer cut short.
     */
    @Test
    void aPodsStrangeAnswersEndTheExchangeCleanly() throws Exception {
        HttpResponse<String> head = http.send(request("/api/v1/namespaces/default/pods/raw/proxy/early-hints-then-head")
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("X-Raw")).contains("yes");
        assertError(get("/api/v1/namespaces/default/pods/raw/proxy/switch"), 503, "ServiceUnavailable",
                "error trying to reach service: the pod switched protocols unasked");
        try (SSLSocket s = connect()) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET /api/v1/namespaces/default/pods/raw/proxy/cut HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort()
                    + "\r\nAuthorization: Bearer " + credentials.token() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            // the head went, then the connection ends where the pod's did: the client sees the answer is short
            assertThat(answer).startsWith("HTTP/1.1 200 OK").containsIgnoringCase("content-length: 100000").endsWith("only this much");
        }
    }

    /** An HTTP/1.0 client gets no chunks: the answer ends with the connection. */
    @Test
    void anHttp10ClientReadsAStreamedAnswerToTheEndOfTheConnection() throws Exception {
        try (SSLSocket s = connect()) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET /api/v1/namespaces/default/pods/web/proxy/big HTTP/1.0\r\nHost: 127.0.0.1:" + address.getPort()
                    + "\r\nAuthorization: Bearer " + credentials.token() + "\r\nConnection: keep-alive\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            String head = head(s);
            assertThat(head).startsWith("HTTP/1.1 200 ").doesNotContainIgnoringCase("transfer-encoding").containsIgnoringCase("connection: close");
            assertThat(s.getInputStream().readAllBytes()).hasSize(48 * 64 * 1024);
        }
    }

    /**
     * A pod that streams many small parts to a client that does not read is read no faster than
     * the client takes them: what the proxy holds stays bounded, and everything arrives once the
     * client reads.
     */
    @Test
    void aPodIsReadOnlyAsFastAsItsClientReads() throws Exception {
        try (SSLSocket s = connect()) {
            s.setSoTimeout(30_000);
            s.setReceiveBufferSize(64 * 1024);
            s.getOutputStream().write(("GET /api/v1/namespaces/default/pods/raw/proxy/torrent HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort()
                    + "\r\nAuthorization: Bearer " + credentials.token() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> rawWritten.get() > 0);
            long held = -1;
            for (int i = 0; i < 10 && rawWritten.get() != held; i++) { // until the pod's writes stop a second
                held = rawWritten.get();
                Thread.sleep(1000);
            }
            Thread.sleep(1500);
            // and stay stopped: a proxy that read on regardless would take more, only as fast as it gets through it
            assertThat(rawWritten.get()).isEqualTo(held);
            // the client's socket, the proxy's both sides and the pod's hold a few MiB; the pod had 64 MiB to send
            assertThat(held).isLessThan(24L << 20);
            assertThat(head(s)).startsWith("HTTP/1.1 200 ");
            assertThat(dechunk(s.getInputStream())).hasSize(64 << 20);
        }
    }

    /** Only the admin reaches into a pod this way: not anonymous, not a viewer link, not a browser, whatever it holds. */
    @Test
    void onlyTheAdminAndNoBrowserReachesThePodThroughTheProxy() throws Exception {
        String path = "/api/v1/namespaces/default/pods/web/proxy/x";
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + address.getPort() + path))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        String viewer = dev.portway.testing.AdminHttp.mintViewerToken(tls, address, credentials.token());
        HttpResponse<String> asViewer = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + address.getPort() + path))
                .header("Authorization", "Bearer " + viewer).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(asViewer.statusCode()).isEqualTo(403);
        for (String site : List.of("none", "same-origin", "cross-site")) {
            HttpResponse<String> browser = http.send(request(path).header("Sec-Fetch-Site", site).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(browser.statusCode()).as(site).isEqualTo(403);
        }
        HttpResponse<String> posted = http.send(request(path).header("Origin", "https://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).isEqualTo(403);
        assertThat(seen).isEmpty();
        assertThat(get(path).statusCode()).isEqualTo(200);
    }
}
