package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.plan.Plan;
import dev.portway.testing.RawHttp;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a backend receives through the gateway at once is bounded by its Service's
 * {@code portway.dev/max-connections}, mirrored copies included (Envoy's circuit breaker on
 * {@code max_requests}): past it the gateway answers 503 itself, so that many HTTP/2 streams on a
 * few connections cannot open a backend connection each without bound. HTTP/2 connections offer
 * 100 streams at once.
 */
class GatewayBackendLimitsTest {

    private static GatewayFixture gw;
    private static InetSocketAddress listener;
    private static TestBackend capped;
    private static TestBackend mirror;
    private static TestBackend watcher;
    /** A mirror's backend of its own for the test of early closes (the other one is left hanging by another test). */
    private static TestBackend earlyMirror;

    @BeforeAll
    static void start() throws Exception {
        gw = new GatewayFixture();
        capped = gw.own(new TestBackend(new InetSocketAddress(GatewayFixture.endpointIp(81), GatewayFixture.PORT)));
        mirror = gw.own(new TestBackend(new InetSocketAddress(GatewayFixture.endpointIp(82), GatewayFixture.PORT)));
        gw.cluster("capped", 2, capped.address());
        gw.cluster("mirror", 1, mirror.address());
        gw.cluster("echo", gw.echo("echo", 83));
        earlyMirror = gw.own(new TestBackend(new InetSocketAddress(GatewayFixture.endpointIp(88), GatewayFixture.PORT)));
        gw.cluster("early-mirror", 1, earlyMirror.address());
        watcher = gw.own(new TestBackend(new InetSocketAddress(GatewayFixture.endpointIp(85), GatewayFixture.PORT)));
        gw.cluster("watcher", watcher.address());
        gw.cluster("nowhere");
        listener = gw.listen(81, host(null,
                rule("default/unserved", prefix("/unserved"), List.of(new Plan.RequestMirror("watcher")), to("nowhere")),
                rule("default/mirrored", prefix("/mirrored"), List.of(new Plan.RequestMirror("mirror")), to("echo")),
                rule("default/early", prefix("/early"), List.of(new Plan.RequestMirror("early-mirror")), to("echo")),
                rule("default/capped", prefix("/"), to("capped"))));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    @Test
    void pastItsCapOfRequestsInFlightABackendIsAnswered503UntilOneEnds() throws Exception {
        java.net.Socket firstSocket = new java.net.Socket();
        firstSocket.connect(listener, 5000);
        firstSocket.setSoLinger(true, 0); // closed with a reset: gone, not half-closed after its request
        RawHttp first = new RawHttp(firstSocket);
        try (RawHttp second = new RawHttp(listener, 10_000)) {
            first.send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
            second.send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
            await().atMost(Duration.ofSeconds(5)).until(() -> capped.requests.get() == 2);
            RawHttp.Response r = RawHttp.get(listener, "x", "/");
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.body()).contains("has 2 requests in flight, its limit (portway.dev/max-connections)");
            first.close();
            // the client gone, its request leaves the count
            await().atMost(Duration.ofSeconds(5)).until(() -> RawHttp.get(listener, "x", "/").status() == 200);
        } finally {
            first.close();
        }
    }

