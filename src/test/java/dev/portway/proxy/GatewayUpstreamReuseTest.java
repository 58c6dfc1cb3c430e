package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.RawHttp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A pooled upstream connection is lent to the next client as it is: bytes its endpoint sent past
 * the end of a response began the next client's answer (response queue poisoning). The endpoint
 * here keeps its connections alive and, asked for /extra, answers with more than its framing says
 * (a second head in part, carrying a cookie); asked with HEAD, it sends a body anyway.
 */
class GatewayUpstreamReuseTest {

    private static GatewayFixture gw;
    private static InetSocketAddress listener;
    private static ServerSocket backend;
    private static final AtomicInteger connections = new AtomicInteger();
    /** /late: the client has the answer (the backend's bytes after it come while the connection idles), and the gateway closed that connection. */
    private static final java.util.concurrent.CountDownLatch answered = new java.util.concurrent.CountDownLatch(1);
    private static final java.util.concurrent.CountDownLatch lateClosed = new java.util.concurrent.CountDownLatch(1);

    @BeforeAll
    static void start() throws IOException {
        gw = new GatewayFixture();
        backend = gw.own(new ServerSocket());
        backend.bind(new InetSocketAddress(GatewayFixture.endpointIp(91), GatewayFixture.PORT));
        Thread.ofVirtual().start(GatewayUpstreamReuseTest::serve);
        gw.cluster("loose", (InetSocketAddress) backend.getLocalSocketAddress());
        listener = gw.listen(91, host(null, rule("default/loose", prefix("/"), to("loose"))));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    private static void serve() {
        while (!backend.isClosed()) {
            try {
                Socket s = backend.accept();
                connections.incrementAndGet();
                Thread.ofVirtual().start(() -> answer(s));
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** Answers each request of a kept-alive connection. */
    private static void answer(Socket s) {
        boolean late = false;
        try (s) {
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) {
                        if (late) {
                            lateClosed.countDown();
                        }
                        return;
                    }
                    head.append((char) b);
                }
                String line = head.substring(0, head.indexOf("\r\n"));
                String answer;
                if (line.startsWith("GET /extra ")) {
                    answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                            + "HTTP/1.1 200 OK\r\nSet-Cookie: session=attacker\r\nX-Injected: ";
                } else if (line.startsWith("GET /late ")) {
                    // answered whole; then, while the connection idles in the gateway's pool, the start of another
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    if (!answered.await(10, java.util.concurrent.TimeUnit.SECONDS)) { // the client has its answer: the connection idles
                        return;
                    }
                    answer = "HTTP/1.1 200 OK\r\nSet-Cookie: session=late\r\n";
                    late = true;
                } else if (line.startsWith("GET /crlf ")) {
                    answer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh\r\n"; // a line end past the body
                } else if (line.startsWith("GET /status/")) {
                    String code = line.substring("GET /status/".length(), line.indexOf(' ', "GET /status/".length()));
                    answer = "HTTP/1.1 " + code + " Whatever\r\nContent-Length: 5\r\n\r\nfresh";
                } else if (line.startsWith("HEAD ")) {
                    answer = "HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n"
                            + "HTTP/1.1 302 Found\r\nLocation: https://evil.example/\r\nX-Junk: ";
                } else {
                    answer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh";
                }
                out.write(answer.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the gateway closed it
        }
    }

    /** Bytes that come with the response, or while the connection idles in the pool (not those after it is lent again: see Http1ClientCodec). */
    @Test
    void bytesPastTheEndOfAResponseThatComeWithItOrWhileIdleNeverReachTheNextClient() throws Exception {
        for (String first : new String[] {"GET /extra HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /late HTTP/1.1\r\nHost: x\r\n\r\n"}) {
            try (RawHttp c = new RawHttp(listener)) {
                RawHttp.Response r = first.startsWith("HEAD") ? c.send(first).readHead() : c.send(first).read();
                assertThat(r.status()).as(first).isEqualTo(200);
                if (first.contains("/late")) {
                    answered.countDown();
                    // the gateway reads the bytes that came while the connection idled, and closes it
                    assertThat(lateClosed.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the idle connection closed").isTrue();
                }
                for (int i = 0; i < 3; i++) {
                    RawHttp.Response next = c.get("x", "/next");
                    assertThat(next.status()).as(first).isEqualTo(200);
                    assertThat(next.header("set-cookie")).as(first).isNull();
                    assertThat(next.header("location")).as(first).isNull();
                    assertThat(next.body()).as(first).isEqualTo("fresh");
                }
            }
        }
    }

    @Test
    void aCleanConnectionIsStillPooled() throws Exception {
        for (String path : new String[] {"/again", "/crlf"}) {
            try (RawHttp c = new RawHttp(listener)) {
                assertThat(c.get("x", path).body()).isEqualTo("fresh");
                int before = connections.get();
                for (int i = 0; i < 5; i++) {
                    assertThat(c.get("x", path).body()).as(path).isEqualTo("fresh");
                }
                assertThat(connections.get()).as("connections made for five more requests to " + path).isEqualTo(before);
            }
        }
    }

    /**
     * A status code outside HTTP's 100-599 is an invalid response (Envoy's rule too): Netty's
     * decoder takes any number, and each one an endpoint sent became a series of the gateway's
     * request metrics that lived as long as the Gateway, so one endpoint could grow Portway's heap,
     * and every scrape, without end.
     */
    @Test
    void aStatusCodeOutsideHttpsRangeIsABadGateway() throws Exception {
        for (String code : new String[] {"42", "099", "600", "1000", "2147483647"}) {
            try (RawHttp c = new RawHttp(listener)) {
                assertThat(c.get("x", "/status/" + code).status()).as(code).isEqualTo(502);
            }
        }
        try (RawHttp c = new RawHttp(listener)) {
            assertThat(c.get("x", "/status/599").status()).isEqualTo(599);
        }
    }
}
