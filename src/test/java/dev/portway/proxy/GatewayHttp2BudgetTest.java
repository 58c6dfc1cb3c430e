package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the streams of one HTTP/2 connection hold of their answers while the client takes none:
 * the connection's budget, however many streams it opens. The client is a plain socket writing
 * frames by hand and the backend the JDK's server, so that Netty's pool holds the gateway's
 * buffers alone.
 */
class GatewayHttp2BudgetTest {

    private static final int STREAMS = GatewayHandler.MAX_CONCURRENT_STREAMS;
    private static final int BODY = 256 * 1024;
    private static GatewayFixture gw;
    private static TestBackend backend;
    private static InetSocketAddress listener;

    @BeforeAll
    static void start() throws Exception {
        gw = new GatewayFixture();
        backend = gw.own(new TestBackend(new InetSocketAddress(GatewayFixture.endpointIp(95), GatewayFixture.PORT)));
        gw.cluster("files", backend.address());
        listener = gw.listen(95, host(null, rule("default/files", prefix("/"), to("files"))));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    /** The memory Netty's default allocator (the data plane's alone here) holds now. */
    private static long allocated() {
        var m = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        return m.usedDirectMemory() + m.usedHeapMemory();
    }

    /**
     * A client that opens 100 streams with its windows shut made the gateway hold about 128 KiB of
     * each answer (a stream's write watermark and one read of its endpoint of 64 KiB): 12.8 MB a
     * connection until the stream idle timeout. Now the streams together hold the connection's
     * budget and a read of 16 KiB each; and once the client opens its windows, every answer comes
     * whole (the streams that waited for room are woken).
     */
    @Test
    void streamsWhoseClientTakesNothingHoldTheConnectionsBudget() throws Exception {
        long baseline = allocated();
        int before = backend.requests.get();
        try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(settings(0)); // every stream's window shut
            for (int i = 0; i < STREAMS; i++) {
                out.write(get(2 * i + 1, "/download?bytes=" + BODY));
            }
            out.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.requests.get() - before >= STREAMS);
            // the endpoints have all begun to answer; what the gateway takes of them settles, and is measured a while
            AtomicLong most = new AtomicLong();
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> {
                most.accumulateAndGet(allocated() - baseline, Math::max);
                return true;
            });
            // the budget (512 KiB), a read of 16 KiB for each stream, and the pool's rounding: 2.5-3 MB measured;
            // 7.7 MB without the budget, 10.9 MB with neither
            assertThat(most.get()).as("what the gateway holds for 100 stalled streams").isLessThan(5L << 20);

            // the client opens its windows: every answer comes whole
            out.write(settings(Integer.MAX_VALUE));
            out.write(windowUpdate(0, Integer.MAX_VALUE - 65_535));
            out.flush();
            Map<Integer, Integer> received = readUntilEnded(new DataInputStream(s.getInputStream()), STREAMS);
            assertThat(received).hasSize(STREAMS).allSatisfy((stream, bytes) -> assertThat(bytes).as("stream " + stream).isEqualTo(BODY));
        }
    }

    /**
     * A stream whose client takes its answer gets it whole while the connection's other streams
     * hold the whole budget: a stream that holds nothing may always read.
     */
    @Test
    void aStreamWhoseClientTakesItsAnswerIsNotHeldUpByTheOthers() throws Exception {
        int before = backend.requests.get();
        try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(settings(0));
            for (int i = 0; i < STREAMS - 1; i++) {
                out.write(get(2 * i + 1, "/download?bytes=" + BODY));
            }
            out.flush();
            // every stream has begun its answer (its head came, after its first read): the budget is used up
            DataInputStream in = new DataInputStream(s.getInputStream());
            for (int heads = 0; heads < STREAMS - 1; ) {
                heads += readFrame(in, null) == 0x1 ? 1 : 0;
            }
            int taken = 2 * STREAMS - 1;
            out.write(get(taken, "/download?bytes=" + 4 * BODY));
            out.write(windowUpdate(taken, Integer.MAX_VALUE));
            out.write(windowUpdate(0, Integer.MAX_VALUE - 65_535));
            out.flush();
            Map<Integer, Integer> received = readUntilEnded(in, 1);
            assertThat(received).containsOnly(Map.entry(taken, 4 * BODY));
        }
    }

    /** Reads frames until {@code streams} streams ended; the DATA bytes each stream received. */
    private static Map<Integer, Integer> readUntilEnded(DataInputStream in, int streams) throws IOException {
        Map<Integer, Integer> received = new HashMap<>();
        int[] ended = {0};
        while (ended[0] < streams) {
            readFrame(in, (stream, length, end) -> {
                received.merge(stream, length, Integer::sum);
                ended[0] += end ? 1 : 0;
            });
        }
        return received;
    }

    /** What a frame read says of a stream's answer: DATA bytes, and whether the stream ended. */
    private interface StreamProgress {
        void data(int stream, int bytes, boolean end);
    }

    /** Reads one frame and returns its type; DATA and HEADERS are told to {@code progress}; a reset or GOAWAY fails. */
    private static int readFrame(DataInputStream in, StreamProgress progress) throws IOException {
        int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fff_ffff;
        in.skipNBytes(length);
        if (type == 0x3 || type == 0x7) {
            throw new AssertionError((type == 0x3 ? "RST_STREAM on stream " : "GOAWAY, last stream ") + stream);
        }
        if (progress != null && (type == 0x0 || type == 0x1)) { // DATA (no padding from Netty's encoder here), HEADERS
            progress.data(stream, type == 0x0 ? length : 0, (flags & 0x1) != 0);
        }
        return type;
    }

    private static byte[] frame(int type, int flags, int stream, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
        b.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
        b.put((byte) type).put((byte) flags).putInt(stream).put(payload);
        return b.array();
    }

    /** SETTINGS with SETTINGS_INITIAL_WINDOW_SIZE. */
    private static byte[] settings(int initialWindow) {
        return frame(0x4, 0, 0, ByteBuffer.allocate(6).putShort((short) 0x4).putInt(initialWindow).array());
    }

    private static byte[] windowUpdate(int stream, int increment) {
        return frame(0x8, 0, stream, ByteBuffer.allocate(4).putInt(increment).array());
    }

    /** HEADERS ending the stream: GET {@code path}, HPACK by hand (static table names, literals not indexed). */
    private static byte[] get(int stream, String path) {
        byte[] p = path.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(64 + p.length);
        b.put((byte) 0x82).put((byte) 0x86); // :method GET, :scheme http
        b.put((byte) 0x04).put((byte) p.length).put(p); // :path, a literal of fewer than 127 bytes
        b.put((byte) 0x01).put((byte) 1).put((byte) 'x'); // :authority x
        byte[] block = java.util.Arrays.copyOf(b.array(), b.position());
        return frame(0x1, 0x5, stream, block); // END_STREAM | END_HEADERS
    }
}
