package dev.portway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.Selectors;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;

/** The {@code scale} subresource of Deployments and ReplicaSets: an {@code autoscaling/v1 Scale}, as {@code kubectl scale} reads and writes it. */
final class Scales {

    private Scales() {
    }

    static ObjectNode of(HasMetadata o) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("kind", "Scale");
        s.put("apiVersion", "autoscaling/v1");
        ObjectNode meta = s.putObject("metadata");
        meta.put("name", o.getMetadata().getName());
        meta.put("namespace", o.getMetadata().getNamespace());
        meta.put("uid", o.getMetadata().getUid());
        meta.put("resourceVersion", o.getMetadata().getResourceVersion());
        meta.put("creationTimestamp", o.getMetadata().getCreationTimestamp());
        int desired;
        int current;
        String selector;
        switch (o) {
            case Deployment d -> {
                desired = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
                current = d.getStatus() == null || d.getStatus().getReplicas() == null ? 0 : d.getStatus().getReplicas();
                selector = Selectors.format(d.getSpec().getSelector());
            }
            case ReplicaSet rs -> {
                desired = rs.getSpec().getReplicas() == null ? 1 : rs.getSpec().getReplicas();
                current = rs.getStatus() == null || rs.getStatus().getReplicas() == null ? 0 : rs.getStatus().getReplicas();
                selector = Selectors.format(rs.getSpec().getSelector());
            }
            default -> throw new ApiException(Statuses.notFound());
        }
        s.putObject("spec").put("replicas", desired);
        ObjectNode status = s.putObject("status");
        status.put("replicas", current);
        status.put("selector", selector);
        return s;
    }

    /** {@code spec.replicas} of a Scale body. */
    static int replicas(JsonNode scale) {
        JsonNode r = scale.path("spec").path("replicas");
        if (!r.canConvertToInt()) {
            throw ApiException.badRequest("Scale in version \"v1\" cannot be handled as a Scale: spec.replicas must be an integer");
        }
        return r.asInt();
    }
}
