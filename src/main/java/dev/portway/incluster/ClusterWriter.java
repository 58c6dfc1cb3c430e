package dev.portway.incluster;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.store.Store;
import dev.portway.store.WatchEvent;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what the LoadBalancer controller decided in the local store back to the cluster: each
 * Service's {@code status.loadBalancer} (through its {@code status} subresource, as MetalLB and
 * cloud controllers write it), the {@code metallb.io/ip-allocated-from-pool} annotation, and the
 * Events it records about Services ({@code IPAllocated}, {@code AllocationFailed}...), which
 * {@code kubectl describe service} shows.
 *
 * <p>A Service is written only where the local one differs from the cluster's as its informer last
 * saw it, on a thread of its own (the control thread never waits for the cluster). Writes for one
 * Service or Event are coalesced: only its latest state is sent. While writes fail, they are tried
 * again after a second, then after twice as long each time up to 30 s, one try at a time (what
 * changes meanwhile waits for it); a write for a Service gone from the cluster, or one the cluster
 * refuses as invalid, is dropped, and so is an Event the cluster forbids this controller to write
 * (told once). A Service that stops being a LoadBalancer, while the controller runs or before it
 * starts, has the pool annotation Portway gave it taken off, and any address left with it (the API
 * server clears {@code status.loadBalancer} itself on such a change).
 */
