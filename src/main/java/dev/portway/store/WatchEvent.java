package dev.portway.store;

import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * A change to one stored object, as the Kubernetes watch API reports it.
 *
 * @param type     ADDED, MODIFIED or DELETED
 * @param kind     the object's kind
 * @param object   the object after the change (for DELETED: its last state, with the deletion's resourceVersion)
 * @param old      the object before the change, or null for ADDED
 * @param revision the resourceVersion of the change
 */
public record WatchEvent(Type type, ResourceKind kind, HasMetadata object, HasMetadata old, long revision) {

    public enum Type {
        ADDED, MODIFIED, DELETED
    }
}
