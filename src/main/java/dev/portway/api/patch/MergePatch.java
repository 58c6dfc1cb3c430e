package dev.portway.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** JSON merge patch ({@code application/merge-patch+json}, RFC 7386): objects merge, {@code null} deletes, anything else replaces. */
public final class MergePatch {

    private MergePatch() {
    }

    /** Applies {@code patch} to {@code target} (unchanged) and returns the result. */
    public static JsonNode apply(JsonNode target, JsonNode patch) {
        if (!(patch instanceof ObjectNode p)) {
            return patch.deepCopy();
        }
        ObjectNode out = target instanceof ObjectNode t ? t.deepCopy() : JsonNodeFactory.instance.objectNode();
        p.properties().forEach(e -> {
            if (e.getValue().isNull()) {
                out.remove(e.getKey());
            } else {
                JsonNode current = out.get(e.getKey());
                out.set(e.getKey(), apply(current == null ? JsonNodeFactory.instance.nullNode() : current, e.getValue()));
            }
        });
        return out;
    }
}
