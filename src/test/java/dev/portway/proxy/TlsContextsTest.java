package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.admin.auth.Pki;
import dev.portway.net.Tls;
import dev.portway.plan.Plan;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The HTTPS listeners' server contexts: BoringSSL where its native library loads (it ships for
 * Linux on x86-64 and ARM64), the JDK's TLS otherwise, each offering HTTP/2 then HTTP/1.1 by ALPN
 * with the certificate chosen by SNI. Each handshake runs in memory, against the JDK's client.
 */
class TlsContextsTest {

    private static final Instant NOW = Instant.now();
    private static final Pki.KeyAndCert CA = Pki.newCa("test CA", NOW, Duration.ofDays(1));

    @Test
    void boringSslLoadsWhereItShips() {
        String arch = System.getProperty("os.arch");
        if (System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux") && List.of("amd64", "aarch64").contains(arch)) {
            assertThat(OpenSsl.isAvailable()).as("netty-tcnative-boringssl-static: %s", OpenSsl.unavailabilityCause()).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void eachProviderNegotiatesHttp2AndPresentsTheNamedCertificate(SslProvider provider) throws Exception {
        Assumptions.assumeTrue(provider != SslProvider.OPENSSL || OpenSsl.isAvailable(), "BoringSSL does not load here");
        Pki.KeyAndCert a = Pki.newServerCert(CA, "a", List.of("a.example.com"), NOW, Duration.ofDays(1));
        Pki.KeyAndCert fallback = Pki.newServerCert(CA, "default", List.of("default.example.com"), NOW, Duration.ofDays(1));
        Plan.Certificate forA = new Plan.Certificate(List.of("a.example.com"), Pki.certPem(a.cert()) + Pki.certPem(CA.cert()), Pki.keyPem(a.key()));
        Plan.Certificate forAnyName = new Plan.Certificate(List.of(), Pki.certPem(fallback.cert()), Pki.keyPem(fallback.key()));

        TlsContexts contexts = TlsContexts.build(List.of(forA, forAnyName), provider);
        SSLEngine client = handshake(contexts.mapping().map("a.example.com"), "a.example.com");
        assertThat(client.getApplicationProtocol()).isEqualTo("h2");
        assertThat(client.getSession().getPeerCertificates()).containsExactly(a.cert(), CA.cert());
        assertThat(client.getSession().getProtocol()).isEqualTo("TLSv1.3");
        // a name no certificate names gets the one without names
        SSLEngine other = handshake(contexts.mapping().map("default.example.com"), "default.example.com");
        assertThat(other.getSession().getPeerCertificates()).containsExactly(fallback.cert());
    }

    /** A full handshake between a server engine of {@code server} and the JDK's client, in memory; the client's engine. */
    private static SSLEngine handshake(SslContext server, String name) throws Exception {
        SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
        SSLContext trusting = SSLContext.getInstance("TLS");
        trusting.init(null, Tls.trusting(CA.cert()), null);
        SSLEngine c = trusting.createSSLEngine(name, 443);
        c.setUseClientMode(true);
        SSLParameters p = c.getSSLParameters();
        p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
        p.setServerNames(List.of(new SNIHostName(name)));
        p.setEndpointIdentificationAlgorithm("HTTPS");
        c.setSSLParameters(p);
        ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
        ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
        ByteBuffer app = ByteBuffer.allocate(1 << 17);
        c.beginHandshake();
        s.beginHandshake();
        for (int i = 0; i < 50 && !(finished(c) && finished(s)); i++) {
            step(c, toServer);
            deliver(toServer, s, app);
            step(s, toClient);
            deliver(toClient, c, app);
        }
        assertThat(finished(c) && finished(s)).as("the handshake completes").isTrue();
        return c;
    }

    private static boolean finished(SSLEngine e) {
        SSLEngineResult.HandshakeStatus h = e.getHandshakeStatus();
        return h == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING || h == SSLEngineResult.HandshakeStatus.FINISHED;
    }

    /** Whatever {@code e} has to send, appended to {@code out}. */
    private static void step(SSLEngine e, ByteBuffer out) throws Exception {
        for (int i = 0; i < 10; i++) {
            SSLEngineResult r = e.wrap(ByteBuffer.allocate(0), out);
            runTasks(e);
            if (r.bytesProduced() == 0) {
                return;
            }
        }
    }

    /** Hands {@code in} (written so far) to {@code e}, keeping what it cannot read yet. */
    private static void deliver(ByteBuffer in, SSLEngine e, ByteBuffer app) throws Exception {
        in.flip();
        while (in.hasRemaining()) {
            app.clear();
            SSLEngineResult r = e.unwrap(in, app);
            runTasks(e);
            if (r.bytesConsumed() == 0) {
                break;
            }
        }
        in.compact();
    }

    private static void runTasks(SSLEngine e) {
        for (Runnable task = e.getDelegatedTask(); task != null; task = e.getDelegatedTask()) {
            task.run();
        }
    }
}
