package dev.portway.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.admin.auth.Pki;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * PEM keys and certificates as users hand them to a Gateway (Secrets of type kubernetes.io/tls
 * written by openssl, cert-manager, kubeadm), and the contexts built from them.
 */
class TlsTest {

    private static final Instant NOW = Instant.now();
    private static final Pki.KeyAndCert CA = Pki.newCa("test CA", NOW, Duration.ofDays(1));

    /** openssl ecparam -name prime256v1 -genkey: the curve's parameters, then the key (SEC1). */
    private static final String EC_SEC1 = """
            -----BEGIN EC PARAMETERS-----
            BggqhkjOPQMBBw==
            -----END EC PARAMETERS-----
            -----BEGIN EC PRIVATE KEY-----
            MHcCAQEEIGxRAGxEojoUBz+lSbUjpC5koBS3woxSa8pZ0H8sHtBKoAoGCCqGSM49
            AwEHoUQDQgAESwRuOaq9Gy+T5l7OsNfV7zAIWIiN9cV07XEfLHGOVhkXoMojkdcY
            ya80LlM1PJVp6NZHyAsY97F3yPZcp3f8MQ==
            -----END EC PRIVATE KEY-----
            """;

    /** The same key, openssl ec -no_public: SEC1 without its optional public point. */
    private static final String EC_SEC1_NO_PUBLIC = """
            -----BEGIN EC PRIVATE KEY-----
            MDECAQEEIGxRAGxEojoUBz+lSbUjpC5koBS3woxSa8pZ0H8sHtBKoAoGCCqGSM49
            AwEH
            -----END EC PRIVATE KEY-----
            """;

    /** The same key, openssl pkcs8 -topk8 -nocrypt. */
    private static final String EC_PKCS8 = """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbFEAbESiOhQHP6VJ
            tSOkLmSgFLfCjFJrylnQfywe0EqhRANCAARLBG45qr0bL5PmXs6w19XvMAhYiI31
            xXTtcR8scY5WGRegyiOR1xjJrzQuUzU8lWno1kfICxj3sXfI9lynd/wx
            -----END PRIVATE KEY-----
            """;

    /** openssl genrsa -traditional 1024. */
    private static final String RSA_PKCS1 = """
            -----BEGIN RSA PRIVATE KEY-----
            MIICXQIBAAKBgQDJvgbTcusms/umW5sY84spfMAWoLvp3cZhBRTAmU7Gj9ohdhvE
            jaI3I9tUvWuGHbqTHx8RLSnmxrbG441OZZITlJ71MwWM5VNSXCwO4ibKqyXSOScn
            0PHAhqLt8O35Nl7i5hmx6ZmDsit6P5vhgBQOTqsGYfmTll77QeRHWs7IrQIDAQAB
            AoGBAIXvySxc4U2itHHv43qfRkbW8diUAe30NR54dxyfK7OcEZ+hgDHwLkAZaCZM
            U7SIzDOct815hJYYW4ST0l64BFAZjOi+G5O28jKYT4ufDXJgr2XVGU41CnnZFEGx
            s/XV7/R/qacJpxdLfhoPRbuUny7z3Sfyv6uXO0Skl5t/JagpAkEA7cOYuaNXxlU3
            P2bIP8XVhR60w07ZgWnw6xGZCdBY8GfFUwNeLqO+5Z+s0X2Yt88d3s7YOWXFanYT
            +7jtSYEzqwJBANk3KDWH5knBgaaN7COvPN7BAHZnMJuRR0vv4NRNOls68LgtXRDi
            iQRi0beYYMAcJ+cBJJGRhT5bJGUUsvREHQcCQDMg5Z2952kp+Ah1RMiZ9VF8CekZ
            8qHmsz0JerxmhkmkNwWj6sPiyHE+hf5CoO2d51F7b3ngTbSYEbIG0VgGJaMCQQDD
            Hk7aNydgHZjO+jGipGkzV3+I3IzHUasPxXzaeDzxcnKFnwo4fqXB8Nqd5x0RtLkL
            QvWMZYGhT9HTktJlpUHFAkA+1qbvHyNzTdBo9dbKJY7QCUjCM5JPohOH6d9wiBZ7
            Nem9lGGz7VC2uteGPFC1FxPtrQzlCaJm5OgEUjUHtUne
            -----END RSA PRIVATE KEY-----
            """;

