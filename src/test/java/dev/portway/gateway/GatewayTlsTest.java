package dev.portway.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.admin.auth.Pki;
import dev.portway.testing.Http2TlsClient;
import dev.portway.testing.TestCluster;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An HTTPS listener of a Gateway, its certificate from a kubernetes.io/tls Secret: replacing the
 * Secret replaces the certificate, with no restart. HTTPS listeners sharing a port: a request for
 * one listener's host on a connection another's SNI name set up is misdirected (421).
 */
class GatewayTlsTest {

    private static final Instant NOW = Instant.now();
    private static final Pki.KeyAndCert CA = Pki.newCa("test CA", NOW, Duration.ofDays(1));
    private static TestCluster cluster;

    private static String secret(String cn) {
        return secret("secure-tls", cn, "secure.test");
    }

    private static String secret(String name, String cn, String host) {
        Pki.KeyAndCert c = Pki.newServerCert(CA, cn, List.of(host), NOW, Duration.ofDays(1));
        Base64.Encoder b64 = Base64.getEncoder();
        return """
                apiVersion: v1
                kind: Secret
                metadata: {name: %s}
                type: kubernetes.io/tls
                data:
                  tls.crt: %s
                  tls.key: %s
                """.formatted(name, b64.encodeToString(Pki.certPem(c.cert()).getBytes(StandardCharsets.US_ASCII)),
                b64.encodeToString(Pki.keyPem(c.key()).getBytes(StandardCharsets.US_ASCII)));
    }

    /** An HTTPRoute, named as its Gateway, to the backend web. */
    private static String route(String gateway) {
        return """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: %s}
                spec:
                  parentRefs: [{name: %s}]
                  rules:
                  - backendRefs: [{name: web, port: 8000}]
                """.formatted(gateway, gateway);
    }

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster();
        cluster.apply(TestCluster.echoBackend("web", 1) + """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: secure}
                spec:
                  gatewayClassName: portway
                  listeners:
                  - name: https
                    protocol: HTTPS
                    port: 18443
                    hostname: secure.test
                    tls:
                      certificateRefs: [{name: secure-tls}]
                ---
                """ + route("secure") + """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: shared}
                spec:
                  gatewayClassName: portway
                  listeners:
                  - name: wildcard
                    protocol: HTTPS
                    port: 18443
                    hostname: "*.shared.test"
                    tls:
                      certificateRefs: [{name: shared-tls}]
                  - name: api
                    protocol: HTTPS
                    port: 18443
                    hostname: api.shared.test
                    tls:
                      certificateRefs: [{name: shared-tls}]
                ---
                """ + route("shared") + "---\n" + secret("shared-tls", "shared", "*.shared.test") + "---\n" + secret("first"));
        cluster.awaitReady("web", 1);
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static InetSocketAddress address() {
        return cluster.gatewayAddress("secure", 18443);
    }

    /** The subject of the certificate the gateway presents for SNI secure.test, after a request through it succeeded. */
    private static String subject(InetSocketAddress at) throws Exception {
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, dev.portway.net.Tls.trusting(CA.cert()), null);
        try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket()) {
            s.connect(at, 5000);
            s.setSoTimeout(5000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName("secure.test")));
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: secure.test\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertThat(status).isEqualTo("HTTP/1.1 200 OK");
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
        }
    }

    @Test
    void aReplacedSecretServesTheNewCertificateWithoutARestart() throws Exception {
        InetSocketAddress at = address();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> assertThat(subject(at)).isEqualTo("CN=first"));
        cluster.apply(secret("second"));
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> assertThat(subject(at)).isEqualTo("CN=second"));
    }

    /** The status of an HTTP/2 request for {@code host} on a connection made with SNI name {@code sni}. */
    private static int status(String sni, String host) throws Exception {
        return Http2TlsClient.request(cluster.gatewayAddress("shared", 18443), sni, CA.cert(), "GET", host, "/", Map.of(),
                Duration.ofSeconds(5)).status();
    }

    @Test
    void aRequestForAnotherHttpsListenersHostIsMisdirected() throws Exception {
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> {
            assertThat(status("api.shared.test", "api.shared.test")).isEqualTo(200);
            assertThat(status("www.shared.test", "www.shared.test")).isEqualTo(200);
        });
        // the wildcard listener's certificate covers api.shared.test, so an HTTP/2 client may reuse its connection for it
        assertThat(status("www.shared.test", "api.shared.test")).isEqualTo(421);
        assertThat(status("api.shared.test", "www.shared.test")).isEqualTo(421);
    }
}
