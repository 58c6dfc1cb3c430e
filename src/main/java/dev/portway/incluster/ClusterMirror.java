package dev.portway.incluster;

import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.validation.MetalLbValidation;
import dev.portway.control.ControlPlane;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's Services of this implementation's class, its Nodes, EndpointSlices and Namespaces
 * (their labels are what the pools' namespace selectors match), and, when no pools were given, its
 * IPAddressPools in metallb-system, kept in the local store from informers (a list, then a watch,
 * as client-go's informers).
 *
 * <p>What an informer delivers is taken as the name of an object that changed: the object put in
 * the store is always the informer's latest (its cache), or its removal. So the store follows the
 * cluster whatever order the notifications arrive in (fabric8 hands them to each handler
 * asynchronously), and a late notification never brings an old version back.
 *
 * <p>The first lists go into the store in one batch, from the informers' caches once all have
 * synced: the LoadBalancer controller's first pass then sees every address Services already hold
 * before it hands out new ones, as MetalLB waits for its caches. After that, what changed is
 * applied on the control thread, in batches of what arrived meanwhile.
 *
 * <p>The cluster's objects go into the store as copies (the store stamps resourceVersions of its
 * own; the informers' caches keep the cluster's, which {@link ClusterWriter} compares against),
 * without what would start a deletion here: deletion timestamps, finalizers and owner references
 * are the cluster's business. An object leaves the store when it leaves the cluster; a terminating
 * namespace must not take the pools kept in the namespace of the same name with it.
 */
final class ClusterMirror implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterMirror.class);

    /** An object that changed, by kind and informer key ({@code namespace/name}, or {@code name}). */
    private record Changed(ResourceKind kind, String key) {
    }

    private final KubernetesClient client;
    private final ControlPlane control;
    private final String loadBalancerClass;
    /** Whether the IPAddressPools come from the cluster (metallb-system), rather than from files. */
    private final boolean clusterPools;
    /** The cluster's resourceVersion of each pool refused (not valid), so that each version is told once (control thread). */
    private final Map<String, String> refusedPools = new HashMap<>();
    /** The ranges of the cluster's pools refused with no valid version seen (see {@link #drainPools}), by name. */
    private final Map<String, List<dev.portway.net.AddressRange>> unknownRanges = new java.util.HashMap<>();
    private final java.util.Set<String> warnedUnknown = new java.util.HashSet<>();
    /** The first drain after the start is over: the pools the cluster had then were judged. */
    private boolean poolsJudged;
    /** What changed since the last drain: a set, so that a key that keeps changing while the control thread is busy is there once. */
    private final java.util.Set<Changed> arrived = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final AtomicBoolean drainQueued = new AtomicBoolean();
    private final Map<ResourceKind, SharedIndexInformer<? extends HasMetadata>> informers = new EnumMap<>(ResourceKind.class);
    /** The cluster's resourceVersion of each object mirrored, by kind and key (control thread). */
    private final Map<Changed, String> mirroredVersions = new HashMap<>();
    private volatile boolean synced;

    /** Told of each change to a cluster Service that is not Portway's (one that stopped being a LoadBalancer among them). */
    private volatile java.util.function.Consumer<Service> othersChanged = s -> { };

    /** Whom to tell of changes to the cluster's Services that are not Portway's (the writer: a late write may have left its address on one). */
    void onOthersChanged(java.util.function.Consumer<Service> listener) {
        othersChanged = listener;
    }

    ClusterMirror(KubernetesClient client, ControlPlane control, String loadBalancerClass, boolean clusterPools) {
        this.client = client;
        this.control = control;
        this.loadBalancerClass = Objects.requireNonNull(loadBalancerClass, "loadBalancerClass");
        this.clusterPools = clusterPools;
    }

    /** Lists and starts watching; returns once every first list is in the store. */
    void start(Duration timeout) throws TimeoutException, InterruptedException {
        informers.put(ResourceKind.SERVICE, client.services().inAnyNamespace().runnableInformer(0));
        informers.put(ResourceKind.NODE, client.nodes().runnableInformer(0));
        informers.put(ResourceKind.ENDPOINT_SLICE, client.discovery().v1().endpointSlices().inAnyNamespace().runnableInformer(0));
        informers.put(ResourceKind.NAMESPACE, client.namespaces().runnableInformer(0));
        if (clusterPools) {
            // where MetalLB reads them from; the API server's own validation (a webhook for MetalLB) is repeated below
            informers.put(ResourceKind.IP_ADDRESS_POOL,
                    client.resources(IPAddressPool.class).inNamespace(MetalLbValidation.NAMESPACE).runnableInformer(0));
        }
        Map<ResourceKind, CompletableFuture<Void>> started = new EnumMap<>(ResourceKind.class);
        informers.forEach((kind, informer) -> {
            informer.addEventHandler(handler(kind));
            started.put(kind, informer.start().toCompletableFuture());
        });
        try {
            CompletableFuture.allOf(started.values().toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            CompletableFuture<Void> pools = started.get(ResourceKind.IP_ADDRESS_POOL);
            if (pools != null && pools.isCompletedExceptionally() && e.getCause() instanceof KubernetesClientException k && k.getCode() == 404) {
                throw new IllegalStateException("the cluster has no IPAddressPool resource (metallb.io/v1beta1): install MetalLB's "
                        + "CustomResourceDefinitions, or give the pools with -f", e.getCause());
            }
            throw new IllegalStateException("cannot list the cluster's objects: " + e.getCause().getMessage(), e.getCause());
        }
        control.call(() -> {
            informers.forEach((kind, informer) -> informer.getStore().listKeys().forEach(key -> arrived.add(new Changed(kind, key))));
            synced = true;
            drain();
            return null;
        });
        log.info("mirrored the cluster: {} Services of class {} (or none), {} Nodes, {} EndpointSlices{}",
                control.store().list(Service.class).size(), loadBalancerClass, control.store().list(Node.class).size(),
                control.store().list(EndpointSlice.class).size(),
                clusterPools ? ", " + control.store().list(IPAddressPool.class).size() + " IPAddressPools in " + MetalLbValidation.NAMESPACE : "");
    }

    /** The Service as the cluster last told it (the informer's cache), or null. */
    Service clusterService(String namespace, String name) {
        SharedIndexInformer<? extends HasMetadata> services = informers.get(ResourceKind.SERVICE);
        return services == null ? null : (Service) services.getStore().getByKey(Cache.namespaceKeyFunc(namespace, name));
    }

    /** Whether the cluster holds an IPAddressPool of this name that this controller takes its addresses from. */
    boolean isClusterPool(String name) {
        SharedIndexInformer<? extends HasMetadata> pools = informers.get(ResourceKind.IP_ADDRESS_POOL);
        return pools != null && pools.getStore().getByKey(Cache.namespaceKeyFunc(MetalLbValidation.NAMESPACE, name)) != null;
    }

    /** The cluster's Services as the informer last told them. */
    List<Service> clusterServices() {
        SharedIndexInformer<? extends HasMetadata> services = informers.get(ResourceKind.SERVICE);
        return services == null ? List.of() : services.getStore().list().stream().map(Service.class::cast).toList();
    }

    /** Whether every informer is watching the cluster now (not listing again, nor cut off from it). */
    boolean isWatching() {
        return synced && informers.values().stream().allMatch(SharedIndexInformer::isWatching);
    }

    /** Whether this implementation handles the Service: a LoadBalancer of its class, or of none. */
    boolean isOurs(Service svc) {
        if (svc.getSpec() == null || !"LoadBalancer".equals(svc.getSpec().getType())) {
            return false;
        }
        String cls = svc.getSpec().getLoadBalancerClass();
        return dev.portway.control.ClusterConfig.handles(loadBalancerClass, cls);
    }

    private ResourceEventHandler<HasMetadata> handler(ResourceKind kind) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(HasMetadata obj) {
                deliver(kind, obj);
            }

            @Override
            public void onUpdate(HasMetadata oldObj, HasMetadata newObj) {
                deliver(kind, newObj);
            }

            @Override
            public void onDelete(HasMetadata obj, boolean deletedFinalStateUnknown) {
                deliver(kind, obj);
            }
        };
    }

    private void deliver(ResourceKind kind, HasMetadata object) {
        arrived.add(new Changed(kind, Cache.metaNamespaceKeyFunc(object)));
        if (synced && drainQueued.compareAndSet(false, true)) {
            control.submit(() -> {
                drain();
                return null;
            }).whenComplete((ok, failed) -> {
                if (failed != null) {
                    log.error("mirroring the cluster's changes failed", failed);
                }
            });
        }
    }

    /** Brings what changed in line with the informers' caches, in one batch (control thread). */
    private void drain() {
        drainQueued.set(false);
        Store.Batch batch = control.store().begin();
        boolean pools = false;
        for (java.util.Iterator<Changed> it = arrived.iterator(); it.hasNext();) {
            Changed c = it.next();
            it.remove(); // taken before it is read: a change after this adds it again, for the next drain
            if (c.kind() == ResourceKind.IP_ADDRESS_POOL) {
                pools = true; // judged together below: one pool's change may make another valid or not
                continue;
            }
            HasMetadata latest = informers.get(c.kind()).getStore().getByKey(c.key());
            boolean keep = latest != null && (c.kind() != ResourceKind.SERVICE || isOurs((Service) latest));
            if (keep) {
                mirror(batch, c, latest);
            } else {
                if (mirroredVersions.remove(c) != null) {
                    int slash = c.key().indexOf('/');
                    batch.remove(c.kind(), slash < 0 ? null : c.key().substring(0, slash), c.key().substring(slash + 1));
                }
                if (latest instanceof Service other) {
                    othersChanged.accept(other);
                }
            }
        }
        if (pools) {
            drainPools(batch);
        }
        // the first drain holds every pool the cluster had at the start (none, maybe): a pool that comes later
        // and is not valid held none of the addresses Services have, whichever drain first sees pools at all
        poolsJudged = true;
        batch.commit();
    }

    /**
     * The IPv4 ranges of {@code pool}'s entries (an IPv6 one is no address Portway hands out); every
     * address, if an entry is no range at all (which addresses it meant is not known).
     */
    private static List<dev.portway.net.AddressRange> ranges(IPAddressPool pool) {
        List<dev.portway.net.AddressRange> out = new ArrayList<>();
        if (pool.getSpec() != null && pool.getSpec().getAddresses() != null) {
            for (String entry : pool.getSpec().getAddresses()) {
                if (entry == null || entry.contains(":")) {
                    continue;
                }
                try {
                    out.add(dev.portway.net.AddressRange.parse(entry));
                } catch (RuntimeException malformed) {
                    return List.of(new dev.portway.net.AddressRange(0, 0xFFFF_FFFFL));
                }
            }
        }
        return out;
    }

    private void mirror(Store.Batch batch, Changed c, HasMetadata latest) {
        String version = latest.getMetadata().getResourceVersion();
        if (version == null || !version.equals(mirroredVersions.get(c))) {
            mirroredVersions.put(c, version);
            batch.put(mirrored(latest));
        }
    }

    /**
     * The cluster's pools, judged together, the oldest first, as MetalLB's webhook refuses the later
     * of two overlapping pools: a valid one is mirrored; one that is not keeps its last valid
     * version mirrored, if it had one, as MetalLB keeps its last good configuration; one gone from
     * the cluster goes.
     */
    private void drainPools(Store.Batch batch) {
        List<IPAddressPool> current = informers.get(ResourceKind.IP_ADDRESS_POOL).getStore().list().stream()
                .map(IPAddressPool.class::cast)
                .sorted(java.util.Comparator.comparing((IPAddressPool p) -> Objects.toString(p.getMetadata().getCreationTimestamp(), ""))
                        .thenComparing(p -> p.getMetadata().getName()))
                .toList();
        java.util.Set<String> names = new java.util.HashSet<>();
        // what stands: the pools unchanged since they were mirrored, and the last valid version of each changed
        // one; each changed pool is then judged against all of these (an older pool edited into a newer one's
        // range is the one refused, not the newer that did not change, which left both overlapping in use)
        Map<String, IPAddressPool> standing = new java.util.LinkedHashMap<>();
        List<IPAddressPool> changed = new ArrayList<>();
        for (IPAddressPool pool : current) {
            String name = pool.getMetadata().getName();
            names.add(name);
            Changed c = new Changed(ResourceKind.IP_ADDRESS_POOL, Cache.metaNamespaceKeyFunc(pool));
            String version = pool.getMetadata().getResourceVersion();
            if (version != null && version.equals(mirroredVersions.get(c))) {
                standing.put(name, pool);
            } else {
                changed.add(pool);
                control.store().get(IPAddressPool.class, MetalLbValidation.NAMESPACE, name).ifPresent(p -> standing.put(name, p));
            }
        }
        // a pool's last valid version lives in memory only: at start, a pool that is not valid has none, and the
        // Services holding its addresses would be cleared or moved. Until it is valid (or gone), an address in its
        // IPv4 ranges (any, if an entry is malformed) and in no known pool stays where it is, as MetalLB waits for a
        // valid configuration; the other pools serve, and an address in no pool at all (a deleted one's) is released.
        // (A refused pool that was valid once keeps its last valid version: it is known.)
        List<dev.portway.net.AddressRange> unknown = new ArrayList<>();
        if (!changed.isEmpty() && wholeValid(current)) {
            // the pools as they are now stand together (two pools that swapped ranges, edited one at a time): each
            // judged against the others' last valid versions alone, both were refused until some other pool changed
            standing.clear();
            current.forEach(p -> standing.put(p.getMetadata().getName(), p));
        }
        for (IPAddressPool pool : changed) {
            String name = pool.getMetadata().getName();
            List<IPAddressPool> others = standing.entrySet().stream().filter(e -> !e.getKey().equals(name)).map(Map.Entry::getValue).toList();
            if (valid(pool, others)) {
                mirror(batch, new Changed(ResourceKind.IP_ADDRESS_POOL, Cache.metaNamespaceKeyFunc(pool)), pool);
                standing.put(name, pool);
            } else if (!standing.containsKey(name) && (!poolsJudged || unknownRanges.containsKey(name))) {
                // one refused at the start (a later one held none of ours); edited into another range that is not
                // valid either, the addresses of its first range still wait: the version that gave them is not known
                List<dev.portway.net.AddressRange> all = new ArrayList<>(unknownRanges.getOrDefault(name, List.of()));
                ranges(pool).stream().filter(r -> !all.contains(r)).forEach(all::add);
                unknownRanges.put(name, all);
            }
        }
        unknownRanges.keySet().removeIf(name -> !names.contains(name) || standing.containsKey(name));
        unknownRanges.values().forEach(unknown::addAll);
        control.waitForPools(unknown);
        if (!unknownRanges.isEmpty() && warnedUnknown.add(unknownRanges.keySet().toString())) {
            log.warn("IPAddressPools of the cluster that are not valid, with no valid version seen: {}; addresses Services hold"
                    + " in their ranges stay as they are until they are valid", unknownRanges.keySet());
        }
        for (java.util.Iterator<Map.Entry<Changed, String>> it = mirroredVersions.entrySet().iterator(); it.hasNext();) {
            Changed c = it.next().getKey();
            String name = c.key().substring(c.key().indexOf('/') + 1);
            if (c.kind() == ResourceKind.IP_ADDRESS_POOL && !names.contains(name)) {
                it.remove();
                batch.remove(ResourceKind.IP_ADDRESS_POOL, MetalLbValidation.NAMESPACE, name);
            }
        }
    }

    /** Whether every pool is valid beside all the others, as MetalLB judges a configuration whole (nothing logged). */
    private static boolean wholeValid(List<IPAddressPool> pools) {
        for (IPAddressPool pool : pools) {
            if (!MetalLbValidation.validate(pool).isEmpty()
                    || !MetalLbValidation.overlaps(pool, pools.stream().filter(p -> p != pool).toList()).isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a pool of the cluster is one the allocator can take, judged as Portway's API server
     * judges one, overlaps with the other pools included (MetalLB's webhook does the same for
     * MetalLB). A version that is not is left out, with a warning once per version; the last valid
     * version mirrored stays in use, as MetalLB keeps its last good configuration.
     */
    private boolean valid(IPAddressPool pool, List<IPAddressPool> accepted) {
        List<dev.portway.api.FieldError> errors = new ArrayList<>(MetalLbValidation.validate(pool));
        if (errors.isEmpty()) {
            errors.addAll(MetalLbValidation.overlaps(pool, accepted));
        }
        String name = pool.getMetadata().getName();
        if (errors.isEmpty()) {
            refusedPools.remove(name);
            return true;
        }
        String version = Objects.toString(pool.getMetadata().getResourceVersion(), "");
        if (!version.equals(refusedPools.put(name, version))) {
            log.warn("IPAddressPool {}/{} (resourceVersion {}) is not used{}: {}", MetalLbValidation.NAMESPACE, name, version,
                    control.store().get(IPAddressPool.class, MetalLbValidation.NAMESPACE, name).isPresent() ? "; its last valid version stays" : "",
                    errors.stream().map(dev.portway.api.FieldError::toString).collect(java.util.stream.Collectors.joining("; ")));
        }
        return false;
    }

    /** A copy for the store, without what would start a deletion or a cascade here. */
    private static HasMetadata mirrored(HasMetadata object) {
        HasMetadata copy = Json.copy(object);
        ObjectMeta m = copy.getMetadata();
        m.setDeletionTimestamp(null);
        m.setDeletionGracePeriodSeconds(null);
        m.setFinalizers(new ArrayList<>());
        m.setOwnerReferences(new ArrayList<>());
        return copy;
    }

    @Override
    public void close() {
        for (SharedIndexInformer<?> informer : informers.values()) {
            informer.stop();
        }
    }
}
