package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.plan.Plan;
import java.io.ByteArrayOutputStream;
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
 * A client that sends requests and does not take the answers holds what it sent (the backlog's
 * worth of requests, the window it opened), not what the gateway would answer: pipelined HTTP/1.1
 * requests wait while the client's connection is not writable, and an HTTP/2 stream whose answer
 * waits for a window the client keeps shut is reset after the idle timeout, so that the connection
 * can idle out.
 */
class GatewayUnreadAnswersTest {

    private static GatewayFixture gw;
    private static InetSocketAddress listener;

    @BeforeAll
    static void start() {
        gw = new GatewayFixture();
        gw.plane.httpSettings(HttpSettings.DEFAULTS.withHeaderTimeout(Duration.ofSeconds(1)).withIdleTimeout(Duration.ofSeconds(2))
                .withStreamIdleTimeout(Duration.ofSeconds(3)));
        gw.cluster("echo", gw.echo("echo", 81));
        listener = gw.listen(81, host(null, rule("default/echo", prefix("/"), to("echo"))));
        gw.cluster("large", largeAnswers());
        largeListener = gw.listen(82, host(null, rule("default/large", prefix("/"), to("large"))));
    }

    private static InetSocketAddress largeListener;

    /** A backend answering every request with 1 MiB. */
    private static InetSocketAddress largeAnswers() {
        try {
            com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                    new InetSocketAddress(GatewayFixture.endpointIp(82), 0), 64);
            byte[] body = new byte[1 << 20];
            server.createContext("/", exchange -> {
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                } catch (java.io.IOException e) {
                    // the gateway gave up on the answer
                }
            });
            server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
            server.start();
            gw.own(() -> server.stop(0));
            return server.getAddress();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    private static double answered() {
        return gw.registry.scrape().stream().filter(s -> s.getMetadata().getName().equals("portway_http_requests"))
                .flatMap(s -> s.getDataPoints().stream())
                .mapToDouble(d -> ((io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot) d).getValue())
                .sum();
    }

