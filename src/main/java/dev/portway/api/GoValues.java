package dev.portway.api;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints values the way Go's {@code fmt} prints them in API server messages: strings with
 * {@code %q}, numbers and booleans with {@code %v}, slices and maps with {@code %#v}.
 * Users compare these messages with what a real cluster says, so the quirks are kept.
 */
public final class GoValues {

    private GoValues() {
    }

    /** A value that is already in Go syntax, printed verbatim (e.g. a struct dump). */
    public record Literal(String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    public static String format(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String s) {
            return quote(s);
        }
        if (value instanceof Number || value instanceof Boolean || value instanceof Literal) {
            return value.toString();
        }
        if (value instanceof List<?> list) {
            return sliceLiteral(list);
        }
        if (value instanceof Map<?, ?> map) {
            return mapLiteral(map);
        }
        return value.toString();
    }

    /** Go's {@code %q}: a double-quoted string with Go escapes. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case 0x07 -> sb.append("\\a");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case 0x0b -> sb.append("\\v");
                default -> {
                    if (cp < 0x20 || cp == 0x7f) {
                        sb.append(String.format("\\x%02x", cp));
                    } else {
                        sb.appendCodePoint(cp);
                    }
                }
            }
        });
        return sb.append('"').toString();
    }

    /** {@code []string{"a", "b"}} (or {@code []int32{1, 2}} for numbers). */
    public static String sliceLiteral(List<?> list) {
        String elementType = list.stream().allMatch(e -> e instanceof Integer) && !list.isEmpty() ? "int32" : "string";
        StringBuilder sb = new StringBuilder("[]").append(elementType).append('{');
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(format(list.get(i)));
        }
        return sb.append('}').toString();
    }

    /** {@code map[string]string{"app":"web", "tier":"front"}}, keys sorted as Go prints them. */
    public static String mapLiteral(Map<?, ?> map) {
        StringBuilder sb = new StringBuilder("map[string]string{");
        boolean first = true;
        for (Map.Entry<?, ?> e : new TreeMap<>(map).entrySet()) {
            if (!first) {
                sb.append(", ");
            }
            first = false;
            sb.append(format(String.valueOf(e.getKey()))).append(':').append(format(e.getValue()));
        }
        return sb.append('}').toString();
    }

    /** Go's {@code time.Duration.String()}: {@code 200ms}, {@code 1.6s}, {@code 1m20s}, {@code 5m0s}. */
    public static String duration(java.time.Duration d) {
        long ns = d.toNanos();
        if (ns == 0) {
            return "0s";
        }
        StringBuilder sb = new StringBuilder();
        if (ns < 0) {
            sb.append('-');
            ns = -ns;
        }
        if (ns < 1_000_000_000L) {
            if (ns < 1_000L) {
                return sb.append(ns).append("ns").toString();
            }
            if (ns < 1_000_000L) {
                return sb.append(decimal(ns, 1_000L)).append("\u00b5s").toString();
            }
            return sb.append(decimal(ns, 1_000_000L)).append("ms").toString();
        }
        long hours = ns / 3_600_000_000_000L;
        ns -= hours * 3_600_000_000_000L;
        long minutes = ns / 60_000_000_000L;
        ns -= minutes * 60_000_000_000L;
        if (hours > 0) {
            sb.append(hours).append('h');
        }
        if (hours > 0 || minutes > 0) {
            sb.append(minutes).append('m');
        }
        return sb.append(decimal(ns, 1_000_000_000L)).append('s').toString();
    }

    /** {@code value / unit} in decimal, with no trailing zeros after the point. */
    private static String decimal(long value, long unit) {
        long whole = value / unit;
        long fraction = value % unit;
        if (fraction == 0) {
            return Long.toString(whole);
        }
        String digits = Long.toString(unit + fraction).substring(1);
        int end = digits.length();
        while (digits.charAt(end - 1) == '0') {
            end--;
        }
        return whole + "." + digits.substring(0, end);
    }
}
