package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Pod;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How connections pick endpoints: ClientIP session affinity, a retry when an endpoint refuses,
 * the PROXY protocol toward endpoints, UDP flows, and an immediate refusal when there is no endpoint.
 */
class BalancingTest {

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster();
        cluster.apply(TestCluster.echoDeployment("web", 4, null) + """
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: sticky
                spec:
                  selector: {app: web}
                  sessionAffinity: ClientIP
                  ports:
                  - {port: 8000, targetPort: http}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: spread
                spec:
                  selector: {app: web}
                  ports:
                  - {port: 8000, targetPort: http}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: proxied
                  annotations:
                    portway.dev/proxy-protocol: v2
                spec:
                  selector: {app: web}
                  ports:
                  - {port: 8000, targetPort: http}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: dns
                spec:
                  type: NodePort
                  selector: {app: web}
                  ports:
                  - {name: dns, port: 5300, targetPort: dns, protocol: UDP}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: nobody
                spec:
                  type: NodePort
                  selector: {app: nothing-has-this-label}
                  ports:
                  - {port: 8000}
                """);
        cluster.awaitReady("web", 4);
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void clientIpAffinityKeepsOneClientOnOnePod() throws Exception {
        String ip = cluster.clusterIp("sticky");
        Set<String> pods = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            pods.add(Net.get(ip, 8000, "/", "127.0.0.55").pod());
        }
        assertThat(pods).as("50 connections from one client address").hasSize(1);

        Set<String> withoutAffinity = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            withoutAffinity.add(Net.get(cluster.clusterIp("spread"), 8000, "/", "127.0.0.55").pod());
        }
        assertThat(withoutAffinity).as("the same client without affinity").hasSize(4);
    }

    @Test
    void anEndpointThatRefusesIsRetriedOnAnother() throws Exception {
        Pod live = cluster.pods("web").getFirst();
        cluster.apply("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: external
                spec:
                  ports:
                  - {port: 8000, targetPort: 8080}
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: external-1
                  labels:
                    kubernetes.io/service-name: external
                addressType: IPv4
                ports:
                - {port: 8080}
                endpoints:
                - addresses: ["127.1.200.1"]
                - addresses: ["127.1.200.2"]
                - addresses: ["%s"]
                """.formatted(live.getStatus().getPodIP()));
        cluster.settle();
        for (int i = 0; i < 12; i++) {
            assertThat(Net.get(cluster.clusterIp("external"), 8000, "/").pod()).isEqualTo(live.getMetadata().getName());
        }
    }

    @Test
    void theProxyProtocolCarriesTheClientAddressToThePod() throws Exception {
        Net.Response r = Net.get(cluster.clusterIp("proxied"), 8000, "/", "127.0.0.60");
        assertThat(r.echo("proxied client")).startsWith("127.0.0.60:");
    }

    @Test
    void udpNodePortRoundTrip() throws Exception {
        int nodePort = cluster.nodePort("dns");
        assertThat(Net.udp(cluster.nodeIp(1), nodePort, "ping over node1", "127.0.0.61")).isEqualTo("ping over node1");
        assertThat(Net.udp(cluster.nodeIp(2), nodePort, "ping over node2", "127.0.0.61")).isEqualTo("ping over node2");
        assertThat(Net.udp(cluster.clusterIp("dns"), 5300, "ping over the ClusterIP", null)).isEqualTo("ping over the ClusterIP");
    }

    @Test
    void aDatagramLargerThanABufferOfTwoKibibytesGoesWhole() throws Exception {
        String big = "0123456789abcdef".repeat(1000) + "end"; // 16,003 bytes: truncated at 2 KiB before
        assertThat(Net.udp(cluster.nodeIp(1), cluster.nodePort("dns"), big, "127.0.0.61")).isEqualTo(big);
        assertThat(Net.udp(cluster.clusterIp("dns"), 5300, big, null)).isEqualTo(big);
    }

    /** A UDP flow holds a descriptor as a connection does: the process's cap over all listeners counts it. */
    @Test
    void aUdpFlowCountsAgainstTheProcessCapOfConnections() throws Exception {
        DataPlane plane = cluster.local().dataPlane();
        try {
            plane.maxClientConnections(0); // full, whatever else opens or closes meanwhile
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Net.udp(cluster.clusterIp("dns"), 5300, "no room", "127.0.0.62"))
                    .isInstanceOf(java.io.IOException.class);
        } finally {
            plane.maxClientConnections(DataPlane.defaultMaxClientConnections());
        }
        assertThat(Net.udp(cluster.clusterIp("dns"), 5300, "room again", "127.0.0.63")).isEqualTo("room again");
    }

    @Test
    void everyUdpFlowGetsItsOwnRepliesOnly() throws Exception {
        // each flow's socket toward the endpoint must have a port of its own: two flows sharing one
        // (SO_REUSEADDR let the kernel hand out a port twice) sent one client's replies to the other.
        // 1,500 flows at once, every one asked twice; in batches, as a burst past the listening
        // socket's receive buffer (about 250 small datagrams) is dropped by the kernel
        int flows = 1500;
        InetSocketAddress service = new InetSocketAddress(cluster.nodeIp(1), cluster.nodePort("dns"));
        List<java.net.DatagramSocket> clients = new ArrayList<>();
        try {
            for (int i = 0; i < flows; i++) {
                java.net.DatagramSocket s = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.62", 0));
                s.setSoTimeout(2000);
                clients.add(s);
            }
            List<String> wrong = new ArrayList<>();
            for (String round : new String[] {"first", "second"}) {
                for (int batch = 0; batch < flows && wrong.size() < 10; batch += 100) {
                    for (int i = batch; i < batch + 100; i++) {
                        byte[] token = (round + " " + i).getBytes(StandardCharsets.US_ASCII);
                        clients.get(i).send(new java.net.DatagramPacket(token, token.length, service));
                    }
                    for (int i = batch; i < batch + 100; i++) {
                        java.net.DatagramPacket reply = new java.net.DatagramPacket(new byte[256], 256);
                        String got;
                        try {
                            clients.get(i).receive(reply);
                            got = new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII);
                        } catch (java.net.SocketTimeoutException e) {
                            got = "nothing";
                        }
                        if (!got.equals(round + " " + i)) {
                            wrong.add(round + " " + i + " got " + got);
                        }
                    }
                }
            }
            assertThat(wrong).isEmpty();
        } finally {
            clients.forEach(java.net.DatagramSocket::close);
        }
    }

    @Test
    void withoutEndpointsAConnectionIsRefusedAtOnce() {
        for (String[] target : new String[][] {{cluster.clusterIp("nobody"), "8000"},
                {cluster.nodeIp(1), Integer.toString(cluster.nodePort("nobody"))}}) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> Net.get(target[0], Integer.parseInt(target[1]), "/")).isInstanceOf(ConnectException.class)
                    .hasMessageContaining("Connection refused");
            assertThat((System.nanoTime() - start) / 1_000_000).as("milliseconds to fail").isLessThan(100);
        }
    }
}
