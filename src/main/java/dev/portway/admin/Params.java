package dev.portway.admin;

import dev.portway.api.ApiException;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Set;

/**
 * A request's query parameters, read as the API server reads them: a value that does not parse is
 * a 400 naming the parameter, never a 500.
 */
final class Params {

    private final QueryStringDecoder query;

    Params(QueryStringDecoder query) {
        this.query = query;
    }

    String string(String name) {
        List<String> values = query.parameters().get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    String string(String name, String otherwise) {
        String v = string(name);
        return v == null ? otherwise : v;
    }

    /** Go's {@code strconv.ParseBool}: 1, t, T, TRUE, true, True and their false forms; absent or empty is {@code otherwise}. */
    boolean bool(String name, boolean otherwise) {
        String v = string(name);
        if (v == null || v.isEmpty()) {
            return otherwise;
        }
        return switch (v) {
            case "1", "t", "T", "TRUE", "true", "True" -> true;
            case "0", "f", "F", "FALSE", "false", "False" -> false;
            default -> throw invalid(name, v);
        };
    }

    Long longValue(String name) {
        String v = string(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw invalid(name, v);
        }
    }

    /** A time in RFC 3339 ({@code sinceTime=2026-12-01T10:00:00Z}); null when absent or empty. */
    java.time.Instant time(String name) {
        String v = string(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        try {
            return java.time.OffsetDateTime.parse(v).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            throw invalid(name, v);
        }
    }

    /** A parameter that must be one of {@code allowed} (or absent). */
    String oneOf(String name, Set<String> allowed) {
        String v = string(name);
        if (v != null && !v.isEmpty() && !allowed.contains(v)) {
            throw invalid(name, v);
        }
        return v == null || v.isEmpty() ? null : v;
    }

    /** {@code ?dryRun=All}; any other value is refused, as the API server does. */
    boolean dryRun() {
        List<String> values = query.parameters().get("dryRun");
        if (values == null) {
            return false;
        }
        for (String v : values) {
            if (!v.equals("All")) {
                throw ApiException.badRequest("Invalid dry run value: " + v + ": supported values: \"All\"");
            }
        }
        return !values.isEmpty();
    }

    /** The resourceVersion a list or watch asks for: null when absent or empty. */
    Long resourceVersion() {
        String v = string("resourceVersion");
        if (v == null || v.isEmpty()) {
            return null;
        }
        try {
            long rv = Long.parseLong(v);
            if (rv < 0) {
                throw new NumberFormatException();
            }
            return rv;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid resource version: " + quote(v));
        }
    }

    private static ApiException invalid(String name, String value) {
        return ApiException.badRequest("invalid value for query parameter " + quote(name) + ": " + quote(value));
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c < 0x20 ? '?' : c);
        }
        return sb.append('"').toString();
    }
}
