package dev.portway.runtime;

import dev.portway.admin.AdminServer;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.metallb.IPAddressPoolSpec;
import dev.portway.api.validation.MetalLbValidation;
import dev.portway.control.ApiServer;
import dev.portway.control.ClusterConfig;
import dev.portway.control.ControlPlane;
import dev.portway.net.Transport;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole cluster in one process ({@code portway up}): the store, the control plane, and the
 * admin API, with the namespaces every cluster has and a default LoadBalancer pool.
 */
public final class LocalCluster implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LocalCluster.class);

    /** The LoadBalancer pool a local cluster starts with. */
    public static final String DEFAULT_POOL_NAME = "portway-default";

    private final LocalClusterOptions options;
    private final Store store = new Store();
    private final ControlPlane control;
    private final EventLoopGroup adminGroup;
    private final AdminServer admin;
    private InetSocketAddress adminAddress;

    public LocalCluster(LocalClusterOptions options) {
        this.options = options;
        this.control = new ControlPlane(store, options.clusterConfig(), new Random());
        Transport transport = options.transport();
        this.adminGroup = transport.newGroup(1, "portway-admin");
        this.admin = new AdminServer(control, transport, adminGroup);
    }

    /** Starts the control plane and the admin API, and creates the built-in objects. */
    public LocalCluster start() throws InterruptedException {
        control.call(() -> control.api().apply(builtins(), "default", false));
        adminAddress = admin.start(options.adminAddress());
        control.awaitIdle();
        log.info("admin API at http://{}:{}", adminAddress.getHostString(), adminAddress.getPort());
        return this;
    }

    private List<HasMetadata> builtins() {
        List<HasMetadata> objects = new ArrayList<>();
        for (String ns : List.of("default", "kube-system", "kube-public", "kube-node-lease", MetalLbValidation.NAMESPACE)) {
            objects.add(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build());
        }
        if (options.defaultPool() != null) {
            IPAddressPool pool = new IPAddressPool();
            pool.setMetadata(new ObjectMetaBuilder().withName(DEFAULT_POOL_NAME).withNamespace(MetalLbValidation.NAMESPACE).build());
            IPAddressPoolSpec spec = new IPAddressPoolSpec();
            spec.setAddresses(new ArrayList<>(List.of(options.defaultPool())));
            spec.setAvoidBuggyIPs(true);
            pool.setSpec(spec);
            objects.add(pool);
        }
        return objects;
    }

    /** Applies objects as {@code portway apply} does (all or nothing). */
    public List<ApiServer.Applied> apply(List<? extends HasMetadata> objects) {
        List<ApiServer.Applied> applied = control.call(() -> control.api().apply(objects, "default", false));
        control.awaitIdle();
        return applied;
    }

    public ControlPlane control() {
        return control;
    }

    public Store store() {
        return store;
    }

    public ClusterConfig config() {
        return options.clusterConfig();
    }

    public InetSocketAddress adminAddress() {
        return adminAddress;
    }

    public String adminUrl() {
        return "http://" + adminAddress.getHostString() + ":" + adminAddress.getPort();
    }

    @Override
    public void close() {
        admin.close();
        control.close();
        adminGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
