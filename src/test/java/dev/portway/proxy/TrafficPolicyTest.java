package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * externalTrafficPolicy Local and the LoadBalancer's health checks: a node without local pods
 * fails the healthCheckNodePort (503, kube-proxy's JSON), the load balancer stops sending there,
 * and the node's NodePort does not forward; the client address survives both hops. A node whose
 * proxy fails leaves the rotation of a Cluster-policy load balancer within 2 s and comes back.
 * loadBalancerSourceRanges (the field, or the annotation where the field is empty) apply to the
 * LoadBalancer address only.
 */
class TrafficPolicyTest {

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster();
        cluster.apply(TestCluster.echoDeployment("pinned", 1, """
                nodeSelector:
                  kubernetes.io/hostname: node1
                """) + """
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: local-lb
                spec:
                  type: LoadBalancer
                  externalTrafficPolicy: Local
                  selector: {app: pinned}
                  ports:
                  - {port: 8000, targetPort: http}
                ---
                """ + TestCluster.echoDeployment("spread", 4, null) + """
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: cluster-lb
                spec:
                  type: LoadBalancer
                  selector: {app: spread}
                  loadBalancerSourceRanges: [127.0.0.0/26]
                  ports:
                  - {port: 8080, targetPort: http}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: v6-only-lb
                spec:
                  type: LoadBalancer
                  selector: {app: spread}
                  loadBalancerSourceRanges: ["::1/128"]
                  ports:
                  - {port: 8081, targetPort: http}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: annotated-lb
                  annotations:
                    service.beta.kubernetes.io/load-balancer-source-ranges: "127.0.0.0/26"
                spec:
                  type: LoadBalancer
                  selector: {app: spread}
                  ports:
                  - {port: 8082, targetPort: http}
                """);
        cluster.awaitReady("pinned", 1);
        cluster.awaitReady("spread", 4);
        cluster.loadBalancerIp("local-lb");
        cluster.loadBalancerIp("cluster-lb");
        cluster.loadBalancerIp("v6-only-lb");
        cluster.loadBalancerIp("annotated-lb");
        cluster.settle();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void aNodeWithoutLocalPodsFailsItsHealthCheckWithKubeProxysAnswer() throws Exception {
        int hcnp = cluster.service("local-lb").getSpec().getHealthCheckNodePort();
        Net.Response node2 = Net.get(cluster.nodeIp(2), hcnp, "/");
        assertThat(node2.status()).isEqualTo(503);
        assertThat(node2.headers()).containsEntry("content-type", "application/json")
                .containsEntry("x-content-type-options", "nosniff")
                .containsEntry("x-load-balancing-endpoint-weight", "0");
        assertThat(node2.body()).isEqualTo("{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"local-lb\"\n\t},\n"
                + "\t\"localEndpoints\": 0,\n\t\"serviceProxyHealthy\": true\n}");

        Net.Response node1 = Net.get(cluster.nodeIp(1), hcnp, "/any/path");
        assertThat(node1.status()).isEqualTo(200);
        assertThat(node1.body()).contains("\"localEndpoints\": 1");
    }

    /**
     * Whoever holds a health check server's every connection (any local process can) must not fail
     * the node's checks, and with them its load balancers: at the cap the oldest connection makes
     * room, and a checker that comes, asks and goes is answered.
     */
    @Test
    void aHealthCheckServerAtItsCapClosesItsOldestConnectionForANewOne() throws Exception {
        int hcnp = cluster.service("local-lb").getSpec().getHealthCheckNodePort();
        java.util.List<java.net.Socket> held = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < HealthServers.MAX_CONNECTIONS; i++) {
                held.add(new java.net.Socket(cluster.nodeIp(1), hcnp));
            }
            // every one of them is taken: the last of the cap answers
            held.getLast().getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            held.getLast().setSoTimeout(5000);
            assertThat(new String(held.getLast().getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
            // past the cap, a checker is answered (before, it was closed unanswered: a failed check)
            assertThat(Net.get(cluster.nodeIp(1), hcnp, "/").status()).isEqualTo(200);
            // and an old idle one made room for it (the oldest of the server's: the load balancer's own checks
            // may have been open before these, so one of the first few of these)
            await().atMost(Duration.ofSeconds(5)).until(() -> held.subList(0, 5).stream().anyMatch(TrafficPolicyTest::closedByPeer));
        } finally {
            for (java.net.Socket h : held) {
                h.close();
            }
        }
    }

    /**
     * The cap is the health servers' together: connections held on one node's health check port
     * make room for those to another server (each server had a cap of its own, so a local process
     * could hold 1024 descriptors on every one, more than the process keeps for everything else).
     */
    @Test
    void theHealthServersShareOneCap() throws Exception {
        int hcnp = cluster.service("local-lb").getSpec().getHealthCheckNodePort();
        java.util.List<java.net.Socket> held = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < HealthServers.MAX_CONNECTIONS; i++) {
                held.add(new java.net.Socket(cluster.nodeIp(1), hcnp));
            }
            assertThat(Net.get(cluster.nodeIp(2), 10256, "/healthz").status()).isEqualTo(200);
            java.util.List<java.net.Socket> more = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 10; i++) {
                    more.add(new java.net.Socket(cluster.nodeIp(2), 10256));
                }
                // what the other node's server took came out of the connections held on the first
                await().atMost(Duration.ofSeconds(5)).until(() -> held.subList(0, 20).stream().filter(TrafficPolicyTest::closedByPeer).count() >= 5);
            } finally {
                for (java.net.Socket m : more) {
                    m.close();
                }
            }
        } finally {
            for (java.net.Socket h : held) {
                h.close();
            }
        }
    }

    private static boolean closedByPeer(java.net.Socket s) {
        try {
            s.setSoTimeout(50);
            return s.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException e) {
            return true;
        }
    }

    @Test
    void theLoadBalancerSendsOnlyToTheNodeWithPodsAndKeepsTheClientAddress() throws Exception {
        String ip = cluster.loadBalancerIp("local-lb");
        for (int i = 0; i < 30; i++) {
            Net.Response r = Net.get(ip, 8000, "/", "127.0.0.66");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.node()).isEqualTo("node1");
            assertThat(r.echo("client")).startsWith("127.0.0.66:");
        }
    }

    @Test
    void theNodePortOfANodeWithoutLocalPodsDoesNotForward() throws Exception {
        int nodePort = cluster.nodePort("local-lb");
        assertThatThrownBy(() -> Net.get(cluster.nodeIp(2), nodePort, "/")).isInstanceOf(ConnectException.class);
        Net.Response r = Net.get(cluster.nodeIp(1), nodePort, "/", "127.0.0.67");
        assertThat(r.echo("client")).startsWith("127.0.0.67:");
    }

    @Test
    void aFailedNodeLeavesTheRotationWithinTwoSecondsAndComesBack() throws Exception {
        String ip = cluster.loadBalancerIp("cluster-lb");
        assertThat(nodesSeen(ip, 20)).containsExactlyInAnyOrder(cluster.nodeIp(1), cluster.nodeIp(2));

        cluster.local().dataPlane().setNodeFailed("node2", true);
        try {
            long start = System.nanoTime();
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(100))
                    .until(() -> nodesSeen(ip, 10).equals(Set.of(cluster.nodeIp(1))));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            assertThat(nodesSeen(ip, 30)).containsExactly(cluster.nodeIp(1));
        } finally {
            cluster.local().dataPlane().setNodeFailed("node2", false);
        }
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(100))
                .until(() -> nodesSeen(ip, 10).contains(cluster.nodeIp(2)));
    }

    /** The node each request went through (Cluster policy: the pod sees the node's address). */
    private static Set<String> nodesSeen(String ip, int requests) throws IOException {
        Set<String> nodes = new HashSet<>();
        for (int i = 0; i < requests; i++) {
            nodes.add(Net.get(ip, 8080, "/", "127.0.0.10").echo("client").split(":")[0]);
        }
        return nodes;
    }

    @Test
    void anIpv6OnlySourceRangeKeepsIpv4ClientsOut() throws Exception {
        // valid in Kubernetes; it used to let everyone in (the IPv4-only parser dropped it, and no ranges meant all)
        String ip = cluster.loadBalancerIp("v6-only-lb");
        assertThatThrownBy(() -> Net.get(ip, 8081, "/", "127.0.0.10")).isInstanceOf(IOException.class);
        // the same pods, through a Service without ranges, answer: the refusal is the filter's
        assertThat(Net.get(cluster.clusterIp("v6-only-lb"), 8081, "/").status()).isEqualTo(200);
    }

    @Test
    void sourceRangesApplyToTheLoadBalancerAddressOnly() throws Exception {
        String ip = cluster.loadBalancerIp("cluster-lb");
        assertThat(Net.get(ip, 8080, "/", "127.0.0.63").status()).isEqualTo(200);
        assertThatThrownBy(() -> Net.get(ip, 8080, "/", "127.0.0.64")).isInstanceOf(IOException.class);
        assertThat(Net.get(cluster.nodeIp(1), cluster.nodePort("cluster-lb"), "/", "127.0.0.64").status()).isEqualTo(200);
    }

    /**
     * The annotation counts where the field is empty, as in Kubernetes. A Service read back from the
     * store has an empty list there, never null, and the annotation used to be skipped: everyone was let in.
     */
    @Test
    void theSourceRangesAnnotationAppliesWhenTheFieldIsEmpty() throws Exception {
        String ip = cluster.loadBalancerIp("annotated-lb");
        assertThat(Net.get(ip, 8082, "/", "127.0.0.63").status()).isEqualTo(200);
        assertThatThrownBy(() -> Net.get(ip, 8082, "/", "127.0.0.64")).isInstanceOf(IOException.class);
    }
}
