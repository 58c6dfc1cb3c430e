package dev.portway.net;

import java.io.IOException;
import java.io.StringReader;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * JDK TLS contexts from PEM keys and certificates, built without what makes Netty's
 * {@code SslContextBuilder} slow on a cold JVM. Its JDK server context class, when first
 * loaded, tests whether trust managers can be wrapped: it parses a probe key through
 * BouncyCastle's provider (registering every BouncyCastle algorithm, with its EC curve checks),
 * stores it in a PKCS#12 key store and reads it back (PBKDF2, ten thousand rounds each way),
 * and loads the JDK's CA certificates. Every context it builds then stores its key in PKCS#12
 * once more. Here key stores never leave memory, so the cheap protection of a JKS entry
 * protects nothing less; callers hand the context to Netty's {@code JdkSslContext}.
 */
public final class Tls {

    /**
     * Makes the JDK's TLS servers in this process refuse a client's renegotiation of a TLS 1.2
     * session (a CPU cost per renegotiation that the client chooses; Go's servers and BoringSSL
     * refuse it too, and HTTP/2 forbids it). Call before the first handshake; a value set on the
     * command line wins.
     */
    public static void refuseClientRenegotiation() {
        if (System.getProperty("jdk.tls.rejectClientInitiatedRenegotiation") == null) {
            System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
        }
    }

    /** The password of in-memory key stores: they are never written anywhere. */
    private static final char[] IN_MEMORY = "in-memory".toCharArray();

    private Tls() {
    }

    /**
     * A context that presents {@code key} with its certificate {@code chain} (the key's own
     * first) and trusts what {@code trusted} signed; with {@code trusted} null, it trusts no peer
     * certificate (a server that asks for none).
     */
    public static SSLContext context(PrivateKey key, List<X509Certificate> chain, X509Certificate trusted) throws GeneralSecurityException {
        KeyStore keys = emptyKeyStore();
        keys.setKeyEntry("identity", key, IN_MEMORY, chain.toArray(Certificate[]::new));
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, IN_MEMORY);
        SSLContext context = SSLContext.getInstance("TLS");
        // no trust managers would mean the JDK's defaults, read from its CA certificates file
        context.init(keyManagers.getKeyManagers(), trusted == null ? new TrustManager[0] : trusting(trusted), null);
        return context;
    }

    /** Trust managers that trust what {@code ca} signed, and nothing else. */
    public static TrustManager[] trusting(X509Certificate ca) throws GeneralSecurityException {
        KeyStore trusted = emptyKeyStore();
        trusted.setCertificateEntry("ca", ca);
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trusted);
        return trustManagers.getTrustManagers();
    }

    private static KeyStore emptyKeyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("JKS");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot make an in-memory key store: " + e.getMessage(), e);
        }
        return store;
    }

    /** The first certificate of a PEM text. */
    public static X509Certificate readCert(String pem) throws IOException {
        List<X509Certificate> chain = readChain(pem);
        if (chain.isEmpty()) {
            throw new IOException("not a PEM certificate");
        }
        return chain.getFirst();
    }

    /** Every certificate of a PEM text, in order; anything else in it is skipped. */
    public static List<X509Certificate> readChain(String pem) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            for (Object o = p.readObject(); o != null; o = p.readObject()) {
                if (o instanceof X509CertificateHolder h) {
                    chain.add(converter.getCertificate(h));
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IOException(e.getMessage(), e);
        }
        return chain;
    }

    /** The private key of a PEM text: PKCS#8, or PKCS#1 (RSA) and SEC1 (EC) as OpenSSL writes them. */
    public static PrivateKey readKey(String pem) throws IOException {
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = p.readObject(); o != null; o = p.readObject()) {
                switch (o) {
                    case PrivateKeyInfo info -> {
                        return converter.getPrivateKey(info);
                    }
                    case PEMKeyPair pair -> {
                        // the private part alone: an EC key's public point is optional in SEC1, and often left out
                        return converter.getPrivateKey(pair.getPrivateKeyInfo());
                    }
                    default -> {
                        // EC parameters before an EC key (openssl ecparam -genkey), or anything else: not the key
                    }
                }
            }
        }
        throw new IOException("not a PEM private key");
    }
}
