package dev.portway.proxy;

import com.google.re2j.Pattern;
import dev.portway.plan.Plan;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * The live side of one {@link Plan.AccessPolicy}: its deny rules and method list, its per-client
 * token buckets, and its credential checks. Kept across plans while the policy stays the same, so
 * that a plan change neither refills the buckets nor forgets verified passwords.
 *
 * <p>Checks run in this order, cheapest and least revealing first: deny rules (403), allowed
 * methods (405), the rate limit (429, before any password is hashed, so that guessing is limited
 * too), credentials (401, so that a client without them learns nothing more, not even the body
 * limit), the body limit by Content-Length (413; a chunked body is counted as it streams). Deny
 * rules compare paths without regard to case or a trailing slash: a deny rule is a fence, and a
 * backend that ignores either must not be reachable around it.
 *
 * <p>Credentials are asked for by {@link Plan.AccessPolicy#schemes()}, not by what is known: a
 * scheme with no users or tokens (its Secret is missing) still refuses every method that is not
 * anonymous, with a 401 that names it.
 *
 * <p>bcrypt is slow by design, so it never runs on an event loop: a password seen for the first
 * time is checked on {@code blocking}, and its outcome is remembered (as a SHA-256 of user and
 * password, never the password) so that the next requests with it pass at once. Right and wrong
 * passwords are remembered apart, so that a stream of wrong ones cannot push the right ones out.
 * The checks a client can have waiting are few ({@value #MAX_CHECKS_PER_CLIENT}; more is 429), the
 * queue for all is bounded by {@code blocking} (full is 503), and a check whose client has gone is
 * dropped unhashed: a client that sends guesses and leaves cannot make the others wait for its
 * hashes. A user name that is not known is hashed too (against a made-up hash of the same cost),
 * so that the time of a 401 does not tell which names exist.
 */
final class AccessControl {

    /** A refusal, or {@link #PASS}, or {@link #VERIFY} (a password to check off the event loop). */
    record Verdict(HttpResponseStatus status, String detail, String retryAfter, String authenticate) {
    }

    static final Verdict PASS = new Verdict(null, null, null, null);
    static final Verdict VERIFY = new Verdict(null, null, null, null);

    /** The most remembered credential outcomes; past it the memory starts over. */
    private static final int MAX_REMEMBERED = 4096;
    /** The most password checks one client may have waiting or running. */
    static final int MAX_CHECKS_PER_CLIENT = 4;
    /** The most clients with a bucket; past it some are dropped (see {@link #sweep}). */
    static final int MAX_BUCKETS = 100_000;

    private final Plan.AccessPolicy spec;
    private final List<Pattern> denyPatterns;
    private final ConcurrentHashMap<InetAddress, Bucket> buckets = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicBoolean sweeping = new java.util.concurrent.atomic.AtomicBoolean();
    private final Set<String> rememberedRight = ConcurrentHashMap.newKeySet();
    private final Set<String> rememberedWrong = ConcurrentHashMap.newKeySet();
    /** Password checks waiting or running, per client. */
    private final ConcurrentHashMap<InetAddress, Integer> checking = new ConcurrentHashMap<>();
    /** A bcrypt hash of nothing anyone knows, at the cost of the policy's own: what an unknown user is checked against. */
    private volatile String decoy;
    /** bcrypt checks run (for tests). */
    final java.util.concurrent.atomic.LongAdder hashed = new java.util.concurrent.atomic.LongAdder();
    private final byte[][] tokens;

    AccessControl(Plan.AccessPolicy spec) {
        this.spec = spec;
        this.denyPatterns = spec.deny().stream()
                .map(d -> d.path().type() == Plan.MatchType.REGULAR_EXPRESSION
                        ? Pattern.compile(d.path().value(), Pattern.CASE_INSENSITIVE) : null)
                .toList();
        this.tokens = spec.bearerTokens().stream().map(t -> sha256(t)).toArray(byte[][]::new);
    }

    Plan.AccessPolicy spec() {
        return spec;
    }

    /**
     * Whether {@code methods} names {@code method} in any case. A method is a case-sensitive token
     * (RFC 9110 9.1), but frameworks that upper-case what they read (CGI's REQUEST_METHOD, Django,
     * Flask) run a "delete" as a DELETE: a deny rule must stop it as one.
     */
    private static boolean containsIgnoringCase(List<String> methods, String method) {
        for (int i = 0; i < methods.size(); i++) {
            if (methods.get(i).equalsIgnoreCase(method)) {
                return true;
            }
        }
        return false;
    }

    /** Fields by which a client asks a framework (Express, Symfony, ASP.NET, Rails' Rack) to take a POST for another method. */
    private static final List<String> METHOD_OVERRIDES = List.of("x-http-method-override", "x-http-method", "x-method-override");

    /** The methods {@code headers} ask the backend to take the request for instead of its own (mostly none). */
    private static List<String> overrides(HttpHeaders headers) {
        List<String> out = List.of();
        for (String name : METHOD_OVERRIDES) {
            for (String value : headers.getAll(name)) {
                for (String m : value.split(",")) {
                    if (!m.isBlank()) {
                        if (out.isEmpty()) {
                            out = new java.util.ArrayList<>(2);
                        }
                        out.add(m.strip().toUpperCase(java.util.Locale.ROOT));
                    }
                }
            }
        }
        return out;
    }

    /**
     * Whether a request of {@code method} that asks for {@code overrides} is one of {@code methods}
     * as a deny rule reads it: by its method in any case, by a method it asks a framework to take it
     * for, and a HEAD as the GET it is without a body.
     */
    private static boolean namedBy(List<String> methods, String method, List<String> overrides) {
        if (containsIgnoringCase(methods, method) || ("HEAD".equalsIgnoreCase(method) && methods.contains("GET"))) {
            return true;
        }
        for (String m : overrides) {
            if (containsIgnoringCase(methods, m)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code method} and every method it asks to be taken for are in {@code methods}. */
    private static boolean allIn(List<String> methods, String method, List<String> overrides) {
        return methods.contains(method) && methods.containsAll(overrides);
    }

    /** The checks that need no password hashing; {@link #VERIFY} when a Basic password must be checked. */
    Verdict check(String method, String path, HttpHeaders headers, InetAddress client) {
        List<String> overrides = overrides(headers);
        for (int i = 0; i < spec.deny().size(); i++) {
            Plan.DenyRule d = spec.deny().get(i);
            if ((d.methods().isEmpty() || namedBy(d.methods(), method, overrides)) && denies(d.path(), denyPatterns.get(i), path)) {
                return new Verdict(HttpResponseStatus.FORBIDDEN, "denied by policy " + spec.name(), null, null);
            }
        }
        if (!spec.allowedMethods().isEmpty() && !allIn(spec.allowedMethods(), method, overrides)) {
            String named = overrides.isEmpty() ? method : method + " (to be taken for " + String.join(", ", overrides) + ")";
            return new Verdict(HttpResponseStatus.METHOD_NOT_ALLOWED, named + " is not allowed by policy " + spec.name()
                    + " (allowed: " + String.join(", ", spec.allowedMethods()) + ")", null, null);
        }
        if (spec.rateLimit() != null) {
            long waitNanos = bucket(client).take(spec.rateLimit());
            if (waitNanos > 0) {
                long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
                return new Verdict(HttpResponseStatus.TOO_MANY_REQUESTS, "rate limit of policy " + spec.name() + " reached; retry in "
                        + seconds + " s", Long.toString(seconds), null);
            }
        }
        if (spec.schemes().isEmpty() || allIn(spec.anonymousMethods(), method, overrides)) {
            return bodyLimit(headers);
        }
        String authorization = headers.get(HttpHeaderNames.AUTHORIZATION);
        if (authorization != null) {
            int space = authorization.indexOf(' ');
            String scheme = space < 0 ? authorization : authorization.substring(0, space);
            String credentials = space < 0 ? "" : authorization.substring(space + 1).trim();
            if (scheme.equalsIgnoreCase("Bearer") && spec.schemes().contains(Plan.AuthScheme.BEARER) && tokenMatches(credentials)) {
                return bodyLimit(headers);
            }
            // no users (the htpasswd Secret is missing or holds none): nothing to hash, no one passes
            if (scheme.equalsIgnoreCase("Basic") && !spec.basicAuth().isEmpty()) {
                String key = rememberKey(credentials);
                if (rememberedRight.contains(key)) {
                    return bodyLimit(headers);
                }
                if (rememberedWrong.contains(key)) {
                    return unauthorized("the user name or password is not right");
                }
                return VERIFY;
            }
        }
        return unauthorized(authorization == null ? "credentials are needed for " + method : "the credentials are not accepted");
    }

    /**
     * Checks a Basic password on {@code blocking}; completes with a 401, or what the body limit says
     * (PASS or a 413), or at once with a 429 (this client has enough checks waiting) or a 503 (the
     * queue of all is full). {@code wanted} is asked when the check's turn comes: false (the client
     * went away) skips the hashing.
     */
    CompletableFuture<Verdict> verify(HttpHeaders headers, InetAddress client, java.util.function.BooleanSupplier wanted, Executor blocking) {
        String authorization = headers.get(HttpHeaderNames.AUTHORIZATION);
        String credentials = authorization.substring(authorization.indexOf(' ') + 1).trim();
        if (checking.merge(client, 1, Integer::sum) > MAX_CHECKS_PER_CLIENT) {
            checked(client);
            return CompletableFuture.completedFuture(new Verdict(HttpResponseStatus.TOO_MANY_REQUESTS,
                    "too many passwords from this client are being checked; retry in 1 s", "1", null));
        }
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    if (!wanted.getAsBoolean()) {
                        return unauthorized("the client went away before its password was checked");
                    }
                    boolean ok = checkPassword(credentials);
                    Set<String> memory = ok ? rememberedRight : rememberedWrong;
                    if (memory.size() >= MAX_REMEMBERED) {
                        memory.clear();
                    }
                    memory.add(rememberKey(credentials));
                    return ok ? bodyLimit(headers) : unauthorized("the user name or password is not right");
                } finally {
                    checked(client);
                }
            }, blocking);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            checked(client);
            return CompletableFuture.completedFuture(new Verdict(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "too many passwords are being checked; retry in 1 s", "1", null));
        }
    }

    private void checked(InetAddress client) {
        checking.computeIfPresent(client, (k, n) -> n == 1 ? null : n - 1);
    }

    /** The last check, once the credentials passed: the body's declared length (a chunked body is counted as it streams). */
    private Verdict bodyLimit(HttpHeaders headers) {
        return spec.maxBodyBytes() != null && contentLength(headers) > spec.maxBodyBytes() ? tooLarge() : PASS;
    }

    private boolean checkPassword(String credentials) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(credentials), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return false;
        }
        String hash = spec.basicAuth().get(decoded.substring(0, colon));
        boolean known = hash != null;
        hashed.increment();
        try {
            return OpenBSDBCrypt.checkPassword(known ? hash : decoy(), decoded.substring(colon + 1).toCharArray()) && known;
        } catch (IllegalArgumentException | org.bouncycastle.crypto.DataLengthException e) {
            return false;
        }
    }

    /** A hash nobody's password matches, at the cost of the policy's first user's hash ({@code $2y$10$...}: 10; 4 to 16). */
    private String decoy() {
        String d = decoy;
        if (d == null) {
            int cost = 10;
            for (String h : spec.basicAuth().values()) {
                if (h.length() > 7 && h.charAt(0) == '$' && h.charAt(3) == '$' && Character.isDigit(h.charAt(4)) && Character.isDigit(h.charAt(5))) {
                    int c = Integer.parseInt(h.substring(4, 6));
                    // a cost bcrypt would not take, or one no login could wait for (16 is seconds
                    // already), is not copied: a decoy must not hold a checking thread for hours
                    cost = c >= 4 && c <= 16 ? c : 10;
                    break;
                }
            }
            byte[] salt = new byte[16];
            new java.security.SecureRandom().nextBytes(salt);
            byte[] secret = new byte[24];
            new java.security.SecureRandom().nextBytes(secret);
            decoy = d = OpenBSDBCrypt.generate("2y", HexFormat.of().formatHex(secret).toCharArray(), salt, cost);
        }
        return d;
    }

    Verdict tooLarge() {
        return new Verdict(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "the request body is larger than policy " + spec.name()
                + " allows (" + spec.maxBodyBytes() + " bytes)", null, null);
    }

    private Verdict unauthorized(String detail) {
        StringBuilder challenge = new StringBuilder();
        if (spec.schemes().contains(Plan.AuthScheme.BASIC)) {
            challenge.append("Basic realm=\"").append(spec.name()).append("\", charset=\"UTF-8\"");
        }
        if (spec.schemes().contains(Plan.AuthScheme.BEARER)) {
            if (!challenge.isEmpty()) {
                challenge.append(", ");
            }
            challenge.append("Bearer realm=\"").append(spec.name()).append('"');
        }
        return new Verdict(HttpResponseStatus.UNAUTHORIZED, detail, null, challenge.toString());
    }

    private boolean tokenMatches(String token) {
        byte[] presented = sha256(token);
        boolean match = false;
        for (byte[] t : tokens) {
            match |= MessageDigest.isEqual(t, presented);
        }
        return match;
    }

    private static String rememberKey(String credentials) {
        return HexFormat.of().formatHex(sha256(credentials));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long contentLength(HttpHeaders headers) {
        String v = headers.get(HttpHeaderNames.CONTENT_LENGTH);
        try {
            return v == null ? -1 : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Whether a deny rule fences the path off: in any case, with or without a trailing slash, and
     * with or without the percent-encoding of the characters a path segment may hold raw (RFC 3986's
     * sub-delims, {@code :} and {@code @}). The gateway keeps those encoded, as RFC 3986 6.2.2.2 and
     * Envoy do (they need not mean the same), but most backends decode them: a rule for
     * {@code /v1/keys:export} must stop {@code /v1/keys%3Aexport} too, and one written
     * {@code /v1/keys%3Aexport} must stop {@code /v1/keys:export} (both compared decoded). A
     * {@code ;} so decoded starts path parameters, which servlet containers strip from a segment
     * ({@code /admin/quit%3Bx} is their {@code /admin/quit}; a raw {@code ;} is refused before
     * routing): the path without them is compared too, its dot segments and empty ones then
     * removed as such a container does ({@code /public/..%3B/admin/quit} is its
     * {@code /admin/quit}: the classic {@code ..;/} way past a proxy's rules).
     */
    static boolean denies(Plan.PathMatch match, Pattern pattern, String path) {
        if (deniesAsIs(match, pattern, path)) {
            return true;
        }
        String decoded = path.indexOf('%') < 0 ? path : decodeSegmentCharacters(path);
        Plan.PathMatch decodedMatch = match;
        if (match.type() != Plan.MatchType.REGULAR_EXPRESSION && match.value().indexOf('%') >= 0) {
            String value = decodeSegmentCharacters(match.value());
            decodedMatch = value == match.value() ? match : new Plan.PathMatch(match.type(), value);
        }
        if ((decoded != path || decodedMatch != match) && deniesAsIs(decodedMatch, pattern, decoded)) {
            return true;
        }
        String bare = withoutParameters(decoded);
        return bare != decoded && deniesAsIs(decodedMatch, pattern, RequestTarget.removeDotSegments(bare));
    }

    /** The path without the parameters of its segments ({@code /a;x/b;y=1} is {@code /a/b}); itself when it has none. */
    static String withoutParameters(String path) {
        if (path.indexOf(';') < 0) {
            return path;
        }
        StringBuilder out = new StringBuilder(path.length());
        boolean parameter = false;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '/') {
                parameter = false;
            } else if (c == ';') {
                parameter = true;
            }
            if (!parameter) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The path with the escapes of {@code !$&'()*+,;=:@} decoded (others, {@code %2F} and {@code %25} among them, kept). */
    static String decodeSegmentCharacters(String path) {
        StringBuilder out = null;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' && i + 2 < path.length()) {
                int v = Character.digit(path.charAt(i + 1), 16) << 4 | Character.digit(path.charAt(i + 2), 16);
                if (v >= 0 && "!$&'()*+,;=:@".indexOf(v) >= 0) {
                    if (out == null) {
                        out = new StringBuilder(path.length()).append(path, 0, i);
                    }
                    out.append((char) v);
                    i += 2;
                    continue;
                }
            }
            if (out != null) {
                out.append(c);
            }
        }
        return out == null ? path : out.toString();
    }

    private static boolean deniesAsIs(Plan.PathMatch match, Pattern pattern, String path) {
        String p = path.toLowerCase(Locale.ROOT);
        String v = match.value().toLowerCase(Locale.ROOT);
        return switch (match.type()) {
            case EXACT -> withoutTrailingSlash(p).equals(withoutTrailingSlash(v)); // either side's: /admin/ stops /admin
            case PREFIX -> RouteTable.prefixMatches(v, p);
            case REGULAR_EXPRESSION -> pattern.matcher(path).matches()
                    || (path.length() > 1 && path.endsWith("/") && pattern.matcher(path.substring(0, path.length() - 1)).matches());
        };
    }

    private static String withoutTrailingSlash(String path) {
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    private Bucket bucket(InetAddress client) {
        Bucket b = buckets.get(client);
        if (b == null) {
            if (buckets.size() >= MAX_BUCKETS && sweeping.compareAndSet(false, true)) {
                try {
                    sweep();
                } finally {
                    sweeping.set(false);
                }
            }
            b = buckets.computeIfAbsent(client, k -> new Bucket(spec.rateLimit().burst()));
        }
        return b;
    }

    /**
     * Makes room for new clients: the idle ones (full buckets) go first; if that frees too little
     * (every client has taken tokens lately, as with a limit per hour), others go, whichever the
     * map holds first (not the least recent, as a stick table would drop), until an eighth of the
     * room is free; such a client starts again with a full bucket. A sweep reads the whole map, so
     * it frees enough that the next is thousands of new clients away.
     */
    private void sweep() {
        buckets.values().removeIf(x -> x.full(spec.rateLimit()));
        var it = buckets.values().iterator();
        while (buckets.size() > MAX_BUCKETS - MAX_BUCKETS / 8 && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    /** Clients with a bucket now (for tests). */
    int clients() {
        return buckets.size();
    }

    /** A token bucket: {@code requests} per {@code per}, holding up to {@code burst}. */
    private static final class Bucket {
        private double tokens;
        private long last = System.nanoTime();

        Bucket(int burst) {
            this.tokens = burst;
        }

        /** Takes a token; returns 0, or how long until one is there. */
        synchronized long take(Plan.RateLimit limit) {
            refill(limit);
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            double perToken = (double) limit.per().toNanos() / limit.requests();
            return (long) ((1 - tokens) * perToken);
        }

        synchronized boolean full(Plan.RateLimit limit) {
            refill(limit);
            return tokens >= limit.burst();
        }

        private void refill(Plan.RateLimit limit) {
            long now = System.nanoTime();
            tokens = Math.min(limit.burst(), tokens + (now - last) * (double) limit.requests() / limit.per().toNanos());
            last = now;
        }
    }

    /** The runtimes of the policies of one plan, reusing those whose policy did not change. */
    static Map<String, AccessControl> carryOver(Map<String, AccessControl> previous, List<Plan.AccessPolicy> policies) {
        Map<String, AccessControl> next = new java.util.HashMap<>();
        for (Plan.AccessPolicy p : policies) {
            AccessControl old = previous.get(p.name());
            next.put(p.name(), old != null && old.spec.equals(p) ? old : new AccessControl(p));
        }
        return Map.copyOf(next);
    }
}