    /**
     * The answer count once it stops moving (it moved by less than one in 600 ms). The bound only
     * stops a hang: on an idle machine it settles within a second, and with two busy loops beside
     * the tests the gateway once took more than 8 s to fill the client's buffers.
     */
    private static double answeredOnceSettled() {
        double[] last = {-1};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(600)).until(() -> {
            double now = answered();
            boolean settled = now == last[0];
            last[0] = now;
            return settled;
        });
        return last[0];
    }

    private static final byte[] REQUEST = "GET /p HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** Sends {@code count} pipelined requests from another thread (its writes block once the gateway stops reading). */
    private static Thread pipeline(Socket s, int count) {
        Thread writer = new Thread(() -> {
            try {
                OutputStream out = s.getOutputStream();
                byte[] batch = new byte[REQUEST.length * 100];
                for (int i = 0; i < 100; i++) {
                    System.arraycopy(REQUEST, 0, batch, i * REQUEST.length, REQUEST.length);
                }
                for (int i = 0; i < count / 100; i++) {
                    out.write(batch);
                }
                out.flush();
            } catch (java.io.IOException e) {
                // closed by the gateway, or by the test
            }
        }, "pipelining-client");
        writer.setDaemon(true);
        writer.start();
        return writer;
    }

    @Test
    void pipelinedRequestsWaitWhileTheClientTakesNoAnswers() throws Exception {
        double before = answeredOnceSettled();
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(listener, 5000);
            pipeline(s, 40_000);
            double answered = answeredOnceSettled() - before;
            // what the sockets' buffers (the kernel's, up to tcp_wmem's largest: 4 MiB here) and one write
            // buffer's high water mark take, some 8,000 answers; all 40,000 before, the rest kept in the
            // proxy's memory until the client read or the connection went
            assertThat(answered).as("answers made while the client read none").isLessThan(20_000);
        }
    }

    @Test
    void aClientThatReadsLateStillGetsEveryAnswerInOrder() throws Exception {
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(listener, 5000);
            Thread writer = pipeline(s, 20_000); // answers past what the kernel's buffers take (4 MiB here)
            // until the gateway stops answering: the client's buffers are full. That takes longer than the header
            // timeout (1 s: two polls of 600 ms at least): a request whose head came whole and waits is not a slow
            // head (no 408), and the idle timeout (2 s) runs
            answeredOnceSettled();
            assertThat(countAnswers(s, 20_000)).isEqualTo(20_000);
            writer.join(5000);
        }
    }

    /** Reads answers until {@code expected} status lines came, or the connection ended; returns how many came. */
    private static int countAnswers(Socket s, int expected) throws Exception {
        s.setSoTimeout(5000);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[65536];
        int answers = 0;
        byte[] marker = "HTTP/1.1 200".getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        while (answers < expected) {
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            tail.write(buf, 0, n);
            byte[] got = tail.toByteArray();
            int last = 0;
            for (int i = 0; i + marker.length <= got.length; i++) {
                if (java.util.Arrays.equals(got, i, i + marker.length, marker, 0, marker.length)) {
                    answers++;
                    last = i + marker.length;
                }
            }
            tail.reset();
            tail.write(got, last, got.length - last);
        }
        return answers;
    }

    /**
     * HTTP/2 with prior knowledge: the client's SETTINGS open no window (INITIAL_WINDOW_SIZE 0),
     * then ten requests, then silence. Each answer waits for a window that never opens; before, the
     * streams stayed open and the connection, which idles out only with no stream open, stayed for good.
     */
    @Test
    void http2StreamsWhoseAnswersWaitForAShutWindowAreResetAndTheConnectionIdlesOut() throws Exception {
        byte[] first = tenGets(new byte[] {0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0}); // SETTINGS: INITIAL_WINDOW_SIZE 0
        try (Socket s = new Socket()) {
            s.connect(listener, 5000);
            s.setSoTimeout(500);
            long start = System.nanoTime();
            s.getOutputStream().write(first);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            boolean closed = false;
            while (!closed && System.nanoTime() - start < 15_000_000_000L) {
                try {
                    closed = in.read(buf) < 0; // the server's frames (SETTINGS, HEADERS of the answers, resets) are read and dropped
                } catch (SocketTimeoutException e) {
                    // nothing yet
                } catch (java.net.SocketException e) {
                    closed = true;
                }
            }
            assertThat(closed).as("closed: the streams reset after the idle timeout, then the connection idled out").isTrue();
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(1800L, 9000L);
        }
    }

    /**
     * HTTP/2 with a window as large as the protocol allows, ten requests for 1 MiB each, then a
     * client that takes nothing, not even at the TCP level: the answers fill the connection's
     * buffers, and the streams' resets (after the stream idle timeout) cannot be written either.
     * Netty counts a stream open until its reset is written, and the connection idles out only with
     * no stream open; before, it stayed for good. A connection that could write nothing for the
     * stream idle timeout is closed.
     */
    @SuppressWarnings("try") // the resource is held open, or closed early, on purpose
    @Test
    void anHttp2ConnectionThatTakesNoBytesIsClosed() throws Exception {
        int before = connectionsOnceSettled();
        try (Socket s = stalledHttp2Client()) {
            await().atMost(Duration.ofSeconds(5)).until(() -> stalledListenerConnections() > before);
            long start = System.nanoTime();
            // nothing is read: the gateway's side of the connection must go by itself
            await().atMost(Duration.ofSeconds(15)).until(() -> stalledListenerConnections() <= before);
            assertThat((System.nanoTime() - start) / 1_000_000).as("after the stream idle timeout (3 s)").isGreaterThan(2500L);
        }
    }

    /**
     * HTTP/1.1, ten pipelined requests for 1 MiB each (more than the kernel's buffers take), and a
     * client that takes no bytes: after the stream idle timeout the gateway gives the connection up
     * with a reset. A FIN would sit behind what the
     * kernel still holds for the client, which kept the socket (and its send buffer, up to 4 MiB)
     * after the process let it go, for as long as the client kept its window shut; a client that
     * read on later got the rest of the kernel's bytes and a clean end.
     */
    @Test
    void anHttp1ConnectionThatTakesNoBytesIsReset() throws Exception {
        int before = connectionsOnceSettled();
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(largeListener, 5000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(10).getBytes(StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(5)).until(() -> stalledListenerConnections() > before);
            // nothing is read until the gateway has given the connection up
            await().atMost(Duration.ofSeconds(15)).until(() -> stalledListenerConnections() <= before);
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[65536];
            long got = 0;
            Throwable end = null;
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    got += n;
                }
            } catch (java.net.SocketException e) {
                end = e;
            }
            assertThat(got).as("bytes before the end").isLessThan(10 << 20);
            assertThat(end).as("how the cut answer ended").isNotNull().hasMessageContaining("reset");
        }
    }

    /** With the stream idle timeout off (0), a stalled send is never cut either. */
    @SuppressWarnings("try") // the resource is held open, or closed early, on purpose
    @Test
    void withTheStreamIdleTimeoutOffAStalledConnectionStays() throws Exception {
        HttpSettings was = gw.plane.httpSettings();
        gw.plane.httpSettings(was.withStreamIdleTimeout(Duration.ZERO));
        int before = connectionsOnceSettled();
        try (Socket s = stalledHttp2Client()) {
            await().atMost(Duration.ofSeconds(5)).until(() -> stalledListenerConnections() > before);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> stalledListenerConnections() > before);
        } finally {
            gw.plane.httpSettings(was);
        }
        // its end (the client's close) reaches the gateway before the next test counts connections
        await().atMost(Duration.ofSeconds(10)).until(() -> stalledListenerConnections() <= before);
    }

    /**
     * The client connections open on the listener the stalled clients use. Not the process's: the
     * upstream connections count there too, and one whose answer was whole before its client went
     * waits in the upstream pool, open, for up to a minute.
     */
    private static int stalledListenerConnections() {
        return gw.plane.listenerConnections(new Plan.ListenerKey(Plan.Protocol.TCP, largeListener));
    }

    /**
     * The stalled clients' listener's connections once the count stops moving (the same in two
     * looks 300 ms apart): what other tests closed has gone, so that one connection more is this test's.
     */
    private static int connectionsOnceSettled() {
        int[] last = {-1};
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(300)).until(() -> {
            int now = stalledListenerConnections();
            boolean settled = now == last[0];
            last[0] = now;
            return settled;
        });
        return last[0];
    }

    /**
     * HTTP/2 with a window as large as the protocol allows, ten requests for 1 MiB each, and then
     * nothing read at all (a receive buffer of 4 KiB).
     */
    private static Socket stalledHttp2Client() throws Exception {
        byte[] first = tenGets(new byte[] {0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, // SETTINGS: INITIAL_WINDOW_SIZE 2^31-1
            0, 0, 4, 8, 0, 0, 0, 0, 0, 0x7f, (byte) 0xff, 0, 0}); // WINDOW_UPDATE (the connection): +2^31-65536
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(largeListener, 5000);
        s.getOutputStream().write(first);
        return s;
    }

    /**
     * HTTP/2 with prior knowledge: the connection preface, {@code frames} (the client's SETTINGS and
     * what else it sends first), then ten GET requests on streams 1 to 19.
     */
    private static byte[] tenGets(byte[] frames) throws java.io.IOException {
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        first.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        first.write(frames);
        for (int stream = 1; stream <= 19; stream += 2) {
            // HEADERS, END_STREAM | END_HEADERS: :method GET, :scheme http, :path /, :authority a (HPACK, static table)
            byte[] block = {(byte) 0x82, (byte) 0x86, (byte) 0x84, 0x01, 0x01, 'a'};
            first.write(new byte[] {0, 0, (byte) block.length, 1, 5, 0, 0, 0, (byte) stream});
            first.write(block);
        }
        return first.toByteArray();
    }
}
