package dev.portway.api;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

/**
 * The regular expressions users write (HTTPRoute matches, AccessPolicy deny paths), checked as
 * the gateway compiles them: RE2's syntax (re2j), matched in linear time.
 *
 * <p>One more refusal than RE2's own: re2j 1.8 never returns from case-folding nine runes
 * (U+1C80 to U+1C88, Cyrillic letters whose case orbit on this JDK does not close; google/re2j
 * issue 168), so compiling {@code (?i)\pL} or a case-insensitive {@code [a-\x{2000}]} would spin
 * the thread for good. Where case is folded (the flag, or {@code (?i)} in the expression), an
 * expression may not name a rune past U+00FF: no non-ASCII character, no {@code \x{...}} above
 * {@code \x{FF}}, no Unicode class ({@code \p}, {@code \P}). Paths are ASCII once normalized,
 * so a path expression never needs them.
 */
public final class RegularExpressions {

    private RegularExpressions() {
    }

    /** Why {@code regex} cannot be used ({@code caseInsensitive}: compiled with case folding), or null. */
    public static String problem(String regex, boolean caseInsensitive) {
        String text = regex == null ? "" : regex;
        if (caseInsensitive || foldsCase(text)) {
            String fold = foldProblem(text);
            if (fold != null) {
                return fold;
            }
        }
        try {
            Pattern.compile(text, caseInsensitive ? Pattern.CASE_INSENSITIVE : 0);
            return null;
        } catch (PatternSyntaxException e) {
            return e.getDescription() + ": `" + e.getPattern() + "`";
        }
    }

    /** Whether a group turns case folding on: {@code (?i)}, {@code (?mi:...)} and the like. */
    private static boolean foldsCase(String regex) {
        for (int at = regex.indexOf("(?"); at >= 0; at = regex.indexOf("(?", at + 2)) {
            for (int i = at + 2; i < regex.length(); i++) {
                char c = regex.charAt(i);
                if (c == 'i') {
                    return true;
                }
                if (c != 'm' && c != 's' && c != 'U' && c != '-') {
                    break;
                }
            }
        }
        return false;
    }

    private static String foldProblem(String regex) {
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c > 0x7F) {
                return "case-insensitive matching of non-ASCII characters is not supported";
            }
            if (c != '\\' || i + 1 >= regex.length()) {
                continue;
            }
            char next = regex.charAt(++i);
            if (next == 'p' || next == 'P') {
                return "case-insensitive matching of Unicode classes (\\" + next + ") is not supported";
            }
            if (next == 'x' && i + 1 < regex.length() && regex.charAt(i + 1) == '{') {
                int close = regex.indexOf('}', i);
                String hex = close < 0 ? "" : regex.substring(i + 2, close).strip();
                try {
                    if (hex.isEmpty() || Long.parseLong(hex, 16) > 0xFF) {
                        return "case-insensitive matching of \\x{" + hex + "} is not supported (at most \\x{FF})";
                    }
                } catch (NumberFormatException e) {
                    return null; // RE2 refuses it
                }
            }
        }
        return null;
    }
}
