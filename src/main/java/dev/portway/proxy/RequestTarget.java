package dev.portway.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A request's target, split and normalized once, so that the route match, the access policy and
 * the backend all see the same path.
 *
 * <p>The path is normalized as RFC 3986 (section 6.2.2) says, plus merged slashes: percent-encoded
 * unreserved characters are decoded ({@code %61} is {@code a}, {@code %2E} is {@code .}), other
 * escapes get upper-case hex, runs of {@code /} become one, and {@code .} and {@code ..} segments
 * are removed (never above the root). What cannot be normalized safely is refused: an encoded
 * {@code /} or {@code \} (the backend might decode it into a separator the gateway did not see),
 * a {@code ;} (path parameters, which some servers strip and others do not), a raw {@code \},
 * control characters, NUL, a fragment, and malformed escapes. The query is passed on as it came
 * if it is printable ASCII (else refused, as the path).
 *
 * <p>The authority (from an absolute-form target, else the Host header) must be a host name of
 * letters, digits and {@code - . _ ~}, or an IP literal in brackets, with an optional port of
 * digits: what goes upstream in Host, X-Forwarded-Host and Forwarded is then never more than a
 * host and a port, whatever a client wrote.
 *
 * @param host      the host, lower case, without a port
 * @param authority the host and its port if one was given, as the client wrote them: the Host sent upstream
 * @param path      the normalized path
 * @param query     the query without its {@code ?}, or null
 */
record RequestTarget(String host, String authority, String path, String query) {

    /** Why a target was refused (a 400 says it). */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /** The path and query as sent upstream. */
    String uri() {
        return query == null ? path : path + '?' + query;
    }

    /**
     * Parses a request-target (origin-form {@code /a?b} or absolute-form {@code http://h/a?b}) with
     * the request's Host header.
     */
    static RequestTarget parse(String target, String hostHeader) throws Invalid {
        String host = hostHeader;
        String rest = target;
        if (!target.startsWith("/")) {
            int scheme = target.indexOf("://");
            String lower = target.toLowerCase(Locale.ROOT);
            if (scheme < 0 || !(lower.startsWith("http://") || lower.startsWith("https://"))) {
                throw new Invalid("the request target must be a path (origin-form) or an http(s) URL");
            }
            int pathStart = target.indexOf('/', scheme + 3);
            int queryStart = target.indexOf('?', scheme + 3);
            int end = pathStart < 0 ? (queryStart < 0 ? target.length() : queryStart)
                    : (queryStart < 0 ? pathStart : Math.min(pathStart, queryStart));
            host = target.substring(scheme + 3, end);
            if (host.contains("@")) {
                throw new Invalid("the request target must not carry user information");
            }
            rest = end == target.length() ? "/" : target.charAt(end) == '?' ? "/" + target.substring(end) : target.substring(end);
        }
        if (host == null || host.isEmpty()) {
            throw new Invalid("the request has no Host header");
        }
        int q = rest.indexOf('?');
        String rawPath = q < 0 ? rest : rest.substring(0, q);
        String query = q < 0 ? null : rest.substring(q + 1);
        if (query != null) {
            for (int i = 0; i < query.length(); i++) {
                char c = query.charAt(i);
                if (c == '#') {
                    throw new Invalid("the request target must not carry a fragment");
                }
                if (c <= ' ' || c >= 0x7f) {
                    // as the path: HTTP/2's :path may carry tabs and bytes past ASCII that no HTTP/1.1 request line can
                    throw new Invalid("the request query must be printable ASCII (percent-encode the rest)");
                }
            }
        }
        String authority = authority(host);
        int hostEnd = authority.startsWith("[") ? authority.indexOf(']') + 1 : authority.indexOf(':');
        if (hostEnd < 0) {
            hostEnd = authority.length();
        }
        if (hostEnd > 1 && authority.charAt(hostEnd - 1) == '.') {
            // the fully qualified form names the same host (RFC 3986 3.2.2; nginx drops the dot too): without it
            // here, admin.example.com. would miss its own virtual host and its policy for a catch-all's, and reach
            // a backend that takes it for admin.example.com
            authority = authority.substring(0, hostEnd - 1) + authority.substring(hostEnd);
            hostEnd--;
        }
        String hostName = authority.substring(0, hostEnd).toLowerCase(Locale.ROOT);
        return new RequestTarget(hostName, authority, normalizePath(rawPath), query);
    }

