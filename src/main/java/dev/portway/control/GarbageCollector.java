package dev.portway.control;

import dev.portway.api.Keys;
import dev.portway.store.Store;
import dev.portway.store.WatchEvent;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who owns whom: an index from an owner's uid to the objects whose {@code ownerReferences} name
 * it, kept up to date from the store's committed batches, so cascading deletion looks up an
 * owner's dependents instead of scanning every kind (Kubernetes' garbage collector keeps the
 * same graph from its informers).
 *
 * <p>Written on the committing (control) thread and read there only.
 */
final class GarbageCollector {

    /** The finalizer that holds an owner deleted with {@code propagationPolicy: Foreground} until its dependents are gone. */
    static final String FOREGROUND_DELETION = "foregroundDeletion";
    /** The finalizer {@code propagationPolicy: Orphan} sets while dependents are released. */
    static final String ORPHAN = "orphan";

    private final Map<String, Set<Keys>> dependents = new HashMap<>();
    private final Map<Keys, List<String>> ownersOf = new HashMap<>();
    /** Objects other than pods marked for deletion and still stored (finalizers, foreground deletion). */
    private final Set<Keys> marked = new LinkedHashSet<>();

    GarbageCollector(Store store) {
        for (var kind : dev.portway.api.ResourceKind.values()) {
            for (HasMetadata o : store.list(kind, null)) {
                index(o);
            }
        }
        store.watch(this::onBatch);
    }

    private void onBatch(List<WatchEvent> events) {
        for (WatchEvent e : events) {
            Keys key = Keys.of(e.object());
            if (e.old() != null) {
                unindex(key);
            }
            marked.remove(key);
            if (e.type() != WatchEvent.Type.DELETED) {
                index(e.object());
                if (e.object().getMetadata().getDeletionTimestamp() != null && e.kind() != dev.portway.api.ResourceKind.POD) {
                    marked.add(key);
                }
            }
        }
    }

    private void index(HasMetadata o) {
        if (o.getMetadata().getDeletionTimestamp() != null && !(o instanceof io.fabric8.kubernetes.api.model.Pod)) {
            marked.add(Keys.of(o));
        }
        List<OwnerReference> refs = o.getMetadata().getOwnerReferences();
        if (refs == null || refs.isEmpty()) {
            return;
        }
        Keys key = Keys.of(o);
        List<String> uids = refs.stream().map(OwnerReference::getUid).filter(u -> u != null && !u.isEmpty()).toList();
        ownersOf.put(key, uids);
        for (String uid : uids) {
            dependents.computeIfAbsent(uid, u -> new LinkedHashSet<>()).add(key);
        }
    }

    private void unindex(Keys key) {
        List<String> uids = ownersOf.remove(key);
        if (uids == null) {
            return;
        }
        for (String uid : uids) {
            Set<Keys> set = dependents.get(uid);
            if (set != null) {
                set.remove(key);
                if (set.isEmpty()) {
                    dependents.remove(uid);
                }
            }
        }
    }

    /** Objects (not pods) marked for deletion that are still stored. */
    List<Keys> marked() {
        return List.copyOf(marked);
    }

    /** The objects that name {@code ownerUid} as an owner, as last committed. */
    List<Keys> dependentsOf(String ownerUid) {
        Set<Keys> set = ownerUid == null ? null : dependents.get(ownerUid);
        return set == null ? List.of() : List.copyOf(set);
    }
}
