package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.admin.auth.Pki;
import dev.portway.plan.Plan;
import dev.portway.testing.Http2TlsClient;
import dev.portway.testing.RawHttp;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTPS listeners of one Gateway on one port: a TLS connection belongs to the listener its SNI
 * name falls to, and a request on it for a host another listener takes is misdirected (421), over
 * HTTP/1.1 as over HTTP/2, the connection going on; a host no listener takes is not found (404);
 * a client that sent no SNI name is routed by Host alone.
 */
class GatewayMisdirectedRequestTest {

    private static final Instant NOW = Instant.now();
    private static final Pki.KeyAndCert CA = Pki.newCa("test CA", NOW, Duration.ofDays(1));
    private static GatewayFixture gw;
    /** Listeners a.example.com, *.b.example.com and one without a hostname. */
    private static InetSocketAddress three;
    /** Only a.example.com. */
    private static InetSocketAddress one;
    private static TrustManager[] trustManagers;

    private static Plan.HttpListener listener(int n, List<String> listenerHostnames, Plan.VirtualHost... hosts) {
        Pki.KeyAndCert c = Pki.newServerCert(CA, "gateway", List.of("*.example.com", "*.b.example.com"), NOW, Duration.ofDays(1));
        return new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP, new InetSocketAddress(GatewayFixture.listenerIp(n), 8443)),
                "gateway default/sni-" + n, List.of(new Plan.Certificate(List.of(), Pki.certPem(c.cert()), Pki.keyPem(c.key()))),
                listenerHostnames, List.of(hosts), List.of(), false);
    }

    @BeforeAll
    static void start() throws Exception {
        gw = new GatewayFixture();
        gw.cluster("a", gw.echo("a", 71));
        gw.cluster("b", gw.echo("b", 72));
        gw.cluster("any", gw.echo("any", 73));
        // as GatewayPlans groups them: each listener's routes, the most specific listener first
        three = gw.listen(listener(71, List.of("a.example.com", "*.b.example.com", "*"),
                host("a.example.com", rule("default/a", prefix("/"), to("a"))),
                host("*.b.example.com", rule("default/b", prefix("/"), to("b"))),
                host(null, rule("default/any", prefix("/"), to("any")))));
        one = gw.listen(listener(72, List.of("a.example.com"), host("a.example.com", rule("default/a", prefix("/"), to("a")))));
        trustManagers = dev.portway.net.Tls.trusting(CA.cert());
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    /** An HTTP/1.1 connection over TLS with this SNI name (null: none). */
    private static RawHttp connect(InetSocketAddress at, String sni) throws Exception {
        // a context of its own: the JDK resumes a session of an earlier connection with that connection's SNI name
        SSLContext trusting = SSLContext.getInstance("TLS");
        trusting.init(null, trustManagers, null);
        Socket plain = new Socket();
        plain.connect(at, 5000);
        plain.setSoTimeout(5000);
        SSLSocket s = (SSLSocket) trusting.getSocketFactory().createSocket(plain, at.getAddress().getHostAddress(), at.getPort(), true);
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
        if (sni != null) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        s.setSSLParameters(p);
        s.startHandshake();
        return new RawHttp(s);
    }

    private static RawHttp.Response get(InetSocketAddress at, String sni, String host) throws Exception {
        try (RawHttp c = connect(at, sni)) {
            return c.get(host, "/");
        }
    }

    @Test
    void aHostOfTheListenerTheSniNameChoseIsServed() throws Exception {
        assertThat(get(three, "a.example.com", "a.example.com").echo("pod")).isEqualTo("a");
        assertThat(get(three, "x.b.example.com", "y.b.example.com").echo("pod")).as("the same wildcard listener").isEqualTo("b");
        assertThat(get(three, "other.example.com", "c.example.com").echo("pod")).isEqualTo("any");
    }

    @Test
    void aHostOfAnotherListenerIsMisdirectedAndTheConnectionGoesOn() throws Exception {
        try (RawHttp c = connect(three, "a.example.com")) {
            assertThat(c.get("a.example.com", "/").echo("pod")).isEqualTo("a");
            RawHttp.Response wrong = c.get("x.b.example.com", "/");
            assertThat(wrong.status()).isEqualTo(421);
            assertThat(wrong.header("x-portway-reply")).isEqualTo("gateway");
            assertThat(wrong.body()).contains("set up for a.example.com").contains("host x.b.example.com");
            assertThat(c.get("a.example.com", "/").echo("pod")).as("the connection is still good for its own hosts").isEqualTo("a");
        }
        // the listener without a hostname takes what no other takes, not what a more specific one does
        assertThat(get(three, "other.example.com", "a.example.com").status()).isEqualTo(421);
        assertThat(get(three, "x.b.example.com", "other.example.com").status()).isEqualTo(421);
    }

    @Test
    void overHttp2AsOverHttp11() throws Exception {
        Http2TlsClient.Response wrong = Http2TlsClient.request(three, "x.b.example.com", CA.cert(), "GET", "a.example.com", "/", Map.of(),
                Duration.ofSeconds(5));
        assertThat(wrong.status()).isEqualTo(421);
        Http2TlsClient.Response right = Http2TlsClient.request(three, "a.example.com", CA.cert(), "GET", "a.example.com", "/", Map.of(),
                Duration.ofSeconds(5));
        assertThat(right.status()).isEqualTo(200);
        assertThat(right.headers().get("x-portway-pod")).containsExactly("a");
    }

    @Test
    void aHostNoListenerTakesIsNotFoundAndAnSniNameNoneTakesIsMisdirectedForAListenersHost() throws Exception {
        assertThat(get(one, "a.example.com", "z.example.com").status()).isEqualTo(404);
        assertThat(get(one, "c.example.com", "a.example.com").status()).isEqualTo(421);
    }

    @Test
    void withoutSniTheHostAloneRoutes() throws Exception {
        assertThat(get(three, null, "a.example.com").echo("pod")).isEqualTo("a");
        assertThat(get(three, null, "x.b.example.com").echo("pod")).isEqualTo("b");
    }
}
