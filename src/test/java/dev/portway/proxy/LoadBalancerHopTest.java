package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.AdminHttp;
import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The LoadBalancer hop, fused (the default in a local cluster: the node's NodePort listener takes
 * the connection in-process) and real ({@code --lb-second-hop}: a loopback connection into it).
 * Either way the pod sees the node's address (Cluster policy's SNAT) and the metrics count the
 * same: one connection accepted and one upstream connect on the LoadBalancer listener, and the
 * same on the node's listener. Only the real hop holds a socket on the node's NodePort.
 */
class LoadBalancerHopTest {

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster();
        cluster.apply(TestCluster.echoLoadBalancer("hop", 2, 8000));
        cluster.awaitReady("hop", 2);
        cluster.loadBalancerIp("hop");
        cluster.settle();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @AfterEach
    void fused() {
        cluster.local().dataPlane().loadBalancerSecondHop(false);
    }

    @ParameterizedTest(name = "second hop: {0}")
    @ValueSource(booleans = {false, true})
    void bothHopsServeTheSameAndCountTheSame(boolean secondHop) throws Exception {
        cluster.local().dataPlane().loadBalancerSecondHop(secondHop);
        String lb = cluster.loadBalancerIp("hop");
        int nodePort = cluster.nodePort("hop");
        List<String> nodes = List.of(cluster.nodeIp(1), cluster.nodeIp(2));
        long[] before = counts();
        try (Net.Connection c = new Net.Connection(lb, 8000, "127.0.0.78")) {
            Net.Response r = c.request("/");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echo("client")).as("Cluster policy: the pod sees the node's address")
                    .satisfiesAnyOf(a -> assertThat(a).startsWith(nodes.get(0) + ":"), a -> assertThat(a).startsWith(nodes.get(1) + ":"));
            long onNodePorts = established(nodes.get(0), nodePort) + established(nodes.get(1), nodePort);
            assertThat(onNodePorts).as("connections held on the nodes' NodePort").isEqualTo(secondHop ? 1 : 0);
            assertThat(active("load_balancer")).as("open on the LoadBalancer's listener").isEqualTo(1);
            assertThat(active("node_port")).as("open on a node's listener, fused or not").isEqualTo(1);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> active("load_balancer") == 0 && active("node_port") == 0);
        long[] after = counts();
        for (int i = 0; i < before.length; i++) {
            assertThat(after[i] - before[i]).as("counter %d: LoadBalancer accepted, connects; NodePort accepted, connects", i).isEqualTo(1);
        }
    }

    /** The LoadBalancer's and the NodePort's accepted connections and upstream connects, summed over listeners. */
    private static long[] counts() throws Exception {
        String metrics = new AdminHttp(cluster.local()).get("/metrics").body();
        return new long[] {
                sum(metrics, "portway_listener_connections_total\\{listener=\"[^\"]*\",role=\"load_balancer\",service=\"default/hop\"\\}"),
                sum(metrics, "portway_upstream_connects_total\\{role=\"load_balancer\",service=\"default/hop\"\\}"),
                sum(metrics, "portway_listener_connections_total\\{listener=\"[^\"]*\",role=\"node_port\",service=\"default/hop\"\\}"),
                sum(metrics, "portway_upstream_connects_total\\{role=\"node_port\",service=\"default/hop\"\\}"),
        };
    }

    /** The client connections open now on the hop Service's listeners in {@code role}, summed. */
    private static long active(String role) throws Exception {
        String metrics = new AdminHttp(cluster.local()).get("/metrics").body();
        return sum(metrics, "portway_listener_active_connections\\{listener=\"[^\"]*\",role=\"" + role + "\",service=\"default/hop\"\\}");
    }

    private static long sum(String metrics, String series) {
        Matcher m = Pattern.compile("^" + series + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        long total = 0;
        while (m.find()) {
            total += (long) Double.parseDouble(m.group(1));
        }
        return total;
    }

    /** Established TCP sockets of this machine whose local address is {@code ip:port} (IPv4, or IPv4-mapped IPv6). */
    private static long established(String ip, int port) throws IOException {
        String[] b = ip.split("\\.");
        String local = String.format("%02X%02X%02X%02X:%04X", Integer.parseInt(b[3]), Integer.parseInt(b[2]),
                Integer.parseInt(b[1]), Integer.parseInt(b[0]), port);
        long n = 0;
        for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines = Files.readAllLines(Path.of(file));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f[1].endsWith(local) && f[3].equals("01")) {
                    n++;
                }
            }
        }
        return n;
    }
}
