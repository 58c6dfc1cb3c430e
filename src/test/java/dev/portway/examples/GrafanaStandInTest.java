package dev.portway.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.portway.testing.RawHttp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Grafana stand-in the monitoring example's end-to-end tests run behind the gateway. */
class GrafanaStandInTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROMETHEUS_ANSWER = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";

    @TempDir
    static Path dir;

    private static HttpServer prometheus;
    private static final List<String> prometheusSaw = new CopyOnWriteArrayList<>();
    private static int closedPort;
    private static GrafanaStandIn grafana;
    private static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        prometheus = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        prometheus.createContext("/", exchange -> {
            prometheusSaw.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            boolean query = exchange.getRequestURI().getPath().equals("/api/v1/query");
            byte[] body = (query ? PROMETHEUS_ANSWER : "{\"status\":\"error\",\"error\":\"no such thing\"}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(query ? 200 : 400, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        prometheus.start();
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort(); // nothing listens there once it is closed
        }
        Files.createDirectories(dir.resolve("provisioning/datasources"));
        Files.writeString(dir.resolve("provisioning/datasources/datasources.yaml"), """
                apiVersion: 1
                datasources:
                  - name: Prometheus
                    type: prometheus
                    uid: prometheus
                    url: http://127.0.0.1:${PROMETHEUS_PORT}
                    access: proxy
                    isDefault: true
                  - name: Gone
                    type: prometheus
                    uid: gone
                    url: http://127.0.0.1:%d/
                    access: proxy
                """.formatted(closedPort));
        Files.writeString(dir.resolve("provisioning/datasources/notes.txt"), "not a provisioning file: {");
        grafana = GrafanaStandIn.start(Map.of(
                "GF_SERVER_HTTP_ADDR", "127.0.0.1",
                "GF_SERVER_HTTP_PORT", "0",
                "GF_SERVER_ROOT_URL", "%(protocol)s://%(domain)s:%(http_port)s/grafana/",
                "GF_SERVER_SERVE_FROM_SUB_PATH", "true",
                "GF_PATHS_PROVISIONING", dir.resolve("provisioning").toString(),
                "PROMETHEUS_PORT", Integer.toString(prometheus.getAddress().getPort())));
        http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        if (http != null) {
            http.close();
        }
        if (grafana != null) {
            grafana.close();
        }
        if (prometheus != null) {
            prometheus.stop(0);
        }
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return get(grafana.port(), path);
    }

    private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(15)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readsItsConfigurationLikeGrafana() {
        assertThat(grafana.subPath()).isEqualTo("/grafana");
        assertThat(grafana.dataSources()).containsOnlyKeys("prometheus", "gone");
        assertThat(grafana.dataSources().get("prometheus").url()).isEqualTo("http://127.0.0.1:" + prometheus.getAddress().getPort());
        assertThat(grafana.startupLine()).isEqualTo("grafana stand-in listening on 127.0.0.1:" + grafana.port() + ", sub path /grafana, data sources [prometheus -> http://127.0.0.1:"
                + prometheus.getAddress().getPort() + ", gone -> http://127.0.0.1:" + closedPort + "/]");
        assertThat(GrafanaStandIn.subPath(GrafanaStandIn.appUrl(Map.of("GF_SERVER_ROOT_URL", "http://example/grafana/"), "3000"))).isEqualTo("/grafana");
        assertThat(GrafanaStandIn.subPath(GrafanaStandIn.appUrl(Map.of(), "3000"))).isEmpty();
    }

    @Test
    void redirectsAndTheLoginPageLiveUnderTheSubPath() throws Exception {
        HttpResponse<String> bare = get("/grafana");
        assertThat(bare.statusCode()).isEqualTo(301);
        assertThat(bare.headers().firstValue("Location")).hasValue("/grafana/");

        HttpResponse<String> home = get("/grafana/");
        assertThat(home.statusCode()).isEqualTo(302);
        assertThat(home.headers().firstValue("Location")).hasValue("/grafana/login");

        HttpResponse<String> login = get("/grafana/login");
        assertThat(login.statusCode()).isEqualTo(200);
        assertThat(login.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(login.body()).contains("<base href=\"/grafana/\" />");

        HttpResponse<String> root = get("/");
        assertThat(root.statusCode()).isEqualTo(302);
        assertThat(root.headers().firstValue("Location")).hasValue("/grafana/");

        for (String outside : List.of("/login", "/api/health", "/grafanax/api/health")) {
            assertThat(get(outside).statusCode()).as(outside).isEqualTo(404);
        }
        HttpResponse<String> unknown = get("/grafana/public/build/app.js");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).path("message").asText()).isEqualTo("Not found");
    }

    @Test
    void health() throws Exception {
        HttpResponse<String> health = get("/grafana/api/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode body = JSON.readTree(health.body());
        assertThat(body.path("database").asText()).isEqualTo("ok");
        assertThat(body.path("version").asText()).isEqualTo("11.0.0");
        assertThat(body.path("commit").asText()).isEqualTo("stand-in");
    }

    @Test
    void theDataSourceProxyQueriesPrometheusOnTheUsersBehalf() throws Exception {
        HttpResponse<String> query = get("/grafana/api/datasources/proxy/uid/prometheus/api/v1/query?query=up%7Bjob%3D%22x%22%7D");
        assertThat(query.statusCode()).isEqualTo(200);
        assertThat(query.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(query.body()).isEqualTo(PROMETHEUS_ANSWER);
        assertThat(prometheusSaw).contains("GET /api/v1/query?query=up%7Bjob%3D%22x%22%7D");

        // the data source's status comes back as it is
        HttpResponse<String> other = get("/grafana/api/datasources/proxy/uid/prometheus/api/v1/nothing");
        assertThat(other.statusCode()).isEqualTo(400);
        assertThat(other.body()).contains("no such thing");

        HttpResponse<String> unknown = get("/grafana/api/datasources/proxy/uid/loki/api/v1/query?query=up");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).path("message").asText()).isEqualTo("Data source not found");

        HttpResponse<String> down = get("/grafana/api/datasources/proxy/uid/gone/api/v1/query?query=up");
        assertThat(down.statusCode()).isEqualTo(502);
        assertThat(down.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(JSON.readTree(down.body()).path("message").asText()).isNotEmpty();
    }

    @Test
    void liveNeedsAWebSocketUpgrade() throws Exception {
        HttpResponse<String> plain = get("/grafana/api/live/ws");
        assertThat(plain.statusCode()).isEqualTo(400);
    }

    @Test
    void liveRefusesAnOriginThatIsNotTheHost() {
        assertThatThrownBy(() -> connect("ws://127.0.0.1:" + grafana.port() + "/grafana/api/live/ws", "http://grafana.example.com", new Echoes()))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(WebSocketHandshakeException.class, e -> assertThat(e.getResponse().statusCode()).isEqualTo(403));
        // the same host on another port is another origin
        assertThatThrownBy(() -> connect("ws://127.0.0.1:" + grafana.port() + "/grafana/api/live/ws", "http://127.0.0.1:1", new Echoes()))
                .cause().isInstanceOfSatisfying(WebSocketHandshakeException.class, e -> assertThat(e.getResponse().statusCode()).isEqualTo(403));
    }

    @Test
    void theRefusalSaysWhy() throws Exception {
        try (RawHttp c = new RawHttp(grafana.address())) {
            RawHttp.Response refused = c.send("GET /grafana/api/live/ws HTTP/1.1\r\nHost: 127.0.0.1:" + grafana.port()
                    + "\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://evil.example\r\n\r\n").read();
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.body()).contains("origin", "https://evil.example");
        }
    }

    @Test
    void liveEchoesFramesAndTheCloseCode() throws Exception {
        for (String origin : new String[] {null, "http://127.0.0.1:" + grafana.port(), "HTTP://127.0.0.1:" + grafana.port()}) {
            Echoes echoes = new Echoes();
            WebSocket ws = connect("ws://127.0.0.1:" + grafana.port() + "/grafana/api/live/ws", origin, echoes);
            for (int i = 0; i < 3; i++) {
                ws.sendText("{\"id\":" + i + "}", true).get(5, TimeUnit.SECONDS);
                assertThat(echoes.texts.poll(5, TimeUnit.SECONDS)).as("origin %s", origin).isEqualTo("{\"id\":" + i + "}");
            }
            ws.sendClose(4001, "bye").get(5, TimeUnit.SECONDS);
            assertThat(echoes.closed.get(5, TimeUnit.SECONDS)).isEqualTo(4001);
        }
    }

    @Test
    void behindAProxyThatStripsThePrefixRoutesLiveAtTheRoot() throws Exception {
        try (GrafanaStandIn stripped = GrafanaStandIn.start(Map.of("GF_SERVER_HTTP_ADDR", "127.0.0.1", "GF_SERVER_HTTP_PORT", "0",
                "GF_SERVER_ROOT_URL", "http://example/grafana/"))) {
            assertThat(get(stripped.port(), "/api/health").statusCode()).isEqualTo(200);
            HttpResponse<String> home = get(stripped.port(), "/");
            assertThat(home.statusCode()).isEqualTo(302);
            assertThat(home.headers().firstValue("Location")).hasValue("/grafana/login");
            assertThat(get(stripped.port(), "/login").body()).contains("<base href=\"/grafana/\" />");
            assertThat(get(stripped.port(), "/grafana/api/health").statusCode()).isEqualTo(404);
            assertThat(stripped.startupLine()).endsWith(", sub path /grafana, data sources []");

            // the root URL's origin is allowed whatever Host the proxy sent, as Grafana allows it
            Echoes echoes = new Echoes();
            WebSocket ws = connect("ws://127.0.0.1:" + stripped.port() + "/api/live/ws", "http://example", echoes);
            ws.sendText("hi", true).get(5, TimeUnit.SECONDS);
            assertThat(echoes.texts.poll(5, TimeUnit.SECONDS)).isEqualTo("hi");
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
            assertThat(echoes.closed.get(5, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
        }
    }

    @Test
    void runsAsAProcessWithGrafanasEnvironment() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), GrafanaStandIn.class.getName())
                .redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.put("GF_SERVER_HTTP_ADDR", "127.0.0.1");
        env.put("GF_SERVER_HTTP_PORT", "0");
        env.put("GF_SERVER_ROOT_URL", "%(protocol)s://%(domain)s:%(http_port)s/grafana/");
        env.put("GF_SERVER_SERVE_FROM_SUB_PATH", "true");
        env.put("GF_PATHS_PROVISIONING", dir.resolve("provisioning").toString());
        env.put("PROMETHEUS_PORT", Integer.toString(prometheus.getAddress().getPort()));
        Process process = builder.start();
        try {
            CompletableFuture<String> started = new CompletableFuture<>();
            StringBuilder output = new StringBuilder();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = lines.readLine()) != null; ) {
                        synchronized (output) {
                            output.append(line).append('\n');
                        }
                        if (line.startsWith("grafana stand-in listening on ")) {
                            started.complete(line);
                        }
                    }
                    started.completeExceptionally(new IllegalStateException("exited without its startup line:\n" + output));
                } catch (IOException e) {
                    started.completeExceptionally(e);
                }
            });
            String line = started.get(60, TimeUnit.SECONDS);
            assertThat(line).matches("grafana stand-in listening on 127\\.0\\.0\\.1:\\d+, sub path /grafana, data sources \\[prometheus -> http://127\\.0\\.0\\.1:"
                    + prometheus.getAddress().getPort() + ", gone -> .*]");
            int port = Integer.parseInt(line.replaceFirst("^grafana stand-in listening on 127\\.0\\.0\\.1:(\\d+),.*$", "$1"));
            HttpResponse<String> health = get(port, "/grafana/api/health");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(health.body()).path("database").asText()).isEqualTo("ok");
            assertThat(get(port, "/grafana/api/datasources/proxy/uid/prometheus/api/v1/query?query=up").body()).isEqualTo(PROMETHEUS_ANSWER);

            process.destroy();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            reader.join(Duration.ofSeconds(10));
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static WebSocket connect(String uri, String origin, Echoes echoes) throws Exception {
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (origin != null) {
            builder.header("Origin", origin);
        }
        return builder.buildAsync(URI.create(uri), echoes).get(10, TimeUnit.SECONDS);
    }

    private static final class Echoes implements WebSocket.Listener {
        final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }
    }

}
