package dev.portway.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Portway's own {@code apply} (the atomic multi-object one): it keeps what the user applied in
 * kubectl's {@code last-applied-configuration} annotation, and on a re-apply lets labels and
 * annotations that someone else added survive, as {@code kubectl apply}'s three-way merge does.
 * (The real kubectl computes that merge itself and sends a patch; see {@code api.patch}.)
 */
final class LastAppliedMerge {

    private LastAppliedMerge() {
    }

    /** Keeps what the user applied, so a later apply can tell their fields from everyone else's. */
    static void record(HasMetadata input, HasMetadata object) {
        ObjectNode tree = (ObjectNode) Json.tree(input);
        if (tree.get("metadata") instanceof ObjectNode meta) {
            if (meta.get("annotations") instanceof ObjectNode annotations) {
                annotations.remove(ApiServer.LAST_APPLIED);
                if (annotations.isEmpty()) {
                    meta.remove("annotations");
                }
            }
            meta.remove(List.of("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"));
        }
        tree.remove("status");
        LastAppliedMerge.annotations(object).put(ApiServer.LAST_APPLIED, Json.write(tree));
    }

    /**
     * A three-way merge for labels and annotations, as {@code kubectl apply} does: keys someone
     * else added (absent from the last applied manifest) survive a re-apply.
     */
    static void keepOthersKeys(ObjectMeta meta, ObjectMeta old) {
        JsonNode lastApplied = lastApplied(old);
        JsonNode lastMeta = lastApplied == null ? null : lastApplied.path("metadata");
        meta.setLabels(mergeKeys(meta.getLabels(), old.getLabels(), lastMeta == null ? null : lastMeta.path("labels")));
        meta.setAnnotations(mergeKeys(meta.getAnnotations(), old.getAnnotations(), lastMeta == null ? null : lastMeta.path("annotations")));
    }

    /**
     * The last applied manifest, or null when there is none. One that is no JSON object (anyone
     * may write the annotation) is the request's fault, as kubectl refuses to apply over it
     * ("error while retrieving original configuration"), not a server error.
     */
    private static JsonNode lastApplied(ObjectMeta old) {
        String last = old.getAnnotations() == null ? null : old.getAnnotations().get(ApiServer.LAST_APPLIED);
        if (last == null || last.isBlank()) {
            return null; // kubectl takes an empty annotation for none
        }
        try {
            JsonNode tree = Json.readTree(last.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (tree instanceof ObjectNode) {
                return tree;
            }
            if (tree == null || tree.isNull() || tree.isMissingNode()) {
                return null; // and null for an empty manifest
            }
        } catch (RuntimeException e) {
            // below
        }
        throw dev.portway.api.ApiException.badRequest("the " + ApiServer.LAST_APPLIED + " annotation of " + old.getName()
                + " is not a JSON object: apply cannot tell the fields it applied last; remove the annotation or replace the object");
    }

    private static Map<String, String> mergeKeys(Map<String, String> desired, Map<String, String> live, JsonNode lastApplied) {
        Map<String, String> merged = new LinkedHashMap<>(desired == null ? Map.of() : desired);
        if (live != null && lastApplied != null) {
            live.forEach((k, v) -> {
                if (!merged.containsKey(k) && !lastApplied.has(k)) {
                    merged.put(k, v);
                }
            });
        }
        return merged;
    }

    static Map<String, String> annotations(HasMetadata object) {
        if (object.getMetadata().getAnnotations() == null) {
            object.getMetadata().setAnnotations(new LinkedHashMap<>());
        }
        return object.getMetadata().getAnnotations();
    }

    /**
     * {@code kubectl apply}'s three-way merge for the spec: what the manifest names is set, what the
     * last applied manifest named and this one does not is removed, and what neither named stays as
     * it is live: what a controller, an admission step or {@code portway scale} set (a Pod's
     * {@code nodeName}, its default tolerations and service account; a Deployment's replicas after
     * a scale). Re-applying an unchanged Pod manifest was refused: the replacement spec lacked the
     * node and tolerations given at creation, and a Pod's spec may not change.
     */
    static HasMetadata threeWaySpec(ResourceKind kind, HasMetadata applied, HasMetadata live) {
        ObjectNode appliedTree = (ObjectNode) Json.tree(applied);
        if (!(appliedTree.get("spec") instanceof ObjectNode appliedSpec) || !(Json.tree(live).get("spec") instanceof ObjectNode liveSpec)) {
            return applied;
        }
        JsonNode last = lastApplied(live.getMetadata());
        ObjectNode lastSpec = last != null && last.get("spec") instanceof ObjectNode s ? s : null;
        com.fasterxml.jackson.databind.JavaType specType = dev.portway.api.patch.PatchMeta.child(
                dev.portway.api.patch.PatchMeta.type(kind.type()), "spec");
        ObjectNode previous = lastSpec == null ? null : dev.portway.api.patch.ServerSideApply.FieldsV1.of(lastSpec, specType);
        ObjectNode kept = liveSpec.deepCopy();
        retainKeys(kept, appliedSpec, specType);
        appliedTree.set("spec", dev.portway.api.patch.ServerSideApply.apply(kept, appliedSpec, previous, specType));
        return Json.convert(appliedTree, applied.getClass());
    }

    /**
     * kubectl's {@code $retainKeys}: where a field's patch strategy is {@code retainKeys} (a
     * Deployment's {@code strategy}, a volume), the manifest names every key to keep, and the live
     * object's others go, whoever set them: switching to {@code type: Recreate} drops the
     * {@code rollingUpdate} the defaults gave, which validation would refuse beside it.
     */
    private static void retainKeys(ObjectNode live, ObjectNode applied, com.fasterxml.jackson.databind.JavaType type) {
        applied.properties().forEach(e -> {
            String key = e.getKey();
            JsonNode value = e.getValue();
            JsonNode current = live.get(key);
            com.fasterxml.jackson.databind.JavaType child = dev.portway.api.patch.PatchMeta.child(type, key);
            dev.portway.api.patch.PatchMeta.Strategy strategy = dev.portway.api.patch.PatchMeta.strategy(type, key);
            if (value instanceof ObjectNode v && current instanceof ObjectNode c) {
                if (strategy.retainKeys()) {
                    c.retain(names(v));
                }
                if (child != null && dev.portway.api.patch.PatchMeta.isBean(child)) {
                    retainKeys(c, v, child);
                }
            } else if (value instanceof com.fasterxml.jackson.databind.node.ArrayNode v
                    && current instanceof com.fasterxml.jackson.databind.node.ArrayNode c && strategy.isMapList()) {
                com.fasterxml.jackson.databind.JavaType element = dev.portway.api.patch.PatchMeta.element(child);
                for (JsonNode item : v) {
                    JsonNode id = item.get(strategy.mergeKey());
                    for (JsonNode liveItem : c) {
                        if (id != null && id.equals(liveItem.get(strategy.mergeKey())) && item instanceof ObjectNode i
                                && liveItem instanceof ObjectNode l) {
                            if (strategy.retainKeys()) {
                                l.retain(names(i));
                            }
                            retainKeys(l, i, element);
                        }
                    }
                }
            }
        });
    }

    private static List<String> names(ObjectNode node) {
        List<String> names = new java.util.ArrayList<>(node.size());
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
