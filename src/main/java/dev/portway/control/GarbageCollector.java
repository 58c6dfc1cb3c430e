package dev.portway.control;

import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.Keys;
import dev.portway.api.ResourceKind;
import dev.portway.api.Times;
import dev.portway.store.Store;
import dev.portway.store.WatchEvent;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Deletion as Kubernetes does it: cascading to dependents (Background, Foreground, Orphan),
 * graceful for running pods, held by finalizers. Who owns whom comes from an index from an
 * owner's uid to the objects whose {@code ownerReferences} name it, kept up to date from the
 * store's committed batches, so a delete looks up an owner's dependents instead of scanning
 * every kind (Kubernetes' garbage collector keeps the same graph from its informers).
 *
 * <p>Runs on the control thread (the index is written from the store's commits, which happen there).
 */
final class GarbageCollector {

    /** The finalizer that holds an owner deleted with {@code propagationPolicy: Foreground} until its dependents are gone. */
    static final String FOREGROUND_DELETION = "foregroundDeletion";
    /** The finalizer {@code propagationPolicy: Orphan} sets while dependents are released. */
    static final String ORPHAN = "orphan";

    private final Store store;
    private final Clock clock;
    private final Consumer<HasMetadata> released;
    private final Map<String, Set<Keys>> dependents = new HashMap<>();
    private final Map<Keys, List<String>> ownersOf = new HashMap<>();
    /** Objects other than pods marked for deletion and still stored (finalizers, foreground deletion). */
    private final Set<Keys> marked = new LinkedHashSet<>();

    /**
     * @param released told of every object removed for good (to free what it holds: a Service's allocations)
     */
    GarbageCollector(Store store, Clock clock, Consumer<HasMetadata> released) {
        this.store = store;
        this.clock = clock;
        this.released = released;
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
            }
        }
    }

    private void index(HasMetadata o) {
        if (isWaitingToGo(o)) {
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

    /**
     * An object marked for deletion whose removal is now up to its finalizers (or, for a namespace,
     * its contents): anything but a pod, and a pod its node has let go of (or never had).
     */
    private static boolean isWaitingToGo(HasMetadata o) {
        ObjectMeta m = o.getMetadata();
        if (m.getDeletionTimestamp() == null) {
            return false;
        }
        if (o instanceof Pod pod) {
            return Long.valueOf(0).equals(m.getDeletionGracePeriodSeconds()) || !isGraceful(pod, DeleteOptions.DEFAULT);
        }
        return true;
    }

    /** Objects marked for deletion that are still stored, waiting for their finalizers or contents. */
    List<Keys> marked() {
        return List.copyOf(marked);
    }

    /**
     * Whether {@code dependent} holds back the foreground deletion of its owner {@code ownerUid}:
     * only a reference with {@code blockOwnerDeletion: true} does, as in Kubernetes (the
     * controllers' references have it; a dependent without it is deleted in the background).
     */
    private static boolean blocks(HasMetadata dependent, String ownerUid) {
        List<io.fabric8.kubernetes.api.model.OwnerReference> refs = dependent.getMetadata().getOwnerReferences();
        return refs != null && refs.stream().anyMatch(r -> ownerUid.equals(r.getUid()) && Boolean.TRUE.equals(r.getBlockOwnerDeletion()));
    }

    /** The objects that name {@code ownerUid} as an owner, as last committed. */
    List<Keys> dependentsOf(String ownerUid) {
        Set<Keys> set = ownerUid == null ? null : dependents.get(ownerUid);
        return set == null ? List.of() : List.copyOf(set);
    }

    /**
     * A delete's precondition that no longer holds, worded as the API server words it:
     * {@code rest.BeforeDelete} for every kind (naming the kind), the namespaces' own storage for a
     * namespace.
     */
    private static ApiException preconditionFailed(ResourceKind kind, String name, String field, String given, String stored, String meanwhile) {
        return kind == ResourceKind.NAMESPACE
                ? ApiException.conflict(kind, name, "Precondition failed: " + field + " in precondition: " + given + ", " + field
                        + " in object meta: " + stored)
                : ApiException.conflictOnKind(kind, name, "the " + field + " in the precondition (" + given + ") does not match the "
                        + field + " in record (" + stored + "). The object might have been " + meanwhile);
    }

    /**
     * Deletes an object and, as Kubernetes' garbage collector would, what it owns (see
     * {@link DeleteOptions.Propagation}). Running pods terminate gracefully: they are marked with a
     * deletionTimestamp and removed by the node once their processes have stopped. An object
     * with finalizers is marked and stays until they are removed.
     *
     * @return the object as it was, or as it now is when its deletion is still under way
     */
    HasMetadata delete(ResourceKind kind, String namespace, String name, DeleteOptions options) {
        HasMetadata object = store.get(kind, kind.namespaced() ? namespace : null, name)
                .orElseThrow(() -> ApiException.notFound(kind, name));
        ObjectMeta meta = object.getMetadata();
        if (options.preconditionUid() != null && !options.preconditionUid().equals(meta.getUid())) {
            throw preconditionFailed(kind, name, "UID", options.preconditionUid(), meta.getUid(), "deleted and then recreated");
        }
        if (options.preconditionVersion() != null && !options.preconditionVersion().equals(meta.getResourceVersion())) {
            throw preconditionFailed(kind, name, "ResourceVersion", options.preconditionVersion(), meta.getResourceVersion(), "modified");
        }
        if (options.dryRun()) {
            return object;
        }
        Store.Batch batch = store.begin();
        deleteInto(batch, object, options);
        batch.commit();
        return batch.get(kind, meta.getNamespace(), name).orElse(object);
    }

    /** An object a deletion reaches, and how it goes. */
    private record Reached(Keys keys, DeleteOptions options) {
    }

    /**
     * Deletes {@code root} into {@code batch}, and what its deletion reaches (dependents, a
     * namespace's objects) after it: one at a time from a queue, as Kubernetes' garbage collector
     * works, not by recursion, which an owner chain some thousands deep ran off the control thread's
     * stack (the error escaped the pass and every pass after it).
     */
    private void deleteInto(Store.Batch batch, HasMetadata root, DeleteOptions rootOptions) {
        java.util.ArrayDeque<Reached> reached = new java.util.ArrayDeque<>();
        deleteOne(batch, root, rootOptions, reached);
        for (Reached r; (r = reached.pollFirst()) != null;) {
            Reached next = r;
            batch.get(next.keys().kind(), next.keys().namespace(), next.keys().name())
                    .filter(o -> o.getMetadata().getDeletionTimestamp() == null)
                    .ifPresent(o -> deleteOne(batch, o, next.options(), reached));
        }
    }

    private void deleteOne(Store.Batch batch, HasMetadata object, DeleteOptions options, java.util.ArrayDeque<Reached> reached) {
        ResourceKind kind = ResourceKind.of(object);
        ObjectMeta meta = object.getMetadata();
        if (object instanceof Namespace ns) {
            // as the namespace controller: Terminating until everything in it is gone (pods get their grace)
            for (ResourceKind k : ResourceKind.values()) {
                if (k.namespaced()) {
                    for (HasMetadata o : store.list(k, meta.getName())) {
                        if (o.getMetadata().getDeletionTimestamp() == null) {
                            reached.addLast(new Reached(Keys.of(o), DeleteOptions.DEFAULT));
                        }
                    }
                }
            }
            if (meta.getDeletionTimestamp() == null || !"Terminating".equals(ns.getStatus() == null ? null : ns.getStatus().getPhase())) {
                Namespace terminating = Json.copy(ns);
                if (terminating.getMetadata().getDeletionTimestamp() == null) {
                    terminating.getMetadata().setDeletionTimestamp(Times.format(clock.instant()));
                    terminating.getMetadata().setDeletionGracePeriodSeconds(0L);
                }
                terminating.setStatus(new io.fabric8.kubernetes.api.model.NamespaceStatusBuilder()
                        .withPhase("Terminating").build());
                batch.put(terminating);
            }
            return;
        }
        List<Keys> dependents = dependentsOf(meta.getUid());
        List<String> finalizers = new ArrayList<>(meta.getFinalizers() == null ? List.of() : meta.getFinalizers());
        // the orphan finalizer asks for the dependents to be orphaned, as the Orphan policy does (Portway cannot tell a
        // Background policy asked for from the default, which honours it); Portway orphans at once, so the finalizer
        // goes now (it stayed, and held the object Terminating for good); a Foreground policy replaces it, as
        // kube-apiserver's shouldUpdateFinalizers does (both together are invalid)
        boolean orphanFinalizer = finalizers.remove(ORPHAN);
        if (options.propagationPolicy() == DeleteOptions.Propagation.ORPHAN
                || (orphanFinalizer && options.propagationPolicy() == DeleteOptions.Propagation.BACKGROUND)) {
            for (Keys d : dependents) {
                batch.get(d.kind(), d.namespace(), d.name()).ifPresent(o -> batch.put(withoutOwner(o, meta.getUid())));
            }
            dependents = List.of();
        }
        boolean foreground = options.propagationPolicy() == DeleteOptions.Propagation.FOREGROUND
                && dependents.stream().anyMatch(d -> batch.get(d.kind(), d.namespace(), d.name()).isPresent());
        if (object instanceof Pod pod && isGraceful(pod, options)) {
            if (meta.getDeletionTimestamp() == null) {
                Pod terminating = Json.copy(pod);
                long grace = options.gracePeriodSeconds() != null ? options.gracePeriodSeconds()
                        : pod.getSpec().getTerminationGracePeriodSeconds() == null ? 30 : pod.getSpec().getTerminationGracePeriodSeconds();
                terminating.getMetadata().setDeletionTimestamp(Times.format(clock.instant().plusSeconds(grace)));
                terminating.getMetadata().setDeletionGracePeriodSeconds(grace);
                batch.put(terminating);
            }
        } else if (!finalizers.isEmpty() || foreground) {
            // Marked, not removed: whoever owns the finalizers (or the garbage collector) finishes the job.
            HasMetadata marked = Json.copy(batch.get(kind, meta.getNamespace(), meta.getName()).orElse(object));
            ObjectMeta m = marked.getMetadata();
            if (m.getDeletionTimestamp() == null) {
                m.setDeletionTimestamp(Times.format(clock.instant()));
                m.setDeletionGracePeriodSeconds(0L);
            }
            if (foreground && !finalizers.contains(FOREGROUND_DELETION)) {
                finalizers.add(FOREGROUND_DELETION);
            }
            m.setFinalizers(finalizers);
            batch.put(marked);
        } else {
            batch.remove(kind, meta.getNamespace(), meta.getName());
            released.accept(object);
        }
        // a foreground deletion goes down the tree in foreground, as Kubernetes' garbage collector deletes the
        // dependents of an owner that waits for them
        DeleteOptions forDependents = options.propagationPolicy() == DeleteOptions.Propagation.FOREGROUND
                ? new DeleteOptions(null, DeleteOptions.Propagation.FOREGROUND, null, null, false) : DeleteOptions.DEFAULT;
        for (Keys d : dependents) {
            reached.addLast(new Reached(d, forDependents));
        }
    }

    private static HasMetadata withoutOwner(HasMetadata dependent, String ownerUid) {
        HasMetadata copy = Json.copy(dependent);
        List<OwnerReference> refs = new ArrayList<>(copy.getMetadata().getOwnerReferences());
        refs.removeIf(r -> ownerUid.equals(r.getUid()));
        copy.getMetadata().setOwnerReferences(refs.isEmpty() ? null : refs);
        return copy;
    }

    /**
     * Removes objects whose deletion was waiting and is now done: marked with a deletionTimestamp,
     * no finalizers left (a foreground deletion's finalizer goes once no dependent is left).
     * Pods are left to their node. Runs on the control thread after each change.
     */
    void finishDeletions() {
        Store.Batch batch = store.begin();
        for (Keys k : marked()) {
            HasMetadata o = store.get(k.kind(), k.namespace(), k.name()).orElse(null);
            if (o == null || o.getMetadata().getDeletionTimestamp() == null) {
                continue;
            }
            ObjectMeta m = o.getMetadata();
            if (o instanceof Namespace) {
                // as the namespace controller, again and again: what appeared since (events...) goes too
                for (ResourceKind kind : ResourceKind.values()) {
                    if (kind.namespaced()) {
                        for (HasMetadata inside : store.list(kind, m.getName())) {
                            if (inside.getMetadata().getDeletionTimestamp() == null
                                    && batch.get(kind, m.getName(), inside.getMetadata().getName()).isPresent()) {
                                deleteInto(batch, inside, DeleteOptions.DEFAULT);
                            }
                        }
                    }
                }
                if (!isEmpty(m.getName(), batch)) {
                    continue;
                }
            }
            List<String> finalizers = new ArrayList<>(m.getFinalizers() == null ? List.of() : m.getFinalizers());
            boolean changed = false;
            if (finalizers.contains(FOREGROUND_DELETION) && dependentsOf(m.getUid()).stream()
                    .noneMatch(d -> batch.get(d.kind(), d.namespace(), d.name()).filter(o2 -> blocks(o2, m.getUid())).isPresent())) {
                finalizers.remove(FOREGROUND_DELETION);
                changed = true;
            }
            if (finalizers.isEmpty()) {
                batch.remove(k.kind(), k.namespace(), k.name());
                released.accept(o);
            } else if (changed) {
                HasMetadata copy = Json.copy(o);
                copy.getMetadata().setFinalizers(finalizers);
                batch.put(copy);
            }
        }
        batch.commit();
    }

    /** Whether nothing is left in namespace {@code ns} (as this batch would leave it). */
    private boolean isEmpty(String ns, Store.Batch batch) {
        for (ResourceKind k : ResourceKind.values()) {
            if (k.namespaced()) {
                for (HasMetadata o : store.list(k, ns)) {
                    if (batch.get(k, ns, o.getMetadata().getName()).isPresent()) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /**
     * The kubelet's final delete of a pod whose processes have stopped: it goes, unless finalizers
     * hold it; then it stays marked as released by its node until they are removed.
     */
    void podStopped(String namespace, String name) {
        store.get(ResourceKind.POD, namespace, name).ifPresent(pod -> {
            Store.Batch batch = store.begin();
            List<String> finalizers = pod.getMetadata().getFinalizers();
            if (finalizers == null || finalizers.isEmpty()) {
                batch.remove(ResourceKind.POD, namespace, name);
            } else if (!Long.valueOf(0).equals(pod.getMetadata().getDeletionGracePeriodSeconds())) {
                HasMetadata released = Json.copy(pod);
                if (released.getMetadata().getDeletionTimestamp() == null) {
                    released.getMetadata().setDeletionTimestamp(Times.format(clock.instant()));
                }
                released.getMetadata().setDeletionGracePeriodSeconds(0L);
                batch.put(released);
            }
            batch.commit();
        });
    }

    private static boolean isGraceful(Pod pod, DeleteOptions options) {
        if (options.gracePeriodSeconds() != null && options.gracePeriodSeconds() == 0) {
            return false;
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return pod.getSpec() != null && pod.getSpec().getNodeName() != null
                && !"Succeeded".equals(phase) && !"Failed".equals(phase);
    }

    /** A controller's delete of an object it owns: immediate, no grace. */
    void deleteNow(HasMetadata object) {
        Store.Batch batch = store.begin();
        deleteInto(batch, object, DeleteOptions.NOW);
        batch.commit();
    }
}
