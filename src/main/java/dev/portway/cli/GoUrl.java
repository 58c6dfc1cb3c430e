package dev.portway.cli;

import java.nio.charset.StandardCharsets;

/** Go's {@code net/url.URL.String()} for a URL of a scheme, a host and a path (how kubectl prints HTTP probes). */
final class GoUrl {

    private enum Mode { PATH, HOST }

    private GoUrl() {
    }

    static String string(String scheme, String host, String path) {
        StringBuilder buf = new StringBuilder();
        if (!scheme.isEmpty()) {
            buf.append(scheme).append(':');
        }
        if (!scheme.isEmpty() || !host.isEmpty()) {
            if (!host.isEmpty() || !path.isEmpty()) {
                buf.append("//");
            }
            if (!host.isEmpty()) {
                buf.append(escape(host, Mode.HOST));
            }
        }
        String escapedPath = path.equals("*") ? "*" : escape(path, Mode.PATH);
        if (!escapedPath.isEmpty() && escapedPath.charAt(0) != '/' && !host.isEmpty()) {
            buf.append('/');
        }
        if (buf.isEmpty()) {
            // A relative path whose first segment has a colon would read as a scheme.
            int slash = escapedPath.indexOf('/');
            String segment = slash < 0 ? escapedPath : escapedPath.substring(0, slash);
            if (segment.contains(":")) {
                buf.append("./");
            }
        }
        return buf.append(escapedPath).toString();
    }

    /** A path escaped as Go's {@code url.URL.EscapedPath} escapes it: how client-go's requests put names in theirs. */
    static String path(String path) {
        return escape(path, Mode.PATH);
    }

    private static String escape(String s, Mode mode) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (shouldEscape(c, mode)) {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            } else {
                out.append((char) c);
            }
        }
        return out.toString();
    }

    private static boolean shouldEscape(int c, Mode mode) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return false;
        }
        if (mode == Mode.HOST) {
            switch (c) {
                case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '[', ']', '<', '>', '"':
                    return false;
                default:
                    break;
            }
        }
        switch (c) {
            case '-', '_', '.', '~':
                return false;
            case '$', '&', '+', ',', '/', ':', ';', '=', '?', '@':
                // A path keeps every reserved character but '?'; a host escapes these others.
                return mode == Mode.PATH ? c == '?' : c == '/' || c == '?' || c == '@';
            default:
                return true;
        }
    }
}
