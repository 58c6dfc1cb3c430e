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
 * listeners and its API answer as usual. UDP flows are capped the same way.
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
                    metadata: {name: other}
                    spec:
                      selector: {app: web}
                      ports: [{port: 8000, targetPort: http}]
                    """.formatted(CAP));
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
            } finally {
                for (Socket s : flood) {
                    s.close();
                }
            }
            // the slots come back when the flood's connections go
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> Net.get(cluster.nodeIp(1), nodePort, "/").status() == 200);

            // UDP: new flows past the cap are dropped
            int udpPort = cluster.service("flooded").getSpec().getPorts().get(1).getNodePort();
            List<DatagramSocket> sources = new ArrayList<>();
            try {
                for (int i = 0; i < CAP + 30; i++) {
                    DatagramSocket d = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                    d.setSoTimeout(500);
                    byte[] hello = ("flow " + i).getBytes();
                    d.send(new DatagramPacket(hello, hello.length, new InetSocketAddress(cluster.nodeIp(1), udpPort)));
                    sources.add(d);
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> new AdminHttp(cluster.local()).get("/metrics").body()
                        .contains("reason=\"flow_limit\""));
            } finally {
                sources.forEach(DatagramSocket::close);
            }
        }
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
