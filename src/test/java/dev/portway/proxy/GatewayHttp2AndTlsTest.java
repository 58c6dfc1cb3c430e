package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.admin.auth.Pki;
import dev.portway.plan.Plan;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTPS and HTTP/2 on the gateway: TLS terminated with the certificate the client's SNI names,
 * HTTP/2 over TLS (ALPN) and in clear text (prior knowledge with curl, Upgrade with the JDK's
 * client) routed like HTTP/1.1, and a certificate replaced by a new plan taken by the next
 * connection without a restart.
 */
class GatewayHttp2AndTlsTest {

    private static final Instant NOW = Instant.now();
    private static final Pki.KeyAndCert CA = Pki.newCa("test CA", NOW, Duration.ofDays(1));
    private static GatewayFixture gw;
    private static InetSocketAddress https;
    private static InetSocketAddress clear;
    private static SSLContext trusting;

    private static Plan.Certificate certificate(String cn, List<String> sni, String... hosts) {
        Pki.KeyAndCert c = Pki.newServerCert(CA, cn, List.of(hosts), NOW, Duration.ofDays(1));
        return new Plan.Certificate(sni, Pki.certPem(c.cert()), Pki.keyPem(c.key()));
    }

    private static Plan.HttpListener httpsListener(List<Plan.Certificate> certificates) {
        return new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP,
                new InetSocketAddress(GatewayFixture.listenerIp(61), 8443)), "gateway default/tls", certificates, List.of(),
                List.of(host(null, rule("default/echo", prefix("/"), to("echo")))), List.of(), false);
    }

    @BeforeAll
    static void start() throws Exception {
        gw = new GatewayFixture();
        gw.cluster("echo", gw.echo("echo", 61));
        https = gw.listen(httpsListener(List.of(
                certificate("default", List.of(), GatewayFixture.listenerIp(61)),
                certificate("a", List.of("a.example.com"), "a.example.com"),
                certificate("wild", List.of("*.b.example.com"), "*.b.example.com"))));
        clear = gw.listen(62, host(null, rule("default/echo", prefix("/"), to("echo"))));
        trusting = SSLContext.getInstance("TLS");
        trusting.init(null, trustManagers(), null);
    }

    private static javax.net.ssl.TrustManager[] trustManagers() throws Exception {
        return dev.portway.net.Tls.trusting(CA.cert());
    }

    /**
     * An HTTPS listener none of whose certificates can be used (here a damaged key; an encrypted
     * one alike) refuses every connection. It used to have no TLS contexts at all, which the
     * connection setup read as plain HTTP: the routes were served in clear text on the port.
     */
    @Test
    void anHttpsListenerWithoutAUsableCertificateServesNothingInClearText() throws Exception {
        Pki.KeyAndCert c = Pki.newServerCert(CA, "broken", List.of(GatewayFixture.listenerIp(63)), NOW, Duration.ofDays(1));
        InetSocketAddress broken = gw.listen(new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP,
                new InetSocketAddress(GatewayFixture.listenerIp(63), 8443)), "gateway default/broken",
                List.of(new Plan.Certificate(List.of(), Pki.certPem(c.cert()), "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")),
                List.of(), List.of(host(null, rule("default/echo", prefix("/"), to("echo")))), List.of(), false));
        assertServesNothing(broken);
        // a Gateway's HTTPS listener that reached the data plane without any certificate is HTTPS all the same
        InetSocketAddress bare = gw.listen(new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP,
                new InetSocketAddress(GatewayFixture.listenerIp(65), 8443)), "gateway default/bare", List.of(), List.of("*"),
                List.of(host(null, rule("default/echo", prefix("/"), to("echo")))), List.of(), false));
        assertServesNothing(bare);
    }

    /** A plain request to {@code listener} gets no answer: the connection closes. */
    private static void assertServesNothing(InetSocketAddress listener) throws Exception {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(listener, 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + listener.getAddress().getHostAddress() + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            int first;
            try {
                first = s.getInputStream().read();
            } catch (java.net.SocketException reset) {
                first = -1;
            }
            assertThat(first).as("no answer, and no route served in clear text").isEqualTo(-1);
        }
    }

    /** One certificate that cannot be used leaves the listener's other certificates serving their names. */
    @Test
    void aCertificateThatCannotBeUsedIsLeftOutAndTheOthersServe() throws Exception {
        Pki.KeyAndCert broken = Pki.newServerCert(CA, "broken", List.of("broken.example.com"), NOW, Duration.ofDays(1));
        InetSocketAddress mixed = gw.listen(new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP,
                new InetSocketAddress(GatewayFixture.listenerIp(64), 8443)), "gateway default/mixed",
                List.of(new Plan.Certificate(List.of("broken.example.com"), Pki.certPem(broken.cert()),
                                "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"),
                        certificate("default", List.of(), GatewayFixture.listenerIp(64))),
                List.of(), List.of(host(null, rule("default/echo", prefix("/"), to("echo")))), List.of(), false));
        HttpClient client = HttpClient.newBuilder().sslContext(trusting).version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url(mixed, "https", "/still"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("request: GET /still HTTP/1.1");
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    private static String url(InetSocketAddress a, String scheme, String path) {
        return scheme + "://" + a.getAddress().getHostAddress() + ":" + a.getPort() + path;
    }

    @Test
    void http2OverTlsIsRoutedAndReachesTheBackendAsHttp11() throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(trusting).version(HttpClient.Version.HTTP_2).build();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url(https, "https", "/h2?n=" + i))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("request: GET /h2?n=" + i + " HTTP/1.1").contains("x-forwarded-proto: https")
                    .doesNotContain("x-http2");
        }
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> concurrent = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            concurrent.add(client.sendAsync(HttpRequest.newBuilder(URI.create(url(https, "https", "/many/" + i))).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = concurrent.get(i).get(10, TimeUnit.SECONDS);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.body()).as("streams on one connection").contains("request: GET /many/" + i + " HTTP/1.1");
        }
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create(url(https, "https", "/upload")))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).contains("request: POST /upload HTTP/1.1");
    }

    @Test
    void http11OverTlsStillWorks() throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(trusting).version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url(https, "https", "/h1"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(r.statusCode()).isEqualTo(200);
    }

    /** The certificate a client that sends this SNI name (none: null) gets. */
    private static String certificateFor(String sni) throws Exception {
        // a context of its own: a session resumed from an earlier connection would keep that connection's certificate
        SSLContext fresh = SSLContext.getInstance("TLS");
        fresh.init(null, trustManagers(), null);
        try (SSLSocket s = (SSLSocket) fresh.getSocketFactory().createSocket()) {
            s.connect(https, 5000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            s.setSSLParameters(p);
            s.startHandshake();
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + (sni == null ? "x" : sni) + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine())
                    .isEqualTo("HTTP/1.1 200 OK");
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
        }
    }

    @Test
    void theCertificateIsChosenBySni() throws Exception {
        assertThat(certificateFor("a.example.com")).isEqualTo("CN=a");
        assertThat(certificateFor("x.b.example.com")).isEqualTo("CN=wild");
        assertThat(certificateFor("other.example.com")).isEqualTo("CN=default");
        assertThat(certificateFor(null)).isEqualTo("CN=default");
    }

    @Test
    void aNewCertificateIsTakenWithoutARestart() throws Exception {
        assertThat(certificateFor("a.example.com")).isEqualTo("CN=a");
        gw.listen(httpsListener(List.of(
                certificate("default", List.of(), GatewayFixture.listenerIp(61)),
                certificate("a-renewed", List.of("a.example.com"), "a.example.com"),
                certificate("wild", List.of("*.b.example.com"), "*.b.example.com"))));
        assertThat(certificateFor("a.example.com")).isEqualTo("CN=a-renewed");
        assertThat(certificateFor("x.b.example.com")).isEqualTo("CN=wild");
    }

    @Test
    void h2cByUpgradeIsRouted() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        HttpResponse<String> first = client.send(HttpRequest.newBuilder(URI.create(url(clear, "http", "/upgrade"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).contains("request: GET /upgrade HTTP/1.1");
        HttpResponse<String> second = client.send(HttpRequest.newBuilder(URI.create(url(clear, "http", "/after"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(second.version()).as("the connection upgraded").isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(second.body()).contains("request: GET /after HTTP/1.1");
    }

    @Test
    void h2cWithPriorKnowledgeIsRouted() throws Exception {
        Process curl = new ProcessBuilder("curl", "-sS", "--http2-prior-knowledge", "-o", "-", "-w", "\\nversion %{http_version}\\n",
                url(clear, "http", "/prior")).redirectErrorStream(true).start();
        assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.exitValue()).as(out).isZero();
        assertThat(out).contains("request: GET /prior HTTP/1.1").contains("version 2");
    }
}
