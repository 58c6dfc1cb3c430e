package dev.portway.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.FieldError;
import dev.portway.api.Json;
import dev.portway.api.validation.StatusValidation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;

/**
 * Writes to a {@code status} subresource, as the API server's status strategies take them: the
 * stored object keeps its metadata and spec, only its status changes, and the new status is
 * validated for its kind before it is stored.
 */
final class StatusStrategy {

    private StatusStrategy() {
    }

    /** {@code stored} with the status of {@code written}. */
    @SuppressWarnings("unchecked")
    static <T extends HasMetadata> T withStatus(T stored, HasMetadata written) {
        JsonNode status = Json.tree(written).get("status");
        ObjectNode tree = (ObjectNode) Json.tree(stored);
        if (status == null || status.isNull()) {
            tree.remove("status");
        } else {
            tree.set("status", status);
        }
        return (T) Json.convert(tree, stored.getClass());
    }

    static List<FieldError> validate(HasMetadata updated, HasMetadata old, ClusterConfig config) {
        return StatusValidation.validate(updated, old, config.nodeCidr());
    }
}
