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
 *
 * <p>And a size limit: an expression may compile to at most {@link #MAX_PROGRAM_SIZE}
 * instructions, Envoy's default ({@code re2.max_program_size.error_level}). RE2 matches in time
 * linear in the input, times the program's size, and re2j has neither RE2's limit on that size
 * nor a bound on its matcher's recursion: {@code /(?:(?:a?){1000}){5}}, 21 characters, compiled
 * to 10,003 instructions, and every request matched against it overflowed the event loop's stack;
 * nested repetitions a little larger took gigabytes to compile. A route's expression is tried for
 * every request to its hostnames, so its author set what every client costs. An expression is
 * measured before it is compiled ({@link #estimatedSize}), so that none that large is ever built.
 */
public final class RegularExpressions {

    /** Instructions an expression may compile to: Envoy's default limit ({@code re2.max_program_size.error_level}). */
    public static final int MAX_PROGRAM_SIZE = 100;
    /** Past this estimate an expression is not even compiled (the estimate is a rough upper bound). */
    private static final long MAX_ESTIMATE = 10_000;

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
        if (estimatedSize(text) > MAX_ESTIMATE) {
            return "the expression is too large: its repetitions multiply past " + MAX_ESTIMATE + " instructions, and at most "
                    + MAX_PROGRAM_SIZE + " are allowed";
        }
        try {
            int size = Pattern.compile(text, caseInsensitive ? Pattern.CASE_INSENSITIVE : 0).programSize();
            return size <= MAX_PROGRAM_SIZE ? null
                    : "the expression is too large: it compiles to " + size + " instructions, and at most " + MAX_PROGRAM_SIZE + " are allowed";
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

    /**
     * About how many instructions {@code regex} compiles to, from its text alone, without
     * compiling it: each atom (a character, an escape, a class) counts one, each operator one, a
     * group what it holds, and a counted repetition {@code {n,m}} multiplies what it repeats by
     * {@code m + 1}. Saturates a little past {@link #MAX_ESTIMATE}. Rough, and meant to be: it only
     * keeps expressions that would compile to millions of instructions from being compiled.
     */
    static long estimatedSize(String regex) {
        java.util.ArrayDeque<Long> outer = new java.util.ArrayDeque<>();
        long sum = 0;
        long last = 0;
        int n = regex.length();
        for (int i = 0; i < n && sum <= MAX_ESTIMATE; i++) {
            char c = regex.charAt(i);
            switch (c) {
                case '\\' -> {
                    if (i + 1 < n && regex.charAt(i + 1) == 'Q') { // literal text to \E
                        int end = regex.indexOf("\\E", i + 2);
                        int to = end < 0 ? n : end;
                        last = Math.max(1, to - (i + 2));
                        i = end < 0 ? n : end + 1;
                    } else {
                        i++;
                        if (i + 1 < n && "pPx".indexOf(regex.charAt(i)) >= 0 && regex.charAt(i + 1) == '{') {
                            int close = regex.indexOf('}', i);
                            i = close < 0 ? n : close;
                        }
                        last = 1;
                    }
                    sum += last;
                }
                case '[' -> {
                    i = endOfClass(regex, i);
                    last = 1;
                    sum += 1;
                }
                case '(' -> {
                    outer.push(sum);
                    sum = 0;
                    last = 0;
                }
                case ')' -> {
                    last = sum + 1;
                    sum = (outer.isEmpty() ? 0 : outer.pop()) + last;
                }
                case '|' -> {
                    sum += 1;
                    last = 0;
                }
                case '*', '+', '?' -> {
                    sum += 1;
                    last += 1;
                }
                case '{' -> {
                    int close = regex.indexOf('}', i);
                    long times = close < 0 ? -1 : repeatCount(regex.substring(i + 1, close));
                    if (times < 0) { // a literal brace
                        last = 1;
                        sum += 1;
                    } else {
                        long repeated = Math.min(MAX_ESTIMATE + 1, last * (times + 1));
                        sum = Math.min(MAX_ESTIMATE + 1, sum - last + repeated);
                        last = repeated;
                        i = close;
                    }
                }
                default -> {
                    last = 1;
                    sum += 1;
                }
            }
        }
        while (!outer.isEmpty()) { // an unclosed group: RE2 refuses it, but the sum is its
            sum += outer.pop();
        }
        return sum;
    }

    /** The larger count of a repetition's {@code n}, {@code n,} or {@code n,m} (then past n by one), or -1 when it is none. */
    private static long repeatCount(String inside) {
        if (!inside.matches("[0-9]{1,9}(,[0-9]{0,9})?")) {
            return -1;
        }
        int comma = inside.indexOf(',');
        if (comma < 0) {
            return Long.parseLong(inside);
        }
        String max = inside.substring(comma + 1);
        return max.isEmpty() ? Long.parseLong(inside.substring(0, comma)) + 1 : Long.parseLong(max);
    }

    /** Where the character class that opens at {@code open} closes (its last index when it does not). */
    private static int endOfClass(String regex, int open) {
        int n = regex.length();
        int j = open + 1;
        if (j < n && regex.charAt(j) == '^') {
            j++;
        }
        if (j < n && regex.charAt(j) == ']') {
            j++; // a ']' first is a member
        }
        while (j < n) {
            char c = regex.charAt(j);
            if (c == '\\') {
                j += 2;
            } else if (regex.startsWith("[:", j) && regex.indexOf(":]", j + 2) >= 0) {
                j = regex.indexOf(":]", j + 2) + 2; // a named class ([:alpha:]; RE2 refuses any other name)
            } else if (c == ']') {
                return j;
            } else {
                j++;
            }
        }
        return n - 1;
    }
}
