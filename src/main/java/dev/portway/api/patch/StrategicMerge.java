package dev.portway.api.patch;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies a strategic merge patch ({@code application/strategic-merge-patch+json}) as
 * {@code k8s.io/apimachinery/pkg/util/strategicpatch} does: objects merge key by key
 * ({@code null} deletes), lists {@link PatchMeta} marks as merging are merged item by item on
 * their merge key (or as sets of scalars), every other list is replaced whole; and the
 * directives {@code kubectl apply} writes: {@code $patch: replace|delete|merge},
 * {@code $retainKeys}, {@code $setElementOrder/<list>} and {@code $deleteFromPrimitiveList/<list>}.
 */
public final class StrategicMerge {

    private static final String PATCH = "$patch";
    private static final String RETAIN_KEYS = "$retainKeys";
    private static final String SET_ORDER = "$setElementOrder/";
    private static final String DELETE_FROM = "$deleteFromPrimitiveList/";

    private StrategicMerge() {
    }

    /** A patch that cannot be applied (HTTP 422 / 400 in the API server). */
    public static final class PatchException extends RuntimeException {
        public PatchException(String message) {
            super(message);
        }
    }

    /**
     * Applies {@code patch} to {@code original} (neither is changed) for an object of {@code type}.
     *
     * @return the patched object
     */
    public static ObjectNode apply(ObjectNode original, JsonNode patch, JavaType type) {
        if (!(patch instanceof ObjectNode p)) {
            throw new PatchException("a strategic merge patch must be a JSON object");
        }
        JsonNode merged = mergeMap(original.deepCopy(), p, type);
        return merged instanceof ObjectNode o ? o : JsonNodeFactory.instance.objectNode();
    }

