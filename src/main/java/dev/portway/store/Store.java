package dev.portway.store;

import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The desired and observed state: every object by kind, namespace and name, in key order as the
 * API server lists them.
 *
 * <p>One writer (the control thread) commits {@link Batch}es; any thread may read. Stored objects
 * are shared and must be treated as immutable: copy before changing (see {@code Json.copy}).
 * Each committed batch is published to watchers as one list of events, in order.
 */
public final class Store {

    private final Map<ResourceKind, ConcurrentSkipListMap<String, HasMetadata>> objects = new EnumMap<>(ResourceKind.class);
    private final AtomicLong revision = new AtomicLong(1);
    private final List<Consumer<List<WatchEvent>>> watchers = new CopyOnWriteArrayList<>();

    public Store() {
        for (ResourceKind kind : ResourceKind.values()) {
            objects.put(kind, new ConcurrentSkipListMap<>());
        }
    }

    /** The last committed resourceVersion. */
    public long revision() {
        return revision.get();
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
        ConcurrentSkipListMap<String, HasMetadata> all = objects.get(kind);
        if (namespace == null || !kind.namespaced()) {
            return List.copyOf(all.values());
        }
        ConcurrentNavigableMap<String, HasMetadata> sub = all.subMap(namespace + "/", namespace + "0");
        return List.copyOf(sub.values());
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

    public Batch begin() {
        return new Batch();
    }

    /** Writes that become visible together on {@link #commit}. */
    public final class Batch {
        private final List<WatchEvent> events = new ArrayList<>();

        private Batch() {
        }

        /** Stores {@code object} (created or replaced), stamping its resourceVersion. */
        public HasMetadata put(HasMetadata object) {
            ResourceKind kind = ResourceKind.of(object);
            String key = key(kind, object.getMetadata().getNamespace(), object.getMetadata().getName());
            object.getMetadata().setResourceVersion(Long.toString(revision.incrementAndGet()));
            HasMetadata old = objects.get(kind).put(key, object);
            events.add(new WatchEvent(old == null ? WatchEvent.Type.ADDED : WatchEvent.Type.MODIFIED, kind, object, old));
            return object;
        }

        public Optional<HasMetadata> remove(ResourceKind kind, String namespace, String name) {
            HasMetadata old = objects.get(kind).remove(key(kind, namespace, name));
            if (old != null) {
                revision.incrementAndGet();
                events.add(new WatchEvent(WatchEvent.Type.DELETED, kind, old, old));
            }
            return Optional.ofNullable(old);
        }

        /** Publishes the batch to watchers; returns its events. */
        public List<WatchEvent> commit() {
            List<WatchEvent> committed = List.copyOf(events);
            events.clear();
            if (!committed.isEmpty()) {
                for (Consumer<List<WatchEvent>> w : watchers) {
                    w.accept(committed);
                }
            }
            return committed;
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
