package dev.portway.admin.auth;

import dev.portway.net.Tls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the admin API trusts and presents, kept in the state directory (mode 0700) as kubeadm
 * keeps {@code /etc/kubernetes/pki}: created on first start and reused afterwards.
 *
 * <pre>
 * STATE_DIR/token            the bearer token (256 random bits), 0600
 * STATE_DIR/pki/ca.crt       the CA clients trust; ca.key 0600
 * STATE_DIR/pki/apiserver.crt the serving certificate (127.0.0.1, ::1, localhost, the admin address); .key 0600
 * STATE_DIR/pki/admin.crt    a client certificate (CN=portway-admin, O=system:masters); .key 0600
 * </pre>
 *
 * The serving certificate is issued again when it does not name an address the server listens
 * on, or has less than 30 days left; the CA lives 10 years.
 */
public final class AdminCredentials {

    private static final Logger log = LoggerFactory.getLogger(AdminCredentials.class);

    /** The user a client certificate issued here names, and its group (Kubernetes' superuser group). */
    public static final String ADMIN_USER = "portway-admin";
    public static final String ADMIN_GROUP = "system:masters";

    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    private static final Duration CERT_VALIDITY = Duration.ofDays(365);
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);

    private final Path dir;
    private final Pki.KeyAndCert ca;
    private final Pki.KeyAndCert server;
    private final Pki.KeyAndCert client;
    private final String token;

    private AdminCredentials(Path dir, Pki.KeyAndCert ca, Pki.KeyAndCert server, Pki.KeyAndCert client, String token) {
        this.dir = dir;
        this.ca = ca;
        this.server = server;
        this.client = client;
        this.token = token;
    }

    /**
     * Loads the credentials in {@code stateDir}, creating what is missing, so that the serving
     * certificate covers {@code hosts} (besides 127.0.0.1, ::1 and localhost).
     *
     * @throws UncheckedIOException when a file is there but unreadable or corrupt (its path is in the message)
     */
    public static AdminCredentials loadOrCreate(Path stateDir, Collection<String> hosts, Clock clock) {
        try {
            Path pki = stateDir.resolve("pki");
            createPrivateDir(stateDir);
            createPrivateDir(pki);
            Instant now = clock.instant();
            Pki.KeyAndCert ca = read(pki, "ca");
            if (ca == null) {
                ca = Pki.newCa("portway-ca", now, CA_VALIDITY);
                write(pki, "ca", ca);
                log.info("created a CA for the admin API in {}", pki);
            }
            Set<String> names = new LinkedHashSet<>(List.of("127.0.0.1", "::1", "localhost"));
            hosts.stream().filter(h -> h != null && !h.isEmpty() && !isWildcard(h)).forEach(names::add);
            Pki.KeyAndCert server = read(pki, "apiserver");
            if (server == null || !fresh(server.cert(), ca, now) || !coversAll(server.cert(), names)) {
                server = Pki.newServerCert(ca, "portway-apiserver", names, now, CERT_VALIDITY);
                write(pki, "apiserver", server);
            }
            Pki.KeyAndCert client = read(pki, "admin");
            if (client == null || !fresh(client.cert(), ca, now)) {
                client = Pki.newClientCert(ca, ADMIN_USER, ADMIN_GROUP, now, CERT_VALIDITY);
                write(pki, "admin", client);
            }
            Path tokenFile = stateDir.resolve("token");
            String token;
            if (Files.exists(tokenFile)) {
                checkPrivate(tokenFile);
                token = Files.readString(tokenFile, StandardCharsets.US_ASCII).strip();
                if (token.length() < 32) {
                    throw new IOException(tokenFile + ": the token is shorter than 32 characters; remove the file to get a new one");
                }
            } else {
                byte[] bits = new byte[32];
                new SecureRandom().nextBytes(bits);
                token = Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
                writePrivate(tokenFile, token + "\n");
            }
            return new AdminCredentials(stateDir, ca, server, client, token);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    private static boolean coversAll(X509Certificate cert, Collection<String> hosts) {
        return hosts.stream().allMatch(h -> Pki.covers(cert, h));
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
    }

    private static boolean fresh(X509Certificate cert, Pki.KeyAndCert ca, Instant now) {
        try {
            cert.verify(ca.cert().getPublicKey());
        } catch (Exception e) {
            return false;
        }
        return cert.getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE));
    }

    private static Pki.KeyAndCert read(Path dir, String name) throws IOException {
        Path crt = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        if (!Files.exists(crt) && !Files.exists(key)) {
            return null;
        }
        try {
            checkPrivate(key);
            return new Pki.KeyAndCert(Tls.readKey(Files.readString(key)), Tls.readCert(Files.readString(crt)));
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot read " + crt + " and " + key + ": " + e.getMessage()
                    + " (remove them to have new ones made; clients must then use the new CA)", e);
        }
    }

    private static void write(Path dir, String name, Pki.KeyAndCert kc) throws IOException {
        writePrivate(dir.resolve(name + ".key"), Pki.keyPem(kc.key()));
        writePrivate(dir.resolve(name + ".crt"), Pki.certPem(kc.cert()));
    }

    /**
     * Creates {@code dir} (mode 0700), or checks an existing one: it must be a real directory (not a
     * symbolic link, which could point anywhere), belong to the user running Portway, and not be
     * writable by others (someone else could have planted a token or key in it). One that others
     * could only read is tightened to 0700.
     */
    public static void createPrivateDir(Path dir) throws IOException {
        createPrivateDir(dir, "--state-dir");
    }

    /** As {@link #createPrivateDir(Path)}, for a directory the command line {@code option} names. */
    public static void createPrivateDir(Path dir, String option) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
            } catch (FileAlreadyExistsException e) {
                // a race with another portway: fine, checked below
            }
        }
        if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(dir + " is a symbolic link or not a directory: Portway keeps its keys and state only in a real "
                    + "directory of its own (choose another with " + option + ")");
        }
        String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
        String me = System.getProperty("user.name");
        if (me != null && !owner.equals(me)) {
            throw new IOException(dir + " belongs to " + owner + ", not to " + me
                    + ": Portway keeps its keys and state only in a directory of the user who runs it (choose another with " + option + ")");
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException(dir + " is writable by others (mode " + PosixFilePermissions.toString(mode)
                    + "): what is in it cannot be trusted; remove it, chmod 700 it, or choose another with " + option);
        }
        if (!mode.equals(DIR_MODE)) {
            log.warn("{} was readable by others (mode {}); setting it to 0700", dir, PosixFilePermissions.toString(mode));
            Files.setPosixFilePermissions(dir, DIR_MODE);
        }
    }

    /**
     * Writes a file only its owner can read (0600), atomically: a reader sees the old file or the
     * new one. The content goes through the descriptor that created the file, never a path
     * reopened later. A symbolic link at {@code file} is written through (a linked ~/.kube/config).
     */
    public static void writePrivate(Path file, String content) throws IOException {
        if (Files.isSymbolicLink(file)) {
            // a link of this user's is followed (a kubeconfig kept elsewhere); one another user left in a shared
            // directory such as /tmp is not: it would have this user replace whichever file it points to
            String owner = Files.getOwner(file, LinkOption.NOFOLLOW_LINKS).getName();
            String me = System.getProperty("user.name");
            if (me != null && !owner.equals(me)) {
                throw new IOException(file + " is a symbolic link that belongs to " + owner + ", not to " + me + ": not followed");
            }
            file = file.toRealPath();
        }
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (var channel = Files.newByteChannel(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                PosixFilePermissions.asFileAttribute(FILE_MODE))) {
            var bytes = java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            if (channel instanceof java.nio.channels.FileChannel f) {
                f.force(true); // on disk before its name is: after a power loss the file is whole or the old one
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try (java.nio.channels.FileChannel dir = java.nio.channels.FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true); // the new name too
        } catch (java.io.IOException e) {
            // a file system that cannot sync a directory: the file itself is synced
        }
    }

    private static void checkPrivate(Path file) throws IOException {
        String me = System.getProperty("user.name");
        String owner = Files.getOwner(file, LinkOption.NOFOLLOW_LINKS).getName();
        if (Files.isSymbolicLink(file) || (me != null && !owner.equals(me))) {
            throw new IOException(file + " is a symbolic link or belongs to " + owner + ": remove it to have a new one made");
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
        if (!FILE_MODE.containsAll(mode)) {
            log.warn("{} was readable by others (mode {}); setting it to 0600", file, PosixFilePermissions.toString(mode));
            Files.setPosixFilePermissions(file, FILE_MODE);
        }
    }

    public Path dir() {
        return dir;
    }

    public Pki.KeyAndCert ca() {
        return ca;
    }

    public Pki.KeyAndCert server() {
        return server;
    }

    public Pki.KeyAndCert client() {
        return client;
    }

    /** The bearer token that authenticates as {@link #ADMIN_USER}. */
    public String token() {
        return token;
    }

    public Path tokenFile() {
        return dir.resolve("token");
    }

    public Path caFile() {
        return dir.resolve("pki").resolve("ca.crt");
    }

    /** Whether {@code presented} is the token, compared in constant time. */
    public boolean isToken(String presented) {
        return presented != null && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }
}
