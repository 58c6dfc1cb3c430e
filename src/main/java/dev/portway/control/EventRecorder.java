package dev.portway.control;

import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.Times;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Clock;
import java.util.List;
import java.util.Objects;

/**
 * Records {@code v1 Event}s about objects, as controllers do in Kubernetes; repeated events are
 * folded into one with a growing count. {@code describe} shows them.
 */
public final class EventRecorder {

    /** Events kept per namespace; the oldest go first. */
    private static final int MAX_EVENTS_PER_NAMESPACE = 1000;
    /** How long an Event lives after its last change: kube-apiserver's --event-ttl, 1 hour by default. */
    static final java.time.Duration TTL = java.time.Duration.ofHours(1);

    private final Store store;
    private final Clock clock;
    private long sequence;

    /**
     * When each Event was last written, by this server's clock (the Event's own timestamps are the
     * writer's, and a client may write any): the TTL counts from here, as etcd's lease does.
     */
    private final java.util.Map<String, java.time.Instant> written = new java.util.concurrent.ConcurrentHashMap<>();

    EventRecorder(Store store, Clock clock) {
        this.store = store;
        this.clock = clock;
        store.watch(batch -> {
            for (dev.portway.store.WatchEvent e : batch) {
                if (e.kind() == ResourceKind.EVENT) {
                    String uid = e.object().getMetadata().getUid();
                    if (uid == null) {
                        continue;
                    }
                    if (e.type() == dev.portway.store.WatchEvent.Type.DELETED) {
                        written.remove(uid);
                    } else {
                        written.put(uid, clock.instant());
                    }
                }
            }
        });
    }

    public void normal(HasMetadata object, String reason, String message, String component) {
        record(object, "Normal", reason, message, component);
    }

    public void warning(HasMetadata object, String reason, String message, String component) {
        record(object, "Warning", reason, message, component);
    }

    private void record(HasMetadata object, String type, String reason, String message, String component) {
        ResourceKind kind = ResourceKind.of(object);
        String namespace = kind.namespaced() ? object.getMetadata().getNamespace() : "default";
        String now = Times.format(clock.instant());
        List<Event> events = store.list(Event.class, namespace);
        for (Event e : events) {
            if (e.getInvolvedObject() != null && Objects.equals(e.getInvolvedObject().getUid(), object.getMetadata().getUid())
                    && Objects.equals(e.getReason(), reason) && Objects.equals(e.getMessage(), message)
                    && Objects.equals(e.getType(), type)) {
                Event updated = Json.copy(e);
                updated.setCount((e.getCount() == null ? 1 : e.getCount()) + 1);
                updated.setLastTimestamp(now);
                Store.Batch batch = store.begin();
                batch.put(updated);
                batch.commit();
                return;
            }
        }
        Event event = new EventBuilder()
                .withNewMetadata()
                .withName(object.getMetadata().getName() + "." + Long.toHexString(clock.millis() * 1000 + (sequence++ % 1000)))
                .withNamespace(namespace)
                .withUid(java.util.UUID.randomUUID().toString())
                .withCreationTimestamp(now)
                .endMetadata()
                .withNewInvolvedObject()
                .withApiVersion(kind.apiVersion())
                .withKind(kind.kind())
                .withNamespace(kind.namespaced() ? object.getMetadata().getNamespace() : null)
                .withName(object.getMetadata().getName())
                .withUid(object.getMetadata().getUid())
                .withResourceVersion(object.getMetadata().getResourceVersion())
                .endInvolvedObject()
                .withType(type)
                .withReason(reason)
                .withMessage(message)
                .withNewSource().withComponent(component).endSource()
                .withReportingComponent(component)
                .withFirstTimestamp(now)
                .withLastTimestamp(now)
                .withCount(1)
                .build();
        Store.Batch batch = store.begin();
        if (events.size() >= MAX_EVENTS_PER_NAMESPACE) {
            Event oldest = events.stream().min(java.util.Comparator.comparing(e -> e.getLastTimestamp() == null ? "" : e.getLastTimestamp()))
                    .orElseThrow();
            batch.remove(ResourceKind.EVENT, namespace, oldest.getMetadata().getName());
        }
        batch.put(event);
        batch.commit();
    }

    /**
     * Removes the Events that have not changed for {@link #TTL}, as etcd's lease removes them for
     * kube-apiserver: Events anyone may create (through the API too) do not pile up without end.
     * Returns how many went.
     */
    int expire() {
        java.time.Instant oldest = clock.instant().minus(TTL);
        Store.Batch batch = store.begin();
        int n = 0;
        for (Event e : store.list(Event.class)) {
            // an Event this server has not seen written (restored from the journal at start) counts from now
            java.time.Instant last = e.getMetadata().getUid() == null ? null
                    : written.computeIfAbsent(e.getMetadata().getUid(), k -> clock.instant());
            if (last != null && last.isBefore(oldest)) {
                batch.remove(ResourceKind.EVENT, e.getMetadata().getNamespace(), e.getMetadata().getName());
                n++;
            }
        }
        batch.commit();
        return n;
    }

    /** The events about one object, oldest first. */
    public static List<Event> about(Store store, HasMetadata object) {
        ResourceKind kind = ResourceKind.of(object);
        String namespace = kind.namespaced() ? object.getMetadata().getNamespace() : "default";
        return store.list(Event.class, namespace).stream()
                .filter(e -> e.getInvolvedObject() != null
                        && Objects.equals(e.getInvolvedObject().getUid(), object.getMetadata().getUid()))
                .sorted(java.util.Comparator.comparing((Event e) -> e.getFirstTimestamp() == null ? "" : e.getFirstTimestamp())
                        .thenComparing(e -> e.getMetadata().getName()))
                .toList();
    }
}
