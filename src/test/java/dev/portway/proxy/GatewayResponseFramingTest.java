package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.RawHttp;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Response bodies framed for the client that will read them (RFC 9112 6.3 and 7.1), whatever the
 * endpoint sent: a body that the endpoint ends by closing its connection is chunked for an
 * HTTP/1.1 client (else the client reads it and the next response as one body), and an HTTP/1.0
 * client, which cannot read chunks, gets the body as it is and the end of the connection as its end.
 */
class GatewayResponseFramingTest {

    private static GatewayFixture gw;
    private static InetSocketAddress listener;
    private static ServerSocket backend;

    /** What the raw endpoint answers: {@code /close} a body ended by its close, {@code /chunked} a chunked one. */
    private static String answer(String path) {
        if (path.startsWith("/badfirstchunk")) {
            return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nmore"; // the head, then no chunk at all
        }
        if (path.startsWith("/badchunk")) {
            return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore"; // "zz" is no chunk size
        }
        if (path.startsWith("/upgrade")) {
            return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: other/2\r\nConnection: upgrade\r\n\r\nbytes of another protocol";
        }
        if (path.startsWith("/old")) {
            return "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from " + path; // ended by the close
        }
        return path.startsWith("/close")
                ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from " + path
                : "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    }

    /** Lets the endpoint send the body of {@code /slow}. */
    private static final java.util.concurrent.CountDownLatch slowBody = new java.util.concurrent.CountDownLatch(1);

    /** The request lines the endpoint read. */
    private static final java.util.Queue<String> seen = new java.util.concurrent.ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start() throws IOException {
        gw = new GatewayFixture();
        backend = new ServerSocket();
        backend.bind(new InetSocketAddress(GatewayFixture.endpointIp(41), GatewayFixture.PORT));
        Thread.ofVirtual().start(() -> {
            while (!backend.isClosed()) {
                try {
                    Socket s = backend.accept();
                    Thread.ofVirtual().start(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        gw.cluster("raw", (InetSocketAddress) backend.getLocalSocketAddress());
        listener = gw.listen(41, host(null, rule("default/raw", prefix("/"), to("raw"))));
    }

    /** Answers one request per connection (or each request, for chunked answers), then closes. */
    private static void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            while (true) {
                StringBuilder head = new StringBuilder();
                int c;
                while (!head.toString().endsWith("\r\n\r\n") && (c = in.read()) >= 0) {
                    head.append((char) c);
                }
                if (head.isEmpty() || !head.toString().endsWith("\r\n\r\n")) {
                    return;
                }
                seen.add(head.substring(0, head.indexOf("\r\n")));
                String path = head.substring(head.indexOf(" ") + 1, head.indexOf(" ", head.indexOf(" ") + 1));
                if (path.startsWith("/early")) {
                    // answers before the body, then reads it (to the gateway's close) without answering more
                    s.getOutputStream().write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                    return;
                }
                if (path.startsWith("/slow")) {
                    // the head now, the body once the test says
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                    try {
                        slowBody.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    s.getOutputStream().write("hello".getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                    continue;
                }
                s.getOutputStream().write(answer(path).getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                if (path.startsWith("/close") || path.startsWith("/old")) {
                    return;
                }
            }
        } catch (IOException e) {
            // the gateway went away
        }
    }

    /** Reads a response head from {@code s}, up to its empty line. */
    private static String readHead(Socket s) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = s.getInputStream().read();
            assertThat(c).as(head.toString()).isNotNegative();
            head.append((char) c);
        }
        return head.toString();
    }

    @AfterAll
    static void stop() throws Exception {
        backend.close();
        gw.close();
    }

    @Test
    void aBodyEndedByTheEndpointsCloseIsChunkedForAnHttp11ClientWhoseConnectionLivesOn() throws Exception {
        try (RawHttp c = new RawHttp(listener)) {
            // pipelined: the first body must end where it ends, not run into the second response
            c.send("GET /close/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /close/2 HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response first = c.read();
            RawHttp.Response second = c.read();
            assertThat(first.header("transfer-encoding")).isEqualTo("chunked");
            assertThat(first.body()).isEqualTo("hello from /close/1");
            assertThat(second.body()).isEqualTo("hello from /close/2");
            assertThat(c.get("x", "/close/3").body()).as("the client's connection is still good").isEqualTo("hello from /close/3");
        }
    }

    /**
     * The gateway answers in its own HTTP version (RFC 9110 6.2), whatever the endpoint's: an
     * HTTP/1.0 endpoint's body, chunked for an HTTP/1.1 client, went out as an HTTP/1.0 message
     * with chunked framing, which a client must not read as chunks (RFC 9112 6.1; Go read the
     * chunks as the body and waited for the close).
     */
    @Test
    void anHttp10EndpointsAnswerGoesOutAsHttp11() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(listener, 5000);
            s.setSoTimeout(5000);
            for (int i = 1; i <= 2; i++) {
                s.getOutputStream().write(("GET /old/" + i + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                StringBuilder got = new StringBuilder();
                while (!got.toString().endsWith("\r\n0\r\n\r\n")) {
                    int c = s.getInputStream().read();
                    assertThat(c).as(got.toString()).isNotNegative();
                    got.append((char) c);
                }
                String lower = got.toString().toLowerCase();
                assertThat(lower).startsWith("http/1.1 200").contains("transfer-encoding: chunked").contains("hello from /old/" + i)
                        .doesNotContain("connection: close");
            }
        }
    }

    /** A POST to {@code /early} claiming {@code length} bytes, whose body a thread goes on sending ({@code chunks} of {@code chunk}). */
    private record Upload(Socket socket, Thread sender, java.util.concurrent.atomic.AtomicReference<IOException> failure)
            implements AutoCloseable {
        static Upload of(long length, int chunk, int chunks) throws IOException {
            Socket s = new Socket();
            s.connect(listener, 5000);
            s.setSoTimeout(10_000);
            java.io.OutputStream out = s.getOutputStream();
            out.write(("POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            java.util.concurrent.atomic.AtomicReference<IOException> failure = new java.util.concurrent.atomic.AtomicReference<>();
            Thread sender = Thread.ofVirtual().start(() -> {
                byte[] bytes = new byte[chunk];
                try {
                    for (int i = 0; i < chunks; i++) {
                        out.write(bytes);
                    }
                } catch (IOException e) {
                    failure.set(e);
                }
            });
            return new Upload(s, sender, failure);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * An answer before the request's body ended (a 413 to an upload) tells the client the
     * connection ends, and the gateway then reads and drops the rest of the body before it closes:
     * closed with the client's bytes unread, the kernel resets the connection, and a reset may
     * destroy the answer before the client reads it.
     */
    @Test
    void anAnswerBeforeTheBodysEndClosesTheConnectionWithoutAReset() throws Exception {
        try (Upload up = Upload.of(50_000_000, 64 * 1024, 64)) { // 4 MiB of the body, as an upload goes on while its answer comes
            assertThat(readHead(up.socket()).toLowerCase()).startsWith("http/1.1 413").contains("connection: close");
            up.sender().join(java.time.Duration.ofSeconds(10));
            assertThat(up.failure().get()).as("the body the client still sent was read, not reset").isNull();
            assertThat(up.socket().getInputStream().read()).as("the gateway's end, not a reset").isEqualTo(-1);
        }
    }

    /** A client that goes on sending past what a lingering close drops (16 MiB) is closed then, not after its 5 s. */
    @Test
    void aLingeringCloseEndsPastItsByteLimit() throws Exception {
        try (Upload up = Upload.of(500_000_000, 256 * 1024, 160)) { // 40 MiB
            assertThat(readHead(up.socket())).startsWith("HTTP/1.1 413");
            long start = System.nanoTime();
            up.sender().join(java.time.Duration.ofSeconds(10));
            assertThat(up.sender().isAlive()).as("the sender was closed on").isFalse();
            assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofMillis(4500));
        }
    }

    @Test
    void anHttp10ClientGetsNoChunksAndTheEndOfTheConnectionEndsTheBody() throws Exception {
        for (String connection : new String[] {"", "Connection: keep-alive\r\n"}) {
            try (Socket s = new Socket()) {
                s.connect(listener, 5000);
                s.setSoTimeout(5000);
                s.getOutputStream().write(("GET /chunked HTTP/1.0\r\nHost: x\r\n" + connection + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1).toLowerCase();
                assertThat(all).as(connection).startsWith("http/1.1 200").doesNotContain("transfer-encoding").contains("connection: close")
                        .endsWith("\r\n\r\nhello");
            }
            try (Socket s = new Socket()) {
                s.connect(listener, 5000);
                s.setSoTimeout(5000);
                s.getOutputStream().write(("GET /close/10 HTTP/1.0\r\nHost: x\r\n" + connection + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1).toLowerCase();
                assertThat(all).as(connection).doesNotContain("transfer-encoding").contains("connection: close").endsWith("\r\n\r\nhello from /close/10");
            }
        }
    }

    /**
     * CONNECT makes no tunnel here (no route can ask for one). Passed on, an endpoint's 200 turned
     * the pooled connection into a tunnel: the next request on it was carried out by the endpoint,
     * its answer taken for raw bytes and dropped, and its client waited for the idle timeout.
     */
    @Test
    void aConnectRequestIsRefusedAndNeverReachesAnEndpoint() throws Exception {
        try (RawHttp c = new RawHttp(listener)) {
            c.send("CONNECT /tunnel HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(405);
        }
        assertThat(seen).noneMatch(line -> line.startsWith("CONNECT"));
        try (RawHttp c = new RawHttp(listener)) {
            assertThat(c.get("x", "/chunked/after-connect").body()).isEqualTo("hello");
        }
    }

    /**
     * A malformed chunk ends the body where Netty's decoder gave up: passing that end on gave the
     * client a cut body as a whole one, and the broken connection went back to the pool.
     */
    @Test
    void aMalformedChunkFromTheEndpointCutsTheClientsConnection() throws Exception {
        try (RawHttp c = new RawHttp(listener)) {
            c.send("GET /badchunk HTTP/1.1\r\nHost: x\r\n\r\n");
            org.assertj.core.api.Assertions.assertThatThrownBy(c::read).as("the body is cut, not ended")
                    .isInstanceOf(IOException.class);
        }
        try (RawHttp c = new RawHttp(listener)) {
            assertThat(c.get("x", "/chunked/after-bad").body()).isEqualTo("hello");
        }
        // when nothing of the answer has gone to the client yet (its head was held for its body), the client gets a 502
        try (RawHttp c = new RawHttp(listener)) {
            RawHttp.Response r = c.get("x", "/badfirstchunk");
            assertThat(r.status()).isEqualTo(502);
            assertThat(c.get("x", "/chunked/after-bad").body()).as("the client's connection lives on").isEqualTo("hello");
        }
    }

    /**
     * An HTTP/1.0 client gets a chunked answer as a body ended by the connection's end: when the
     * answer is cut (here a malformed chunk after the first), a FIN would have ended it as if it were
     * whole ("hello", the first chunk). The connection is reset instead, so that the client knows.
     */
    @Test
    void anAnswerCutShortForAClientThatReadsToTheEndIsEndedByAResetNotAFin() throws Exception {
        try (Socket c = new Socket(listener.getAddress(), listener.getPort())) {
            c.setSoTimeout(5000);
            c.getOutputStream().write("GET /badchunk HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
                InputStream in = c.getInputStream();
                for (int b; (b = in.read()) >= 0; ) {
                    got.write(b);
                }
                throw new AssertionError("the answer ended as if whole: " + got);
            }).as("the body is cut, not ended").isInstanceOf(java.net.SocketException.class).hasMessageContaining("reset");
            assertThat(got.toString(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 200 OK\r\n").doesNotContainIgnoringCase("content-length");
        }
    }

    /** An endpoint that switches to another protocol unasked gets its client a 502, not silence. */
    @Test
    void anUnaskedForSwitchToAnotherProtocolIsABadGateway() throws Exception {
        try (RawHttp c = new RawHttp(listener)) {
            c.send("GET /upgrade HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(502);
        }
    }
    /**
     * The gateway holds a response's head for the end of its body when both come in one read, to
     * send them as one message: a head that comes alone still goes to the client at once, before
     * a body the endpoint has not sent yet (a stream of events, a slow answer).
     */
    @Test
    void aHeadThatComesAloneIsPassedOnBeforeItsBody() throws Exception {
        try (Socket c = new Socket(listener.getAddress(), listener.getPort())) {
            c.setSoTimeout(5000);
            c.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = c.getInputStream();
            StringBuilder head = new StringBuilder();
            int b;
            while (!head.toString().endsWith("\r\n\r\n") && (b = in.read()) >= 0) {
                head.append((char) b);
            }
            assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("content-length: 5\r\n");
            slowBody.countDown();
            assertThat(new String(in.readNBytes(5), StandardCharsets.ISO_8859_1)).isEqualTo("hello");
        }
    }
}
