package dev.portway.api.patch;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Server-side apply ({@code application/apply-patch+yaml}), simplified: the applied configuration
 * is merged into the live object along the same field structure the API server uses (objects
 * key by key, keyed lists item by item on their list-map keys, sets by value, other lists
 * whole), and the fields the same field manager applied last time but no longer names are
 * removed, as SSA removes fields an applier stops owning. The fields each applier owns are kept
 * in {@code metadata.managedFields} in the API server's {@code FieldsV1} form.
 *
 * <p>What is simplified: only appliers (operation Apply) own fields, so there are no conflicts
 * with other writers: an apply always wins, as with {@code --force-conflicts}; and a field two
 * appliers own is removed when either stops naming it.
 */
public final class ServerSideApply {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ServerSideApply() {
    }

    /**
     * Merges {@code applied} into {@code live} for an object of {@code type}, removing what
     * {@code previouslyOwned} (this manager's last FieldsV1, or null) names and {@code applied} does not.
     */
    public static ObjectNode apply(ObjectNode live, ObjectNode applied, ObjectNode previouslyOwned, JavaType type) {
        ObjectNode merged = live.deepCopy();
        merge(merged, applied, type);
        if (previouslyOwned != null) {
            prune(merged, previouslyOwned, FieldsV1.of(applied, type), type);
        }
        return merged;
    }

    private static void merge(ObjectNode live, ObjectNode applied, JavaType type) {
        applied.properties().forEach(e -> {
            String key = e.getKey();
            JsonNode value = e.getValue();
            JsonNode current = live.get(key);
            JavaType child = PatchMeta.child(type, key);
            PatchMeta.Strategy strategy = PatchMeta.strategy(type, key);
            if (value.isNull()) {
                live.remove(key);
            } else if (value instanceof ObjectNode vo && current instanceof ObjectNode co && !isAtomicMap(child)) {
                merge(co, vo, child);
            } else if (value instanceof ArrayNode va && current instanceof ArrayNode ca && strategy.merge()) {
                live.set(key, mergeList(ca, va, child, strategy));
            } else {
                live.set(key, value.deepCopy());
            }
        });
    }

    private static boolean isAtomicMap(JavaType t) {
        return t != null && PatchMeta.isLeaf(t);
    }

    /** The live list with the applied items merged in, found by key (or value, for a set) in a map: linear in both lists. */
    private static ArrayNode mergeList(ArrayNode live, ArrayNode applied, JavaType listType, PatchMeta.Strategy strategy) {
        ArrayNode out = live.deepCopy();
        if (strategy.isSet()) {
            java.util.Set<JsonNode> present = new java.util.HashSet<>();
            out.forEach(present::add);
            for (JsonNode v : applied) {
                if (present.add(v)) {
                    out.add(v.deepCopy());
                }
            }
            return out;
        }
        JavaType element = PatchMeta.element(listType);
        Map<String, Integer> firstWithKey = new java.util.HashMap<>();
        for (int i = 0; i < out.size(); i++) {
            String id = FieldsV1.itemKey(out.get(i), strategy, element);
            if (id != null) {
                firstWithKey.putIfAbsent(id, i);
            }
        }
        for (JsonNode item : applied) {
            String id = FieldsV1.itemKey(item, strategy, element);
            Integer at = id == null ? null : firstWithKey.get(id);
            if (at != null && out.get(at) instanceof ObjectNode existing && item instanceof ObjectNode io) {
                merge(existing, io, element); // the same key fields: its key stays
            } else {
                out.add(item.deepCopy());
                if (id != null) {
                    firstWithKey.putIfAbsent(id, out.size() - 1);
                }
            }
        }
        return out;
    }

