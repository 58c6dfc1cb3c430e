package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.plan.Plan;
import dev.portway.admin.auth.Pki;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * No connection stays open for nothing: one that sends no byte, half an HTTP/2 connection preface
 * or half a TLS hello is closed after the header timeout, and an HTTP/2 connection without a
 * stream after the idle timeout, as an HTTP/1.1 connection between requests is. A request under
 * way that moves nothing for the stream idle timeout is ended: 408 when its body stalls, 504 when
 * its backend never answers or stops taking the body.
 */
class GatewayConnectionTimeoutsTest {

    private static final Instant NOW = Instant.now();
    private static GatewayFixture gw;
    private static InetSocketAddress clear;
    private static InetSocketAddress https;

    @BeforeAll
    static void start() {
        gw = new GatewayFixture();
        gw.plane.httpSettings(HttpSettings.DEFAULTS.withHeaderTimeout(Duration.ofSeconds(1)).withIdleTimeout(Duration.ofSeconds(2))
                .withStreamIdleTimeout(Duration.ofSeconds(3)));
        gw.cluster("echo", gw.echo("echo", 71));
        try {
            TestBackend hanging = gw.own(new TestBackend(new InetSocketAddress(GatewayFixture.endpointIp(73), GatewayFixture.PORT)));
            gw.cluster("hanging", hanging.address());
            // accepts, never reads: what the gateway sends it stays in the sockets' buffers
            java.net.ServerSocket deaf = new java.net.ServerSocket();
            deaf.setReceiveBufferSize(4096);
            deaf.bind(new InetSocketAddress(GatewayFixture.endpointIp(74), GatewayFixture.PORT));
            gw.own(deaf);
            gw.cluster("deaf", (InetSocketAddress) deaf.getLocalSocketAddress());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        clear = gw.listen(71, host(null, rule("default/hang", prefix("/hang"), to("hanging")),
                rule("default/deaf", prefix("/deaf"), to("deaf")), rule("default/echo", prefix("/"), to("echo"))));
        Pki.KeyAndCert ca = Pki.newCa("test CA", NOW, Duration.ofDays(1));
        Pki.KeyAndCert c = Pki.newServerCert(ca, "default", List.of(GatewayFixture.listenerIp(72)), NOW, Duration.ofDays(1));
        https = gw.listen(new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP,
                new InetSocketAddress(GatewayFixture.listenerIp(72), 8443)), "gateway default/tls",
                List.of(new Plan.Certificate(List.of(), Pki.certPem(c.cert()), Pki.keyPem(c.key()))), List.of(),
                List.of(host(null, rule("default/echo", prefix("/"), to("echo")))), List.of(), false));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    /** Sends {@code first}, then nothing; returns after how many ms the gateway closed the connection (fails past 8 s). */
    private static long closedAfter(InetSocketAddress at, byte[] first) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(8000);
            long start = System.nanoTime();
            s.getOutputStream().write(first);
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            try {
                while (in.read(new byte[4096]) >= 0) {
                    // what the gateway sends first (HTTP/2 SETTINGS, a GOAWAY) is read past
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("still open after 8 s", e);
            } catch (java.net.SocketException e) {
                // reset: closed all the same
            }
            return (System.nanoTime() - start) / 1_000_000;
        }
    }

    @Test
    void aConnectionThatSendsNothingOrHalfAPrefaceIsClosedAfterTheHeaderTimeout() throws Exception {
        assertThat(closedAfter(clear, new byte[0])).isBetween(800L, 4000L);
        assertThat(closedAfter(clear, "PRI * HT".getBytes(StandardCharsets.US_ASCII))).isBetween(800L, 4000L);
    }

    @Test
    void aTlsConnectionWithoutItsHelloIsClosedAfterTheHeaderTimeout() throws Exception {
        assertThat(closedAfter(https, new byte[0])).isBetween(800L, 4000L);
        assertThat(closedAfter(https, new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xc8, 0x01})).as("half a ClientHello").isBetween(800L, 4000L);
    }

    /** Sends {@code raw} on {@code c}; expects {@code status} saying {@code why} after the stream idle timeout (3 s). */
    private static void endedAfterTheStreamIdleTimeout(dev.portway.testing.RawHttp c, String raw, int status, String why) throws Exception {
        long start = System.nanoTime();
        dev.portway.testing.RawHttp.Response r = c.send(raw).read();
        assertThat(r.status()).isEqualTo(status);
        assertThat(r.body()).contains(why);
        assertThat((System.nanoTime() - start) / 1_000_000).isBetween(2500L, 7000L);
    }

    @Test
    void aRequestWhoseBodyStallsIs408AndOneWhoseBackendNeverAnswers504() throws Exception {
        try (dev.portway.testing.RawHttp c = new dev.portway.testing.RawHttp(clear, 10_000)) {
            endedAfterTheStreamIdleTimeout(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 408,
                    "the request body stalled");
            assertThat(c.closedByServer()).isTrue();
        }
        try (dev.portway.testing.RawHttp c = new dev.portway.testing.RawHttp(clear, 10_000)) {
            endedAfterTheStreamIdleTimeout(c, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n", 504, "the backend did not answer");
            assertThat(c.get("x", "/").status()).as("the connection serves on").isEqualTo(200);
        }
    }

    @SuppressWarnings("try") // the resource is held open, or closed early, on purpose
    @Test
    void aBodyHeldBackByABackendThatStoppedReadingIs504Not408() throws Exception {
        int declared = 64 << 20;
        try (dev.portway.testing.RawHttp c = new dev.portway.testing.RawHttp(clear, 10_000)) {
            c.send("POST /deaf HTTP/1.1\r\nHost: x\r\nContent-Length: " + declared + "\r\n\r\n");
            // the body goes out until the backend's window and the gateway's buffers are full, and the
            // gateway stops reading; the writes then block, so they run beside the wait for the answer
            Thread writer = Thread.ofVirtual().start(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    for (int sent = 0; sent < declared; sent += chunk.length) {
                        c.output().write(chunk);
                    }
                } catch (java.io.IOException e) {
                    // closed by the gateway once it answered
                }
            });
            try {
                endedAfterTheStreamIdleTimeout(c, "", 504, "the backend did not answer");
            } finally {
                c.close();
                writer.join(5000);
            }
        }
    }

    @Test
    void aKeptAliveConnectionStillIdlesOutOnTimeAfterItsRequests() throws Exception {
        try (dev.portway.testing.RawHttp c = new dev.portway.testing.RawHttp(clear, 10_000)) {
            for (int i = 0; i < 3; i++) {
                assertThat(c.get("x", "/").status()).isEqualTo(200);
            }
            long start = System.nanoTime();
            assertThat(c.input().read()).as("closed by the gateway").isEqualTo(-1);
            assertThat((System.nanoTime() - start) / 1_000_000).as("the idle timeout, not the stream's").isBetween(1500L, 2900L);
        }
    }

    @Test
    void pingsDoNotKeepAnHttp2ConnectionWithoutAStreamOpen() throws Exception {
        byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] emptySettings = {0, 0, 0, 4, 0, 0, 0, 0, 0};
        byte[] ping = {0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
        try (Socket s = new Socket()) {
            s.connect(clear, 5000);
            s.setSoTimeout(300);
            long start = System.nanoTime();
            s.getOutputStream().write(preface);
            s.getOutputStream().write(emptySettings);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            boolean closed = false;
            while (!closed && System.nanoTime() - start < 8_000_000_000L) {
                try {
                    s.getOutputStream().write(ping); // every 300 ms: the idle timeout is 2 s
                    closed = in.read(buf) < 0;
                } catch (SocketTimeoutException e) {
                    // nothing to read yet: ping again
                } catch (java.net.SocketException e) {
                    closed = true;
                }
            }
            assertThat(closed).as("closed despite its pings").isTrue();
            assertThat((System.nanoTime() - start) / 1_000_000).isBetween(1800L, 4500L);
        }
    }

    @Test
    void anHttp2ConnectionWithoutAStreamIsClosedAfterTheIdleTimeout() throws Exception {
        byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] emptySettings = {0, 0, 0, 4, 0, 0, 0, 0, 0};
        byte[] first = new byte[preface.length + emptySettings.length];
        System.arraycopy(preface, 0, first, 0, preface.length);
        System.arraycopy(emptySettings, 0, first, preface.length, emptySettings.length);
        assertThat(closedAfter(clear, first)).isBetween(1800L, 6000L);
    }
}
