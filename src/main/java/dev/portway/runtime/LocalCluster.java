package dev.portway.runtime;

import dev.portway.Version;
import dev.portway.admin.AdminServer;
import dev.portway.admin.auth.AdminCredentials;
import dev.portway.admin.MetricsEndpoint;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.metallb.IPAddressPoolSpec;
import dev.portway.api.validation.MetalLbValidation;
import dev.portway.control.AccessPolicyController;
import dev.portway.control.ApiServer;
import dev.portway.control.ClusterConfig;
import dev.portway.control.ControlPlane;
import dev.portway.control.DeploymentController;
import dev.portway.control.EndpointSliceController;
import dev.portway.control.GatewayController;
import dev.portway.api.gateway.GatewayModel;
import dev.portway.control.ReplicaSetController;
import dev.portway.control.Scheduler;
import dev.portway.plan.PlanBuilder;
import dev.portway.proxy.DataPlane;
import dev.portway.store.Store;
import dev.portway.store.StoreJournal;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassSpec;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClassBuilder;
import io.netty.channel.EventLoopGroup;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole cluster in one process ({@code portway up}): nodes on loopback addresses, the
 * control plane with its controllers (scheduler, ReplicaSets, Deployments, EndpointSlices,
 * LoadBalancer addresses, Gateway API and Ingress status and addresses, AccessPolicy status), a kubelet running the pods, the Netty data plane that carries
 * ClusterIP, NodePort and LoadBalancer traffic, and the admin API.
 */
