package dev.portway.api;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints values the way Kubernetes 1.34 prints them in field errors
 * ({@code k8s.io/apimachinery/pkg/util/validation/field/errors.go}, {@code ErrorBody}): strings with
 * Go's {@code %q}; integers, floats and booleans with {@code %v}; anything else as Go's
 * {@code json.Marshal} renders it ({@code ["10.0.0.1"]}, {@code {"app":"web"}}, an IntOrString as
 * {@code "110%"} or {@code 5}). Releases before 1.34 printed those with {@code %#v}
 * ({@code []string{"10.0.0.1"}}); users compare these messages with a real cluster's, so the
 * 1.34 form is kept exactly.
 */
public final class GoValues {

    private GoValues() {
    }

    /** A value that is already in its printed form, printed verbatim. */
    public record Literal(String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    /**
     * A Go struct for {@code json.Marshal}: fields in declaration order (unlike a map, whose keys
     * Go sorts). Build it with the JSON names and leave out what {@code omitempty} leaves out.
     */
    public record Struct(Map<String, ?> fields) {
        public Struct {
            fields = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields));
        }

        public static Builder builder() {
            return new Builder();
        }

        /** Collects fields in order. */
        public static final class Builder {
            private final Map<String, Object> fields = new java.util.LinkedHashMap<>();

            public Builder put(String name, Object value) {
                fields.put(name, value);
                return this;
            }

            /** Adds the field unless it is empty, as {@code omitempty} does. */
            public Builder putOmitEmpty(String name, Object value) {
                if (!isEmpty(value)) {
                    fields.put(name, value);
                }
                return this;
            }

            public Struct build() {
                return new Struct(fields);
            }
        }
    }

    /** Go's {@code ErrorBody} rendering of a bad value. */
    public static String format(Object value) {
        if (value instanceof String s) {
            return quote(s);
        }
        if (value instanceof Number || value instanceof Boolean || value instanceof Literal) {
            return value.toString();
        }
        return json(value);
    }

    /** Go's {@code json.Marshal}. */
    public static String json(Object value) {
        StringBuilder sb = new StringBuilder();
        writeJson(sb, value);
        return sb.toString();
    }

    private static void writeJson(StringBuilder sb, Object value) {
        switch (value) {
            case null -> sb.append("null");
            case String s -> jsonString(sb, s);
            case Number n -> sb.append(n);
            case Boolean b -> sb.append(b);
            case Literal l -> sb.append(l.text());
            case IntOrString ios -> {
                if (ios.getStrVal() != null) {
                    jsonString(sb, ios.getStrVal());
                } else {
                    sb.append(ios.getIntVal() == null ? 0 : ios.getIntVal());
                }
            }
            case Quantity q -> jsonString(sb, Quantities.canonical(q));
            case Struct st -> writeObject(sb, st.fields());
            case Map<?, ?> m -> {
                Map<String, Object> sorted = new TreeMap<>();
                m.forEach((k, v) -> sorted.put(String.valueOf(k), v));
                writeObject(sb, sorted);
            }
            case List<?> list -> {
                sb.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    writeJson(sb, list.get(i));
                }
                sb.append(']');
            }
            default -> jsonString(sb, value.toString());
        }
    }

    private static void writeObject(StringBuilder sb, Map<String, ?> fields) {
        sb.append('{');
        boolean first = true;
        for (Map.Entry<String, ?> e : fields.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            jsonString(sb, e.getKey());
            sb.append(':');
            writeJson(sb, e.getValue());
        }
        sb.append('}');
    }

    /** A JSON string as Go's encoder writes it: HTML-safe, with a six-character escape for other controls. */
    private static void jsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '<', '>', '&', '\u2028', '\u2029' -> sb.append(String.format("\\u%04x", (int) c));
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** What {@code omitempty} leaves out: null, false, 0, "", and empty lists and maps. */
    static boolean isEmpty(Object value) {
        return switch (value) {
            case null -> true;
            case String s -> s.isEmpty();
            case Boolean b -> !b;
            case Number n -> n.doubleValue() == 0;
            case List<?> l -> l.isEmpty();
            case Map<?, ?> m -> m.isEmpty();
            default -> false;
        };
    }

    /** Go's {@code len(s)}: the bytes of the string's UTF-8 form, which size limits count (not UTF-16 characters). */
    public static long len(String s) {
        if (s == null) {
            return 0;
        }
        long n = s.length();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                // 2 bytes below U+0800, else 3; a surrogate pair (2 chars) makes 4
                n += c < 0x800 ? 1 : Character.isSurrogate(c) ? 1 : 2;
            }
        }
        return n;
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
