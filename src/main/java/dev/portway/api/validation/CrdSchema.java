package dev.portway.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.re2j.Pattern;
import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.Json;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A structural schema of a CustomResourceDefinition, and what the API server does with one: its
 * defaults ({@code structuraldefaulting}), its OpenAPI constraints with kube-openapi's messages as
 * {@code apiextensions-apiserver} turns them into field errors, the {@code x-kubernetes-list-type}
 * invariants, and its {@code x-kubernetes-validations} rules, each ported to a Java predicate with
 * the rule's own message.
 *
 * <p>How the API server reports them ({@code customResourceStrategy.Validate}):
 * <ul>
 *   <li>{@code required}: {@code spec.listeners[0].name: Required value};</li>
 *   <li>{@code enum}: {@code Unsupported value: "Foo": supported values: "A", "B"};</li>
 *   <li>{@code maxLength}: {@code Too long: may not be more than 253 bytes};
 *       {@code maxItems}, {@code maxProperties}: {@code Too many: 17: must have at most 16 items};</li>
 *   <li>anything else (minimum, maximum, minLength, pattern, minItems): {@code Invalid value: V: }
 *       followed by kube-openapi's own sentence, {@code spec.x in body should be greater than or equal to 1};</li>
 *   <li>a CEL rule that fails: {@code Invalid value: "object": <message>}, the value being the
 *       schema type of the node that declares the rule;</li>
 *   <li>CEL rules do not run when a schema error of the kinds Required, Unsupported, Too long, Too
 *       many was found; the API server says so with a last error,
 *       {@code <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; ...}.</li>
 * </ul>
 * Errors come in schema order (kube-openapi walks Go maps, so a real server's order between
 * sibling fields may differ).
 */
final class CrdSchema {

    private CrdSchema() {
    }

    /** The OpenAPI types the Gateway API's schemas use; MAP is an object with additionalProperties. */
    enum Type {
        OBJECT("object"), ARRAY("array"), STRING("string"), INTEGER("integer"), BOOLEAN("boolean"), MAP("object");

        final String openApi;

        Type(String openApi) {
            this.openApi = openApi;
        }
    }

    /** An {@code x-kubernetes-validations} rule: holds when {@code check} returns true for {@code self}. */
    record Rule(Predicate<JsonNode> check, String message) {
    }

    /** One schema node; built fluently. */
    static final class Node {
        final Type type;
        final Map<String, Node> properties = new LinkedHashMap<>();
        final List<String> required = new ArrayList<>();
        Node items;
        Node values;
        Long minimum;
        Long maximum;
        Integer minLength;
        Integer maxLength;
        Integer minItems;
        Integer maxItems;
        Integer maxProperties;
        Pattern pattern;
        String patternText;
        List<Object> enumValues;
        JsonNode defaultValue;
        List<String> mapKeys;
        boolean set;
        final List<Rule> rules = new ArrayList<>();
        /** Extra checks that kube-openapi makes outside these keywords (formats), reported as given. */
        final List<Check> checks = new ArrayList<>();

        Node(Type type) {
            this.type = type;
        }

        Node prop(String name, Node schema) {
            properties.put(name, schema);
            return this;
        }

        Node required(String... names) {
            required.addAll(List.of(names));
            return this;
        }

        Node min(long v) {
            minimum = v;
            return this;
        }

        Node max(long v) {
            maximum = v;
            return this;
        }

        Node minLength(int v) {
            minLength = v;
            return this;
        }

        Node maxLength(int v) {
            maxLength = v;
            return this;
        }

        Node minItems(int v) {
            minItems = v;
            return this;
        }

        Node maxItems(int v) {
            maxItems = v;
            return this;
        }

        Node maxProperties(int v) {
            maxProperties = v;
            return this;
        }

        Node pattern(String regex) {
            patternText = regex;
            pattern = Pattern.compile(regex);
            return this;
        }

        Node enumOf(Object... values) {
            enumValues = List.of(values);
            return this;
        }

        Node defaultTo(Object value) {
            defaultValue = dev.portway.api.Json.mapper().valueToTree(value);
            return this;
        }

        Node listMap(String... keys) {
            mapKeys = List.of(keys);
            return this;
        }

        Node listSet() {
            set = true;
            return this;
        }

        Node rule(String message, Predicate<JsonNode> check) {
            rules.add(new Rule(check, message));
            return this;
        }

        Node check(Check check) {
            checks.add(check);
            return this;
        }
    }

    /** A check beyond the keywords: returns the errors for {@code value} at {@code path}. */
    @FunctionalInterface
    interface Check {
        List<FieldError> apply(JsonNode value, FieldPath path, String name);
    }

    static Node object() {
        return new Node(Type.OBJECT);
    }

    static Node string() {
        return new Node(Type.STRING);
    }

    static Node integer() {
        return new Node(Type.INTEGER);
    }

    static Node bool() {
        return new Node(Type.BOOLEAN);
    }

    static Node array(Node items) {
        Node n = new Node(Type.ARRAY);
        n.items = items;
        return n;
    }

    static Node map(Node values) {
        Node n = new Node(Type.MAP);
        n.values = values;
        return n;
    }

