package dev.portway.runtime.echo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.net.Transport;
import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The echo server runs inside Portway's process, on pod addresses any local user can reach. A
 * client that pipelines requests and reads no answers must not have them queued without end
 * (before: 128 MiB of answers to 10 MB of requests, then the whole process out of memory): it is
 * read no further once its answers fill the write buffer, and every answer still comes once it
 * reads.
 */
class EchoServerBackpressureTest {

    private static final String IP = "127.5." + TestCluster.BLOCK + ".201";
    private static final int PORT = 8081;
    /** Queued answers allowed: the write buffer's high water mark (64 KiB) and what one input slice makes past it. */
    private static final long BOUND = 512 * 1024;

    private EventLoopGroup group;
    private EchoServer server;

    @BeforeEach
    void start() {
        group = Transport.best().newGroup(1, "echo-test");
        server = new EchoServer(new EchoServer.Identity("pod", "default", IP, "node1"), Transport.best(), group);
        server.start(IP, List.of(new EchoServer.Port(PORT, false))).join();
    }

    @AfterEach
    void stop() {
        server.close();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void aClientThatPipelinesHttpRequestsAndReadsNothingIsReadNoFurther() throws Exception {
        byte[] request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        try (Held held = sendUntilHeldBack(request, 20_000_000 / request.length)) {
            SocketChannel s = held.channel();
            long sent = held.bytes() / request.length;
            assertThat(server.queuedBytes()).as("answers queued in memory").isLessThan(BOUND);
            // once the client reads, every request it sent whole is answered
            long answers = countWhileReading(s, "HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII), sent);
            assertThat(answers).isEqualTo(sent);
        }
    }

    @Test
    void aClientThatSendsBytesAndReadsNothingIsReadNoFurther() throws Exception {
        byte[] chunk = new byte[1024];
        Arrays.fill(chunk, (byte) 'z');
        try (Held held = sendUntilHeldBack(chunk, 64_000)) {
            SocketChannel s = held.channel();
            long sent = held.bytes();
            assertThat(server.queuedBytes()).isLessThan(BOUND);
            ByteBuffer buf = ByteBuffer.allocate(65536);
            long got = 0;
            while (got < sent) {
                buf.clear();
                int n = s.read(buf);
                assertThat(n).as("echoed bytes, %d of %d", got, sent).isPositive();
                got += n;
            }
            assertThat(got).isEqualTo(sent);
        }
    }

    /**
     * The echo answers with who asked, never with the body: it reads bodies and lets them go. Its
     * HTTP aggregator held up to a mebibyte of each, so 1,024 connections that each sent most of
     * one and stopped pinned a gibibyte of the direct memory the whole process shares, for good.
     */
    @Test
    void aBodyThatStopsShortOfItsLengthIsNotHeld() throws Exception {
        var metric = ((io.netty.buffer.ByteBufAllocatorMetricProvider) io.netty.buffer.ByteBufAllocator.DEFAULT).metric();
        long before = metric.usedDirectMemory() + metric.usedHeapMemory();
        byte[] head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] body = new byte[1024 * 1024 - 1];
        List<java.net.Socket> clients = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 32; i++) {
                java.net.Socket c = new java.net.Socket(IP, PORT);
                clients.add(c);
                c.getOutputStream().write(head);
                c.getOutputStream().write(body);
            }
            // what the server read is what it holds: wait until it has read it all (the sockets' buffers are empty)
            await().atMost(Duration.ofSeconds(10)).until(() -> clients.stream().allMatch(EchoServerBackpressureTest::sentAll));
            long held = metric.usedDirectMemory() + metric.usedHeapMemory() - before;
            assertThat(held).as("buffer memory held for 32 bodies of 1 MiB that stopped one byte short").isLessThan(8L << 20);
            for (java.net.Socket c : clients) {
                c.getOutputStream().write('!');
                c.setSoTimeout(10_000);
                assertThat(new String(c.getInputStream().readNBytes(17), StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200 OK\r\n");
            }
        } finally {
            for (java.net.Socket c : clients) {
                c.close();
            }
        }
    }

    /**
     * Whether the server has read every byte written to {@code s}: the client's send queue and the
     * server's receive queue are both empty ({@code /proc/net/tcp} and {@code tcp6}: a Java socket
     * may be an IPv6 one; rows matched by their ports).
     */
    private static boolean sentAll(java.net.Socket s) {
        String client = ":" + String.format("%04X", s.getLocalPort());
        String server = ":" + String.format("%04X", s.getPort());
        boolean clientEmpty = false;
        boolean serverEmpty = false;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 4 && f[1].endsWith(client) && f[2].endsWith(server)) {
                        clientEmpty = f[4].startsWith("00000000:");
                    } else if (f.length > 4 && f[1].endsWith(server) && f[2].endsWith(client)) {
                        serverEmpty = f[4].endsWith(":00000000");
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return clientEmpty && serverEmpty;
    }

    /** A connection that sent {@code bytes} and read nothing. */
    private record Held(SocketChannel channel, long bytes) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /**
     * Sends {@code message} up to {@code count} times without reading, until the server stops
     * taking bytes: it must stop before all are sent, and its queue must stay bounded while the
     * client holds still.
     */
    private Held sendUntilHeldBack(byte[] message, int count) throws Exception {
        ByteBuffer all = ByteBuffer.allocate(message.length * count);
        for (int i = 0; i < count; i++) {
            all.put(message);
        }
        all.flip();
        Held held = new Held(Net.sendWithoutReading(new InetSocketAddress(IP, PORT), all), all.position());
        assertThat(all.hasRemaining()).as("the server stopped taking bytes before all %d were sent", all.limit()).isTrue();
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> server.queuedBytes() < BOUND);
        return held;
    }

    /** Reads until {@code wanted} occurrences of {@code marker} have passed or the stream ends. */
    private static long countWhileReading(SocketChannel s, byte[] marker, long wanted) throws IOException {
        InputStream in = s.socket().getInputStream();
        byte[] buf = new byte[65536];
        int matched = 0;
        long count = 0;
        try {
            while (count < wanted) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                for (int i = 0; i < n; i++) {
                    if (buf[i] == marker[matched]) {
                        if (++matched == marker.length) {
                            count++;
                            matched = 0;
                        }
                    } else {
                        matched = buf[i] == marker[0] ? 1 : 0;
                    }
                }
            }
        } catch (SocketTimeoutException e) {
            // fewer answers than requests: the assertion says how many
        }
        return count;
    }
}
