package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestCluster;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.time.Duration;
import static org.awaitility.Awaitility.await;
import org.junit.jupiter.api.Test;

/**
 * A client that sends fast and reads slowly must not make the proxy buffer everything: with
 * auto-read off and reads only while the other side can take more, what the proxy holds stays
 * small, and every byte still arrives.
 */
class BackpressureTest {

    private static final int TOTAL = 128 * 1024 * 1024;

    @Test
    void aSlowReaderStopsTheProxyFromReadingInsteadOfBuffering() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            cluster.apply(TestCluster.echoDeployment("echo", 1, null) + """
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata:
                      name: echo
                    spec:
                      selector: {app: echo}
                      ports:
                      - {port: 7000, targetPort: http}
                    """);
            cluster.awaitReady("echo", 1);
            InetSocketAddress service = new InetSocketAddress(cluster.clusterIp("echo"), 7000);
            // transfers at full speed first, as many at once as there are event loops (each loop
            // allocates from its own pool): the pools grow to what bulk reads take (a chunk holds
            // eight of the relay's largest buffers), and that is not hoarding
            CompletableFuture.allOf(java.util.stream.IntStream.range(0, 4)
                    .mapToObj(i -> CompletableFuture.runAsync(() -> warmUp(service), task -> Thread.ofVirtual().start(task)))
                    .toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            try (Socket socket = new Socket()) {
                socket.setReceiveBufferSize(64 * 1024);
                socket.connect(service, 5000);
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();
                AtomicLong sent = new AtomicLong();
                // what the allocator holds already (other tests in this JVM leave chunks in its pools) is not this test's
                long baseline = usedMemory();
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    byte[] chunk = new byte[64 * 1024];
                    java.util.Arrays.fill(chunk, (byte) 'x');
                    try {
                        while (sent.get() < TOTAL) {
                            out.write(chunk);
                            sent.addAndGet(chunk.length);
                        }
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, task -> Thread.ofVirtual().start(task));
                // Nobody reads for a second: the writer must stay blocked, and the proxy must not hoard.
                AtomicLong maxHeld = new AtomicLong();
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).until(() -> {
                    maxHeld.accumulateAndGet(usedMemory(), Math::max);
                    return !writer.isDone();
                });
                // Kernel socket buffers along the three hops take tens of megabytes (Linux grows a
                // receive buffer up to net.ipv4.tcp_rmem's largest, 32 MiB on many machines, the
                // faster its reader drains it); the rest must wait.
                assertThat(sent.get()).as("bytes the writer got out while nobody read (the proxy's buffers grew by %d)",
                        maxHeld.get() - baseline).isLessThan(TOTAL / 2);
                byte[] buf = new byte[256 * 1024];
                long received = 0;
                while (received < TOTAL) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    received += n;
                    if (received < TOTAL / 2) {
                        maxHeld.accumulateAndGet(usedMemory(), Math::max);
                    }
                }
                assertThat(received).isEqualTo(TOTAL);
                writer.get(10, TimeUnit.SECONDS);
                // what the allocator reserved, counted in its chunks (eight of the relay's largest buffers each): a
                // relay that reads only what its peer can take holds about one read per direction, but may still
                // make a pool take one more chunk than the warm-up left it; one that hoards holds what the writer
                // got out, tens of megabytes (and the first assertion fails)
                assertThat(maxHeld.get() - baseline).as("bytes held in Netty buffers while the client lagged (the writer got %d out)", sent.get())
                        .isLessThan(16L * 1024 * 1024);
            }
            // every large read counted against the process's budget was counted out again once written
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> HeldReads.held() == 0);
        }
    }

    private static void warmUp(InetSocketAddress service) {
        try (Socket socket = new Socket()) {
            socket.connect(service, 5000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            int total = 16 * 1024 * 1024;
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    out.write(new byte[total]);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, task -> Thread.ofVirtual().start(task));
            byte[] buf = new byte[1024 * 1024];
            long received = 0;
            while (received < total) {
                int n = in.read(buf);
                assertThat(n).as("echoed bytes").isPositive();
                received += n;
            }
            writer.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the warm-up transfer failed", e);
        }
    }

    private static long usedMemory() {
        var metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory();
    }
}
