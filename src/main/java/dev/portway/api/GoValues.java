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
}