    // ---- defaulting ----------------------------------------------------------------------------

    /** Fills in defaults, top-down, and defaults what it filled in too (as structuraldefaulting.Default). */
    static void applyDefaults(Node schema, JsonNode value) {
        if (schema == null || value == null) {
            return;
        }
        if (value instanceof ObjectNode obj) {
            if (schema.type == Type.OBJECT) {
                for (Map.Entry<String, Node> p : schema.properties.entrySet()) {
                    JsonNode current = obj.get(p.getKey());
                    if (p.getValue().defaultValue != null && (current == null || current.isNull())) {
                        obj.set(p.getKey(), p.getValue().defaultValue.deepCopy());
                    }
                }
                for (Map.Entry<String, Node> p : schema.properties.entrySet()) {
                    applyDefaults(p.getValue(), obj.get(p.getKey()));
                }
            } else if (schema.type == Type.MAP) {
                for (Iterator<JsonNode> it = obj.elements(); it.hasNext(); ) {
                    applyDefaults(schema.values, it.next());
                }
            }
        } else if (value instanceof ArrayNode arr && schema.type == Type.ARRAY) {
            for (JsonNode item : arr) {
                applyDefaults(schema.items, item);
            }
        }
    }

    /**
     * A custom resource with the schema's defaults applied, as a new object; null when they change
     * nothing. The caller takes what the defaults touch (its spec) from it.
     */
    @SuppressWarnings("unchecked")
    static <T extends HasMetadata> T defaulted(Node schema, T object) {
        ObjectNode tree = (ObjectNode) Json.tree(object);
        JsonNode before = tree.deepCopy();
        applyDefaults(schema, tree);
        return before.equals(tree) ? null : (T) Json.convert(tree, object.getClass());
    }

    // ---- validation ----------------------------------------------------------------------------

    /** What the schema says of a custom resource: all of it but its metadata (checked as any object's) and status. */
    static List<FieldError> validateBody(Node schema, HasMetadata object) {
        ObjectNode tree = (ObjectNode) Json.tree(object);
        tree.remove("metadata");
        tree.remove("status");
        return validate(schema, tree);
    }

    static final FieldPath NIL_PATH = FieldPath.of("<nil>");
    static final String RULES_NOT_CHECKED = "some validation rules were not checked because the object was invalid; "
            + "correct the existing errors to complete validation";

    /** Everything the API server checks against the schema, in its order; {@code root} is the whole object. */
    static List<FieldError> validate(Node schema, JsonNode root) {
        List<FieldError> errs = new ArrayList<>();
        openApi(schema, root, null, errs);
        listTypes(schema, root, null, errs);
        boolean blocking = errs.stream().anyMatch(e -> switch (e.type()) {
            case NOT_SUPPORTED, REQUIRED, TOO_LONG, TOO_MANY, TYPE_INVALID -> true;
            default -> false;
        });
        if (blocking) {
            errs.add(FieldError.invalid(NIL_PATH, null, RULES_NOT_CHECKED));
        } else {
            cel(schema, root, null, errs);
        }
        return errs;
    }

    private static FieldPath child(FieldPath parent, String name) {
        return parent == null ? FieldPath.of(name) : parent.child(name);
    }

    private static String name(FieldPath path) {
        return path == null ? "" : path.toString();
    }

    private static void openApi(Node s, JsonNode v, FieldPath path, List<FieldError> errs) {
        if (v == null || v.isNull()) {
            return;
        }
        String name = name(path);
        // string validator: the first failure only
        if (s.type == Type.STRING && v.isTextual()) {
            String text = v.textValue();
            int length = text.codePointCount(0, text.length());
            if (s.maxLength != null && length > s.maxLength) {
                errs.add(FieldError.tooLong(path, s.maxLength));
            } else if (s.minLength != null && length < s.minLength) {
                errs.add(FieldError.invalid(path, text, name + " in body should be at least " + s.minLength + " chars long"));
            } else if (s.pattern != null && !s.pattern.matcher(text).find()) {
                errs.add(FieldError.invalid(path, text, name + " in body should match '" + s.patternText + "'"));
            }
        }
        for (Check c : s.checks) {
            errs.addAll(c.apply(v, path, name));
        }
        if (s.type == Type.INTEGER && v.isNumber()) {
            long n = v.longValue();
            if (s.minimum != null && n < s.minimum) {
                errs.add(FieldError.invalid(path, n, name + " in body should be greater than or equal to " + s.minimum));
            }
            if (s.maximum != null && n > s.maximum) {
                errs.add(FieldError.invalid(path, n, name + " in body should be less than or equal to " + s.maximum));
            }
        }
        if (s.type == Type.ARRAY && v.isArray()) {
            for (int i = 0; i < v.size(); i++) {
                openApi(s.items, v.get(i), path.index(i), errs);
            }
            if (s.minItems != null && v.size() < s.minItems) {
                errs.add(FieldError.invalid(path, (long) v.size(), name + " in body should have at least " + s.minItems + " items"));
            }
            if (s.maxItems != null && v.size() > s.maxItems) {
                errs.add(FieldError.tooMany(path, v.size(), s.maxItems));
            }
        }
        if (s.enumValues != null) {
            Object actual = v.isNumber() ? (Object) v.longValue() : v.asText();
            boolean ok = s.enumValues.stream().anyMatch(e -> e instanceof Number n ? actual instanceof Long l && l == n.longValue()
                    : e.equals(actual));
            if (!ok) {
                errs.add(FieldError.notSupported(path, actual, s.enumValues.stream().map(String::valueOf).toArray(String[]::new)));
            }
        }
        if (s.type == Type.OBJECT && v.isObject()) {
            if (s.maxProperties != null && v.size() > s.maxProperties) {
                errs.add(FieldError.tooMany(path, v.size(), s.maxProperties));
            }
            for (Map.Entry<String, Node> p : s.properties.entrySet()) {
                openApi(p.getValue(), v.get(p.getKey()), child(path, p.getKey()), errs);
            }
            for (String r : s.required) {
                if (!v.has(r)) {
                    errs.add(FieldError.required(child(path, r), ""));
                }
            }
        }
        if (s.type == Type.MAP && v.isObject()) {
            if (s.maxProperties != null && v.size() > s.maxProperties) {
                errs.add(FieldError.tooMany(path, v.size(), s.maxProperties));
            }
            for (Map.Entry<String, JsonNode> e : v.properties()) {
                openApi(s.values, e.getValue(), child(path, e.getKey()), errs);
            }
        }
    }

