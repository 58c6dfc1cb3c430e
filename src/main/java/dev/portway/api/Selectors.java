package dev.portway.api;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Label selectors as Kubernetes evaluates and prints them. */
public final class Selectors {

    private Selectors() {
    }

    /** A Service-style selector: every key/value must be present. An empty selector matches nothing. */
    public static boolean matches(Map<String, String> selector, Map<String, String> labels) {
        if (selector == null || selector.isEmpty()) {
            return false;
        }
        Map<String, String> l = labels == null ? Map.of() : labels;
        for (Map.Entry<String, String> e : selector.entrySet()) {
            if (!e.getValue().equals(l.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** A full LabelSelector; an empty one (no labels, no expressions) matches everything. */
    public static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return false;
        }
        Map<String, String> l = labels == null ? Map.of() : labels;
        if (selector.getMatchLabels() != null) {
            for (Map.Entry<String, String> e : selector.getMatchLabels().entrySet()) {
                if (!e.getValue().equals(l.get(e.getKey()))) {
                    return false;
                }
            }
        }
        if (selector.getMatchExpressions() != null) {
            for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                if (!requirement(r.getKey(), r.getOperator(), r.getValues(), l)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * One requirement as {@code labels.Selector} evaluates it: In, NotIn, Exists, DoesNotExist,
     * and (in node selectors only) Gt and Lt, which compare one integer value.
     */
    public static boolean requirement(String key, String operator, List<String> values, Map<String, String> labels) {
        String value = labels.get(key);
        List<String> vs = values == null ? List.of() : values;
        return switch (operator == null ? "" : operator) {
            case "In" -> value != null && vs.contains(value);
            case "NotIn" -> value == null || !vs.contains(value);
            case "Exists" -> labels.containsKey(key);
            case "DoesNotExist" -> !labels.containsKey(key);
            case "Gt", "Lt" -> {
                if (value == null || vs.size() != 1) {
                    yield false;
                }
                try {
                    long have = Long.parseLong(value);
                    long bound = Long.parseLong(vs.getFirst());
                    yield operator.equals("Gt") ? have > bound : have < bound;
                } catch (NumberFormatException e) {
                    yield false;
                }
            }
            default -> false;
        };
    }

    public static boolean isEmpty(LabelSelector selector) {
        return selector == null || ((selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty())
                && (selector.getMatchExpressions() == null || selector.getMatchExpressions().isEmpty()));
    }

    /** {@code app=web,tier=front}, as kubectl prints selectors (sorted keys). */
    public static String format(Map<String, String> selector) {
        if (selector == null || selector.isEmpty()) {
            return "";
        }
        return new TreeMap<>(selector).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }

    /** {@code app=web,tier in (a,b)}. */
    public static String format(LabelSelector selector) {
        if (selector == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(format(selector.getMatchLabels()));
        if (selector.getMatchExpressions() != null) {
            for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                if (!sb.isEmpty()) {
                    sb.append(',');
                }
                String values = r.getValues() == null ? "" : String.join(",", r.getValues().stream().sorted().toList());
                switch (r.getOperator()) {
                    case "In" -> sb.append(r.getKey()).append(" in (").append(values).append(')');
                    case "NotIn" -> sb.append(r.getKey()).append(" notin (").append(values).append(')');
                    case "Exists" -> sb.append(r.getKey());
                    case "DoesNotExist" -> sb.append('!').append(r.getKey());
                    default -> sb.append(r.getKey()).append(' ').append(r.getOperator());
                }
            }
        }
        return sb.toString();
    }

    /**
     * Parses a {@code labelSelector} query (equality-based: {@code a=b}, {@code a==b}, {@code a!=b},
     * {@code a}, {@code !a}, comma-separated) into a LabelSelector.
     */
    public static LabelSelector parse(String query) {
        LabelSelector selector = new LabelSelector();
        selector.setMatchLabels(new java.util.LinkedHashMap<>());
        selector.setMatchExpressions(new java.util.ArrayList<>());
        if (query == null || query.isBlank()) {
            return selector;
        }
        for (String term : query.split(",")) {
            String t = term.trim();
            if (t.isEmpty()) {
                continue;
            }
            if (t.contains("!=")) {
                String[] kv = t.split("!=", 2);
                selector.getMatchExpressions().add(new LabelSelectorRequirement(kv[0].trim(), "NotIn", List.of(kv[1].trim())));
            } else if (t.contains("==")) {
                String[] kv = t.split("==", 2);
                selector.getMatchLabels().put(kv[0].trim(), kv[1].trim());
            } else if (t.contains("=")) {
                String[] kv = t.split("=", 2);
                selector.getMatchLabels().put(kv[0].trim(), kv[1].trim());
            } else if (t.startsWith("!")) {
                selector.getMatchExpressions().add(new LabelSelectorRequirement(t.substring(1).trim(), "DoesNotExist", null));
            } else {
                selector.getMatchExpressions().add(new LabelSelectorRequirement(t, "Exists", null));
            }
        }
        return selector;
    }
}