    /** Removes from {@code obj} the fields {@code owned} names that {@code stillOwned} does not. */
    private static void prune(ObjectNode obj, ObjectNode owned, ObjectNode stillOwned, JavaType type) {
        for (Iterator<Map.Entry<String, JsonNode>> it = owned.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = e.getKey();
            if (!path.startsWith("f:")) {
                continue;
            }
            String field = path.substring(2);
            JsonNode still = stillOwned.get(path);
            JsonNode value = obj.get(field);
            if (value == null) {
                continue;
            }
            if (still == null) {
                obj.remove(field);
                continue;
            }
            if (!(e.getValue() instanceof ObjectNode ownedChild) || !(still instanceof ObjectNode stillChild)) {
                continue; // a malformed FieldsV1 (managedFields are writable): own nothing below it
            }
            JavaType child = PatchMeta.child(type, field);
            PatchMeta.Strategy strategy = PatchMeta.strategy(type, field);
            if (value instanceof ObjectNode vo) {
                prune(vo, ownedChild, stillChild, child);
            } else if (value instanceof ArrayNode va && strategy.merge()) {
                pruneList(va, ownedChild, stillChild, PatchMeta.element(child), strategy);
            }
        }
    }

    private static void pruneList(ArrayNode list, ObjectNode owned, ObjectNode stillOwned, JavaType element, PatchMeta.Strategy strategy) {
        List<JsonNode> kept = new ArrayList<>(list.size());
        for (JsonNode listItem : list) {
            String id = FieldsV1.itemKey(listItem, strategy, element);
            if (id == null || !owned.has(id)) {
                kept.add(listItem);
            } else if (stillOwned.has(id)) {
                if (listItem instanceof ObjectNode item && owned.get(id) instanceof ObjectNode o && stillOwned.get(id) instanceof ObjectNode so) {
                    prune(item, o, so, element);
                }
                kept.add(listItem);
            }
        }
        if (kept.size() != list.size()) { // rebuilt, not removed one by one: each removal shifts the rest
            list.removeAll();
            list.addAll(kept);
        }
    }

    /** The {@code FieldsV1} set of an applied configuration: {@code {"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}}}}}. */
    public static final class FieldsV1 {

        private FieldsV1() {
        }

        public static ObjectNode of(ObjectNode applied, JavaType type) {
            ObjectNode set = NODES.objectNode();
            applied.properties().forEach(e -> {
                String key = e.getKey();
                if (key.equals("apiVersion") || key.equals("kind")) {
                    return;
                }
                if (type != null && type.getRawClass().getSimpleName().equals("ObjectMeta")
                        && !key.equals("labels") && !key.equals("annotations") && !key.equals("finalizers") && !key.equals("ownerReferences")) {
                    return; // name, namespace and the like are identity, not owned fields
                }
                JsonNode value = e.getValue();
                JavaType child = PatchMeta.child(type, key);
                PatchMeta.Strategy strategy = PatchMeta.strategy(type, key);
                ObjectNode node = NODES.objectNode();
                if (value instanceof ObjectNode vo && !isAtomicMap(child)) {
                    node = of(vo, child);
                } else if (value instanceof ArrayNode va && strategy.merge()) {
                    JavaType element = PatchMeta.element(child);
                    for (JsonNode item : va) {
                        String id = itemKey(item, strategy, element);
                        if (id == null) {
                            continue;
                        }
                        ObjectNode itemSet = item instanceof ObjectNode io ? of(io, element) : NODES.objectNode();
                        if (item instanceof ObjectNode) {
                            itemSet.set(".", NODES.objectNode());
                        }
                        node.set(id, itemSet);
                    }
                }
                set.set("f:" + key, node);
            });
            return set;
        }

        /** {@code k:{"port":80,"protocol":"TCP"}} for an item of a keyed list, {@code v:"x"} for a set member. */
        static String itemKey(JsonNode item, PatchMeta.Strategy strategy, JavaType element) {
            if (strategy.isSet()) {
                return "v:" + item.toString();
            }
            if (!(item instanceof ObjectNode o)) {
                return null;
            }
            ObjectNode k = NODES.objectNode();
            for (String key : strategy.listMapKeys()) {
                JsonNode v = o.get(key);
                if (v == null && key.equals("protocol")) {
                    v = NODES.textNode("TCP"); // the default, as the API server fills it before keying
                }
                if (v != null) {
                    k.set(key, v);
                }
            }
            return "k:" + k;
        }
    }
}
