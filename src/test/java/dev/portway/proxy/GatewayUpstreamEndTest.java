package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An endpoint that writes a large answer and closes (a file server answering HTTP/1.0, or any
 * answer that ends with its connection), to a client that takes nothing. Once the endpoint's end
 * arrives, Netty's native transports read the socket to its end whatever was asked, so what the
 * gateway's connection to the endpoint received is what the gateway holds for the client, until
 * the stream idle timeout. That counts against the process's budget of held reads, as an L4
 * relay's unasked reads do: past twice the budget, a client connection holding more than a
 * mebibyte is cut (an HTTP/2 stream reset, an HTTP/1.1 connection reset).
 */
class GatewayUpstreamEndTest {

    private GatewayFixture gw;
    private ServerSocketChannel endpoint;
    private InetSocketAddress listener;

    @BeforeEach
    void start() throws Exception {
        gw = new GatewayFixture();
        org.junit.jupiter.api.Assumptions.assumeTrue(gw.plane.transport() != dev.portway.net.Transport.NIO,
                "only the native transports read an endpoint's connection unasked once its FIN is in");
        endpoint = ServerSocketChannel.open();
        endpoint.bind(new InetSocketAddress(GatewayFixture.endpointIp(97), 0));
        gw.cluster("flood", (InetSocketAddress) endpoint.getLocalAddress());
        listener = gw.listen(97, host(null, rule("default/flood", prefix("/"), to("flood"))));
    }

    @AfterEach
    void stop() throws Exception {
        gw.close();
        if (endpoint != null) {
            endpoint.close();
        }
    }

    private static final byte[] HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    /** Answers one request with {@code bytes} of body ended by the connection's end, all written at once, then closes. */
    private CompletableFuture<Void> answerAndClose(int bytes) {
        return CompletableFuture.runAsync(() -> {
            try (SocketChannel peer = endpoint.accept()) {
                ByteBuffer request = ByteBuffer.allocate(4096);
                while (!new String(request.array(), 0, request.position(), StandardCharsets.US_ASCII).contains("\r\n\r\n")) {
                    if (peer.read(request) < 0) {
                        throw new IllegalStateException("the gateway closed before its request's end");
                    }
                }
                peer.write(ByteBuffer.wrap(HEAD));
                ByteBuffer body = ByteBuffer.allocate(bytes);
                while (body.hasRemaining()) {
                    peer.write(body);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, task -> Thread.ofVirtual().start(task));
    }

    /**
     * An HTTP/2 client that opens no window for its streams (SETTINGS_INITIAL_WINDOW_SIZE 0) asks
     * for an answer of 1.5 MiB, which the endpoint writes whole and ends: the gateway's connection
     * to it takes it all (a receive buffer of about 2 MiB), and then its FIN. Read to its end unasked,
     * the answer waits for a window that never opens. Past twice the process's budget of held reads
     * (set to nothing here), the stream is reset, the connection goes on, and nothing stays counted.
     * Before, the stream held the answer until the stream idle timeout (5 minutes by default).
     */
    @Test
    void pastTheProcesssBudgetOfHeldReadsAStreamHoldingAnAnswerForAShutWindowIsReset() throws Exception {
        long base = HeldReads.held();
        long resets = HeldReads.resets();
        long budget = HeldReads.budget(0);
        try (Socket client = new Socket()) {
            CompletableFuture<Void> served = answerAndClose(3 << 19);
            client.connect(listener, 5000);
            client.setSoTimeout(10_000);
            java.io.ByteArrayOutputStream first = new java.io.ByteArrayOutputStream();
            first.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            first.write(new byte[] {0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0}); // SETTINGS: INITIAL_WINDOW_SIZE 0
            // HEADERS on stream 1, END_STREAM | END_HEADERS: :method GET, :scheme http, :path /, :authority a (HPACK, static table)
            byte[] block = {(byte) 0x82, (byte) 0x86, (byte) 0x84, 0x01, 0x01, 'a'};
            first.write(new byte[] {0, 0, (byte) block.length, 1, 5, 0, 0, 0, 1});
            first.write(block);
            client.getOutputStream().write(first.toByteArray());
            served.get(10, TimeUnit.SECONDS);

            java.io.DataInputStream in = new java.io.DataInputStream(client.getInputStream());
            int resetCode = -1;
            while (resetCode < 0) {
                int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
                int type = in.readUnsignedByte();
                in.readUnsignedByte(); // flags
                int stream = in.readInt() & 0x7fffffff;
                byte[] payload = new byte[length];
                in.readFully(payload);
                assertThat(type).as("no GOAWAY: the connection goes on").isNotEqualTo(7);
                if (type == 3 && stream == 1) {
                    resetCode = java.nio.ByteBuffer.wrap(payload).getInt();
                }
            }
            assertThat(resetCode).as("RST_STREAM CANCEL").isEqualTo(8);
            assertThat(HeldReads.resets() - resets).isEqualTo(1);
            assertThat(gw.registry.scrape().stream().filter(m -> m.getMetadata().getName().equals("portway_held_read_resets"))
                    .flatMap(m -> m.getDataPoints().stream())
                    .mapToDouble(d -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) d).getValue())
                    .sum()).as("portway_held_read_resets_total").isEqualTo(HeldReads.resets());
        } finally {
            HeldReads.budget(budget);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> HeldReads.held() <= base);
    }

    /**
     * The same with an HTTP/1.0 client that reads slowly: the answer (8 MiB, ended by the
     * connection's end) fills what the client's side takes and the gateway's connection to the
     * endpoint, and the endpoint's FIN comes in only once the client has read enough for the rest to
     * fit there, with that connection's receive buffer full, read to its end unasked. The client's
     * connection is reset: its answer is framed by the connection's end, which a FIN would have
     * made look whole.
     */
    @Test
    void pastTheProcesssBudgetOfHeldReadsAnHttp1ClientHoldingAnAnswerIsResetNotEnded() throws Exception {
        long base = HeldReads.held();
        long resets = HeldReads.resets();
        long budget = HeldReads.budget(0);
        int body = 8 << 20;
        try (Socket client = new Socket()) {
            answerAndClose(body);
            client.setReceiveBufferSize(4096);
            client.connect(listener, 5000);
            client.setSoTimeout(10_000);
            client.getOutputStream().write("GET /file HTTP/1.0\r\nHost: files\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = client.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long[] received = {0};
            assertThatThrownBy(() -> {
                for (int n; (n = in.read(buf)) > 0; ) {
                    received[0] += n;
                    Thread.sleep(1); // slowly: the gateway keeps its connection to the endpoint full meanwhile
                }
                throw new AssertionError("the answer ended cleanly after " + received[0] + " bytes");
            }).isInstanceOf(java.net.SocketException.class).hasMessageContaining("reset");
            assertThat(received[0]).as("what came before the reset").isLessThan(body);
            assertThat(HeldReads.resets() - resets).isEqualTo(1);
        } finally {
            HeldReads.budget(budget);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> HeldReads.held() <= base);
    }
}
