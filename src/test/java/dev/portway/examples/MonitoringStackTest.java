package dev.portway.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.Json;
import dev.portway.api.decode.Manifests;
import dev.portway.runtime.DnsOptions;
import dev.portway.testing.InNetworkNamespace;
import dev.portway.testing.PodResolution;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code examples/monitoring}, the seed's second diagram: the user reaches Grafana, Prometheus,
 * Alertmanager and the Pushgateway through one Gateway on port 80; Prometheus scrapes the others
 * and sends its alerts through the same gateway, by the names cluster DNS gives; Grafana (a
 * stand-in, {@link GrafanaStandIn}: Grafana has no Debian package) queries Prometheus through it.
 * The manifests are the example's files, applied as they are but for Grafana's command.
 *
 * <p>Port 80 (the Gateway) and port 53 (cluster DNS) need root, or a network of one's own: run as
 * an ordinary user, this class is run again inside a user and network namespace by
 * {@link MonitoringStackInNamespaceTest}, and skipped here.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MonitoringStackTest {

    private static final Path EXAMPLE = Path.of("examples", "monitoring");
    private static final String ADMIN = "Basic " + Base64.getEncoder().encodeToString("admin:monitoring-admin".getBytes(StandardCharsets.UTF_8));
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static TestCluster cluster;
    private static InetSocketAddress gateway;

    static boolean packagesInstalled() {
        return Files.isExecutable(Path.of("/usr/bin/prometheus")) && Files.isExecutable(Path.of("/usr/bin/prometheus-alertmanager"))
                && Files.isExecutable(Path.of("/usr/bin/prometheus-pushgateway"));
    }

    @BeforeAll
    static void start() throws Exception {
        // .ci/run installs them and sets PORTWAY_REQUIRE_PACKAGES, so CI fails rather than skips
        assumeTrue(packagesInstalled() || System.getenv("PORTWAY_REQUIRE_PACKAGES") != null,
                "needs Debian's prometheus, prometheus-alertmanager and prometheus-pushgateway (apt-get install them, as .ci/run does)");
        assumeTrue(InNetworkNamespace.canBindPrivilegedPorts(),
                "ports 53 and 80 cannot be bound here: MonitoringStackInNamespaceTest runs this class in a network namespace of its own");
        cluster = new TestCluster(TestCluster.options().withKubelet(TestCluster.options().kubelet().withDns(TestCluster.dns(DnsOptions.Mode.SERVER))));
        cluster.apply(exampleWithGrafanaStandIn());
        for (String app : List.of("prometheus", "alertmanager", "pushgateway", "grafana")) {
            cluster.awaitReady(app, 1, Duration.ofSeconds(90));
        }
        gateway = cluster.gatewayAddress("monitoring", 80);
        cluster.settle();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The example's objects, Grafana's container running the stand-in (this JVM's java and classpath) with the same environment. */
    private static List<HasMetadata> exampleWithGrafanaStandIn() {
        Manifests.Loaded loaded = Manifests.load(List.of(EXAMPLE.toString()), new ByteArrayInputStream(new byte[0]));
        assertThat(loaded.problems()).isEmpty();
        List<HasMetadata> objects = new ArrayList<>();
        loaded.objects().forEach(d -> objects.add(d.object()));
        for (HasMetadata o : objects) {
            if (o instanceof Deployment d && d.getMetadata().getName().equals("grafana")) {
                Container c = d.getSpec().getTemplate().getSpec().getContainers().getFirst();
                c.setCommand(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xshare:auto",
                        "--enable-native-access=ALL-UNNAMED",
                        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), GrafanaStandIn.class.getName()));
                c.setArgs(List.of());
            }
        }
        return objects;
    }

    @Test
    @Order(1)
    void podsResolveServiceNamesThroughTheClusterDnsServer() {
        assertThat(cluster.local().kubelet().dnsSummary()).startsWith("a DNS server at 127.0." + TestCluster.BLOCK + ".253:53");
        PodResolution.check(cluster);
    }

    @Test
    @Order(2)
    void prometheusIsReadyAndScrapesEveryJobThroughTheGateway() throws Exception {
        assertThat(get("/prometheus/-/ready").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            JsonNode up = json(get("/prometheus/api/v1/query?query=up")).path("data").path("result");
            assertThat(up.findValuesAsText("job")).containsExactlyInAnyOrder("prometheus", "pushgateway", "alertmanager");
            for (JsonNode r : up) {
                assertThat(r.path("value").get(1).asText()).as(r.toString()).isEqualTo("1");
            }
        });
        JsonNode targets = json(get("/prometheus/api/v1/targets")).path("data").path("activeTargets");
        assertThat(targets.findValuesAsText("scrapeUrl")).containsExactlyInAnyOrder(
                "http://monitoring-portway:80/prometheus/metrics",
                "http://monitoring-portway:80/pushgateway/metrics",
                "http://monitoring-portway:80/alertmanager/metrics");
    }

    @Test
    @Order(3)
    void aMetricPushedWithCredentialsIsQueriedAndItsAlertReachesAlertmanager() throws Exception {
        HttpResponse<String> pushed = send(HttpRequest.newBuilder(url("/pushgateway/metrics/job/nightly-backup")).header("Authorization", ADMIN)
                .PUT(HttpRequest.BodyPublishers.ofString("batch_job_failed 1\n")));
        assertThat(pushed.statusCode()).as(pushed.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                json(get("/prometheus/api/v1/query?query=batch_job_failed")).path("data").path("result").findValuesAsText("job"))
                .containsExactly("nightly-backup"));
        // the rule fires; Prometheus sends the alert through the gateway, with the credentials of the Secret
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            JsonNode alerts = json(get("/alertmanager/api/v2/alerts"));
            assertThat(alerts.findValuesAsText("alertname")).contains("BatchJobFailed");
            assertThat(alerts.findValuesAsText("summary")).contains("Batch job nightly-backup failed");
        });
    }

    @Test
    @Order(4)
    void grafanasDataSourceQueryReturnsPrometheusData() throws Exception {
        HttpResponse<String> health = get("/grafana/api/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(json(health.body()).path("database").asText()).isEqualTo("ok");
        // Grafana's sub-path redirects keep the public prefix
        HttpResponse<String> root = get("/grafana");
        assertThat(root.statusCode()).isEqualTo(301);
        assertThat(root.headers().firstValue("Location")).hasValue("/grafana/");
        // the seed's whole loop: user -> gateway -> Grafana -> gateway -> Prometheus, and back
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> r = get("/grafana/api/datasources/proxy/uid/prometheus/api/v1/query?query="
                    + URLEncoder.encode("up{job=\"pushgateway\"}", StandardCharsets.UTF_8));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode result = json(r.body()).path("data").path("result");
            assertThat(result.findValuesAsText("job")).containsExactly("pushgateway");
            assertThat(result.get(0).path("value").get(1).asText()).isEqualTo("1");
        });
    }

    @Test
    @Order(5)
    void anonymousWritesAreRefusedWhateverThePathLooksLikeAndPrometheusStaysReady() throws Exception {
        assertThat(send(HttpRequest.newBuilder(url("/pushgateway/metrics/job/intruder"))
                .PUT(HttpRequest.BodyPublishers.ofString("intruder 1\n"))).statusCode()).isEqualTo(401);
        assertThat(send(HttpRequest.newBuilder(url("/pushgateway/metrics/job/nightly-backup")).DELETE()).statusCode()).isEqualTo(401);
        assertThat(send(HttpRequest.newBuilder(url("/pushgateway/api/v1/admin/wipe"))
                .PUT(HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(401);
        assertThat(send(HttpRequest.newBuilder(url("/alertmanager/api/v2/silences")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))).statusCode()).isEqualTo(401);
        for (String path : List.of("/prometheus/-/quit", "/prometheus/-/reload", "/prometheus/-/quit/", "/prometheus//-/quit",
                "/prometheus/./-/quit", "/prometheus/x/../-/quit", "/prometheus/-/%71uit", "/prometheus/%2D/quit",
                "/prometheus/-/quit;x", "/prometheus/-%2Fquit", "/prometheus/-/quit?x=1", "/prometheus/api/v1/admin/tsdb/snapshot",
                "/prometheus/api/v1/admin//tsdb/delete_series?match[]=up", "/PROMETHEUS/-/quit")) {
            for (String method : List.of("POST", "PUT")) {
                int status = raw(method, path);
                assertThat(status).as(method + " " + path).isIn(400, 401, 403, 404);
            }
        }
        assertThat(send(HttpRequest.newBuilder(url("/pushgateway/metrics/job/nightly-backup")).header("Authorization", ADMIN).DELETE())
                .statusCode()).as("with credentials").isEqualTo(202);
        assertThat(get("/prometheus/-/ready").statusCode()).isEqualTo(200);
        assertThat(cluster.pods("prometheus").getFirst().getStatus().getContainerStatuses().getFirst().getRestartCount()).isZero();
    }

    @Test
    @Order(6)
    void grafanaLiveWebSocketWorksAndAnOriginMismatchIsGrafanasOwnAnswer() throws Exception {
        String host = gateway.getAddress().getHostAddress();
        URI ws = URI.create("ws://" + host + ":" + gateway.getPort() + "/grafana/api/live/ws");
        CompletableFuture<String> echoed = new CompletableFuture<>();
        WebSocket socket = http.newWebSocketBuilder().header("Origin", "http://" + host)
                .buildAsync(ws, new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        echoed.complete(data.toString());
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        socket.sendText("{\"id\":1,\"method\":\"ping\"}", true);
        assertThat(echoed.get(10, TimeUnit.SECONDS)).contains("ping");
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);

        // without an upgrade, Grafana says 400; with another origin, 403 — Grafana's answers, passed through
        assertThat(get("/grafana/api/live/ws").statusCode()).isEqualTo(400);
        String refused = rawExchange("GET /grafana/api/live/ws HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Origin: http://evil.example\r\n\r\n");
        assertThat(refused).startsWith("HTTP/1.1 403").as("Grafana's own answer, which names the origin").contains("evil.example");
    }

    // ---- clients ----

    private static URI url(String path) {
        return URI.create("http://" + gateway.getAddress().getHostAddress() + ":" + gateway.getPort() + path);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return send(HttpRequest.newBuilder(url(path)));
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends the path exactly as written (no client normalizes it) and returns the status. */
    private static int raw(String method, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(gateway, 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write((method + " " + path + " HTTP/1.1\r\nHost: " + gateway.getAddress().getHostAddress()
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
                line.append((char) b);
            }
            String[] parts = line.toString().split(" ");
            if (parts.length < 2) {
                throw new IOException(method + " " + path + ": no status line, got " + line);
            }
            return Integer.parseInt(parts[1]);
        }
    }

    /** Sends {@code request} as written and returns all the gateway answers until it closes or goes quiet. */
    private static String rawExchange(String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(gateway, 5000);
            s.setSoTimeout(3000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n = s.getInputStream().read(buf); n > 0; n = s.getInputStream().read(buf)) {
                    got.write(buf, 0, n);
                }
            } catch (java.net.SocketTimeoutException quiet) {
                // a kept-alive connection: what came is the answer
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static JsonNode json(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.uri() + ": " + r.body()).isEqualTo(200);
        return json(r.body());
    }

    private static JsonNode json(String body) {
        return Json.readTree(body.getBytes(StandardCharsets.UTF_8));
    }
}
