package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.net.Transport;
import dev.portway.plan.Plan;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * An endpoint that writes a large answer and closes (a file server answering HTTP/1.0) to a client
 * that does not read: once the endpoint's end arrives, Netty's epoll transport reads the upstream
 * socket to its end whatever the client can take, so what that socket's receive buffer holds is
 * what the proxy holds. It is capped as the client side's is (about 2 MiB), not left to autotuning
 * (up to tcp_rmem's largest, 32 MiB on these machines).
 */
class UpstreamEndBackpressureTest {

    private static final int TOTAL = 64 * 1024 * 1024;

    @AutoClose
    private java.nio.channels.ServerSocketChannel backend;
    @AutoClose
    private OneServicePlane relay;

    private static long usedMemory() {
        var metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory();
    }

    @Test
    void anEndpointThatWritesALotAndClosesMakesTheProxyHoldAboutOneReceiveBufferNotAllOfIt() throws Exception {
        backend = java.nio.channels.ServerSocketChannel.open();
        backend.bind(new InetSocketAddress("127.0.66.10", 0));
        relay = new OneServicePlane(Transport.best(), "127.0.66.1", (InetSocketAddress) backend.getLocalAddress());
        InetSocketAddress service = relay.service;

        // the endpoint writes as fast as it can, and ends once it could write nothing for half a second
        AtomicLong written = new AtomicLong();
        CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
            try (java.nio.channels.SocketChannel peer = backend.accept(); java.nio.channels.Selector writable = java.nio.channels.Selector.open()) {
                peer.configureBlocking(false);
                peer.register(writable, java.nio.channels.SelectionKey.OP_WRITE);
                java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(256 * 1024);
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (System.nanoTime() < deadline && writable.select(500) > 0) {
                    writable.selectedKeys().clear();
                    chunk.clear();
                    written.addAndGet(peer.write(chunk));
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, task -> Thread.ofVirtual().start(task));
        try (Socket client = new Socket()) {
            client.setReceiveBufferSize(64 * 1024);
            client.connect(service, 5000);
            InputStream in = client.getInputStream();
            byte[] buf = new byte[1024 * 1024];
            long received = 0;
            // at full speed first: the kernel grows the upstream socket's receive buffer as the proxy drains it
            while (received < 48L * 1024 * 1024) {
                int n = in.read(buf);
                assertThat(n).isPositive();
                received += n;
            }
            long baseline = usedMemory();
            AtomicLong maxHeld = new AtomicLong();
            // then nobody reads, while the endpoint fills what the sockets take and ends
            served.get(10, TimeUnit.SECONDS);
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).until(() -> {
                maxHeld.accumulateAndGet(usedMemory() - baseline, Math::max);
                return true;
            });
            for (int n; (n = in.read(buf)) > 0; ) {
                received += n;
                maxHeld.accumulateAndGet(usedMemory() - baseline, Math::max);
            }
            assertThat(received).as("every byte the endpoint got out arrives").isEqualTo(written.get());
            // about one receive buffer (2 MiB) and a read, in the allocator's chunks; before, what autotuning had
            // let the upstream socket take (up to tcp_rmem's largest)
            assertThat(maxHeld.get()).as("bytes held in Netty buffers (the endpoint wrote %d)", written.get())
                    .isLessThan(8L * 1024 * 1024);
        }
    }
}
