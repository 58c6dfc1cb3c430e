package dev.portway.api;

import com.google.re2j.Pattern;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The {@code labelSelector} query language of the API server ({@code k8s.io/apimachinery/pkg/labels}
 * {@code Parse}): {@code app=web}, {@code app==web}, {@code tier!=db}, {@code env in (a,b)},
 * {@code env notin (a)}, {@code app}, {@code !app}, joined by commas.
 */
public final class LabelQuery {

    private static final Pattern KEY = Pattern.compile("([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
            + "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
    private static final Pattern VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");

    private LabelQuery() {
    }

    /**
     * Parses {@code query}; null or blank selects everything.
     *
     * @throws ApiException 400 with the API server's message for a selector it cannot parse
     */
    public static LabelSelector parse(String query) {
        LabelSelector selector = new LabelSelector();
        selector.setMatchLabels(new LinkedHashMap<>());
        selector.setMatchExpressions(new ArrayList<>());
        if (query == null || query.isBlank()) {
            return selector;
        }
        for (String term : splitTopLevel(query)) {
            String t = term.strip();
            if (t.isEmpty()) {
                throw error(query, "found '', expected: !, identifier, or 'end of string'");
            }
            int ne = t.indexOf("!=");
            int eq = t.indexOf('=');
            String lower = t;
            int in = indexOfWord(lower, "notin");
            boolean notin = in >= 0;
            if (!notin) {
                in = indexOfWord(lower, "in");
            }
            if (ne > 0 && (eq < 0 || ne < eq)) {
                String key = key(query, t.substring(0, ne));
                selector.getMatchExpressions().add(new LabelSelectorRequirement(key, "NotIn", List.of(value(query, t.substring(ne + 2)))));
            } else if (eq > 0) {
                String key = key(query, t.substring(0, eq));
                String v = t.substring(eq + 1);
                if (v.startsWith("=")) {
                    v = v.substring(1);
                }
                selector.getMatchExpressions().add(new LabelSelectorRequirement(key, "In", List.of(value(query, v))));
            } else if (in > 0) {
                String key = key(query, t.substring(0, in));
                String rest = t.substring(in + (notin ? 5 : 2)).strip();
                if (!rest.startsWith("(") || !rest.endsWith(")")) {
                    throw error(query, "found '" + rest + "', expected: '('");
                }
                List<String> values = new ArrayList<>();
                for (String v : rest.substring(1, rest.length() - 1).split(",", -1)) {
                    values.add(value(query, v));
                }
                selector.getMatchExpressions().add(new LabelSelectorRequirement(key, notin ? "NotIn" : "In", values));
            } else if (t.startsWith("!")) {
                selector.getMatchExpressions().add(new LabelSelectorRequirement(key(query, t.substring(1)), "DoesNotExist", null));
            } else {
                selector.getMatchExpressions().add(new LabelSelectorRequirement(key(query, t), "Exists", null));
            }
        }
        return selector;
    }

    private static int indexOfWord(String t, String word) {
        int i = t.indexOf(" " + word);
        while (i >= 0) {
            int after = i + 1 + word.length();
            if (after < t.length() && (t.charAt(after) == ' ' || t.charAt(after) == '(')) {
                return i + 1;
            }
            i = t.indexOf(" " + word, i + 1);
        }
        return -1;
    }

    private static String key(String query, String raw) {
        String k = raw.strip();
        if (k.length() > 316 || !KEY.matcher(k).matches()) {
            throw error(query, "invalid label key " + GoValues.quote(k));
        }
        return k;
    }

    private static String value(String query, String raw) {
        String v = raw.strip();
        if (v.length() > 63 || !VALUE.matcher(v).matches()) {
            throw error(query, "invalid label value: " + GoValues.quote(v));
        }
        return v;
    }

    private static List<String> splitTopLevel(String s) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        out.add(s.substring(start));
        return out;
    }

    private static ApiException error(String query, String why) {
        return ApiException.badRequest("unable to parse requirement: " + why + " (in selector " + GoValues.quote(query) + ")");
    }
}
