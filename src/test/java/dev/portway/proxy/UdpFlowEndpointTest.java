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
        return new Plan.Cluster("dns", "default/dns", Plan.Protocol.UDP, endpoints, Plan.Balancer.ROUND_ROBIN, null, false,
                Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ZERO, 10_000, null);
    }

    private static Plan.Endpoint endpoint(DatagramSocket s, boolean serving) {
        InetSocketAddress a = (InetSocketAddress) s.getLocalSocketAddress();
        return new Plan.Endpoint(a, null, a.getAddress().getHostAddress(), serving, serving, false);
    }

    /** An endpoint that answers each datagram with its own name. */
    private static DatagramSocket answering(String ip, String name, List<DatagramSocket> open) throws java.io.IOException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(ip, 0));
        open.add(s);
        Thread.ofVirtual().start(() -> {
            byte[] buf = new byte[512];
            while (!s.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
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
            int port;
            try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress("127.0.65.1", 0))) {
                port = probe.getLocalPort();
            }
            InetSocketAddress service = new InetSocketAddress("127.0.65.1", port);
            Plan.Listener listener = new Plan.Listener(new Plan.ListenerKey(Plan.Protocol.UDP, service), Plan.Role.CLUSTER_IP,
                    "default/dns", "dns", null, null, false, Plan.Source.CLIENT, List.of(), true);
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
}
