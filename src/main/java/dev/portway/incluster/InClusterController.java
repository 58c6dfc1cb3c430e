package dev.portway.incluster;

import dev.portway.api.validation.ValidationOptions;
import dev.portway.control.ClusterConfig;
import dev.portway.control.ControlPlane;
import dev.portway.control.alloc.PortRange;
import dev.portway.net.Cidr;
import dev.portway.net.Transport;
import dev.portway.plan.PlanBuilder;
import dev.portway.proxy.DataPlane;
import dev.portway.runtime.PlanPublisher;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * {@code portway controller}: Portway as a real cluster's LoadBalancer implementation.
 *
 * <p>The cluster's Services, Nodes and EndpointSlices are mirrored into a local store
 * ({@link ClusterMirror}); the same LoadBalancer controller as in a local cluster assigns each
 * LoadBalancer Service of its class an address from the IPAddressPools it was given, or else from
 * the cluster's own (in metallb-system, where MetalLB keeps them, followed as they change); the address
 * goes back to the cluster's Service ({@link ClusterWriter}); and the data plane listens at each
 * address and balances to the nodes' NodePorts, checking each node as a cloud load balancer does
 * (kube-proxy's {@code /healthz}, or the Service's {@code healthCheckNodePort} with the Local
 * traffic policy). kube-proxy serves the ClusterIPs and NodePorts, so Portway opens none.
 *
 * <p>The addresses of the pools must reach the machine Portway runs on (routed to it, or bound to
 * one of its interfaces): Portway listens at them, it does not announce them (MetalLB's L2 and BGP
 * modes are not implemented).
 */
public final class InClusterController implements AutoCloseable {

    /**
     * @param loadBalancerClass the {@code spec.loadBalancerClass} handled, besides Services of none
     * @param nodeHealthPort    where each node answers {@code /healthz} (kube-proxy: 10256)
     * @param proxyThreads      the data plane's event loops (0: one per core)
     * @param pools             the IPAddressPools (metallb.io/v1beta1) addresses come from; none: the cluster's own,
     *                          in metallb-system, watched as MetalLB watches them
     * @param syncTimeout       how long the first lists of the cluster's objects may take
     * @param metricsAddress    where {@code /metrics} and {@code /healthz} are served over plain HTTP, or null for nowhere
     */
    public record Options(String loadBalancerClass, int nodeHealthPort, Transport transport, int proxyThreads,
                          List<HasMetadata> pools, Duration syncTimeout, java.net.InetSocketAddress metricsAddress) {

        public static final int KUBE_PROXY_HEALTH_PORT = 10256;

        public Options {
            Objects.requireNonNull(loadBalancerClass, "loadBalancerClass");
            Objects.requireNonNull(transport, "transport");
            pools = List.copyOf(pools);
            Objects.requireNonNull(syncTimeout, "syncTimeout");
        }
    }

    private final Options options;
    private final Store store = new Store();
    private final ControlPlane control;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final DataPlane dataPlane;
    private ClusterMirror mirror;
    private ClusterWriter writer;
    private MetricsServer metrics;
    private java.net.InetSocketAddress metricsAddress;
    private volatile boolean started;
    private boolean closed;

    /**
     * Takes the pools, judged as the API server judges them.
     *
     * @throws dev.portway.control.ApiServer.ApplyException when a pool is not valid (nothing is started)
     */
    public InClusterController(Options options) {
        this.options = options;
        // the cluster's API server allocates ClusterIPs and NodePorts; these ranges are never used here
        ClusterConfig config = new ClusterConfig(Cidr.of("10.96.0.0/12"), PortRange.DEFAULT_NODE_PORTS, ValidationOptions.CLUSTER,
                options.loadBalancerClass(), Clock.systemUTC(), null);
        this.control = new ControlPlane(store, config, new Random());
        Set<String> namespaces = new LinkedHashSet<>();
        for (HasMetadata pool : options.pools()) {
            namespaces.add(pool.getMetadata().getNamespace() == null ? "metallb-system" : pool.getMetadata().getNamespace());
        }
        List<HasMetadata> local = new ArrayList<>();
        for (String ns : namespaces) {
            local.add(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build());
        }
        local.addAll(options.pools());
        try {
            control.call(() -> control.api().apply(local, "metallb-system", false));
        } catch (RuntimeException e) {
            control.close();
            throw e;
        }
        dev.portway.runtime.ControlMetrics.register(control, registry);
        int threads = options.proxyThreads() > 0 ? options.proxyThreads() : Math.max(1, Runtime.getRuntime().availableProcessors());
        this.dataPlane = new DataPlane(options.transport(), threads, registry, config.clock());
        dataPlane.endpointsElsewhere(); // the cluster's nodes
    }

    /** Mirrors the cluster {@code client} reaches and starts serving; returns once the first pass over it is done. */
    public synchronized InClusterController start(KubernetesClient client) throws TimeoutException, InterruptedException {
        if (mirror != null || closed) {
            throw new IllegalStateException(closed ? "closed" : "started already");
        }
        boolean clusterPools = options.pools().isEmpty();
        ClusterMirror m = new ClusterMirror(client, control, options.loadBalancerClass(), clusterPools);
        mirror = m;
        Set<String> poolNames = new java.util.HashSet<>();
        options.pools().forEach(p -> poolNames.add(p.getMetadata().getName()));
        writer = new ClusterWriter(client, mirror, store, clusterPools ? m::isClusterPool : poolNames::contains);
        // a write that landed after its Service stopped being a LoadBalancer is taken off at that Service's next change
        m.onOthersChanged(writer::clearIfLeft);
        control.addController(new PlanPublisher(PlanBuilder.loadBalancersOnly(store, options.nodeHealthPort()), dataPlane));
        if (options.metricsAddress() != null) {
            ClusterMirror watching = mirror;
            metrics = new MetricsServer(options.transport(), registry, () -> started, () -> started && watching.isWatching());
            metricsAddress = metrics.start(options.metricsAddress());
        }
        mirror.start(options.syncTimeout());
        writer.clearLeftovers(mirror.clusterServices());
        control.awaitIdle();
        started = true;
        return this;
    }

    /** Whether the pools are the cluster's own (none were given). */
    public boolean poolsFromCluster() {
        return options.pools().isEmpty();
    }

    /** The IPAddressPools addresses come from now. */
    public List<dev.portway.api.metallb.IPAddressPool> pools() {
        return control.call(() -> store.list(dev.portway.api.metallb.IPAddressPool.class));
    }

    /** Where {@code /metrics} is served, or null. */
    public java.net.InetSocketAddress metricsAddress() {
        return metricsAddress;
    }

    public ControlPlane control() {
        return control;
    }

    public DataPlane dataPlane() {
        return dataPlane;
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (metrics != null) {
            metrics.close();
        }
        if (mirror != null) {
            mirror.close();
            writer.close();
        }
        control.close();
        dataPlane.close();
    }
}