    private static JsonNode mergeMap(ObjectNode original, ObjectNode patch, JavaType type) {
        JsonNode directive = patch.get(PATCH);
        if (directive != null) {
            switch (directive.asText()) {
                case "replace" -> {
                    ObjectNode copy = strip(patch);
                    return copy;
                }
                case "delete" -> {
                    return null;
                }
                case "merge" -> {
                }
                default -> throw new PatchException("Unknown patch type: " + directive.asText() + " in map: " + patch);
            }
        }
        JsonNode retain = patch.get(RETAIN_KEYS);
        if (retain != null) {
            if (!retain.isArray()) {
                throw new PatchException("invalid value for $retainKeys: it must be a list of strings");
            }
            Set<String> keep = new HashSet<>();
            retain.forEach(k -> keep.add(k.asText()));
            original.properties().removeIf(e -> !keep.contains(e.getKey()));
        }
        Map<String, JsonNode> orders = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode value = e.getValue();
            if (key.equals(PATCH) || key.equals(RETAIN_KEYS)) {
                continue;
            }
            if (key.startsWith(SET_ORDER)) {
                orders.put(key.substring(SET_ORDER.length()), value);
                continue;
            }
            if (key.startsWith(DELETE_FROM)) {
                String field = key.substring(DELETE_FROM.length());
                JsonNode list = original.get(field);
                if (list instanceof ArrayNode a && value.isArray()) {
                    Set<JsonNode> gone = new HashSet<>();
                    value.forEach(gone::add);
                    ArrayNode kept = a.arrayNode();
                    a.forEach(v -> {
                        if (!gone.contains(v)) {
                            kept.add(v);
                        }
                    });
                    original.set(field, kept);
                }
                continue;
            }
            if (value == null || value.isNull()) {
                original.remove(key);
                continue;
            }
            JavaType childType = PatchMeta.child(type, key);
            PatchMeta.Strategy strategy = PatchMeta.strategy(type, key);
            JsonNode current = original.get(key);
            if (value instanceof ObjectNode vo) {
                ObjectNode base = current instanceof ObjectNode co ? co : JsonNodeFactory.instance.objectNode();
                JsonNode merged = mergeMap(base, vo, childType);
                if (merged == null) {
                    original.remove(key);
                } else {
                    original.set(key, merged);
                }
            } else if (value instanceof ArrayNode va) {
                original.set(key, mergeList(current instanceof ArrayNode ca ? ca : null, va, childType, strategy));
            } else {
                original.set(key, value);
            }
        }
        for (Map.Entry<String, JsonNode> order : orders.entrySet()) {
            JsonNode list = original.get(order.getKey());
            if (list instanceof ArrayNode a && order.getValue().isArray()) {
                original.set(order.getKey(), reorder(a, (ArrayNode) order.getValue(), PatchMeta.strategy(type, order.getKey())));
            }
        }
        return original;
    }

    private static ArrayNode mergeList(ArrayNode original, ArrayNode patch, JavaType listType, PatchMeta.Strategy strategy) {
        // a {"$patch": "replace"} element replaces the list with the other elements
        for (JsonNode item : patch) {
            if (item instanceof ObjectNode o && "replace".equals(o.path(PATCH).asText(null)) && o.size() == 1) {
                ArrayNode out = patch.arrayNode();
                patch.forEach(i -> {
                    if (i != item) {
                        out.add(stripDeep(i));
                    }
                });
                return out;
            }
        }
        if (!strategy.merge() || original == null) {
            ArrayNode out = patch.arrayNode();
            for (JsonNode i : patch) {
                if (i instanceof ObjectNode o && "delete".equals(o.path(PATCH).asText(null))) {
                    continue;
                }
                out.add(stripDeep(i));
            }
            return out;
        }
        ArrayNode out = original.deepCopy();
        if (strategy.isSet()) {
            Set<JsonNode> present = new HashSet<>();
            out.forEach(present::add);
            for (JsonNode v : patch) {
                if (present.add(v)) {
                    out.add(v);
                }
            }
            return out;
        }
        String key = strategy.mergeKey();
        JavaType element = PatchMeta.element(listType);
        // the list's items in slots (null: deleted), found through a map of merge key to the slots holding it,
        // first first: each patch item finds its item at once (a search of the list each was quadratic)
        List<JsonNode> slots = new ArrayList<>(out.size());
        out.forEach(slots::add);
        Map<JsonNode, ArrayDeque<Integer>> withKey = new HashMap<>();
        for (int i = 0; i < slots.size(); i++) {
            JsonNode k = slots.get(i).get(key);
            if (k != null) {
                withKey.computeIfAbsent(k, x -> new ArrayDeque<>()).add(i);
            }
        }
        for (JsonNode item : patch) {
            if (!(item instanceof ObjectNode po)) {
                throw new PatchException("a list with merge key " + key + " must hold objects");
            }
            JsonNode k = po.get(key);
            if (k == null) {
                throw new PatchException("map: " + po + " does not contain declared merge key: " + key);
            }
            ArrayDeque<Integer> holding = withKey.get(k);
            Integer at = holding == null ? null : holding.peekFirst();
            String directive = po.path(PATCH).asText("");
            if (directive.equals("delete")) {
                if (at != null) {
                    slots.set(holding.pollFirst(), null);
                }
            } else if (at != null) {
                JsonNode merged = mergeMap((ObjectNode) slots.get(at), po, element);
                if (merged == null) {
                    slots.set(holding.pollFirst(), null);
                } else {
                    slots.set(at, merged); // the patch item's key is the item's: it stays where the map says
                }
            } else {
                JsonNode added = mergeMap(JsonNodeFactory.instance.objectNode(), po, element);
                if (added != null) {
                    slots.add(added);
                    if (added.get(key) != null) {
                        withKey.computeIfAbsent(added.get(key), x -> new ArrayDeque<>()).add(slots.size() - 1);
                    }
                }
            }
        }
        ArrayNode merged = out.arrayNode();
        for (JsonNode n : slots) {
            if (n != null) {
                merged.add(n);
            }
        }
        return merged;
    }

    /** Orders {@code list} as {@code order} lists its items (by merge key, or by value for sets); unnamed items keep their place after. */
    private static ArrayNode reorder(ArrayNode list, ArrayNode order, PatchMeta.Strategy strategy) {
        String key = strategy.mergeKey();
        // each item's place by what names it (its merge key, or its value in a set), first first
        Map<JsonNode, ArrayDeque<Integer>> places = new HashMap<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode name = key == null ? list.get(i) : list.get(i).get(key);
            if (name != null) {
                places.computeIfAbsent(name, x -> new ArrayDeque<>()).add(i);
            }
        }
        boolean[] placed = new boolean[list.size()];
        ArrayNode out = list.arrayNode();
        for (JsonNode o : order) {
            JsonNode name = key == null ? o : o.get(key);
            ArrayDeque<Integer> at = name == null ? null : places.get(name);
            Integer i = at == null ? null : at.pollFirst();
            if (i != null) {
                out.add(list.get(i));
                placed[i] = true;
            }
        }
        for (int i = 0; i < list.size(); i++) {
            if (!placed[i]) {
                out.add(list.get(i));
            }
        }
        return out;
    }

    private static ObjectNode strip(ObjectNode o) {
        ObjectNode copy = o.deepCopy();
        copy.remove(PATCH);
        return (ObjectNode) stripDeep(copy);
    }

    /** A value with every directive removed, as it is stored. */
    private static JsonNode stripDeep(JsonNode n) {
        if (n instanceof ObjectNode o) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            o.properties().forEach(e -> {
                String k = e.getKey();
                if (!k.equals(PATCH) && !k.equals(RETAIN_KEYS) && !k.startsWith(SET_ORDER) && !k.startsWith(DELETE_FROM)) {
                    if (!e.getValue().isNull()) {
                        out.set(k, stripDeep(e.getValue()));
                    }
                }
            });
            return out;
        }
        if (n instanceof ArrayNode a) {
            ArrayNode out = a.arrayNode();
            a.forEach(i -> out.add(stripDeep(i)));
            return out;
        }
        return n;
    }
}
