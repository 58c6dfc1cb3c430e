package dev.portway.api;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Identity of a stored object: its kind, namespace and name. */
public record Keys(ResourceKind kind, String namespace, String name) {

    public static Keys of(HasMetadata object) {
        ResourceKind kind = ResourceKind.of(object);
        return new Keys(kind, kind.namespaced() ? object.getMetadata().getNamespace() : null, object.getMetadata().getName());
    }

    /** {@code default/web}, or {@code web} for cluster-scoped kinds. */
    public String ref() {
        return namespace == null ? name : namespace + "/" + name;
    }

    @Override
    public String toString() {
        return kind.objectRef(name) + (namespace == null ? "" : " (namespace " + namespace + ")");
    }
}
