package dev.portway.incluster;

import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.control.ControlPlane;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's Services of this implementation's class, its Nodes, EndpointSlices and Namespaces, kept
 * in the local store from informers (a list, then a watch, as client-go's informers).
 *
 * <p>The first lists go into the store in one batch, once every informer has synced: the
 * LoadBalancer controller's first pass then sees every address Services already hold before it
 * hands out new ones, as MetalLB waits for its caches. After that, what the informers deliver
 * is applied on the control thread, in batches of what arrived meanwhile.
 *
 * <p>The cluster's objects go into the store as they are (the cluster's API server validated
 * them), as copies: the store stamps resourceVersions of its own, and the informers' caches keep
 * the cluster's, which {@link ClusterWriter} compares against.
 */
final class ClusterMirror implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterMirror.class);

    /** One change the informers delivered: an object (its last state, when removed). */
    private record Change(ResourceKind kind, HasMetadata object, boolean removed) {
    }

    private final KubernetesClient client;
    private final ControlPlane control;
    private final String loadBalancerClass;
    private final ConcurrentLinkedQueue<Change> arrived = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainQueued = new AtomicBoolean();
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    /** The cluster's resourceVersion of each object mirrored, by kind and key: a resync or a replay of the same version writes nothing. */
    private final Map<String, String> mirroredVersions = new HashMap<>();
    private volatile boolean synced;
    private SharedIndexInformer<Service> services;

    ClusterMirror(KubernetesClient client, ControlPlane control, String loadBalancerClass) {
        this.client = client;
        this.control = control;
        this.loadBalancerClass = Objects.requireNonNull(loadBalancerClass, "loadBalancerClass");
    }

    /**
     * Lists and starts watching; returns once every first list is in the store. A namespace the
     * pools were given in and the cluster does not have stays as the controller made it.
     */
    void start(Duration timeout) throws TimeoutException, InterruptedException {
        services = client.services().inAnyNamespace().runnableInformer(0);
        SharedIndexInformer<Node> nodes = client.nodes().runnableInformer(0);
        SharedIndexInformer<EndpointSlice> slices = client.discovery().v1().endpointSlices().inAnyNamespace().runnableInformer(0);
        // their labels are what the pools' serviceAllocation.namespaceSelectors match
        SharedIndexInformer<Namespace> namespaces = client.namespaces().runnableInformer(0);
        services.addEventHandler(handler(ResourceKind.SERVICE));
        nodes.addEventHandler(handler(ResourceKind.NODE));
        slices.addEventHandler(handler(ResourceKind.ENDPOINT_SLICE));
        namespaces.addEventHandler(handler(ResourceKind.NAMESPACE));
        informers.add(services);
        informers.add(nodes);
        informers.add(slices);
        informers.add(namespaces);
        List<CompletableFuture<Void>> started = new ArrayList<>();
        for (SharedIndexInformer<?> informer : informers) {
            started.add(informer.start().toCompletableFuture());
        }
        try {
            CompletableFuture.allOf(started.toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot list the cluster's objects: " + e.getCause().getMessage(), e.getCause());
        }
        synced = true;
        control.call(() -> {
            drain();
            return null;
        });
        log.info("mirrored the cluster: {} Services of class {} (or none), {} Nodes, {} EndpointSlices",
                control.store().list(Service.class).size(), loadBalancerClass, control.store().list(Node.class).size(),
                control.store().list(EndpointSlice.class).size());
    }

    /** The Service as the cluster last told it (the informer's cache), or null. */
    Service clusterService(String namespace, String name) {
        return services == null ? null : services.getStore().getByKey(namespace + "/" + name);
    }

    /** Whether this implementation handles the Service: a LoadBalancer of its class, or of none. */
    boolean isOurs(Service svc) {
        if (svc.getSpec() == null || !"LoadBalancer".equals(svc.getSpec().getType())) {
            return false;
        }
        String cls = svc.getSpec().getLoadBalancerClass();
        return cls == null || cls.equals(loadBalancerClass);
    }

    private ResourceEventHandler<HasMetadata> handler(ResourceKind kind) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(HasMetadata obj) {
                deliver(new Change(kind, obj, false));
            }

            @Override
            public void onUpdate(HasMetadata oldObj, HasMetadata newObj) {
                deliver(new Change(kind, newObj, false));
            }

            @Override
            public void onDelete(HasMetadata obj, boolean deletedFinalStateUnknown) {
                deliver(new Change(kind, obj, true));
            }
        };
    }

    private void deliver(Change change) {
        arrived.add(change);
        if (synced && drainQueued.compareAndSet(false, true)) {
            control.submit(() -> {
                drain();
                return null;
            });
        }
    }

    /** Applies what arrived, in one batch (control thread). */
    private void drain() {
        drainQueued.set(false);
        Store.Batch batch = control.store().begin();
        Change c;
        while ((c = arrived.poll()) != null) {
            HasMetadata o = c.object();
            String ns = o.getMetadata().getNamespace();
            String name = o.getMetadata().getName();
            String key = c.kind() + "/" + ns + "/" + name;
            boolean keep = !c.removed() && (c.kind() != ResourceKind.SERVICE || isOurs((Service) o));
            if (keep) {
                String version = o.getMetadata().getResourceVersion();
                if (version != null && version.equals(mirroredVersions.get(key))) {
                    continue;
                }
                mirroredVersions.put(key, version);
                batch.put(Json.copy(o));
            } else if (mirroredVersions.remove(key) != null) {
                batch.remove(c.kind(), ns, name);
            }
        }
        batch.commit();
    }

    @Override
    public void close() {
        for (SharedIndexInformer<?> informer : informers) {
            informer.stop();
        }
    }
}
