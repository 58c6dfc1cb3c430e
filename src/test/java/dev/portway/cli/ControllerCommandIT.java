package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.Net;
import dev.portway.testing.PortwayProcess;
import dev.portway.testing.StandInCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./portway controller} as a user runs it, through the launcher on the packaged jar, with a
 * kubeconfig as Portway writes them: against a {@link StandInCluster} (Portway's API server in the
 * place of kube-apiserver, which cannot run here).
 */
class ControllerCommandIT {

    @TempDir
    Path dir;

    @Test
    void theControllerGivesALoadBalancerAnAddressServesItAndReportsMetrics() throws Exception {
        try (StandInCluster cluster = new StandInCluster(dir.resolve("state"))) {
            Path kubeconfig = dir.resolve("kubeconfig");
            Kubeconfig.write(kubeconfig, cluster.url(), cluster.credentials(), true);
            Path pools = dir.resolve("pools.yaml");
            Files.writeString(pools, StandInCluster.pool("127.0.62.20/32"));
            cluster.serveNodePort(cluster.loadBalancer("web", StandInCluster.PORTWAY_CLASS));
            try (PortwayProcess controller = PortwayProcess.start(new ProcessBuilder("./portway", "controller",
                    "--kubeconfig", kubeconfig.toString(), "-f", pools.toString(), "--node-health-port", Integer.toString(cluster.healthPort()),
                    "--metrics-address", "127.0.0.1:0", "--proxy-threads", "1").redirectErrorStream(true))) {
                String printed = controller.output().toString();
                assertThat(printed).contains("Portway is the LoadBalancer implementation of " + cluster.url())
                        .contains("pool edge: 127.0.62.20/32")
                        .containsPattern("Data plane: (io_uring|epoll|nio) sockets, 1 event loop \\(--transport, --proxy-threads\\)");
                await().atMost(Duration.ofSeconds(20)).until(() -> "127.0.62.20".equals(cluster.ingressIp("web")));
                Set<String> answered = new HashSet<>();
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                    answered.add(Net.get("127.0.62.20", 8080, "/").body());
                    assertThat(answered).containsExactlyInAnyOrder("node-a", "node-b");
                });
                Matcher metrics = Pattern.compile("Metrics: http://127\\.0\\.0\\.1:(\\d+)/metrics").matcher(printed);
                assertThat(metrics.find()).as(printed).isTrue();
                int port = Integer.parseInt(metrics.group(1));
                Net.Response scrape = Net.get("127.0.0.1", port, "/metrics");
                assertThat(scrape.status()).isEqualTo(200);
                assertThat(scrape.body()).contains("portway_controller_passes_total").contains("127.0.62.20");
                assertThat(Net.get("127.0.0.1", port, "/healthz").body()).isEqualTo("ok\n");
                assertThat(Net.get("127.0.0.1", port, "/readyz").body()).as("watching the cluster").isEqualTo("ok\n");
            }
        }
    }
}
