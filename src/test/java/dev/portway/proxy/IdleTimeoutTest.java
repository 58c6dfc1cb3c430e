package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.TestApi;
import dev.portway.testing.TestCluster;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A relayed TCP connection that goes silent is closed after the Service's idle timeout
 * ({@code portway.dev/tcp-idle-timeout}; HAProxy's {@code timeout tunnel}), one that keeps talking
 * is not; and Portway's annotations are judged when applied, not quietly replaced by defaults.
 */
class IdleTimeoutTest {

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster();
        cluster.apply(TestCluster.echoDeployment("quiet", 1, null) + """
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: quiet
                  annotations:
                    portway.dev/tcp-idle-timeout: 1s
                spec:
                  selector: {app: quiet}
                  ports:
                  - {port: 8000, targetPort: http}
                """);
        cluster.awaitReady("quiet", 1);
        cluster.settle();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static Socket open() throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(cluster.clusterIp("quiet"), 8000), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Sends one keep-alive request and reads its whole answer (the echo server's has a Content-Length). */
    private static void exchange(Socket s) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write("GET / HTTP/1.1\r\nHost: quiet\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("answer so far: " + head).isNotNegative();
            head.append((char) b);
        }
        int length = Integer.parseInt(head.toString().lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                .findFirst().orElseThrow().split(":")[1].trim());
        assertThat(in.readNBytes(length)).hasSize(length);
    }

    @Test
    void aSilentConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (Socket s = open()) {
            exchange(s);
            long start = System.nanoTime();
            // nothing moves now: Portway closes both sides, and the client reads the end
            int b;
            try {
                b = s.getInputStream().read();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the connection was still open after 10 s of silence", e);
            }
            assertThat(b).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(5));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> new dev.portway.testing.AdminHttp(cluster.local()).get("/metrics").body()
                .contains("portway_idle_timeouts_total{role=\"cluster_ip\",service=\"default/quiet\"} 1.0"));
    }

    @Test
    void aConnectionThatKeepsTalkingStaysOpen() throws Exception {
        try (Socket s = open()) {
            long end = System.nanoTime() + Duration.ofMillis(2500).toNanos();
            while (System.nanoTime() < end) {
                exchange(s);  // every request resets the clock; each takes well under the timeout
                await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> true);
            }
            exchange(s);
        }
    }

    @Test
    void malformedAnnotationsAreRefusedWithTheirFieldPath() {
        String error = new TestApi().applyError("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: bad
                  annotations:
                    portway.dev/tcp-idle-timeout: soon
                    portway.dev/proxy-protocol: v1
                    portway.dev/load-balancer-policy: least-conn
                spec:
                  selector: {app: x}
                  ports: [{port: 8000}]
                """);
        assertThat(error).contains("metadata.annotations[portway.dev/tcp-idle-timeout]: Invalid value: \"soon\"")
                .contains("metadata.annotations[portway.dev/proxy-protocol]: Unsupported value: \"v1\"")
                .contains("metadata.annotations[portway.dev/load-balancer-policy]: Unsupported value: \"least-conn\"");
    }

    /**
     * The upstream resets while Portway still holds bytes for a client that reads none: the
     * client's side closes once those are written, which may be never. The idle timeout now still
     * runs for it (it was cancelled with the first side's close), so the connection, and its slot
     * under max-connections, does not stay for good.
     */
    @Test
    void aClientThatReadsNothingAfterItsUpstreamResetIsClosedAfterTheIdleTimeout() throws Exception {
        try (java.net.ServerSocket backend = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
            Thread server = Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        Socket c = backend.accept();
                        if (accepted.incrementAndGet() > 1) {
                            c.close();
                            continue;
                        }
                        // floods the first client (it is never done: the client reads nothing), then resets its connection
                        java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
                        Thread.ofVirtual().start(() -> {
                            byte[] chunk = new byte[64 * 1024];
                            try {
                                while (true) {
                                    c.getOutputStream().write(chunk);
                                    written.addAndGet(chunk.length);
                                }
                            } catch (java.io.IOException reset) {
                                // by the reset below
                            }
                        });
                        // more than the client's buffers hold: the proxy has bytes for it that it will not read
                        await().atMost(Duration.ofSeconds(5)).until(() -> written.get() > 1 << 20);
                        c.setSoLinger(true, 0);
                        c.close();
                    }
                } catch (Exception stopped) {
                    // the test is over
                }
            });
            cluster.apply(TestCluster.serviceTo("stalled", """
                    portway.dev/tcp-idle-timeout: 1s
                    portway.dev/max-connections: "1"
                    """, backend.getLocalPort(), "127.0.0.1"));
            cluster.settle();
            InetSocketAddress service = new InetSocketAddress(cluster.clusterIp("stalled"), 8000);
            dev.portway.proxy.DataPlane plane = cluster.local().dataPlane();
            int before = plane.clientConnections();
            try (Socket silent = new Socket()) {
                silent.setReceiveBufferSize(4096);
                silent.connect(service, 5000);
                await().atMost(Duration.ofSeconds(5)).until(() -> accepted.get() == 1);
                // the first client's connection goes at the idle timeout, unread bytes and all, and its slot with it
                await().atMost(Duration.ofSeconds(8)).until(() -> plane.clientConnections() == before);
                try (Socket next = new Socket()) {
                    next.connect(service, 2000);
                    await().atMost(Duration.ofSeconds(5)).until(() -> accepted.get() > 1);
                }
            } finally {
                server.interrupt();
            }
        }
    }
}
