package dev.portway.store;

import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * The desired and observed state: every object by kind, namespace and name, in key order as the
 * API server lists them.
 *
 * <p>One writer (the control thread) commits {@link Batch}es; any thread may read. A batch's
 * writes become visible together when it commits: readers never see half a batch, and
 * {@link #revision()} only moves once the batch's objects can be read. Stored objects are shared
 * and must be treated as immutable: copy before changing (see {@code Json.copy}).
 *
 * <p>Each committed batch is published to watchers as one list of events, in order, and kept in
 * a bounded history so a Kubernetes watch can resume from a recent resourceVersion
 * ({@link #watchFrom}).
 */
public final class Store {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Store.class);

    /** How many of the most recent events a watch can resume from (kube-apiserver's watch cache holds ~100 per kind by default). */
    public static final int DEFAULT_HISTORY = 10_000;

    private final Map<ResourceKind, ConcurrentSkipListMap<String, HasMetadata>> objects = new EnumMap<>(ResourceKind.class);
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final List<Consumer<List<WatchEvent>>> watchers = new CopyOnWriteArrayList<>();
    private final ArrayDeque<WatchEvent> history = new ArrayDeque<>();
    private final int historySize;
    /** The revision the writer stamps next; touched by the writer only. */
    private long nextRevision = 2;
    /** The last committed revision; written under the write lock. */
    private volatile long revision = 1;
    /** The oldest revision a watch may start from: events after it are all in {@link #history}. */
    private long oldestResumable = 1;

    public Store() {
        this(DEFAULT_HISTORY);
    }

    public Store(int historySize) {
        if (historySize < 1) {
            throw new IllegalArgumentException("historySize: " + historySize + " (expected: > 0)");
        }
        this.historySize = historySize;
        for (ResourceKind kind : ResourceKind.values()) {
            objects.put(kind, new ConcurrentSkipListMap<>());
        }
    }

    /** The last committed resourceVersion. */
    public long revision() {
        return revision;
    }

    public Optional<HasMetadata> get(ResourceKind kind, String namespace, String name) {
        return Optional.ofNullable(objects.get(kind).get(key(kind, namespace, name)));
    }

    @SuppressWarnings("unchecked")
    public <T extends HasMetadata> Optional<T> get(Class<T> type, String namespace, String name) {
        return (Optional<T>) get(kindOf(type), namespace, name);
    }

    /** All objects of a kind in a namespace ({@code null}: every namespace), sorted by namespace and name. */
    public List<HasMetadata> list(ResourceKind kind, String namespace) {
        return snapshot(kind, namespace).items();
    }

    /** A list and the revision it was read at, consistent with each other (a watch from that revision misses nothing). */
    public record Snapshot(long revision, List<HasMetadata> items) {
    }

    public Snapshot snapshot(ResourceKind kind, String namespace) {
        lock.readLock().lock();
        try {
            ConcurrentSkipListMap<String, HasMetadata> all = objects.get(kind);
            if (namespace == null || !kind.namespaced()) {
                return new Snapshot(revision, List.copyOf(all.values()));
            }
            ConcurrentNavigableMap<String, HasMetadata> sub = all.subMap(namespace + "/", namespace + "0");
            return new Snapshot(revision, List.copyOf(sub.values()));
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Every object of every kind, at one revision. */
    public Snapshot snapshotAll() {
        lock.readLock().lock();
        try {
            List<HasMetadata> items = new java.util.ArrayList<>();
            for (ConcurrentSkipListMap<String, HasMetadata> m : objects.values()) {
                items.addAll(m.values());
            }
            return new Snapshot(revision, List.copyOf(items));
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Puts back what a data directory held, as it was (resourceVersions untouched), before anyone
     * uses the store; later commits go on from {@code atRevision}.
     */
    public void restore(List<HasMetadata> restored, long atRevision) {
        lock.writeLock().lock();
        try {
            if (revision > 1 || objects.values().stream().anyMatch(m -> !m.isEmpty())) {
                throw new IllegalStateException("restore into a store already in use");
            }
            for (HasMetadata o : restored) {
                ResourceKind kind = ResourceKind.of(o);
                objects.get(kind).put(key(kind, o.getMetadata().getNamespace(), o.getMetadata().getName()), o);
            }
            revision = Math.max(revision, atRevision);
            nextRevision = Math.max(nextRevision, atRevision + 1);
            oldestResumable = Math.max(oldestResumable, atRevision);
        } finally {
            lock.writeLock().unlock();
        }
    }

    @SuppressWarnings("unchecked")
    public <T extends HasMetadata> List<T> list(Class<T> type, String namespace) {
        return (List<T>) list(kindOf(type), namespace);
    }

    public <T extends HasMetadata> List<T> list(Class<T> type) {
        return list(type, null);
    }

    /** Watchers receive each committed batch on the committing (control) thread; they must not block. */
    public void watch(Consumer<List<WatchEvent>> watcher) {
        watchers.add(watcher);
    }

    public void unwatch(Consumer<List<WatchEvent>> watcher) {
        watchers.remove(watcher);
    }

    /** How many watchers are registered (metrics, tests). */
    public int watcherCount() {
        return watchers.size();
    }

    /** The revision is older than the history a watch can resume from (HTTP 410 Gone). */
    public static final class TooOldException extends RuntimeException {
        private final long requested;
        private final long oldest;

        TooOldException(long requested, long oldest) {
            super("too old resource version: " + requested + " (" + oldest + ")");
            this.requested = requested;
            this.oldest = oldest;
        }

        public long requested() {
            return requested;
        }

        public long oldest() {
            return oldest;
        }
    }

    /**
     * Registers {@code watcher} for every batch committed after {@code fromRevision}: the events
     * already in the history after that revision are handed to {@code replay} first (on the calling
     * thread), then live batches to {@code watcher}. Nothing is missed or delivered twice.
     *
     * @throws TooOldException when events after {@code fromRevision} have left the history
     */
    public void watchFrom(long fromRevision, Consumer<List<WatchEvent>> replay, Consumer<List<WatchEvent>> watcher) {
        List<WatchEvent> missed = new ArrayList<>();
        // The write lock excludes commits: no batch lands between the replay and the registration.
        lock.writeLock().lock();
        try {
            if (fromRevision < oldestResumable) {
                throw new TooOldException(fromRevision, oldestResumable);
            }
            for (WatchEvent e : history) {
                if (e.revision() > fromRevision) {
                    missed.add(e);
                }
            }
            watchers.add(watcher);
        } finally {
            lock.writeLock().unlock();
        }
        if (!missed.isEmpty()) {
            replay.accept(missed);
        }
    }

    public Batch begin() {
        return new Batch();
    }

    /** Writes that become visible together on {@link #commit}. Reads through the batch see its own writes. */
    public final class Batch {
        /** Staged writes by kind and key, in order; a null value removes. */
        private final Map<ResourceKind, Map<String, HasMetadata>> staged = new EnumMap<>(ResourceKind.class);
        private final List<Staged> order = new ArrayList<>();

        private record Staged(ResourceKind kind, String key, HasMetadata object) {
        }

        private Batch() {
        }

        /** Stores {@code object} (created or replaced); its resourceVersion is stamped when the batch commits. */
        public HasMetadata put(HasMetadata object) {
            ResourceKind kind = ResourceKind.of(object);
            String key = key(kind, object.getMetadata().getNamespace(), object.getMetadata().getName());
            stage(kind, key, object);
            return object;
        }

        /** Removes an object; returns it as it was (staged or stored), or empty if there is none. */
        public Optional<HasMetadata> remove(ResourceKind kind, String namespace, String name) {
            Optional<HasMetadata> old = get(kind, namespace, name);
            if (old.isPresent()) {
                stage(kind, key(kind, namespace, name), null);
            }
            return old;
        }

        /** The object as this batch would leave it. */
        public Optional<HasMetadata> get(ResourceKind kind, String namespace, String name) {
            String key = key(kind, namespace, name);
            Map<String, HasMetadata> ofKind = staged.get(kind);
            if (ofKind != null && ofKind.containsKey(key)) {
                return Optional.ofNullable(ofKind.get(key));
            }
            return Optional.ofNullable(objects.get(kind).get(key));
        }

        private void stage(ResourceKind kind, String key, HasMetadata object) {
            staged.computeIfAbsent(kind, k -> new LinkedHashMap<>()).put(key, object);
            order.add(new Staged(kind, key, object));
        }

        /** Makes the batch visible at once and publishes it to watchers; returns its events. */
        public List<WatchEvent> commit() {
            if (order.isEmpty()) {
                return List.of();
            }
            List<WatchEvent> events = new ArrayList<>(order.size());
            lock.writeLock().lock();
            try {
                // revisions in commit order: a watch sees them rise, event by event
                for (Staged s : order) {
                    ConcurrentSkipListMap<String, HasMetadata> map = objects.get(s.kind);
                    if (s.object != null) {
                        long rv = nextRevision++;
                        s.object.getMetadata().setResourceVersion(Long.toString(rv));
                        HasMetadata old = map.put(s.key, s.object);
                        events.add(new WatchEvent(old == null ? WatchEvent.Type.ADDED : WatchEvent.Type.MODIFIED, s.kind, s.object, old, rv));
                    } else {
                        HasMetadata old = map.remove(s.key);
                        if (old != null) {
                            // A deletion has a revision of its own, which the DELETED event's object carries.
                            long rv = nextRevision++;
                            HasMetadata last = Json.copy(old);
                            last.getMetadata().setResourceVersion(Long.toString(rv));
                            events.add(new WatchEvent(WatchEvent.Type.DELETED, s.kind, last, old, rv));
                        }
                    }
                }
                for (WatchEvent e : events) {
                    history.addLast(e);
                    revision = Math.max(revision, e.revision());
                }
                while (history.size() > historySize) {
                    oldestResumable = Math.max(oldestResumable, history.removeFirst().revision());
                }
                // Inside the lock, so watchFrom's replay and live delivery never overlap.
                List<WatchEvent> committed = List.copyOf(events);
                for (Consumer<List<WatchEvent>> w : watchers) {
                    if (!committed.isEmpty()) {
                        try {
                            w.accept(committed);
                        } catch (RuntimeException e) {
                            // one broken watcher must not stop the batch reaching the others
                            log.error("a store watcher failed", e);
                        }
                    }
                }
                return committed;
            } finally {
                order.clear();
                staged.clear();
                lock.writeLock().unlock();
            }
        }
    }

    private static String key(ResourceKind kind, String namespace, String name) {
        return kind.namespaced() ? namespace + "/" + name : name;
    }

    private static ResourceKind kindOf(Class<? extends HasMetadata> type) {
        for (ResourceKind k : ResourceKind.values()) {
            if (k.type() == type) {
                return k;
            }
        }
        throw new IllegalArgumentException("not a stored kind: " + type.getName());
    }
}
