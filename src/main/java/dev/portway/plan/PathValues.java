package dev.portway.plan;

/**
 * Path values of routes and policies (Exact and prefix matches) in the form the gateway gives
 * request paths before it compares them (RFC 3986 6.2.2.1 and 6.2.2.2): escapes of unreserved
 * characters decoded ({@code %7E} is {@code ~}, {@code %61} is {@code a}), other escapes in
 * upper-case hex. Otherwise a route written {@code /caf%c3%a9} would match no request, and a deny
 * rule written {@code /%61dmin} would not fence {@code /admin} off. A malformed escape is left as
 * written (it matches no request, as before).
 */
public final class PathValues {

    private PathValues() {
    }

    public static String canonical(String value) {
        if (value.indexOf('%') < 0) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%' && i + 2 < value.length()) {
                int hi = Character.digit(value.charAt(i + 1), 16);
                int lo = Character.digit(value.charAt(i + 2), 16);
                if (hi >= 0 && lo >= 0) {
                    int v = hi << 4 | lo;
                    if (unreserved(v)) {
                        out.append((char) v);
                    } else {
                        out.append('%').append(Character.toUpperCase(value.charAt(i + 1))).append(Character.toUpperCase(value.charAt(i + 2)));
                    }
                    i += 2;
                    continue;
                }
            }
            out.append(c);
        }
        return out.toString();
    }

    /** RFC 3986's unreserved characters. */
    public static boolean unreserved(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
                || c == '~';
    }
}
