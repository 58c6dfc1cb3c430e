package dev.portway.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.Json;
import dev.portway.api.decode.Manifests;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code examples/prometheus}: Prometheus, Alertmanager and the Pushgateway from Debian's
 * packages, run as pods from the same manifests a cluster would take, reaching each other
 * through ClusterIPs and the user through NodePorts. A metric pushed to the Pushgateway is
 * scraped by Prometheus, fires an alert, and the alert reaches Alertmanager.
 */
class PrometheusExampleTest {

    private static final Path EXAMPLE = Path.of("examples", "prometheus");
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws InterruptedException {
        boolean installed = Files.isExecutable(Path.of("/usr/bin/prometheus")) && Files.isExecutable(Path.of("/usr/bin/prometheus-alertmanager"))
                && Files.isExecutable(Path.of("/usr/bin/prometheus-pushgateway"));
        // .ci/run installs them and sets PORTWAY_REQUIRE_PACKAGES, so CI fails rather than skips
        assumeTrue(installed || System.getenv("PORTWAY_REQUIRE_PACKAGES") != null,
                "needs Debian's prometheus, prometheus-alertmanager and prometheus-pushgateway (apt-get install them, as .ci/run does)");
        cluster = new TestCluster();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theStackRunsAsPodsAndAPushedFailureBecomesAnAlert() throws Exception {
        Manifests.Loaded loaded = Manifests.load(List.of(EXAMPLE.toString()), new ByteArrayInputStream(new byte[0]));
        assertThat(loaded.problems()).isEmpty();
        List<HasMetadata> objects = new ArrayList<>();
        loaded.objects().forEach(d -> objects.add(d.object()));
        cluster.apply(objects);
        for (String app : List.of("prometheus", "alertmanager", "pushgateway")) {
            cluster.awaitReady(app, 1, Duration.ofSeconds(60));
        }
        cluster.settle();

        // Prometheus scrapes itself, and the others through their ClusterIPs
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode targets = json(get(30090, "/api/v1/targets")).path("data").path("activeTargets");
            assertThat(targets).hasSize(3);
            for (JsonNode t : targets) {
                assertThat(t.path("health").asText()).as(t.path("scrapeUrl").asText()).isEqualTo("up");
            }
        });
        assertThat(json(get(30090, "/api/v1/targets")).findValuesAsText("scrapeUrl"))
                .contains("http://" + cluster.clusterIp("pushgateway") + ":9091/metrics",
                        "http://" + cluster.clusterIp("alertmanager") + ":9093/metrics");

        HttpResponse<String> pushed = http.send(HttpRequest.newBuilder(URI.create("http://" + cluster.nodeIp(1) + ":30091/metrics/job/nightly-backup"))
                .PUT(HttpRequest.BodyPublishers.ofString("batch_job_failed 1\n")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(pushed.statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                json(get(30090, "/api/v1/query?query=batch_job_failed")).path("data").path("result").findValuesAsText("job"))
                .containsExactly("nightly-backup"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode alerts = json(get(30093, "/api/v2/alerts"));
            assertThat(alerts.findValuesAsText("alertname")).contains("BatchJobFailed");
            assertThat(alerts.findValuesAsText("summary")).contains("Batch job nightly-backup failed");
        });
    }

    private static String get(int nodePort, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + cluster.nodeIp(1) + ":" + nodePort + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        return r.body();
    }

    private static JsonNode json(String body) {
        return Json.readTree(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