    /** The same key, openssl pkcs8 -topk8 -nocrypt. */
    private static final String RSA_PKCS8 = """
            -----BEGIN PRIVATE KEY-----
            MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAMm+BtNy6yaz+6Zb
            mxjziyl8wBagu+ndxmEFFMCZTsaP2iF2G8SNojcj21S9a4YdupMfHxEtKebGtsbj
            jU5lkhOUnvUzBYzlU1JcLA7iJsqrJdI5JyfQ8cCGou3w7fk2XuLmGbHpmYOyK3o/
            m+GAFA5OqwZh+ZOWXvtB5EdazsitAgMBAAECgYEAhe/JLFzhTaK0ce/jep9GRtbx
            2JQB7fQ1Hnh3HJ8rs5wRn6GAMfAuQBloJkxTtIjMM5y3zXmElhhbhJPSXrgEUBmM
            6L4bk7byMphPi58NcmCvZdUZTjUKedkUQbGz9dXv9H+ppwmnF0t+Gg9Fu5SfLvPd
            J/K/q5c7RKSXm38lqCkCQQDtw5i5o1fGVTc/Zsg/xdWFHrTDTtmBafDrEZkJ0Fjw
            Z8VTA14uo77ln6zRfZi3zx3eztg5ZcVqdhP7uO1JgTOrAkEA2TcoNYfmScGBpo3s
            I6883sEAdmcwm5FHS+/g1E06WzrwuC1dEOKJBGLRt5hgwBwn5wEkkZGFPlskZRSy
            9EQdBwJAMyDlnb3naSn4CHVEyJn1UXwJ6RnyoeazPQl6vGaGSaQ3BaPqw+LIcT6F
            /kKg7Z3nUXtveeBNtJgRsgbRWAYlowJBAMMeTto3J2AdmM76MaKkaTNXf4jcjMdR
            qw/FfNp4PPFycoWfCjh+pcHw2p3nHRG0uQtC9YxlgaFP0dOS0mWlQcUCQD7Wpu8f
            I3NN0Gj11soljtAJSMIzkk+iE4fp33CIFns16b2UYbPtULa614Y8ULUXE+2tDOUJ
            ombk6ARSNQe1Sd4=
            -----END PRIVATE KEY-----
            """;

    @Test
    void keysAreReadInEveryFormOpensslWrites() throws Exception {
        BigInteger s = ((ECPrivateKey) Tls.readKey(EC_PKCS8)).getS();
        assertThat(((ECPrivateKey) Tls.readKey(EC_SEC1)).getS()).isEqualTo(s);
        assertThat(((ECPrivateKey) Tls.readKey(EC_SEC1.substring(EC_SEC1.indexOf("-----BEGIN EC PRIVATE KEY")))).getS()).isEqualTo(s);
        assertThat(((ECPrivateKey) Tls.readKey(EC_SEC1_NO_PUBLIC)).getS()).isEqualTo(s);

        RSAPrivateKey pkcs8 = (RSAPrivateKey) Tls.readKey(RSA_PKCS8);
        RSAPrivateKey pkcs1 = (RSAPrivateKey) Tls.readKey(RSA_PKCS1);
        assertThat(pkcs1.getModulus()).isEqualTo(pkcs8.getModulus());
        assertThat(pkcs1.getPrivateExponent()).isEqualTo(pkcs8.getPrivateExponent());

        PrivateKey jdk = Pki.newKeyPair().getPrivate();
        assertThat(Tls.readKey(Pki.keyPem(jdk)).getEncoded()).isEqualTo(jdk.getEncoded());

        assertThatThrownBy(() -> Tls.readKey(Pki.certPem(CA.cert()))).isInstanceOf(IOException.class).hasMessage("not a PEM private key");
        assertThatThrownBy(() -> Tls.readCert(EC_PKCS8)).isInstanceOf(IOException.class).hasMessage("not a PEM certificate");
    }

    @Test
    void aChainIsReadWholeAndInOrder() throws Exception {
        Pki.KeyAndCert leaf = Pki.newServerCert(CA, "web", List.of("web.test"), NOW, Duration.ofDays(1));
        String text = Pki.certPem(leaf.cert()) + Pki.keyPem(leaf.key()) + Pki.certPem(CA.cert());
        assertThat(Tls.readChain(text)).containsExactly(leaf.cert(), CA.cert());
        assertThat(Tls.readCert(text)).isEqualTo(leaf.cert());
    }

    /** A real handshake on loopback: the server presents its chain, the client trusts the CA alone. */
    @Test
    void aContextServesItsChainToAClientThatTrustsTheCa() throws Exception {
        Pki.KeyAndCert leaf = Pki.newServerCert(CA, "web", List.of("127.0.0.1"), NOW, Duration.ofDays(1));
        SSLContext server = Tls.context(leaf.key(), List.of(leaf.cert(), CA.cert()), null);
        SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, Tls.trusting(CA.cert()), null);
        try (SSLServerSocket listening = (SSLServerSocket) server.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) listening.accept()) {
                    s.getOutputStream().write("hello\n".getBytes());
                    s.getOutputStream().flush();
                    return s.getSession().getProtocol();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket()) {
                s.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), listening.getLocalPort()), 5000);
                s.setSoTimeout(5000);
                var p = s.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                s.setSSLParameters(p);
                assertThat(new String(s.getInputStream().readNBytes(6))).isEqualTo("hello\n");
                assertThat(s.getSession().getPeerCertificates()).containsExactly(leaf.cert(), CA.cert());
            }
            assertThat(served.get()).isEqualTo("TLSv1.3");
        }
    }
}
