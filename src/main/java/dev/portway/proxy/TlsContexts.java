package dev.portway.proxy;

import dev.portway.net.Tls;
import dev.portway.plan.Plan;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * The TLS side of an HTTPS listener: one server context per certificate, chosen by the client's
 * SNI name (exact names, then {@code *.} wildcards); a client without SNI, or with a name no
 * certificate covers, gets the default certificate (the first one without hostnames, else the
 * first). Every context offers HTTP/2 and HTTP/1.1 by ALPN. Built once per set of certificates:
 * when a Secret changes the plan carries the new PEM, and new connections get the new contexts.
 *
 * @param certificates what the contexts were built from
 * @param mapping      SNI name to context
 */
record TlsContexts(List<Plan.Certificate> certificates, Mapping<String, SslContext> mapping) {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TlsContexts.class);

    static {
        // the JDK's engine (where BoringSSL cannot load) would let a client renegotiate; BoringSSL never does
        dev.portway.net.Tls.refuseClientRenegotiation();
    }

    /**
     * The contexts of {@code certificates}. One that cannot be used (a damaged or encrypted key)
     * is left out, with a warning, so that the others still serve their names (several Ingresses
     * share one listener); none usable is an error.
     */
    static TlsContexts build(List<Plan.Certificate> certificates) throws SSLException {
        return build(certificates, OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK);
    }

    static TlsContexts build(List<Plan.Certificate> certificates, SslProvider provider) throws SSLException {
        SslContext first = null;
        SslContext unnamed = null;
        Map<String, SslContext> named = new LinkedHashMap<>();
        SSLException unusable = null;
        for (Plan.Certificate c : certificates) {
            SslContext context;
            try {
                context = context(c, provider);
            } catch (SSLException | RuntimeException e) {
                log.warn("a TLS certificate for {} cannot be used and is left out: {}", c.hostnames().isEmpty() ? "any name" : c.hostnames(),
                        e.getMessage());
                unusable = e instanceof SSLException ssl ? ssl : new SSLException(e.getMessage(), e);
                continue;
            }
            first = first == null ? context : first;
            if (c.hostnames().isEmpty() && unnamed == null) {
                unnamed = context;
            }
            for (String h : c.hostnames()) {
                named.putIfAbsent(h.toLowerCase(Locale.ROOT), context);
            }
        }
        if (first == null) {
            throw unusable != null ? unusable : new SSLException("no certificate");
        }
        DomainWildcardMappingBuilder<SslContext> builder = new DomainWildcardMappingBuilder<>(unnamed != null ? unnamed : first);
        named.forEach(builder::add);
        return new TlsContexts(List.copyOf(certificates), builder.build());
    }

    /** HTTP/2 first, then HTTP/1.1, by ALPN; a client that offers neither gets no protocol named. */
    private static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);

    /**
     * The server context of one certificate. With BoringSSL (Netty's OpenSSL provider), as HAProxy
     * and Envoy terminate TLS: handshakes and records in native code, the key handed over as it
     * is. Where its native library cannot load, the JDK's own TLS, with a context built by
     * {@link Tls} (not by Netty's {@code SslContextBuilder}, whose first JDK server context costs
     * a cold JVM a third of a second of CPU, and every one after it two PBKDF2 passes: on the
     * thread that applies plans).
     */
    static SslContext context(Plan.Certificate c, SslProvider provider) throws SSLException {
        try {
            PrivateKey key = Tls.readKey(c.keyPem());
            List<X509Certificate> chain = Tls.readChain(c.certificatePem());
            if (chain.isEmpty()) {
                throw new SSLException("tls.crt holds no PEM certificate");
            }
            if (provider == SslProvider.OPENSSL) {
                // its key manager reads the key through a key store in memory: JKS, not PKCS#12's PBKDF2 both ways
                return SslContextBuilder.forServer(key, chain).sslProvider(SslProvider.OPENSSL).keyStoreType("JKS")
                        .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                        .applicationProtocolConfig(ALPN)
                        .build();
            }
            SSLContext context = Tls.context(key, chain, null);
            return new JdkSslContext(context, false, Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE, ALPN,
                    ClientAuth.NONE, null, false);
        } catch (java.io.IOException | GeneralSecurityException e) {
            throw new SSLException(e.getMessage(), e);
        }
    }
}
