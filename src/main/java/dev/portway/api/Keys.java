package dev.portway.api;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Identity of a stored object: its kind, namespace and name. */
public record Keys(ResourceKind kind, String namespace, String name) {

    /** The keys of an object; a missing name is the empty string, as in Go. */
    public static Keys of(HasMetadata object) {
        ResourceKind kind = ResourceKind.of(object);
        var meta = object.getMetadata();
        String name = meta == null || meta.getName() == null ? "" : meta.getName();
        String namespace = meta == null ? null : meta.getNamespace();
        return new Keys(kind, kind.namespaced() ? namespace : null, name);
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
