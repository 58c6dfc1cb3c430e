package dev.portway.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.AdminHttp;
import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A flood of connections from one source on one listener: the listener holds its cap
 * ({@code portway.dev/max-connections}) and refuses the rest with a reset, while Portway's other
 * listeners and its API answer as usual. UDP flows are capped the same way; when the table is full,
 * the oldest flow never answered makes room (conntrack's early drop), answered ones are kept.
 */
class ConnectionFloodTest {

    private static final int CAP = 50;
    private static final int FLOOD = 400;

    @Test
    void aFloodedListenerHoldsItsCapAndEverythingElseStillAnswers() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            cluster.apply(TestCluster.echoDeployment("web", 1, null) + """
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata:
                      name: flooded
                      annotations: {portway.dev/max-connections: "%d"}
                    spec:
                      type: NodePort
                      selector: {app: web}
                      ports:
                      - {name: tcp, port: 8000, targetPort: http}
                      - {name: udp, port: 5300, targetPort: dns, protocol: UDP}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata:
                      name: silent
                      annotations: {portway.dev/max-connections: "%d"}
                    spec:
                      type: NodePort
                      ports:
                      - {name: udp, port: 5300, targetPort: 5399, protocol: UDP}
                    ---
                    apiVersion: discovery.k8s.io/v1
                    kind: EndpointSlice
                    metadata:
                      name: silent-1
                      labels: {kubernetes.io/service-name: silent}
                    addressType: IPv4
                    ports: [{name: udp, port: 5399, protocol: UDP}]
                    endpoints:
                    - addresses: [127.0.0.99]
                      conditions: {ready: true}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata:
                      name: many
                      annotations: {portway.dev/max-connections: "%d"}
                    spec:
                      type: NodePort
                      selector: {app: web}
                      ports:
                      - {name: udp, port: 5300, targetPort: dns, protocol: UDP}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: other}
                    spec:
                      selector: {app: web}
                      ports: [{port: 8000, targetPort: http}]
                    """.formatted(CAP, CAP, CAP));
            cluster.awaitReady("web", 1);
            cluster.settle();
            int nodePort = cluster.service("flooded").getSpec().getPorts().getFirst().getNodePort();
            List<Socket> flood = new ArrayList<>();
            long start = System.nanoTime();
            try {
                int resetWhileConnecting = 0;
                for (int i = 0; i < FLOOD; i++) {
                    Socket s = new Socket();
                    try {
                        s.connect(new InetSocketAddress(cluster.nodeIp(1), nodePort), 5000);
                    } catch (java.net.SocketException e) {
                        // over the cap, Portway resets at once: sometimes before the client's connect() returns
                        s.close();
                        resetWhileConnecting++;
                        continue;
                    }
                    s.setSoTimeout(20);
                    flood.add(s);
                }
                assertThat(resetWhileConnecting).isLessThanOrEqualTo(FLOOD - CAP);
                // what is over the cap is reset; the rest stays open (a read times out, as on a quiet connection)
                await().atMost(Duration.ofSeconds(10)).until(() -> held(flood) == CAP);
                FaultsUnderLoadTest.report("a flood of " + FLOOD + " connections from one source on a listener capped at " + CAP
                        + ": " + CAP + " held, " + (FLOOD - CAP) + " reset, in " + (System.nanoTime() - start) / 1_000_000 + " ms");

                // meanwhile: another listener, and the API
                long t = System.nanoTime();
                assertThat(Net.get(cluster.clusterIp("other"), 8000, "/").status()).isEqualTo(200);
                assertThat(new AdminHttp(cluster.local()).get("/readyz").statusCode()).isEqualTo(200);
                FaultsUnderLoadTest.report("during the flood, another listener and the API answered in "
                        + (System.nanoTime() - t) / 1_000_000 + " ms");
                assertThat(new AdminHttp(cluster.local()).get("/metrics").body())
                        .containsPattern("portway_listener_refused_total\\{[^}]*reason=\"connection_limit\"[^}]*} (3[5-9][0-9]|[4-9][0-9][0-9])\\.0");
                // ... and a client of another address still gets in: the source that holds the cap gives up a
                // connection (one client with idle connections, which live an hour, locked every other out)
                await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                        .until(() -> answered("127.0.0.2", new InetSocketAddress(cluster.nodeIp(1), nodePort)));
                assertThat(new AdminHttp(cluster.local()).get("/metrics").body()).contains("reason=\"connection_evicted\"");
                await().atMost(Duration.ofSeconds(10)).until(() -> held(flood) < CAP);
            } finally {
                for (Socket s : flood) {
                    s.close();
                }
            }
            // the slots come back when the flood's connections go
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> Net.get(cluster.nodeIp(1), nodePort, "/").status() == 200);

            // the heaviest source is found again as connections come and go: one that held the most and left must not
            // leave another's hold on the cap in place (heaviest was only ever updated as connections came)
            InetSocketAddress node = new InetSocketAddress(cluster.nodeIp(1), nodePort);
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    held.add(connect("127.0.0.3", node)); // the one that will hold the cap
                }
                List<Socket> leaving = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    leaving.add(connect("127.0.0.4", node)); // the heaviest, for a moment
                }
                for (Socket l : leaving) {
                    l.close();
                }
                await().pollDelay(Duration.ofMillis(300)).until(() -> true); // their slots come back
                // the cap filled with one connection from each of many addresses (each reset one, if any, replaced)
                for (int i = 0; i < 100 && held(held) < CAP; i++) {
                    for (int k = held(held); k < CAP; k++) {
                        held.add(connect("127.0." + (10 + held.size() / 250) + "." + (held.size() % 250 + 1), node));
                    }
                }
                assertThat(held(held)).isEqualTo(CAP);
                await().pollDelay(Duration.ofMillis(200)).until(() -> true); // past the walk's rate limit
                await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> answered("127.0.6.1", node));
            } finally {
                for (Socket h : held) {
                    h.close();
                }
            }

            // UDP: flows of one question and one answer (a DNS lookup, each from a port of its own) do not
            // lock the table: the oldest gives way to a new client, as conntrack's early drop does. One reply
            // used to make a flow permanent, and a host asking from 10,000 ports refused every other client
            int udpPort = cluster.service("flooded").getSpec().getPorts().get(1).getNodePort();
            InetSocketAddress flooded = new InetSocketAddress(cluster.nodeIp(1), udpPort);
            List<DatagramSocket> sources = new ArrayList<>();
            // the one-shot clients' sockets stay open to the end: closed, their ports could be given to the
            // next clients, whose datagrams would then belong to the one-shot flows still in the table
            List<DatagramSocket> oneShot = new ArrayList<>();
            try {
                for (int i = 0; i < CAP; i++) {
                    oneShot.add(udpSource());
                    assertThat(roundTrip(oneShot.get(i), flooded, "lookup " + i)).isEqualTo("lookup " + i);
                }
                DatagramSocket newcomer = udpSource();
                oneShot.add(newcomer);
                assertThat(roundTrip(newcomer, flooded, "newcomer")).as("a new client past the cap of one-shot flows").isEqualTo("newcomer");
                // ... while flows still going two seconds after they began are assured: a full table of those
                // keeps them, and drops new ones past the cap from the address that holds them
                try {
                    for (int i = 0; i < CAP; i++) {
                        sources.add(udpSource());
                        assertThat(roundTrip(sources.get(i), flooded, "flow " + i)).isEqualTo("flow " + i);
                    }
                    await().pollDelay(Duration.ofMillis(2100)).until(() -> true);
                    for (int i = 0; i < CAP; i++) {
                        assertThat(roundTrip(sources.get(i), flooded, "flow " + i + " on")).isEqualTo("flow " + i + " on");
                    }
                    for (int i = 0; i < 30; i++) {
                        DatagramSocket d = udpSource();
                        sources.add(d);
                        d.send(datagram("late " + i, flooded));
                    }
                    await().atMost(Duration.ofSeconds(5)).until(() -> new AdminHttp(cluster.local()).get("/metrics").body()
                            .contains("reason=\"flow_limit\""));
                    assertThat(roundTrip(sources.get(CAP), flooded, "late again")).as("past the cap: no flow").isNull();
                    assertThat(roundTrip(sources.get(0), flooded, "flow 0 again")).as("an assured flow is kept").isEqualTo("flow 0 again");
                    // ... but one host cannot lock the others out so: a client of another address takes the oldest flow
                    // of the address that holds the most (asking again from each port assures them all)
                    DatagramSocket otherHost = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
                    otherHost.setSoTimeout(500);
                    sources.add(otherHost);
                    assertThat(roundTrip(otherHost, flooded, "another host")).as("a client of another address, past a cap one host holds")
                            .isEqualTo("another host");
                    // ... and the host that holds the rest cannot take that flow back, before it is assured, by asking
                    // from a new port (conntrack's early drop of the oldest flow not assured would give it up); at most
                    // it gives up one of its own idle flows for the new port
                    DatagramSocket churn = udpSource();
                    sources.add(churn);
                    roundTrip(churn, flooded, "churn");
                    assertThat(roundTrip(otherHost, flooded, "another host again")).isEqualTo("another host again");
                } finally {
                    sources.forEach(DatagramSocket::close);
                    sources.clear();
                }
                // ... and a table full of assured flows, one per source address (as spoofed sources make them: the
                // answer goes to the spoofed address, a second datagram two seconds later assures the flow), does not
                // lock new clients out: the flow idle longest gives way (it refused every new client)
                InetSocketAddress many = new InetSocketAddress(cluster.nodeIp(1), cluster.service("many").getSpec().getPorts().getFirst().getNodePort());
                try {
                    for (int i = 0; i < CAP; i++) {
                        DatagramSocket d = new DatagramSocket(new InetSocketAddress("127.0.8." + (i + 1), 0));
                        d.setSoTimeout(500);
                        sources.add(d);
                        assertThat(roundTrip(d, many, "one of many " + i)).isEqualTo("one of many " + i);
                    }
                    await().pollDelay(Duration.ofMillis(2100)).until(() -> true);
                    for (int i = 0; i < CAP; i++) {
                        assertThat(roundTrip(sources.get(i), many, "assured " + i)).isEqualTo("assured " + i);
                    }
                    await().pollDelay(Duration.ofMillis(1500)).until(() -> true); // idle past a second, and a sweep
                    DatagramSocket late = new DatagramSocket(new InetSocketAddress("127.0.9.1", 0));
                    late.setSoTimeout(500);
                    sources.add(late);
                    assertThat(roundTrip(late, many, "a new client")).as("past a cap of assured flows, one per source")
                            .isEqualTo("a new client");
                } finally {
                    sources.forEach(DatagramSocket::close);
                    sources.clear();
                }
                // ... and a flood of flows that are never answered (spoofed sources) does not lock new clients
                // out: the oldest unanswered flow makes room for the new one (conntrack's early drop)
                InetSocketAddress silent = new InetSocketAddress(cluster.nodeIp(1),
                        cluster.service("silent").getSpec().getPorts().getFirst().getNodePort());
                try {
                    for (int i = 0; i < CAP + 30; i++) {
                        DatagramSocket d = udpSource();
                        sources.add(d);
                        d.send(datagram("spoofed " + i, silent));
                    }
                    await().atMost(Duration.ofSeconds(5)).until(() -> new AdminHttp(cluster.local()).get("/metrics").body()
                            .contains("reason=\"flow_evicted\""));
                    String metrics = new AdminHttp(cluster.local()).get("/metrics").body();
                    assertThat(metrics.lines().filter(l -> l.contains("silent") && l.contains("flow_limit"))).as("no new flow refused").isEmpty();
                    assertThat(metrics.lines().filter(l -> l.startsWith("portway_udp_flows{") && l.contains("silent"))
                            .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum())
                            .as("flows held").isLessThanOrEqualTo(CAP);
                } finally {
                    sources.forEach(DatagramSocket::close);
                }
            } finally {
                oneShot.forEach(DatagramSocket::close);
            }
        }
    }

    /**
     * Connections a LoadBalancer fuses into a node's listener count there by their client's
     * address, as the node's own: a flood through the LoadBalancer that holds the node listener's
     * cap gives up a connection to a client of another address on the node's NodePort.
     */
    @Test
    void aFloodThroughALoadBalancerGivesWayOnTheNodeToo() throws Exception {
        int cap = 20;
        try (TestCluster cluster = new TestCluster()) {
            cluster.apply(TestCluster.echoDeployment("web", 1, null) + """
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata:
                      name: fused
                      annotations: {portway.dev/max-connections: "%d"}
                    spec:
                      type: LoadBalancer
                      externalTrafficPolicy: Local
                      selector: {app: web}
                      ports:
                      - {port: 8000, targetPort: http}
                    """.formatted(cap));
            // Local: every connection goes to the pod's node, once the LoadBalancer sees it healthy
            String node = cluster.awaitReady("web", 1).getFirst().getStatus().getHostIP();
            InetSocketAddress lb = new InetSocketAddress(cluster.loadBalancerIp("fused"), 8000);
            cluster.settle();
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> answered("127.0.0.1", lb));
            List<Socket> flood = new ArrayList<>();
            try {
                for (int i = 0; i < cap; i++) {
                    flood.add(connect("127.0.0.1", lb));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> held(flood) == cap);
                InetSocketAddress nodePort = new InetSocketAddress(node, cluster.nodePort("fused"));
                await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> answered("127.0.0.2", nodePort));
                await().atMost(Duration.ofSeconds(10)).until(() -> held(flood) < cap);
            } finally {
                for (Socket s : flood) {
                    s.close();
                }
            }
        }
    }

    /** Whether a request from {@code source} to {@code to} is answered 200. */
    private static boolean answered(String source, InetSocketAddress to) throws IOException {
        try (Socket s = connect(source, to)) {
            s.setSoTimeout(2000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII).equals("HTTP/1.1 200");
        }
    }

    /** A connection from {@code source} to {@code to}, open (not refused) as far as the client can tell. */
    private static Socket connect(String source, InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(source, 0));
        s.connect(to, 2000);
        s.setSoTimeout(20); // a read that times out: open (see held)
        return s;
    }

    private static DatagramSocket udpSource() throws IOException {
        DatagramSocket d = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        d.setSoTimeout(500);
        return d;
    }

    private static DatagramPacket datagram(String text, InetSocketAddress to) {
        byte[] b = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return new DatagramPacket(b, b.length, to);
    }

    /** Sends {@code text} and returns the reply, or null if none came within 500 ms. */
    private static String roundTrip(DatagramSocket d, InetSocketAddress to, String text) throws IOException {
        d.send(datagram(text, to));
        DatagramPacket reply = new DatagramPacket(new byte[256], 256);
        try {
            d.receive(reply);
        } catch (SocketTimeoutException e) {
            return null;
        }
        return new String(reply.getData(), 0, reply.getLength(), java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** How many of the sockets are still open (a read times out rather than ending or failing). */
    private static int held(List<Socket> sockets) {
        int open = 0;
        for (Socket s : sockets) {
            if (s.isClosed()) {
                continue;
            }
            try {
                if (s.getInputStream().read() < 0) {
                    s.close();
                } else {
                    open++;
                }
            } catch (SocketTimeoutException e) {
                open++;
            } catch (IOException e) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closed
                }
            }
        }
        return open;
    }
}
