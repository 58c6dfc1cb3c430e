package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.exact;
import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.plan.Plan;
import dev.portway.testing.RawHttp;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The L7 gateway's proxying on real sockets: routing, keep-alive, the gateway's own answers, headers, filters. */
class GatewayProxyTest {

    private static GatewayFixture gw;
    private static InetSocketAddress listener;
    private static TestBackend mirror;

    @BeforeAll
    static void start() throws Exception {
        gw = new GatewayFixture();
        InetSocketAddress a = gw.echo("a-pod", 1);
        InetSocketAddress b = gw.echo("b-pod", 2);
        gw.cluster("a", a);
        gw.cluster("b", b);
        gw.cluster("empty");
        mirror = gw.own(new TestBackend(new InetSocketAddress(GatewayFixture.endpointIp(3), GatewayFixture.PORT)));
        gw.cluster("mirror", mirror.address());
        listener = gw.listen(1,
                host("b.example.com", rule("default/b", prefix("/"), to("b"))),
                host("*.example.com", rule("default/wild", prefix("/"), to("a"))),
                host(null,
                        rule("default/exact", exact("/exact"), to("b")),
                        rule("default/missing", prefix("/missing"), new Plan.HttpBackend(null, 1, List.of())),
                        rule("default/empty", prefix("/empty"), to("empty")),
                        rule("default/headers", prefix("/headers"), List.of(
                                new Plan.RequestHeaders(Map.of("x-set", "set", "x_tenant", "a"), Map.of("x-add", "added"), List.of("x-remove")),
                                new Plan.ResponseHeaders(Map.of("x-response", "yes"), Map.of(), List.of("x-portway-node"))), to("a")),
                        rule("default/framing", prefix("/framing"), List.of(
                                new Plan.RequestHeaders(Map.of("Content-Length", "10", "x-set", "set"), Map.of("Transfer-Encoding", "chunked"), List.of()),
                                new Plan.ResponseHeaders(Map.of("connection", "close"), Map.of(), List.of("content-length"))), to("a")),
                        rule("default/redirect", prefix("/old"), List.of(
                                new Plan.RequestRedirect("https", "new.example.com", null, "/new", null, 301))),
                        rule("default/rewrite", prefix("/public"), List.of(new Plan.UrlRewrite(null, null, "/internal")), to("a")),
                        rule("default/mirrored", prefix("/mirrored"), List.of(new Plan.RequestMirror("mirror")), to("a")),
                        rule("default/a", prefix("/a"), to("a"))));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    @Test
    void routesByHostThenPathAndKeepsTheConnectionAlive() throws Exception {
        try (RawHttp c = new RawHttp(listener)) {
            assertThat(c.get("b.example.com", "/anything").header("x-portway-pod")).isEqualTo("b-pod");
            assertThat(c.get("B.Example.COM:8080", "/").header("x-portway-pod")).as("host is case-insensitive, port ignored").isEqualTo("b-pod");
            assertThat(c.get("x.example.com", "/").header("x-portway-pod")).as("wildcard").isEqualTo("a-pod");
            assertThat(c.get("other", "/exact").header("x-portway-pod")).isEqualTo("b-pod");
            assertThat(c.get("other", "/a/deeper").header("x-portway-pod")).isEqualTo("a-pod");
            RawHttp.Response miss = c.get("other", "/abc");
            assertThat(miss.status()).as("/a matches whole segments only").isEqualTo(404);
            assertThat(miss.body()).contains("no route for GET /abc");
            assertThat(miss.header("x-portway-reply")).isEqualTo("gateway");
            assertThat(c.get("other", "/exact/").status()).isEqualTo(404);
        }
    }

    @Test
    void anUnresolvedBackendIs500AndNoEndpointIs503() throws Exception {
        RawHttp.Response missing = RawHttp.get(listener, "x", "/missing");
        assertThat(missing.status()).isEqualTo(500);
        assertThat(missing.body()).contains("does not resolve");
        RawHttp.Response empty = RawHttp.get(listener, "x", "/empty");
        assertThat(empty.status()).isEqualTo(503);
        assertThat(empty.body()).contains("no ready endpoint for default/empty");
    }

    @Test
    void headerFiltersChangeTheRequestAndTheResponse() throws Exception {
        try (RawHttp c = new RawHttp(listener)) {
            RawHttp.Response r = c.send("GET /headers HTTP/1.1\r\nHost: x\r\nX-Set: old\r\nX-Add: first\r\nX-Remove: gone\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echo("x-set")).isEqualTo("set");
            assertThat(r.body()).contains("X-Add: first").contains("x-add: added").doesNotContain("x-remove");
            assertThat(r.header("x-response")).isEqualTo("yes");
            assertThat(r.header("x-portway-node")).isNull();
        }
    }

    /** The route's fields are the route author's: a client's Connection header names its own hop-by-hop fields, not them. */
    @Test
    void aClientsConnectionHeaderCannotTakeAwayAFieldTheRouteSets() throws Exception {
        try (RawHttp c = new RawHttp(listener)) {
            RawHttp.Response r = c.send("GET /headers HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, x-set, x-add, x-hop\r\n"
                    + "X-Hop: mine\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echo("x-set")).isEqualTo("set");
            assertThat(r.body()).contains("x-add: added").doesNotContain("X-Hop");
        }
    }

    @Test
    void forwardingHeadersTellTheBackendWhoAsked() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(listener)) {
            r = c.send("GET /a HTTP/1.1\r\nHost: Public.Example:8080\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n"
                    + "X-Real-IP: 6.6.6.6\r\nX-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\nX-Forwarded-Prefix: /evil\r\n"
                    + "X-Forwarded-Uri: /admin\r\n\r\n").read();
        }
        assertThat(r.echo("x-forwarded-for")).as("an untrusted client's claims are dropped").isEqualTo("127.0.0.1");
        assertThat(r.echo("x-real-ip")).as("as ingress-nginx sets it").isEqualTo("127.0.0.1");
        // a path some backends take for the request's own: never one the routes and policies did not judge
        assertThat(r.echo("x-original-url")).isNull();
        assertThat(r.echo("x-rewrite-url")).isNull();
        assertThat(r.echo("x-forwarded-prefix")).as("any X-Forwarded-* of a client's").isNull();
        assertThat(r.echo("x-forwarded-uri")).isNull();
        assertThat(r.echo("x-forwarded-proto")).isEqualTo("http");
        assertThat(r.echo("x-forwarded-host")).isEqualTo("Public.Example:8080");
        assertThat(r.echo("x-forwarded-port")).isEqualTo("8080");
        assertThat(r.echo("forwarded")).isEqualTo("for=127.0.0.1;host=\"Public.Example:8080\";proto=http");
        assertThat(r.echo("host")).as("Host is kept").isEqualTo("Public.Example:8080");
        try (RawHttp c = new RawHttp(listener)) {
            // made once a connection while its requests name one host, and again for each other host
            for (String host : List.of("a.example:8080", "a.example:8080", "b.example:8080", "a.example:8080")) {
                assertThat(c.get(host, "/a").echo("forwarded")).isEqualTo("for=127.0.0.1;host=\"" + host + "\";proto=http");
            }
        }
        // the connection comes from the gateway's own address, as from a gateway's pod in a cluster: never as
        // 127.0.0.1, which would make a client from anywhere a local process to the pod
        assertThat(r.echo("client")).startsWith(listener.getAddress().getHostAddress() + ":");
    }

    @Test
    void aTrustedProxysForwardingHeadersAreKeptAndAppendedTo() throws Exception {
        InetSocketAddress trusting = gw.listen(new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP,
                new InetSocketAddress(GatewayFixture.listenerIp(2), GatewayFixture.PORT)), "gateway default/trusting", List.of(), List.of(),
                List.of(host(null, rule("default/a", prefix("/"), to("a")))), List.of("127.0.0.0/8"), false));
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(trusting)) {
            r = c.send("GET /a HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\n"
                    + "X-Original-URL: /from-the-proxy\r\nX-Forwarded-Prefix: /app\r\n\r\n").read();
        }
        assertThat(r.echo("x-forwarded-for")).isEqualTo("6.6.6.6, 127.0.0.1");
        assertThat(r.echo("x-real-ip")).isEqualTo("6.6.6.6");
        assertThat(r.echo("x-original-url")).isEqualTo("/from-the-proxy");
        assertThat(r.echo("x-forwarded-prefix")).isEqualTo("/app");
    }

    @Test
    void anAbsoluteFormTargetIsSentUpstreamWithItsOwnHostNotTheClientsHeader() throws Exception {
        // RFC 9112 3.2.2: the target's authority wins over Host, and a proxy makes Host from it.
        // Routed by b.example.com, the backend must not be told the request was for x.example.com
        // (a policy of x.example.com's virtual host would never have seen it).
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(listener)) {
            r = c.send("GET http://B.example.com:8080/a HTTP/1.1\r\nHost: x.example.com\r\n\r\n").read();
        }
        assertThat(r.header("x-portway-pod")).isEqualTo("b-pod");
        assertThat(r.echo("host")).isEqualTo("B.example.com:8080");
        assertThat(r.echo("x-forwarded-host")).isEqualTo("B.example.com:8080");
        assertThat(r.echo("forwarded")).isEqualTo("for=127.0.0.1;host=\"B.example.com:8080\";proto=http");
    }

    @Test
    void aHostThatIsNotAHostAndAPortIsRefused() throws Exception {
        for (String bad : List.of("b.example.com:1,for=\"[::1]\";proto=https", "b.example.com:@evil.test", "b.example.com:80x",
                "b.example.com:123456", "b.example.com:65536", "a\"b.example.com", "a,b.example.com", "[::1", "[::1]x", "[]", ":80",
                "[::g]")) {
            try (RawHttp c = new RawHttp(listener)) {
                RawHttp.Response r = c.send("GET /a HTTP/1.1\r\nHost: " + bad + "\r\n\r\n").read();
                assertThat(r.status()).as(bad).isEqualTo(400);
                assertThat(r.body()).as(bad).contains("not a host name or IP address");
            }
        }
        try (RawHttp c = new RawHttp(listener)) {
            assertThat(c.send("GET /a HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").read().echo("host")).isEqualTo("[::1]:8080");
            assertThat(c.send("GET /a HTTP/1.1\r\nHost: my_host-1.example:\r\n\r\n").read().echo("host"))
                    .as("an empty port is no port").isEqualTo("my_host-1.example");
        }
    }

    @Test
    void headerFiltersLeaveTheFramingToTheGateway() throws Exception {
        // a Content-Length of 10 on a GET without a body would have the endpoint wait for ten bytes of
        // the next request on the pooled connection; a response without its length, a client
        // reading to the end of the connection
        try (RawHttp c = new RawHttp(listener, 5000)) {
            for (int i = 0; i < 3; i++) {
                RawHttp.Response r = c.send("GET /framing HTTP/1.1\r\nHost: x\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.echo("x-set")).as("the filter's other fields apply").isEqualTo("set");
                assertThat(r.echo("content-length")).isNotEqualTo("10");
                assertThat(r.echo("transfer-encoding")).isNull();
                assertThat(r.header("content-length")).isNotNull();
                assertThat(r.header("connection")).isNull();
            }
        }
    }

    @Test
    void fieldsWithUnderscoresAreDroppedSoNoneCanPassForTheGatewaysOwn() throws Exception {
        // CGI-style backends read X_Forwarded_For and X-Forwarded-For as one HTTP_X_FORWARDED_FOR
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(listener)) {
            r = c.send("GET /headers HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 7.7.7.7\r\nX_Remote_User: admin\r\nX-Kept: yes\r\n\r\n").read();
        }
        assertThat(r.echo("x_tenant")).as("what the route's own filter adds is the operator's, and kept").isEqualTo("a");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echo("x_forwarded_for")).isNull();
        assertThat(r.echo("x_remote_user")).isNull();
        assertThat(r.echo("x-forwarded-for")).isEqualTo("127.0.0.1");
        assertThat(r.echo("x-kept")).isEqualTo("yes");
    }

    @Test
    void hopByHopHeadersStayOnTheirHop() throws Exception {
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(listener)) {
            r = c.send("GET /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\n"
                    + "TE: trailers\r\nProxy-Connection: keep-alive\r\nTrailer: x-t\r\nX-Kept: yes\r\nX-HTTP2-Stream-Id: 3\r\n\r\n").read();
        }
        assertThat(r.status()).isEqualTo(200);
        for (String gone : List.of("connection", "x-secret", "keep-alive", "te", "proxy-connection", "trailer")) {
            assertThat(r.echo(gone)).as(gone).isNull();
        }
        assertThat(r.echo("x-kept")).isEqualTo("yes");
        assertThat(r.echo("x-http2-stream-id")).as("a name of the HTTP/2 codec's, which a backend may believe").isNull();
    }

    @Test
    void behindATrustedProxyForwardingHeadersAreKeptAndAppendedAndEachRequestIsLogged() throws Exception {
        java.util.concurrent.ConcurrentLinkedQueue<String> lines = new java.util.concurrent.ConcurrentLinkedQueue<>();
        gw.plane.accessLog(lines::add);
        InetSocketAddress trusting = gw.listen(new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP,
                new InetSocketAddress(GatewayFixture.listenerIp(2), GatewayFixture.PORT)), "gateway default/trusting", List.of(),
                List.of(), List.of(host(null, rule("default/a", prefix("/"), to("a")))), List.of("127.0.0.0/8"), true));
        RawHttp.Response r;
        try (RawHttp c = new RawHttp(trusting)) {
            r = c.send("GET /logged?x=1 HTTP/1.1\r\nHost: public.example\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n"
                    + "Forwarded: for=6.6.6.6;proto=https\r\n\r\n").read();
        }
        assertThat(r.echo("x-forwarded-for")).isEqualTo("6.6.6.6, 127.0.0.1");
        assertThat(r.echo("x-forwarded-proto")).as("the first proxy's word is kept").isEqualTo("https");
        assertThat(r.echo("forwarded")).isEqualTo("for=6.6.6.6;proto=https, for=127.0.0.1;host=\"public.example\";proto=http");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> !lines.isEmpty());
        var json = dev.portway.api.Json.readTree(lines.peek().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(json.get("method").asText()).isEqualTo("GET");
        assertThat(json.get("path").asText()).isEqualTo("/logged?x=1");
        assertThat(json.get("host").asText()).isEqualTo("public.example");
        assertThat(json.get("status").asInt()).isEqualTo(200);
        assertThat(json.get("route").asText()).isEqualTo("default/a");
        assertThat(json.get("upstream").asText()).startsWith(GatewayFixture.endpointIp(1));
        assertThat(json.get("gateway").asText()).isEqualTo("gateway default/trusting");
        assertThat(json.get("retries").asInt()).isZero();
        assertThat(json.has("duration_ms") && json.has("bytes_out") && json.has("client") && json.has("time")).isTrue();

        // a trusted proxy that adds its hop as a line of its own (HAProxy's option forwardfor): no line is lost
        try (RawHttp c = new RawHttp(trusting)) {
            r = c.send("GET / HTTP/1.1\r\nHost: public.example\r\nX-Forwarded-For: 10.0.0.5\r\nX-Forwarded-For: 203.0.113.9\r\n"
                    + "Forwarded: for=10.0.0.5\r\nForwarded: for=203.0.113.9\r\n\r\n").read();
        }
        assertThat(r.echo("x-forwarded-for")).isEqualTo("10.0.0.5, 203.0.113.9, 127.0.0.1");
        assertThat(r.echo("forwarded")).isEqualTo("for=10.0.0.5, for=203.0.113.9, for=127.0.0.1;host=\"public.example\";proto=http");
    }

    @Test
    void aRedirectFilterAnswersWithoutABackend() throws Exception {
        RawHttp.Response r = RawHttp.get(listener, "x", "/old/page?q=1");
        assertThat(r.status()).isEqualTo(301);
        assertThat(r.header("location")).isEqualTo("https://new.example.com/new/page?q=1");
    }

    @Test
    void aPrefixRewriteReachesTheBackendUnderItsOwnPath() throws Exception {
        RawHttp.Response r = RawHttp.get(listener, "x", "/public/x?y=1");
        assertThat(r.echo("request")).isEqualTo("GET /internal/x?y=1 HTTP/1.1");
    }

    @Test
    void aMirrorGetsACopyOfEachRequestAndItsBody() throws Exception {
        try (RawHttp c = new RawHttp(listener)) {
            assertThat(c.get("x", "/mirrored/get").header("x-portway-pod")).isEqualTo("a-pod");
            RawHttp.Response post = c.send("POST /mirrored/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world").read();
            assertThat(post.header("x-portway-pod")).as("the real backend answers").isEqualTo("a-pod");
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(mirror.seen).contains("GET /mirrored/get x", "POST /mirrored/upload x 11"));
    }

    @Test
    void pathsAreNormalizedBeforeRoutingAndSentNormalized() throws Exception {
        RawHttp.Response r = RawHttp.get(listener, "x", "//a/./b/../%63?z");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echo("request")).isEqualTo("GET /a/c?z HTTP/1.1");
        assertThat(RawHttp.get(listener, "x", "/a%2Fb").status()).isEqualTo(400);
    }
}
