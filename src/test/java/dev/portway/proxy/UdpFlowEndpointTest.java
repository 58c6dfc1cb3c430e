package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.net.Transport;
import dev.portway.plan.Plan;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A UDP flow ends when its endpoint stops serving (its readiness failed), as kube-proxy clears the
 * conntrack entries of such endpoints: a client that keeps sending (DNS from one port, syslog,
 * WireGuard, a game) kept its flow, and every datagram went to an endpoint that was out of
 * service, for as long as it kept sending.
 */
class UdpFlowEndpointTest {

    private static Plan.Cluster cluster(List<Plan.Endpoint> endpoints) {
        return cluster(endpoints, null);
    }

    private static Plan.Cluster cluster(List<Plan.Endpoint> endpoints, Plan.HealthCheck check) {
        return new Plan.Cluster("dns", "default/dns", Plan.Protocol.UDP, endpoints, Plan.Balancer.ROUND_ROBIN, null, false,
                Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ZERO, 10_000, check);
    }

    private static Plan.Endpoint endpoint(DatagramSocket s, boolean serving) {
        InetSocketAddress a = (InetSocketAddress) s.getLocalSocketAddress();
        return new Plan.Endpoint(a, null, a.getAddress().getHostAddress(), serving, serving, false);
    }

    /** A ClusterIP listener of the cluster on a port free at {@code ip} now. */
    private static Plan.Listener listenerOn(String ip) throws java.io.IOException {
        int port;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(ip, 0))) {
            port = probe.getLocalPort();
        }
        return new Plan.Listener(new Plan.ListenerKey(Plan.Protocol.UDP, new InetSocketAddress(ip, port)), Plan.Role.CLUSTER_IP,
                "default/dns", "dns", null, null, false, Plan.Source.CLIENT, List.of(), true);
    }

    /** An endpoint that answers each datagram with its own name. */
    private static DatagramSocket answering(String ip, String name, List<DatagramSocket> open) throws java.io.IOException {
        return answering(ip, name, open, new java.util.concurrent.ConcurrentLinkedQueue<>());
    }

    /** As above, noting the port each datagram came from (a flow's own socket toward the endpoint). */
    private static DatagramSocket answering(String ip, String name, List<DatagramSocket> open, java.util.Queue<Integer> fromPorts)
            throws java.io.IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(ip, 0));
        open.add(s);
        Thread.ofVirtual().start(() -> {
            byte[] buf = new byte[512];
            while (!s.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    fromPorts.add(p.getPort());
                    byte[] answer = name.getBytes(StandardCharsets.US_ASCII);
                    s.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
                } catch (java.io.IOException closed) {
                    return;
                }
            }
        });
        return s;
    }

    private static String ask(DatagramSocket client, InetSocketAddress to) throws java.io.IOException {
        client.send(new DatagramPacket(new byte[] {'q'}, 1, to));
        byte[] buf = new byte[64];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            client.receive(p);
            return new String(buf, 0, p.getLength(), StandardCharsets.US_ASCII);
        } catch (java.net.SocketTimeoutException e) {
            return null;
        }
    }

    @Test
    void aFlowEndsWhenItsEndpointStopsServing() throws Exception {
        List<DatagramSocket> open = new ArrayList<>();
        DataPlane plane = new DataPlane(Transport.best(), 1, new PrometheusRegistry(), Clock.systemUTC());
        try {
            DatagramSocket a = answering("127.0.65.2", "a", open);
            DatagramSocket b = answering("127.0.65.3", "b", open);
            Plan.Listener listener = listenerOn("127.0.65.1");
            InetSocketAddress service = listener.key().address();
            int port = service.getPort();
            plane.apply(new Plan(1, List.of(listener), Map.of("dns", cluster(List.of(endpoint(a, true)))), List.of()));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> "bound".equals(plane.listenerStatus().get("udp/127.0.65.1:" + port)));
            DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            open.add(client);
            client.setSoTimeout(500);
            assertThat(ask(client, service)).isEqualTo("a");
            // a's readiness fails: still listed, no longer serving; b serves
            plane.apply(new Plan(2, List.of(listener), Map.of("dns", cluster(List.of(endpoint(a, false), endpoint(b, true)))), List.of()));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                    .until(() -> "b".equals(ask(client, service)));
        } finally {
            plane.close();
            open.forEach(DatagramSocket::close);
        }
    }

    /**
     * A flow ends for its endpoint's health only when a pick would not choose that endpoint now:
     * when every candidate (the ready endpoints, here one) fails its checks, a pick uses them all
     * (fail open), and the sweep, which took any healthy serving endpoint (here a terminating one)
     * as a reason to end the flow, gave its client a new source port toward the same endpoint every
     * 250 ms.
     */
    @Test
    void aFlowIsKeptWhenEveryCandidateFailsItsChecks() throws Exception {
        List<DatagramSocket> open = new ArrayList<>();
        List<Runnable> closers = new ArrayList<>();
        java.util.Queue<Integer> fromPorts = new java.util.concurrent.ConcurrentLinkedQueue<>();
        DataPlane plane = new DataPlane(Transport.best(), 1, new PrometheusRegistry(), Clock.systemUTC());
        try {
            DatagramSocket a = answering("127.0.65.5", "a", open, fromPorts);
            DatagramSocket b = answering("127.0.65.6", "b", open); // terminating: a pick takes it only when no endpoint is ready
            InetSocketAddress bAt = (InetSocketAddress) b.getLocalSocketAddress();
            Plan.Endpoint terminating = new Plan.Endpoint(bAt, null, "b", false, true, true);
            Plan.Listener listener = listenerOn("127.0.65.4");
            InetSocketAddress service = listener.key().address();
            int port = service.getPort();
            // the health server answers on b's address alone: a fails its checks, b passes them
            com.sun.net.httpserver.HttpServer health = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.65.6", 0), 0);
            health.createContext("/healthz", x -> {
                x.sendResponseHeaders(200, -1);
                x.close();
            });
            health.start();
            closers.add(() -> health.stop(0));
            Plan.HealthCheck check = new Plan.HealthCheck(health.getAddress().getPort(), "/healthz", Duration.ofMillis(100),
                    Duration.ofSeconds(1), 1, 1);
            plane.apply(new Plan(1, List.of(listener), Map.of("dns", cluster(List.of(endpoint(a, true), terminating), check)), List.of()));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> "bound".equals(plane.listenerStatus().get("udp/127.0.65.4:" + port)));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() ->
                    !plane.cluster("dns").isHealthy((InetSocketAddress) a.getLocalSocketAddress()) && plane.cluster("dns").isHealthy(bAt));
            DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            open.add(client);
            client.setSoTimeout(500);
            for (int i = 0; i < 8; i++) { // past several sweeps
                assertThat(ask(client, service)).isEqualTo("a");
                org.awaitility.Awaitility.await().pollDelay(Duration.ofMillis(150)).until(() -> true);
            }
            assertThat(new java.util.HashSet<>(fromPorts)).as("the flow's ports toward the endpoint").hasSize(1);
        } finally {
            plane.close();
            open.forEach(DatagramSocket::close);
            closers.forEach(Runnable::run);
        }
    }
}
