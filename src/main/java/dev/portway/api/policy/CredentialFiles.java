package dev.portway.api.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The credential files an AccessPolicy's Secrets hold: an htpasswd file ({@code user:hash} lines, as
 * {@code htpasswd -B} writes them) and a token file (one token a line). What cannot be used is left
 * out and said in {@code skipped}, so that one bad line costs its own entry, not the whole file. The
 * reasons name lines and users, never a hash or a token, as they end up in the policy's status.
 */
public final class CredentialFiles {

    /**
     * bcrypt in the modular crypt format: {@code $2y$}, {@code $2a$} or {@code $2b$}, a cost of 04-31,
     * and 53 characters of salt and hash. Other htpasswd formats (MD5 {@code $apr1$}, SHA-1, crypt)
     * are weak and are not accepted.
     */
    private static final Pattern BCRYPT = Pattern.compile("^\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}$");

    private CredentialFiles() {
    }

    /** An htpasswd file: users to bcrypt hashes, and the lines left out. */
    public record Htpasswd(Map<String, String> users, List<String> skipped) {
        public Htpasswd {
            users = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(users));
            skipped = List.copyOf(skipped);
        }
    }

    /** A token file: the tokens, and the lines left out. */
    public record Tokens(List<String> tokens, List<String> skipped) {
        public Tokens {
            tokens = List.copyOf(tokens);
            skipped = List.copyOf(skipped);
        }
    }

    /**
     * Reads an htpasswd file. Blank lines and {@code #} comments are ignored; a line that is not
     * {@code user:bcrypt-hash}, or repeats a user (the first line of a user counts, as in Apache),
     * is skipped.
     */
    public static Htpasswd htpasswd(String text) {
        Map<String, String> users = new LinkedHashMap<>();
        Map<String, Integer> lineOf = new LinkedHashMap<>();
        List<String> skipped = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            int n = i + 1;
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                skipped.add("line " + n + ": not user:hash");
                continue;
            }
            String user = line.substring(0, colon);
            String hash = line.substring(colon + 1).strip();
            if (!BCRYPT.matcher(hash).matches()) {
                skipped.add("line " + n + " (user " + user + "): not a bcrypt hash ($2y$, $2a$ or $2b$)");
            } else if (users.containsKey(user)) {
                skipped.add("line " + n + " (user " + user + "): the user is on line " + lineOf.get(user) + " already");
            } else {
                users.put(user, hash);
                lineOf.put(user, n);
            }
        }
        return new Htpasswd(users, skipped);
    }

    /**
     * Reads a token file: one token a line, surrounding whitespace trimmed; blank lines and {@code #}
     * comments are ignored, and a line with whitespace inside (which no Authorization header carries
     * as one token) is skipped.
     */
    public static Tokens tokens(String text) {
        List<String> tokens = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                skipped.add("line " + (i + 1) + ": a token has no whitespace inside");
            } else if (!tokens.contains(line)) {
                tokens.add(line);
            }
        }
        return new Tokens(tokens, skipped);
    }
}
