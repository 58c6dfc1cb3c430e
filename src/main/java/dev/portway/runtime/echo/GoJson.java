package dev.portway.runtime.echo;

import java.util.List;
import java.util.Map;

/**
 * What Go's {@code json.MarshalIndent(v, "", " ")} writes, for the few shapes echo-basic's answer
 * has: so that a client comparing bytes, not only fields, sees echo-basic's own. Strings are
 * escaped as Go escapes them: {@code <}, {@code >}, {@code &}, U+2028 and U+2029 as
 * backslash-u and four hex digits, control characters as backslash-n, -r, -t or backslash-u.
 */
final class GoJson {

    private final StringBuilder out = new StringBuilder();
    private int depth;
    private boolean first = true;

    /** Opens the top-level object. */
    GoJson begin() {
        out.append('{');
        depth++;
        first = true;
        return this;
    }

    GoJson field(String name, String value) {
        key(name);
        string(value);
        return this;
    }

    /** A {@code map[string][]string}; Go writes map keys sorted. */
    GoJson field(String name, Map<String, List<String>> values) {
        key(name);
        if (values.isEmpty()) {
            out.append("{}");
            return this;
        }
        out.append('{');
        depth++;
        boolean firstKey = true;
        for (Map.Entry<String, List<String>> e : new java.util.TreeMap<>(values).entrySet()) {
            out.append(firstKey ? "" : ",");
            firstKey = false;
            newline();
            string(e.getKey());
            out.append(": ");
            if (e.getValue().isEmpty()) {
                out.append("[]");
                continue;
            }
            out.append('[');
            depth++;
            boolean firstValue = true;
            for (String v : e.getValue()) {
                out.append(firstValue ? "" : ",");
                firstValue = false;
                newline();
                string(v);
            }
            depth--;
            newline();
            out.append(']');
        }
        depth--;
        newline();
        out.append('}');
        return this;
    }

    /** Closes the top-level object and returns the text (Go adds no final newline). */
    String end() {
        depth--;
        newline();
        out.append('}');
        return out.toString();
    }

    private void key(String name) {
        out.append(first ? "" : ",");
        first = false;
        newline();
        string(name);
        out.append(": ");
    }

    private void newline() {
        out.append('\n');
        out.append(" ".repeat(depth));
    }

    private void string(String s) {
        out.append(quote(s));
    }

    /** {@code s} as a JSON string, escaped as Go escapes it. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2);
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '<', '>', '&', '\u2028', '\u2029' -> out.append(String.format("\\u%04x", (int) c));
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isSurrogate(c)) {
                        // a lone surrogate is not UTF-8 Go could have read: it writes U+FFFD
                        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                            out.append(c).append(s.charAt(++i));
                        } else {
                            out.append("\\ufffd");
                        }
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
        return out.toString();
    }
}
