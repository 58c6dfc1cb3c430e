package dev.portway.api.decode;

import java.util.List;

/**
 * A document that cannot become an API object: where it is, what is wrong, and hints at the fix.
 *
 * @param where   {@code file:line:column} or {@code file}
 * @param document the 1-based document index in its file
 * @param message the API server's wording where it has one
 * @param hints   suggestions, each a sentence
 */
public record DecodeProblem(String where, int document, String message, List<String> hints) {

    public DecodeProblem {
        hints = List.copyOf(hints);
    }

    /** {@code seed.yaml:16:5 (document 1): ...} (no document for a whole-file problem) followed by one indented line per hint. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(where);
        if (document > 0) {
            sb.append(" (document ").append(document).append(')');
        }
        sb.append(": ").append(message);
        for (String hint : hints) {
            sb.append("\n  hint: ").append(hint);
        }
        return sb.toString();
    }
}
