package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.runtime.LocalNode;
import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code portway node stop|start}: a node's proxy fails its health check, then passes it again. */
class NodeCommandTest {

    private static TestCluster cluster;
    private static Cli cli;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster(TestCluster.options());
        cli = new Cli(Clock.systemUTC(), cluster.local());
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static int health(int node) {
        try {
            return Net.get(cluster.nodeIp(node), LocalNode.PROXY_HEALTH_PORT, "/healthz").status();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    @Test
    void stopFailsTheNodesHealthCheckAndStartRestoresIt() {
        await().atMost(Duration.ofSeconds(5)).until(() -> health(2) == 200);
        assertThat(cli.run("node", "stop", "node2").out()).isEqualTo("node/node2 proxy stopped\n");
        // the command returns once the API server has written the Node; its controller follows at once
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20)).until(() -> health(2) == 503);
        assertThat(health(1)).as("the other node").isEqualTo(200);
        assertThat(cli.run("get", "node", "node2", "-o", "yaml").out()).contains("    portway.dev/proxy-stopped: \"true\"\n");

        assertThat(cli.run("node", "start", "node2").out()).isEqualTo("node/node2 proxy started\n");
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20)).until(() -> health(2) == 200);
        await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> assertThat(cluster.local().store().list(Event.class, "default"))
                .filteredOn(e -> "node2".equals(e.getInvolvedObject().getName()))
                .extracting(Event::getReason, e -> e.getSource().getComponent())
                .contains(org.assertj.core.groups.Tuple.tuple("Stopped", "kube-proxy"), org.assertj.core.groups.Tuple.tuple("Starting", "kube-proxy")));
    }

    @Test
    void anUnknownNodeOrABadValueIsAnError() {
        Cli.Result missing = cli.run("node", "stop", "node9");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("Error from server (NotFound): nodes \"node9\" not found\n");

        Cli.Result bad = cli.runWithInput("""
                apiVersion: v1
                kind: Node
                metadata: {name: node1, annotations: {portway.dev/proxy-stopped: "yes"}}
                """, "apply", "-f", "-");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("metadata.annotations[portway.dev/proxy-stopped]: Unsupported value: \"yes\": supported values: \"false\", \"true\"");
        assertThat(health(1)).isEqualTo(200);
    }
}