    /** {@code x-kubernetes-list-type: map} keys and {@code set} items must be unique. */
    private static void listTypes(Node s, JsonNode v, FieldPath path, List<FieldError> errs) {
        if (v == null || v.isNull()) {
            return;
        }
        if (s.type == Type.ARRAY && v.isArray()) {
            if (s.mapKeys != null) {
                Set<List<String>> seen = new HashSet<>();
                for (int i = 0; i < v.size(); i++) {
                    List<String> key = new ArrayList<>();
                    Map<String, Object> keyMap = new LinkedHashMap<>();
                    for (String k : s.mapKeys) {
                        JsonNode kv = v.get(i).get(k);
                        key.add(kv == null ? null : kv.toString());
                        keyMap.put(k, kv == null ? null : kv.isNumber() ? (Object) kv.longValue() : kv.asText());
                    }
                    if (!seen.add(key)) {
                        errs.add(FieldError.duplicate(path.index(i), keyMap));
                    }
                }
            } else if (s.set) {
                Set<String> seen = new HashSet<>();
                for (int i = 0; i < v.size(); i++) {
                    if (!seen.add(v.get(i).toString())) {
                        JsonNode item = v.get(i);
                        errs.add(FieldError.duplicate(path.index(i), item.isNumber() ? (Object) item.longValue() : item.asText()));
                    }
                }
            }
            for (int i = 0; i < v.size(); i++) {
                listTypes(s.items, v.get(i), path.index(i), errs);
            }
        } else if (s.type == Type.OBJECT && v.isObject()) {
            for (Map.Entry<String, Node> p : s.properties.entrySet()) {
                listTypes(p.getValue(), v.get(p.getKey()), child(path, p.getKey()), errs);
            }
        }
    }

    private static void cel(Node s, JsonNode v, FieldPath path, List<FieldError> errs) {
        if (v == null || v.isNull()) {
            return;
        }
        for (Rule r : s.rules) {
            boolean ok;
            try {
                ok = r.check.test(v);
            } catch (RuntimeException e) {
                ok = true; // a rule that cannot evaluate (a missing optional field) is not this port's to report
            }
            if (!ok) {
                errs.add(FieldError.invalid(path == null ? NIL_PATH : path, s.type.openApi, r.message));
            }
        }
        switch (s.type) {
            case OBJECT -> {
                for (Map.Entry<String, Node> p : s.properties.entrySet()) {
                    cel(p.getValue(), v.get(p.getKey()), child(path, p.getKey()), errs);
                }
            }
            case ARRAY -> {
                for (int i = 0; i < v.size(); i++) {
                    cel(s.items, v.get(i), path.index(i), errs);
                }
            }
            case MAP -> {
                for (Map.Entry<String, JsonNode> e : v.properties()) {
                    cel(s.values, e.getValue(), path.key(e.getKey()), errs);
                }
            }
            default -> {
            }
        }
    }

    // ---- helpers for rules ---------------------------------------------------------------------

    /** CEL's {@code has(x.f)}. */
    static boolean has(JsonNode obj, String field) {
        return obj != null && obj.has(field) && !obj.get(field).isNull();
    }

    /** A string field, "" when absent. */
    static String str(JsonNode obj, String field) {
        JsonNode f = obj == null ? null : obj.get(field);
        return f == null || f.isNull() ? "" : f.asText();
    }

    static int size(JsonNode obj, String field) {
        JsonNode f = obj == null ? null : obj.get(field);
        return f == null || f.isNull() ? 0 : f.size();
    }

    static List<JsonNode> items(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        if (array != null) {
            array.forEach(out::add);
        }
        return out;
    }

    static JsonNode emptyObject() {
        return JsonNodeFactory.instance.objectNode();
    }
}
