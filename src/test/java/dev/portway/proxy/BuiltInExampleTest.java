package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.cli.CliDriver;
import dev.portway.testing.Net;
import dev.portway.testing.TestApi;
import dev.portway.testing.TestCluster;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seed's system, as {@code portway up} runs it: NodePort 30007 on both nodes, the LoadBalancer
 * twin spreading over the nodes and then the four pods, the ClusterIPs, and {@code get svc}
 * showing the real addresses. The example's Services listen on port 80, which only root may bind:
 * here they listen on {@value #PORT}, so that any user can run the test. The example as written,
 * port 80 and all, is {@code QuickStartIT}'s: it runs {@code ./portway up} in a network namespace
 * where port 80 can be bound.
 */
class BuiltInExampleTest {

    private static final int PORT = 8000;

    private static TestCluster cluster;
    private static String lbIp;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster();
        try (InputStream in = BuiltInExampleTest.class.getResourceAsStream("/examples/seed/app.yaml")) {
            String example = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String unprivileged = example.replace("\n    port: 80\n", "\n    port: " + PORT + "\n");
            assertThat(unprivileged.split("\n    port: " + PORT + "\n", -1)).as("the example's two Services on port 80").hasSize(3);
            cluster.apply(TestApi.decode(unprivileged));
        }
        cluster.awaitReady("MyApp", 4);
        lbIp = cluster.loadBalancerIp("my-service-lb");
        cluster.settle();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void theNodePortAnswersOnBothNodes() throws Exception {
        for (String node : new String[] {cluster.nodeIp(1), cluster.nodeIp(2)}) {
            Net.Response r = Net.get(node, 30007, "/");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.pod()).startsWith("my-app-");
            // Cluster policy: the node masquerades, so the pod sees the node's address.
            assertThat(r.echo("client")).startsWith(node + ":");
        }
    }

    @Test
    void theLoadBalancerSpreadsOverAllFourPods() throws Exception {
        assertThat(lbIp).as("the pool's first address").isEqualTo(TestCluster.poolIp(1));
        Map<String, Integer> perPod = new TreeMap<>();
        Map<String, Integer> perNode = new TreeMap<>();
        for (int i = 0; i < 200; i++) {
            Net.Response r = Net.get(lbIp, PORT, "/");
            assertThat(r.status()).isEqualTo(200);
            perPod.merge(r.pod(), 1, Integer::sum);
            perNode.merge(r.echo("client").split(":")[0], 1, Integer::sum);
        }
        assertThat(perPod).as("requests per pod").hasSize(4);
        assertThat(perPod.values()).as("each pod gets a fair share of 200").allSatisfy(n -> assertThat(n).isBetween(35, 65));
        assertThat(perNode).as("the load balancer uses both nodes").containsOnlyKeys(cluster.nodeIp(1), cluster.nodeIp(2));
    }

    @Test
    void theClusterIpsAnswer() throws Exception {
        for (String service : new String[] {"my-service", "my-service-lb"}) {
            Net.Response r = Net.get(cluster.clusterIp(service), PORT, "/", "127.0.0.77");
            assertThat(r.status()).isEqualTo(200);
            // No NAT for ClusterIP traffic: the pod sees the client itself.
            assertThat(r.echo("client")).startsWith("127.0.0.77:");
        }
    }

    @Test
    void getSvcShowsTheRealAddresses() {
        CliDriver cli = new CliDriver(Clock.systemUTC(), cluster.local());
        String out = cli.run("get", "svc").out();
        assertThat(out).containsPattern("my-service +NodePort +" + quote(cluster.clusterIp("my-service"))
                + " +<none> +" + PORT + ":30007/TCP");
        assertThat(out).containsPattern("my-service-lb +LoadBalancer +" + quote(cluster.clusterIp("my-service-lb"))
                + " +" + quote(lbIp) + " +" + PORT + ":" + cluster.nodePort("my-service-lb") + "/TCP");
        assertThat(cli.run("get", "nodes", "-o", "wide").out())
                .containsPattern("node1 +Ready .* " + quote(cluster.nodeIp(1)) + " ")
                .containsPattern("node2 +Ready .* " + quote(cluster.nodeIp(2)) + " ");
    }

    @Test
    void theMetricsCountTheConnections() throws Exception {
        Net.get(cluster.nodeIp(1), 30007, "/");
        var response = new dev.portway.testing.AdminHttp(cluster.local()).get("/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body())
                .contains("portway_listener_connections_total{listener=\"tcp/" + cluster.nodeIp(1) + ":30007\",role=\"node_port\",service=\"default/my-service\"}")
                .contains("portway_cluster_endpoints{cluster=\"default/my-service:" + PORT + "/TCP\",state=\"ready\"} 4.0")
                .contains("portway_loadbalancer_target_healthy{cluster=\"lb:default/my-service-lb:" + PORT + "/TCP\",target=\"node1\"} 1.0")
                .contains("portway_controller_reconcile_seconds_total{controller=\"PlanPublisher\"} ")
                .containsPattern("(?m)^portway_controller_passes_total [1-9]");
    }

    private static String quote(String text) {
        return Pattern.quote(text);
    }
}
