package dev.portway.admin.auth;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Short-lived, read-only tokens, for the topology page: an admin mints one ({@code portway ui}),
 * and a browser holds that instead of the admin token. Its user ({@link #USER}) may read, and
 * nothing else: no write, no Secret. One leaked from a browser's history reads the cluster for a
 * few hours at most, and changes nothing.
 *
 * <p>A token is checked when a request starts, as kube-apiserver checks one: a watch or a followed
 * log begun before it expires runs on to its own end. A viewer's connections are not counted as
 * an admin's: at the connection cap they make room for new ones, and they idle out as fast as
 * anonymous ones.
 *
 * <p>Kept in memory only (a restart of the server ends them all, as {@link #revokeAll} does), at most {@link #MAX} at once
 * (the oldest goes to make room), by their SHA-256: a lookup compares digests, not the tokens.
 */
public final class ViewerTokens {

    /** The user a viewer token authenticates as. */
    public static final String USER = "portway:viewer";
    public static final Duration LIFETIME = Duration.ofHours(12);
    static final int MAX = 64;

    /** A token and when it stops working. */
    public record Minted(String token, Instant expires) {
    }

    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    /** When each token expires, by the token's digest, oldest first. */
    private final LinkedHashMap<String, Instant> tokens = new LinkedHashMap<>();

    public ViewerTokens(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public synchronized Minted mint() {
        Instant now = clock.instant();
        tokens.values().removeIf(expires -> !expires.isAfter(now));
        if (tokens.size() >= MAX) {
            Iterator<Map.Entry<String, Instant>> oldest = tokens.entrySet().iterator();
            oldest.next();
            oldest.remove();
        }
        byte[] bits = new byte[32];
        random.nextBytes(bits);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
        Instant expires = now.plus(LIFETIME);
        tokens.put(digest(token), expires);
        return new Minted(token, expires);
    }

    /** Whether {@code presented} is a viewer token that has not expired. */
    public synchronized boolean isValid(String presented) {
        String key = digest(presented);
        Instant expires = tokens.get(key);
        if (expires == null) {
            return false;
        }
        if (!expires.isAfter(clock.instant())) {
            tokens.remove(key);
            return false;
        }
        return true;
    }

    /**
     * Ends every viewer token at once ({@code portway ui --revoke}): a link that leaked reads no more
     * from its next request on (a watch it began runs to its own end, as a token is checked when a
     * request starts). Returns how many had not expired.
     */
    public synchronized int revokeAll() {
        Instant now = clock.instant();
        int live = (int) tokens.values().stream().filter(expires -> expires.isAfter(now)).count();
        tokens.clear();
        return live;
    }

    /** How many are held now (expired ones included until next looked at). */
    synchronized int size() {
        return tokens.size();
    }

    private static String digest(String token) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }
}
