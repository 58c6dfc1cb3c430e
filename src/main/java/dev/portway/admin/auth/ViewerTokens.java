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
 * <p>Kept in memory only (a restart of the server ends them all), at most {@link #MAX} at once
 * (the oldest goes to make room).
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
    /** Tokens by value, oldest first. */
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
        tokens.put(token, expires);
        return new Minted(token, expires);
    }

    /** Whether {@code presented} is a viewer token that has not expired. */
    public synchronized boolean isValid(String presented) {
        Instant expires = tokens.get(presented);
        if (expires == null) {
            return false;
        }
        if (!expires.isAfter(clock.instant())) {
            tokens.remove(presented);
            return false;
        }
        return true;
    }
}