    @Test
    void aMirroredCopyCountsAgainstItsBackendsCapAndIsDroppedPastIt() throws Exception {
        // the mirror's backend hangs on /mirrored/hang: its one place stays taken, so the second copy is not sent
        try (RawHttp c = new RawHttp(listener, 10_000)) {
            assertThat(c.get("x", "/mirrored/hang").status()).isEqualTo(200);
            assertThat(c.get("x", "/mirrored/hang").status()).as("the request itself is served").isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> mirror.requests.get() >= 1);
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> mirror.requests.get() == 1);
    }

    @Test
    void aListenerHoldsItsCapOfClientConnectionsAndResetsTheRest() throws Exception {
        try (GatewayFixture capped = new GatewayFixture()) {
            capped.plane.httpSettings(HttpSettings.DEFAULTS.withMaxConnections(3));
            capped.cluster("echo", capped.echo("echo", 84));
            InetSocketAddress at = capped.listen(84, host(null, rule("default/echo", prefix("/"), to("echo"))));
            List<RawHttp> held = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    held.add(new RawHttp(at, 5000));
                    assertThat(held.get(i).get("x", "/").status()).isEqualTo(200);
                }
                // past the cap: reset (sometimes before the client's connect() returns)
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
                    try (RawHttp fourth = new RawHttp(at, 5000)) {
                        fourth.get("x", "/");
                    }
                }).isInstanceOf(java.io.IOException.class);
                held.removeFirst().close();
                await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                        .until(() -> RawHttp.get(at, "x", "/").status() == 200);
            } finally {
                for (RawHttp c : held) {
                    c.close();
                }
            }
        }
    }

    /**
     * Every listener may hold its own max-connections, and together they could hold every
     * descriptor of the process (the API server's too): the process holds at most what its
     * descriptor limit allows with a reserve, over all its listeners and a gateway's upstream
     * connections, as HAProxy's global maxconn.
     */
    @Test
    void theProcessHoldsItsCapOfConnectionsOverAllListeners() throws Exception {
        try (GatewayFixture capped = new GatewayFixture()) {
            capped.plane.maxClientConnections(3);
            capped.cluster("echo", capped.echo("echo", 86));
            InetSocketAddress one = capped.listen(86, host(null, rule("default/echo", prefix("/"), to("echo"))));
            InetSocketAddress two = capped.listen(87, host(null, rule("default/echo2", prefix("/"), to("echo"))));
            List<java.net.Socket> held = new java.util.ArrayList<>();
            try {
                for (InetSocketAddress at : List.of(one, one, two)) {
                    java.net.Socket s = new java.net.Socket();
                    s.connect(at, 5000);
                    held.add(s);
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> capped.plane.clientConnections() == 3);
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
                    try (RawHttp fourth = new RawHttp(two, 5000)) {
                        fourth.get("x", "/");
                    }
                }).as("the other listener is under its own cap, the process is not").isInstanceOf(java.io.IOException.class);
                held.removeFirst().close();
                held.removeFirst().close();
                // a client connection and its upstream one: the cap again, with the one still held
                await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() -> {
                    try (RawHttp c = new RawHttp(two, 5000)) {
                        return c.get("x", "/").status() == 200 && capped.plane.clientConnections() == 3;
                    }
                });
            } finally {
                for (java.net.Socket s : held) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aMirroredRequestWithoutABodyIsSentEvenWhenTheGatewayAnswersItAtOnce() throws Exception {
        // no endpoint: the gateway answers 503 before the request's end was read; its copy is whole all the same
        assertThat(RawHttp.get(listener, "x", "/unserved/get").status()).isEqualTo(503);
        await().atMost(Duration.ofSeconds(5)).until(() -> watcher.seen.contains("GET /unserved/get x"));
    }

    /**
     * The mirror's backend answers at the request's head and its connection closes: the body parts
     * that came after were kept for it, retained, for good (a leak the class's leak check reports).
     */
    @Test
    void aMirrorWhoseConnectionClosedEarlyHoldsNoBodyParts() throws Exception {
        ClusterRuntime mirrors = gw.plane.cluster("early-mirror");
        for (int i = 0; i < 5; i++) {
            // the mirror's backend takes one request at a time: the last one's copy has ended
            await().atMost(Duration.ofSeconds(5)).until(() -> mirrors.requestsInFlight() == 0);
            int before = earlyMirror.requests.get();
            try (RawHttp c = new RawHttp(listener, 10_000)) {
                c.send("POST /early/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n");
                // the mirror has answered at the head, and its connection has closed
                await().atMost(Duration.ofSeconds(5)).until(() -> earlyMirror.requests.get() > before && mirrors.requestsInFlight() == 0);
                StringBuilder rest = new StringBuilder();
                String chunk = "x".repeat(16 * 1024);
                for (int k = 0; k < 10; k++) {
                    rest.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
                }
                c.send(rest + "0\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(200);
            }
        }
    }

    @Test
    void anHttp2ConnectionOffersAHundredStreams() throws Exception {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(listener, 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
            assertThat(in.readUnsignedByte()).as("the server's first frame: SETTINGS").isEqualTo(4);
            in.readUnsignedByte();
            in.readInt();
            java.util.Map<Integer, Long> settings = new java.util.HashMap<>();
            for (int read = 0; read < length; read += 6) {
                settings.put(in.readUnsignedShort(), in.readInt() & 0xffffffffL);
            }
            assertThat(settings).containsEntry(0x3, 100L); // SETTINGS_MAX_CONCURRENT_STREAMS
        }
    }

    /**
     * An upstream connection reads one buffer per read asked for, of at most 64 KiB for an
     * HTTP/1.1 client and 16 KiB for an HTTP/2 stream, however large its reads have grown.
     */
    @Test
    void anUpstreamConnectionReadsOneBufferOfAtMostItsLimitPerReadAskedFor() {
        UpstreamReads reads = new UpstreamReads();
        io.netty.channel.RecvByteBufAllocator.ExtendedHandle h = (io.netty.channel.RecvByteBufAllocator.ExtendedHandle) reads.newHandle();
        h.reset(new io.netty.channel.DefaultChannelConfig(new io.netty.channel.embedded.EmbeddedChannel()));
        for (int i = 0; i < 8; i++) { // full reads make the adaptive guess grow
            h.attemptedBytesRead(h.guess());
            h.lastBytesRead(h.guess());
            h.incMessagesRead(1);
            assertThat(h.continueReading()).as("one read per read asked for").isFalse();
            h.readComplete();
            h.reset(new io.netty.channel.DefaultChannelConfig(new io.netty.channel.embedded.EmbeddedChannel()));
        }
        assertThat(h.guess()).isEqualTo(UpstreamReads.CONNECTION_READ);
        reads.limit(UpstreamReads.STREAM_READ);
        assertThat(h.guess()).isEqualTo(16 * 1024);
        var buffer = h.allocate(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT);
        try {
            assertThat(buffer.writableBytes()).isEqualTo(16 * 1024);
        } finally {
            buffer.release();
        }
    }
}
