package dev.portway.admin.auth;

import dev.portway.net.Tls;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Keys and X.509 certificates for the admin API, as kubeadm, kind and k3s make them: a
 * self-signed CA, a serving certificate for the addresses clients dial, and client
 * certificates. Keys are ECDSA P-256 from the JDK; BouncyCastle builds the certificates and
 * reads and writes PEM (no hand-written ASN.1).
 */
public final class Pki {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Pki() {
    }

    /** A certificate and its private key. */
    public record KeyAndCert(PrivateKey key, X509Certificate cert) {
    }

    public static KeyPair newKeyPair() {
        try {
            KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
            kpg.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return kpg.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an EC key: " + e.getMessage(), e);
        }
    }

    /** A self-signed CA that may sign certificates (and nothing below them). */
    public static KeyAndCert newCa(String commonName, Instant now, Duration validity) {
        KeyPair keys = newKeyPair();
        X500Name name = name(commonName, null);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minusSeconds(60)),
                    Date.from(now.plus(validity)), name, keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new KeyAndCert(keys.getPrivate(), sign(b, keys.getPrivate()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create a CA: " + e.getMessage(), e);
        }
    }

    /** A certificate for a TLS server reachable at {@code hosts} (IP addresses and DNS names). */
    public static KeyAndCert newServerCert(KeyAndCert ca, String commonName, Collection<String> hosts, Instant now, Duration validity) {
        List<GeneralName> names = new ArrayList<>();
        for (String host : hosts) {
            names.add(isIpLiteral(host) ? new GeneralName(GeneralName.iPAddress, host) : new GeneralName(GeneralName.dNSName, host));
        }
        return issue(ca, name(commonName, null), now, validity, KeyPurposeId.id_kp_serverAuth,
                new GeneralNames(names.toArray(GeneralName[]::new)));
    }

    /** A certificate a client authenticates with: the user is its CN, its groups its O entries (as Kubernetes reads them). */
    public static KeyAndCert newClientCert(KeyAndCert ca, String user, String group, Instant now, Duration validity) {
        return issue(ca, name(user, group), now, validity, KeyPurposeId.id_kp_clientAuth, null);
    }

    private static KeyAndCert issue(KeyAndCert ca, X500Name subject, Instant now, Duration validity, KeyPurposeId purpose,
                                    GeneralNames altNames) {
        KeyPair keys = newKeyPair();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.cert(), serial(), Date.from(now.minusSeconds(60)),
                    Date.from(now.plus(validity)), subject, keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.cert()));
            if (altNames != null) {
                b.addExtension(Extension.subjectAlternativeName, false, altNames);
            }
            return new KeyAndCert(keys.getPrivate(), sign(b, ca.key()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot issue a certificate: " + e.getMessage(), e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
        try {
            ContentSigner s = new JcaContentSignerBuilder("SHA256withECDSA").build(signer);
            return new JcaX509CertificateConverter().getCertificate(b.build(s));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static X500Name name(String commonName, String organization) {
        X500NameBuilder n = new X500NameBuilder(BCStyle.INSTANCE);
        if (organization != null) {
            n.addRDN(BCStyle.O, organization);
        }
        n.addRDN(BCStyle.CN, commonName);
        return n.build();
    }

    private static BigInteger serial() {
        return new BigInteger(128, RANDOM);
    }

    static boolean isIpLiteral(String host) {
        if (host.isEmpty()) {
            return false;
        }
        boolean v4 = host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        return v4 && host.chars().filter(c -> c == '.').count() == 3 || host.indexOf(':') >= 0;
    }

    /** Whether the certificate names {@code host} (an IP address or a DNS name) in its subjectAltName. */
    public static boolean covers(X509Certificate cert, String host) {
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans == null) {
                return false;
            }
            boolean ip = isIpLiteral(host);
            InetAddress want = ip ? InetAddress.getByName(host) : null;
            for (List<?> san : sans) {
                int type = (Integer) san.get(0);
                String value = String.valueOf(san.get(1));
                if (ip && type == GeneralName.iPAddress && InetAddress.getByName(value).equals(want)) {
                    return true;
                }
                if (!ip && type == GeneralName.dNSName && value.equalsIgnoreCase(host)) {
                    return true;
                }
            }
            return false;
        } catch (GeneralSecurityException | IOException e) {
            return false;
        }
    }

    // PEM

    public static String certPem(X509Certificate cert) {
        return pem(cert);
    }

    /** PKCS#8 ({@code BEGIN PRIVATE KEY}), which Go's {@code tls.X509KeyPair} and Netty both read. */
    public static String keyPem(PrivateKey key) {
        try {
            return pem(new JcaPKCS8Generator(key, null));
        } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(Object o) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    /** A JDK TLS context that presents {@code identity} (its certificate, then the CA's) and trusts what {@code ca} signed. */
    public static SSLContext tlsContext(KeyAndCert identity, KeyAndCert ca) throws GeneralSecurityException {
        return Tls.context(identity.key(), List.of(identity.cert(), ca.cert()), ca.cert());
    }
}