final class ClusterWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterWriter.class);
    static final String POOL_ANNOTATION = "metallb.io/ip-allocated-from-pool";
    private static final Duration RETRY = Duration.ofSeconds(1);
    private static final Duration MAX_RETRY = Duration.ofSeconds(30);

    /** What the cluster's Service should say. */
    record Wanted(String namespace, String name, List<LoadBalancerIngress> ingress, String pool) {
    }

    private final KubernetesClient client;
    private final ClusterMirror mirror;
    private final Store store;
    private final Map<String, Wanted> pending = new ConcurrentHashMap<>();
    /** Events to write, by {@code namespace/name}: their latest state. */
    private final Map<String, Event> pendingEvents = new ConcurrentHashMap<>();
    private final AtomicBoolean eventsForbiddenTold = new AtomicBoolean();
    /** Closing: a write cut short by it is not a failure to tell. */
    private volatile boolean closed;
    private final AtomicBoolean flushQueued = new AtomicBoolean();
    private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "portway-status-writer");
        t.setDaemon(true);
        return t;
    });

    private final java.util.function.Consumer<List<WatchEvent>> watcher = this::changed;

    /** Whether a pool name is one addresses come from: the pool annotation names one of them on a Service Portway served. */
    private final java.util.function.Predicate<String> pools;
    /** How long the next retry waits (writer thread): a second, doubling up to {@link #MAX_RETRY} while writes keep failing. */
    private long retryMillis;
    /**
     * Services whose last write the cluster refused, and when each may be tried again (writer
     * thread): each waits on its own, a second doubling up to {@link #MAX_RETRY}. One that a
     * webhook keeps refusing held every other Service's status back for as long, once with one
     * retry for all.
     */
    private final Map<String, Long> notBefore = new java.util.HashMap<>();
    private final Map<String, Long> keyDelays = new java.util.HashMap<>();
    /** When the flush for {@link #notBefore} is scheduled (nanoTime), or 0. */
    private long keyRetryAt;

    ClusterWriter(KubernetesClient client, ClusterMirror mirror, Store store, java.util.function.Predicate<String> pools) {
        this.client = client;
        this.mirror = mirror;
        this.store = store;
        this.pools = Objects.requireNonNull(pools, "pools");
        store.watch(watcher);
    }

    private void changed(List<WatchEvent> batch) {
        for (WatchEvent e : batch) {
            if (e.kind() == ResourceKind.SERVICE && e.type() != WatchEvent.Type.DELETED) {
                consider((Service) e.object());
            } else if (e.kind() == ResourceKind.SERVICE) {
                left((Service) e.object());
            } else if (e.kind() == ResourceKind.EVENT && e.type() != WatchEvent.Type.DELETED
                    && e.object() instanceof Event event && event.getInvolvedObject() != null
                    && "Service".equals(event.getInvolvedObject().getKind())) {
                pendingEvents.put(event.getMetadata().getNamespace() + "/" + event.getMetadata().getName(), event);
                queueFlush(Duration.ZERO);
            }
        }
    }

    private void consider(Service local) {
        Wanted wanted = wanted(local);
        Service remote = mirror.clusterService(wanted.namespace(), wanted.name());
        String key = wanted.namespace() + "/" + wanted.name();
        if (remote == null || !mirror.isOurs(remote)) {
            pending.remove(key);
            return;
        }
        if (agrees(remote, wanted)) {
            pending.remove(key);
            return;
        }
        pending.put(key, wanted);
        queueFlush(Duration.ZERO);
    }

    /**
     * A Service gone from the store: if the cluster still has it, no longer a LoadBalancer, with the
     * address Portway gave it (its pool annotation names one of Portway's pools), the address and the
     * annotation go, as MetalLB and cloud controllers clear a Service that stopped wanting one. (A
     * Service that moved to another class is the other implementation's to write.)
     */
    private void left(Service local) {
        String namespace = local.getMetadata().getNamespace();
        String name = local.getMetadata().getName();
        pending.remove(namespace + "/" + name); // a write still waiting for it is no longer Portway's to make
        clearIfLeft(mirror.clusterService(namespace, name));
    }

    /**
     * At start: Services that stopped being LoadBalancers while no controller ran, with an address
     * Portway gave them, have it taken off too.
     */
    void clearLeftovers(List<Service> clusterServices) {
        clusterServices.forEach(this::clearIfLeft);
    }

    /** Whether {@code remote} stopped being a LoadBalancer and still has an address of Portway's pools. */
    private boolean leftWithOurAddress(Service remote) {
        String pool = remote == null ? null : poolOf(remote);
        return pool != null && pools.test(pool) && remote.getSpec() != null && !"LoadBalancer".equals(remote.getSpec().getType());
    }

    /** Takes Portway's address and pool annotation off {@code remote} if it stopped being a LoadBalancer with them. */
    void clearIfLeft(Service remote) {
        if (leftWithOurAddress(remote)) {
            String namespace = remote.getMetadata().getNamespace();
            String name = remote.getMetadata().getName();
            pending.put(namespace + "/" + name, new Wanted(namespace, name, List.of(), null));
            queueFlush(Duration.ZERO);
        }
    }

    /** Queues a flush, unless one is queued already (at once, or a retry: what changed meanwhile waits for it). */
    private void queueFlush(Duration delay) {
        if (flushQueued.compareAndSet(false, true)) {
            schedule(delay);
        }
    }

    private void schedule(Duration delay) {
        try {
            writer.schedule(this::flush, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private void flush() {
        flushQueued.set(false);
        boolean retry = false;
        long now = System.nanoTime();
        if (keyRetryAt != 0 && now - keyRetryAt >= 0) {
            keyRetryAt = 0;
        }
        for (String key : List.copyOf(pending.keySet())) {
            Wanted wanted = pending.get(key);
            Long waitUntil = notBefore.get(key);
            if (wanted == null || (waitUntil != null && waitUntil - now > 0)) {
                continue;
            }
            try {
                write(wanted);
                done(key, wanted);
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                int code = e instanceof KubernetesClientException k ? k.getCode() : 0;
                if (code == 404 || code == 422) {
                    // gone, or a write the cluster will never take: trying again would change nothing
                    done(key, wanted);
                    if (code == 422) {
                        log.warn("the cluster refuses the LoadBalancer status of {}: {}", key, e.getMessage());
                    }
                    continue;
                }
                if (code == 0) {
                    // no answer (the API server is down or unreachable): every write waits for one retry
                    log.warn("cannot write the LoadBalancer status of {} (again in {} s): {}", key, nextRetry().toSeconds(), e.getMessage());
                    retry = true;
                } else {
                    // refused (a webhook, a quota, RBAC): this Service waits, the others are written meanwhile
                    long delay = Math.min(keyDelays.getOrDefault(key, RETRY.toMillis() / 2) * 2, MAX_RETRY.toMillis());
                    keyDelays.put(key, delay);
                    notBefore.put(key, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay));
                    log.warn("cannot write the LoadBalancer status of {} (again in {} s): {}", key, delay / 1000, e.getMessage());
                }
            }
        }
        for (String key : List.copyOf(pendingEvents.keySet())) {
            Event event = pendingEvents.get(key);
            if (event == null) {
                continue;
            }
            try {
                write(event);
                pendingEvents.remove(key, event);
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                int code = e instanceof KubernetesClientException k ? k.getCode() : 0;
                if (code == 403 || code == 404 || code == 422) {
                    // not this controller's to write (RBAC), or its namespace is going: an Event is not worth a retry loop
                    pendingEvents.remove(key, event);
                    // (a namespace being terminated refuses with 403 too: that is no RBAC refusal, and must not use up the one warning)
                    boolean rbac = code == 403 && !String.valueOf(e.getMessage()).contains("because it is being terminated");
                    if (!rbac || eventsForbiddenTold.compareAndSet(false, true)) {
                        log.warn("cannot record the event {} in the cluster: {}", key, e.getMessage());
                    }
                    continue;
                }
                log.warn("cannot record the event {} in the cluster (again in {} s): {}", key, nextRetry().toSeconds(), e.getMessage());
                retry = true;
            }
        }
        if (retry) {
            // one retry at a time: changes made meanwhile wait for it, rather than each starting a chain of its own
            retryMillis = nextRetry().toMillis();
            queueFlush(Duration.ofMillis(retryMillis));
        } else {
            retryMillis = 0;
        }
        scheduleKeyRetry();
    }

    /** Schedules a flush for the earliest Service whose refused write waits, unless one comes sooner already (writer thread). */
    private void scheduleKeyRetry() {
        notBefore.keySet().retainAll(pending.keySet());
        keyDelays.keySet().retainAll(pending.keySet());
        long earliest = 0;
        for (long at : notBefore.values()) {
            earliest = earliest == 0 || at - earliest < 0 ? at : earliest;
        }
        if (earliest != 0 && (keyRetryAt == 0 || earliest - keyRetryAt < 0)) {
            keyRetryAt = earliest;
            try {
                writer.schedule(this::flush, Math.max(0, earliest - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    /**
     * Forgets {@code wanted} once written, unless another was queued meanwhile, even an equal one:
     * the cluster may have changed the status while this write was out (another writer cleared it),
     * and the equal write queued for that is the one that puts it back.
     */
    private void done(String key, Wanted wanted) {
        pending.computeIfPresent(key, (k, queued) -> queued == wanted ? null : queued);
        notBefore.remove(key);
        keyDelays.remove(key);
    }

    /** The wait before the next retry, if this flush fails. */
    private Duration nextRetry() {
        return retryMillis == 0 ? RETRY : Duration.ofMillis(Math.min(retryMillis * 2, MAX_RETRY.toMillis()));
    }

    /** Creates the Event in the cluster or, when it is there already (recorded again), brings its count and times up to date. */
    private void write(Event local) {
        Event remote = new EventBuilder(local).editMetadata().withResourceVersion(null).withUid(null).withCreationTimestamp(null)
                .withManagedFields(List.of()).endMetadata().editInvolvedObject().withResourceVersion(null).endInvolvedObject().build();
        var events = client.v1().events().inNamespace(remote.getMetadata().getNamespace());
        try {
            events.resource(remote).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            ObjectNode patch = JsonNodeFactory.instance.objectNode();
            patch.put("count", remote.getCount() == null ? 1 : remote.getCount());
            patch.put("lastTimestamp", remote.getLastTimestamp());
            patch.put("message", remote.getMessage());
            events.withName(remote.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
        }
    }

    private void write(Wanted wanted) {
        Service remote = mirror.clusterService(wanted.namespace(), wanted.name());
        // judged again as it is now: a write that waited (a retry) may be for a Service that has since
        // gone to another implementation's class, whose status and annotations are not Portway's to write
        boolean clearing = wanted.ingress().isEmpty() && wanted.pool() == null && leftWithOurAddress(remote);
        if (remote == null || !(mirror.isOurs(remote) || clearing)) {
            return;
        }
        var resource = client.services().inNamespace(wanted.namespace()).withName(wanted.name());
        // each patch names the uid of the Service judged: one deleted and made again meanwhile (another implementation's,
        // perhaps) refuses it (422: the uid is immutable), where a blind patch gave it Portway's address; dropped, the
        // write is judged again when the informer brings the new Service
        String uid = remote.getMetadata().getUid();
        if (!sameIngress(ingressOf(remote), wanted.ingress())) {
            ObjectNode patch = JsonNodeFactory.instance.objectNode();
            patch.putObject("metadata").put("uid", uid);
            ObjectNode lb = patch.putObject("status").putObject("loadBalancer");
            if (wanted.ingress().isEmpty()) {
                lb.putNull("ingress");
            } else {
                lb.set("ingress", Json.tree(wanted.ingress()));
            }
            resource.subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
            log.info("{}/{}: status.loadBalancer.ingress {}", wanted.namespace(), wanted.name(),
                    wanted.ingress().stream().map(LoadBalancerIngress::getIp).toList());
        }
        if (!Objects.equals(poolOf(remote), wanted.pool())) {
            ObjectNode patch = JsonNodeFactory.instance.objectNode();
            ObjectNode metadata = patch.putObject("metadata").put("uid", uid);
            ObjectNode annotations = metadata.putObject("annotations");
            if (wanted.pool() == null) {
                annotations.putNull(POOL_ANNOTATION);
            } else {
                annotations.put(POOL_ANNOTATION, wanted.pool());
            }
            resource.patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
        }
    }

    private static Wanted wanted(Service local) {
        return new Wanted(local.getMetadata().getNamespace(), local.getMetadata().getName(), ingressOf(local), poolOf(local));
    }

    private static boolean agrees(Service remote, Wanted wanted) {
        return sameIngress(ingressOf(remote), wanted.ingress()) && Objects.equals(poolOf(remote), wanted.pool());
    }

    /** The same addresses, compared by what Portway writes (an empty list and none of ports are the same). */
    private static boolean sameIngress(List<LoadBalancerIngress> a, List<LoadBalancerIngress> b) {
        return a.stream().map(ClusterWriter::written).toList().equals(b.stream().map(ClusterWriter::written).toList());
    }

    private static String written(LoadBalancerIngress in) {
        return in.getIp() + " " + in.getHostname() + " " + in.getIpMode();
    }

    private static List<LoadBalancerIngress> ingressOf(Service svc) {
        if (svc.getStatus() == null || svc.getStatus().getLoadBalancer() == null || svc.getStatus().getLoadBalancer().getIngress() == null) {
            return List.of();
        }
        return List.copyOf(svc.getStatus().getLoadBalancer().getIngress());
    }

    private static String poolOf(Service svc) {
        Map<String, String> annotations = svc.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(POOL_ANNOTATION);
    }

    @Override
    public void close() {
        closed = true;
        store.unwatch(watcher);
        writer.shutdownNow();
    }
}