public final class LocalCluster implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LocalCluster.class);

    /** The LoadBalancer pool a local cluster starts with. */
    public static final String DEFAULT_POOL_NAME = "portway-default";

    private final LocalClusterOptions options;
    private final Store store = new Store();
    private final ControlPlane control;
    private final List<LocalNode> nodes = new ArrayList<>();
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final DataPlane dataPlane;
    private final PodRuntime podRuntime;
    private final Kubelet kubelet;
    private final EventLoopGroup adminGroup;
    private final AdminServer admin;
    private final Path stateDir;
    private final AdminCredentials credentials;
    private InetSocketAddress adminAddress;
    private int restoredObjects;
    /** Held while this Portway uses the data directory. */
    private java.nio.channels.FileLock dataLock;
    /** Keeps the store in the data directory; null when ephemeral. */
    private StoreJournal journal;
    private boolean closed;

    public LocalCluster(LocalClusterOptions options) {
        // node addresses are where NodePort listeners open: status writes must keep them in the nodes' range
        options = options.withClusterConfig(options.clusterConfig().withNodeCidr(options.nodeAddresses().nodes()));
        this.options = options;
        for (int i = 1; i <= options.nodes(); i++) {
            nodes.add(new LocalNode(i, options.nodeAddresses()));
        }
        if (options.dataDir() != null) {
            // one Portway per data directory: a second one would rewrite the files the first is journaling to
            dataLock = lockDataDir(options.dataDir());
            // what the data directory holds comes back first: the API server rebuilds its allocations from it
            try {
                StoreJournal.Restored restored = StoreJournal.load(options.dataDir());
                store.restore(restored.objects(), restored.revision());
                restoredObjects = restored.objects().size();
                if (!restored.objects().isEmpty()) {
                    log.info("restored {} objects (revision {}) from {}", restored.objects().size(), restored.revision(), options.dataDir());
                }
            } catch (java.io.IOException e) {
                releaseDataLock();
                throw new java.io.UncheckedIOException("cannot restore the cluster: " + e.getMessage(), e);
            }
        }
        try {
            this.control = new ControlPlane(store, options.clusterConfig(), new Random());
        } catch (RuntimeException e) {
            releaseDataLock(); // the restored objects do not fit this start (a changed service range): not held for good
            throw e;
        }
        ControlMetrics.register(control, registry);
        int threads = options.proxyThreads() > 0 ? options.proxyThreads() : Math.max(1, Runtime.getRuntime().availableProcessors());
        this.dataPlane = new DataPlane(options.transport(), threads, registry, options.clusterConfig().clock());
        this.podRuntime = new PodRuntime(options.transport(), Math.min(2, threads));
        try {
            // made before the kubelet, so that a temporary one is hidden from the pods as a given one is
            this.stateDir = options.stateDir() != null ? options.stateDir() : temporaryStateDir();
        } catch (java.io.IOException e) {
            control.close();
            dataPlane.close();
            podRuntime.close();
            releaseDataLock();
            throw new java.io.UncheckedIOException("cannot make a state directory: " + e.getMessage(), e);
        }
        try {
            // the admin credentials and the stored objects (every Secret) are not the pods' to read
            List<java.nio.file.Path> hidden = new ArrayList<>(options.kubelet().hiddenFromPods());
            for (java.nio.file.Path dir : java.util.Arrays.asList(stateDir, options.dataDir())) {
                if (dir != null) {
                    hidden.add(dir);
                }
            }
            this.kubelet = new Kubelet(control, nodes, podRuntime, options.kubelet().withHiddenFromPods(hidden));
        } catch (java.io.IOException | RuntimeException e) {
            control.close();
            dataPlane.close();
            podRuntime.close();
            releaseDataLock();
            throw new java.io.UncheckedIOException("cannot start the kubelet: " + e.getMessage(),
                    e instanceof java.io.IOException io ? io : new java.io.IOException(e.getMessage(), e));
        }
        try {
            this.credentials = AdminCredentials.loadOrCreate(stateDir, certificateHosts(options.adminAddress()),
                    options.clusterConfig().clock());
        } catch (RuntimeException e) {
            kubelet.close();
            control.close();
            dataPlane.close();
            podRuntime.close();
            releaseDataLock();
            throw e;
        }
        this.adminGroup = options.transport().newGroup(1, "portway-admin");
        this.admin = new AdminServer(control, options.transport(), adminGroup, AdminServer.Options.defaults(credentials))
                .endpoint("/metrics", new MetricsEndpoint(registry))
                .endpoints(dev.portway.admin.TopologyPage.endpoints())
                .podLogs(kubelet)
                .podExec(kubelet);
    }

    /** Starts the control plane, the nodes and the admin API, and creates the built-in objects. */
    public LocalCluster start() throws InterruptedException {
        if (options.dataDir() != null) {
            journal = control.call(() -> {
                try {
                    return StoreJournal.open(options.dataDir(), store);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException("cannot keep the cluster in " + options.dataDir() + ": " + e.getMessage(), e);
                }
            });
        }
        if (journal != null) {
            StoreJournal kept = journal;
            control.writeRefusal(kept::notKept);
        }
        control.call(() -> control.api().apply(builtins(), "default", false));
        control.addController(new Scheduler(control));
        control.addController(new DeploymentController(control));
        control.addController(new ReplicaSetController(control));
        control.addController(kubelet);
        control.addController(new EndpointSliceController(control));
        control.addController(new NodeProxies(control, nodes, dataPlane));
        control.addController(new PlanPublisher(new PlanBuilder(store, LocalNode.PROXY_HEALTH_PORT, options.ingressPorts()), dataPlane));
        control.addController(new GatewayController(control));
        control.addController(new AccessPolicyController(control));
        adminAddress = admin.start(options.adminAddress());
        control.awaitIdle();
        log.info("admin API at {}", adminUrl());
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
        for (LocalNode n : nodes) {
            objects.add(node(n));
        }
        objects.add(gatewayClass());
        objects.add(ingressClass());
        return objects;
    }

    /** The GatewayClass and IngressClass a local cluster starts with: both Portway's, both named this. */
    public static final String CLASS_NAME = "portway";

    private static GatewayClass gatewayClass() {
        GatewayClass gc = new GatewayClass();
        gc.setMetadata(new ObjectMetaBuilder().withName(CLASS_NAME).build());
        GatewayClassSpec spec = new GatewayClassSpec();
        spec.setControllerName(GatewayModel.CONTROLLER_NAME);
        spec.setDescription("Portway's L7 gateway");
        gc.setSpec(spec);
        return gc;
    }

    private static IngressClass ingressClass() {
        return new IngressClassBuilder()
                .withNewMetadata().withName(CLASS_NAME).addToAnnotations(GatewayController.DEFAULT_CLASS_ANNOTATION, "true").endMetadata()
                .withNewSpec().withController(GatewayController.INGRESS_CONTROLLER).endSpec()
                .build();
    }

    private static Node node(LocalNode n) {
        String kernel = System.getProperty("os.version", "");
        return new NodeBuilder()
                .withNewMetadata()
                .withName(n.name())
                .withLabels(Map.of("kubernetes.io/hostname", n.name(), "kubernetes.io/os", "linux",
                        "kubernetes.io/arch", System.getProperty("os.arch", "amd64").replace("x86_64", "amd64")))
                .endMetadata()
                .withNewSpec()
                .withPodCIDR(n.podCidr().toString())
                .withPodCIDRs(n.podCidr().toString())
                .endSpec()
                .withNewStatus()
                .addNewAddress().withType("InternalIP").withAddress(n.ip()).endAddress()
                .addNewAddress().withType("Hostname").withAddress(n.name()).endAddress()
                .addNewCondition().withType("Ready").withStatus("True").withReason("KubeletReady")
                .withMessage("kubelet is posting ready status").endCondition()
                .withNewNodeInfo()
                .withKubeletVersion(dev.portway.api.KubernetesVersion.GIT_VERSION + "-portway." + Version.VERSION)
                .withKubeProxyVersion(dev.portway.api.KubernetesVersion.GIT_VERSION + "-portway." + Version.VERSION)
                .withOsImage("Portway local node")
                .withKernelVersion(kernel)
                .withContainerRuntimeVersion("portway://" + Version.VERSION)
                .withOperatingSystem("linux")
                .withArchitecture(System.getProperty("os.arch", "amd64").replace("x86_64", "amd64"))
                .withMachineID("").withSystemUUID("").withBootID("")
                .endNodeInfo()
                .withCapacity(Map.of("pods", new Quantity("253")))
                .withAllocatable(Map.of("pods", new Quantity("253")))
                .endStatus()
                .build();
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

    /** How many objects came back from the data directory. */
    public int restoredObjects() {
        return restoredObjects;
    }

    public Store store() {
        return store;
    }

    public ClusterConfig config() {
        return options.clusterConfig();
    }

    public List<LocalNode> nodes() {
        return List.copyOf(nodes);
    }

    public Kubelet kubelet() {
        return kubelet;
    }

    public DataPlane dataPlane() {
        return dataPlane;
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    public InetSocketAddress adminAddress() {
        return adminAddress;
    }

    /** {@code https://127.0.0.1:8001}: the admin API, as a kubeconfig's {@code server}. */
    public String adminUrl() {
        // a wildcard bind is reached here through loopback, which the serving certificate names
        String host = adminAddress.getAddress().isAnyLocalAddress() ? "127.0.0.1" : adminAddress.getHostString();
        return "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + adminAddress.getPort();
    }

    /** The names the serving certificate must cover: the bound address, or for a wildcard bind this machine's addresses. */
    private static List<String> certificateHosts(InetSocketAddress admin) {
        if (!admin.getAddress().isAnyLocalAddress()) {
            return List.of(admin.getHostString());
        }
        List<String> hosts = new ArrayList<>();
        try {
            for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
                for (var a : java.util.Collections.list(nic.getInetAddresses())) {
                    if (!a.isLinkLocalAddress()) {
                        hosts.add(a.getHostAddress().replaceFirst("%.*$", ""));
                    }
                }
            }
        } catch (java.net.SocketException e) {
            log.warn("cannot list this machine's addresses for the serving certificate: {}", e.getMessage());
        }
        return hosts;
    }

    /** The admin API's CA, certificates and token. */
    public AdminCredentials credentials() {
        return credentials;
    }

    /** Where the credentials live. */
    public Path stateDir() {
        return stateDir;
    }

    /** A private directory that goes away with the JVM (tests, and runs with no state directory). */
    private static Path temporaryStateDir() throws java.io.IOException {
        Path dir = java.nio.file.Files.createTempDirectory("portway-state-",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir), "portway-state-cleanup"));
        return dir;
    }

    private static void deleteTree(Path dir) {
        try (var paths = java.nio.file.Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            // best effort
        }
    }

    /**
     * Stops cleanly: no new connections, open ones drain for up to {@code drain}, pods stop,
     * every port is freed.
     */
    public synchronized void shutdown(Duration drain) {
        if (closed) {
            return;
        }
        closed = true;
        admin.close();
        closeJournal();
        try {
            dataPlane.shutdown(drain).get(drain.toMillis() + 5000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("draining connections: {}", e.toString());
        }
        try {
            kubelet.stopAll(drain).get(drain.toMillis() + 5000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("stopping pods: {}", e.toString());
        }
        kubelet.close();
        control.close();
        dataPlane.close();
        podRuntime.close();
        adminGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        releaseDataLock();
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(5));
    }

    /** Takes the data directory for this Portway, or says which one has it. */
    private static java.nio.channels.FileLock lockDataDir(Path dir) {
        try {
            // it holds every object, Secrets too, and what it holds is run: this user's alone, as the state directory
            Path abs = dir.toAbsolutePath();
            Path parent = abs.getParent();
            if (parent != null && !java.nio.file.Files.exists(parent, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                dev.portway.admin.auth.AdminCredentials.createPrivateDir(parent, "--data-dir"); // the state directory, say: private from the start
            } else if (parent != null && privateToMe(parent) && java.nio.file.Files.isDirectory(abs, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    && !java.nio.file.Files.isSymbolicLink(abs) && ownedByMe(abs)) {
                // inside a directory no one else can enter (the default, STATE_DIR/data), an older Portway's
                // directory made with the umask's mode (0775 under umask 002) cannot hold another user's files
                java.nio.file.Files.setPosixFilePermissions(abs, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            }
            dev.portway.admin.auth.AdminCredentials.createPrivateDir(abs, "--data-dir");
            java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir.resolve("lock"),
                    java.util.Set.of(java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS),
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            java.nio.channels.FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                ch.close();
                throw new java.io.UncheckedIOException(new java.io.IOException("the data directory " + dir
                        + " is in use by another Portway (stop it, or pass another --data-dir, or --ephemeral)"));
            }
            return lock;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot use the data directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean ownedByMe(Path p) throws java.io.IOException {
        return java.nio.file.Files.getOwner(p, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName().equals(System.getProperty("user.name"));
    }

    /** Whether {@code dir} is this user's and no one else may enter it. */
    private static boolean privateToMe(Path dir) throws java.io.IOException {
        var mode = java.nio.file.Files.getPosixFilePermissions(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        return ownedByMe(dir) && !java.nio.file.Files.isSymbolicLink(dir)
                && mode.stream().noneMatch(m -> m.name().startsWith("GROUP") || m.name().startsWith("OTHERS"));
    }

    private void releaseDataLock() {
        java.nio.channels.FileLock lock = dataLock;
        dataLock = null;
        if (lock != null) {
            try {
                lock.release();
                lock.channel().close();
            } catch (java.io.IOException e) {
                // the process's end releases it anyway
            }
        }
    }

    /**
     * The last snapshot, before pods stop: what is kept is the cluster as it ran (pods come back
     * running, as after a node's reboot), not the statuses of its stopping.
     */
    private void closeJournal() {
        StoreJournal j = journal;
        journal = null;
        if (j == null) {
            return;
        }
        try {
            control.call(() -> {
                j.close();
                return null;
            });
        } catch (RuntimeException e) {
            log.warn("the last snapshot of {} failed: {}", options.dataDir(), e.toString());
        }
    }
}
