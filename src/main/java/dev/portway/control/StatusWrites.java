package dev.portway.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.FieldError;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.validation.ServiceValidation;
import dev.portway.api.validation.StatusValidation;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Writes of status: a client's {@code PUT/PATCH .../status}, as the API server's status
 * strategies take it (the stored object keeps its metadata and spec, only its status changes,
 * validated for its kind), and the controllers' own writes of status and fields they own.
 *
 * <p>Runs on the control thread.
 */
final class StatusWrites {

    private final Store store;
    private final ClusterConfig config;

    StatusWrites(Store store, ClusterConfig config) {
        this.store = store;
        this.config = config;
    }

    /**
     * {@code PUT .../status}: only the stored object's status changes, validated for its kind.
     *
     * @param uidPrecondition a PUT's: a uid it names that is not the stored one's is a Conflict (see
     *                        {@link ApiServer#checkUid}); a patch's is Invalid (immutable)
     */
    HasMetadata update(HasMetadata object, String namespace, WriteOptions options, boolean uidPrecondition) {
        ResourceKind kind = ResourceKind.of(object);
        String ns = kind.namespaced() ? (namespace == null ? "default" : namespace) : null;
        String name = object.getMetadata() == null ? null : object.getMetadata().getName();
        HasMetadata existing = store.get(kind, ns, name).orElseThrow(() -> ApiException.notFound(kind, name));
        if (uidPrecondition) {
            ApiServer.checkUid(kind, object, existing);
        }
        ApiServer.checkVersion(kind, object.getMetadata().getResourceVersion(), existing);
        // as kube's status strategies validate the object meta's update: a patch that changes the uid (a controller's
        // that names the object it judged, deleted and made again meanwhile) is refused as immutable
        String uid = object.getMetadata().getUid();
        if (uid != null && !uid.isEmpty()) {
            List<FieldError> changed = dev.portway.api.validation.MetaValidation.immutable(uid, existing.getMetadata().getUid(),
                    dev.portway.api.FieldPath.of("metadata").child("uid"));
            if (!changed.isEmpty()) {
                throw ApiException.invalid(kind, name, changed);
            }
        }
        HasMetadata updated = withStatus(existing, object);
        List<FieldError> errs = StatusValidation.validate(updated, existing, config.nodeCidr());
        if (!errs.isEmpty()) {
            throw ApiException.invalid(kind, name, errs);
        }
        ApiServer.checkStoredSize(updated);
        if (options.dryRun()) {
            return updated;
        }
        if (Json.tree(updated).equals(Json.tree(existing))) {
            return existing;
        }
        Store.Batch batch = store.begin();
        batch.put(updated);
        batch.commit();
        return updated;
    }

    /**
     * A controller's write: applies {@code change} to a copy of the stored object and stores the
     * result if anything changed. Status and controller-owned fields only; no user validation.
     *
     * @return the stored object, changed or not; empty if it no longer exists
     */
    <T extends HasMetadata> Optional<T> mutate(Class<T> type, String namespace, String name, UnaryOperator<T> change) {
        Optional<T> current = store.get(type, namespace, name);
        if (current.isEmpty()) {
            return Optional.empty();
        }
        T copy = Json.copy(current.get());
        T changed = change.apply(copy);
        if (changed == null || Json.tree(changed).equals(Json.tree(current.get()))) {
            return current;
        }
        if (changed instanceof Service svc) {
            List<FieldError> errs = ServiceValidation.validateStatus(svc);
            if (!errs.isEmpty()) {
                throw ApiException.invalid(ResourceKind.SERVICE, name, errs);
            }
        }
        Store.Batch batch = store.begin();
        batch.put(changed);
        batch.commit();
        return Optional.of(changed);
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
}