    /**
     * A Host header value (or a URL's authority), checked: as it came but for spaces around it and
     * an empty port ({@code [::1]:} is {@code [::1]}).
     */
    static String authority(String value) throws Invalid {
        String a = value.trim();
        int hostEnd;
        if (a.startsWith("[")) {
            hostEnd = a.indexOf(']') + 1;
            if (hostEnd < 3) {
                throw invalidHost();
            }
            for (int i = 1; i < hostEnd - 1; i++) {
                char c = a.charAt(i);
                if (Character.digit(c, 16) < 0 && c != ':' && c != '.') {
                    throw invalidHost();
                }
            }
            if (hostEnd < a.length() && a.charAt(hostEnd) != ':') {
                throw invalidHost();
            }
        } else {
            int colon = a.indexOf(':');
            hostEnd = colon < 0 ? a.length() : colon;
            if (hostEnd == 0) {
                throw invalidHost();
            }
            for (int i = 0; i < hostEnd; i++) {
                char c = a.charAt(i);
                if (!unreserved(c)) { // RFC 3986's unreserved characters: a DNS name's, and no delimiter of Forwarded
                    throw invalidHost();
                }
                if (c == '.' && (i == 0 || a.charAt(i - 1) == '.')) {
                    throw invalidHost(); // an empty label (as nginx refuses): no name has one, and ".." is a path's
                }
            }
        }
        int portLength = a.length() - hostEnd - 1; // after the colon
        if (portLength > 5) {
            throw invalidHost();
        }
        int port = 0;
        for (int i = hostEnd + 1; i < a.length(); i++) {
            char c = a.charAt(i);
            if (c < '0' || c > '9') {
                throw invalidHost();
            }
            port = port * 10 + (c - '0');
        }
        if (port > 65535) {
            throw invalidHost();
        }
        return portLength == 0 ? a.substring(0, hostEnd) : a;
    }

    private static Invalid invalidHost() {
        return new Invalid("the Host header (or the URL's authority) is not a host name or IP address with an optional port");
    }

    /** Normalizes a path (see the type's description); throws when it cannot be done safely. */
    static String normalizePath(String raw) throws Invalid {
        if (raw.isEmpty() || raw.charAt(0) != '/') {
            throw new Invalid("the request path must start with /");
        }
        if (isNormal(raw)) {
            return raw;
        }
        StringBuilder decoded = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    throw new Invalid("the request path has a malformed percent-encoding");
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new Invalid("the request path has a malformed percent-encoding");
                }
                int v = hi << 4 | lo;
                if (v == '/' || v == '\\') {
                    throw new Invalid("the request path must not encode / or \\ (%2F, %5C)");
                }
                if (v < 0x20 || v == 0x7f) {
                    throw new Invalid("the request path must not encode control characters");
                }
                if (unreserved(v)) {
                    decoded.append((char) v);
                } else {
                    decoded.append('%').append(Character.toUpperCase(raw.charAt(i + 1))).append(Character.toUpperCase(raw.charAt(i + 2)));
                }
                i += 2;
            } else {
                check(c);
                decoded.append(c);
            }
        }
        return removeDotSegments(decoded.toString());
    }

    private static void check(char c) throws Invalid {
        if (c == ';') {
            throw new Invalid("the request path must not carry ; parameters");
        }
        if (c == '\\') {
            throw new Invalid("the request path must not contain \\");
        }
        if (c == '#') {
            throw new Invalid("the request target must not carry a fragment");
        }
        if (c <= ' ' || c >= 0x7f) {
            throw new Invalid("the request path must be printable ASCII (percent-encode the rest)");
        }
    }

    /** True when the path needs no work: the common case, checked without allocating. */
    private static boolean isNormal(String p) {
        char prev = 0;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '%' || c == ';' || c == '\\' || c == '#' || c <= ' ' || c >= 0x7f) {
                return false;
            }
            if (c == '/' && prev == '/') {
                return false;
            }
            if (c == '.' && prev == '/') {
                int next = i + 1 < p.length() ? p.charAt(i + 1) : '/';
                if (next == '/' || (next == '.' && (i + 2 >= p.length() || p.charAt(i + 2) == '/'))) {
                    return false;
                }
            }
            prev = c;
        }
        return true;
    }

    /** Merges runs of {@code /} and removes {@code .} and {@code ..} segments (RFC 3986 5.2.4, never above the root). */
    static String removeDotSegments(String path) {
        String[] segments = path.substring(1).split("/", -1);
        List<String> out = new ArrayList<>(segments.length);
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            boolean last = i == segments.length - 1;
            if (s.isEmpty() && !last) {
                continue;
            }
            if (s.equals(".")) {
                if (last) {
                    out.add("");
                }
            } else if (s.equals("..")) {
                if (!out.isEmpty()) {
                    out.removeLast();
                }
                if (last) {
                    out.add("");
                }
            } else {
                out.add(s);
            }
        }
        return "/" + String.join("/", out);
    }

    private static boolean unreserved(int c) {
        return dev.portway.plan.PathValues.unreserved(c);
    }
}
