package dev.portway.proxy;

import dev.portway.net.Transport;
import dev.portway.plan.Plan;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty data plane: applies each {@link Plan} as a diff (opens and closes listeners, swaps
 * endpoint sets) without touching established connections; connections to an endpoint that
 * leaves its cluster may go on for the cluster's drain timeout, then they are closed.
 *
 * <p>{@link #apply} is called by the control thread; the hot path (accepting, picking, relaying)
 * only reads volatile snapshots and takes no lock.
 */
public final class DataPlane implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DataPlane.class);

    private final Transport transport;
    private final EventLoopGroup workers;
    private final ProxyMetrics metrics;
    /** What the plan being applied closed for good: their metric series go once it is applied (see {@link #forgetRetired}). */
    private final List<Plan.Listener> retired = new ArrayList<>();
    private final java.util.Set<String> retiredGateways = new java.util.HashSet<>();
    private final HealthServers healthServers;
    private final HealthChecker healthChecker;
    private final Map<Plan.ListenerKey, Listener> listeners = new HashMap<>();
    /**
     * Listeners closed but maybe not yet unbound, by address: a new listener on the same address
     * binds once the old one let go (no SO_REUSEADDR for UDP, and TCP allows one listening socket).
     */
    private final Map<Plan.ListenerKey, CompletableFuture<Void>> unbinding = new HashMap<>();
    /** This data plane's own NodePort listeners by address, for the fused LoadBalancer hop (read on the hot path). */
    private volatile Map<InetSocketAddress, TcpListener> nodePorts = Map.of();
    private volatile boolean secondHop;
    /** Set when {@link #shutdown} begins: no plan is applied after it, and no upstream connection is pooled. */
    private volatile boolean stopping;
    /** By name; changed in place by {@link #apply} (control thread), read lock-free on the hot path. */
    private final Map<String, ClusterRuntime> clusters = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Plan current = Plan.empty();
    private final int connectTimeoutMillis;
    private volatile HttpSettings httpSettings = HttpSettings.DEFAULTS;
    private volatile Map<String, AccessControl> access = Map.of();
    private static final Logger accessLogger = LoggerFactory.getLogger("portway.access");
    private volatile java.util.function.Consumer<String> accessLog = accessLogger::info;
    /** For work that must not run on an event loop (bcrypt): two threads, and at most 256 checks waiting. */
    private final java.util.concurrent.ExecutorService blocking = new java.util.concurrent.ThreadPoolExecutor(2, 2, 0,
            java.util.concurrent.TimeUnit.MILLISECONDS, new java.util.concurrent.ArrayBlockingQueue<>(256),
            Thread.ofPlatform().daemon().name("portway-blocking-", 0).factory());

    /** Descriptors kept for the rest of the process (the API server, its journal, the kubelet's pods, logs). */
    public static final long DESCRIPTOR_RESERVE = 1024;

    /**
     * Connections the whole data plane holds at once, over every listener (HAProxy's global
     * {@code maxconn}, which it derives from the descriptor limit too): client connections (two
     * descriptors each, the client's and its upstream's), UDP flows, and a gateway's upstream
     * connections (HTTP/2 streams may open several per client), under half the descriptor limit
     * less a reserve. A flood spread over many Services' listeners (each may hold its own
     * max-connections) then leaves the rest of the process its reserve. Past the cap, new
     * connections are reset (a gateway's request gets a 503). Not counted: listening sockets,
     * health checks, mirrored requests, the admin API's own connections (512 at most) and the pods'
     * log files, all of which the reserve must hold.
     */
    private volatile int maxClientConnections = defaultMaxClientConnections();
    private final dev.portway.net.Slots clientConnections = new dev.portway.net.Slots();
    private volatile long lastCapWarning = System.nanoTime() - 20_000_000_000L;

    static int defaultMaxClientConnections() {
        long fds = java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : -1;
        return fds <= 0 ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE, Math.max(64, (fds - DESCRIPTOR_RESERVE) / 2));
    }

    /** Takes one of the process's client connection slots for {@code connection} (see {@link #maxClientConnections}). */
    boolean admitClient(Channel connection) {
        if (clientConnections.tryTakeFor(connection, maxClientConnections)) {
            return true;
        }
        long now = System.nanoTime();
        if (now - lastCapWarning > 10_000_000_000L) { // at most one line every 10 s
            lastCapWarning = now;
            log.warn("data plane: {} client connections open, all this process's descriptors allow with a reserve for the rest;"
                    + " resetting new ones", maxClientConnections);
        }
        return false;
    }

    /** Client connections open now, on every listener. */
    public int clientConnections() {
        return clientConnections.inUse();
    }

    /** For tests: a smaller process-wide cap. */
    void maxClientConnections(int max) {
        this.maxClientConnections = max;
    }

    public DataPlane(Transport transport, int threads, PrometheusRegistry registry, Clock clock) {
        this.transport = transport;
        this.workers = transport.newGroup(threads, "pw-proxy");
        this.metrics = new ProxyMetrics(registry, () -> this);
        this.healthServers = new HealthServers(this, clock);
        this.healthChecker = new HealthChecker(this);
        this.connectTimeoutMillis = 2000;
        // ClientIP affinity entries past their timeout go on a quiet cluster too, not only when a new plan comes
        workers.next().scheduleAtFixedRate(this::expireAffinity, AFFINITY_SWEEP_SECONDS, AFFINITY_SWEEP_SECONDS, TimeUnit.SECONDS);
    }

    /** A do-nothing handler that upstream connections start with (their relay is added once they connect). */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class NoHandler extends io.netty.channel.ChannelInboundHandlerAdapter {
        static final NoHandler INSTANCE = new NoHandler();
    }

    /** Each event loop's upstream bootstraps, for IPv4 and for IPv6 endpoints: built once, not per connection. */
    private final io.netty.util.concurrent.FastThreadLocal<io.netty.bootstrap.Bootstrap[]> upstreamBootstraps =
            new io.netty.util.concurrent.FastThreadLocal<>();

    /**
     * The bootstrap for upstream connections to {@code endpoint} made on {@code loop} (the caller's
     * own event loop): read on demand, half-closure kept, the data plane's connect timeout, a
     * socket of the endpoint's address family. No Nagle: Netty turns TCP_NODELAY on for every
     * TCP channel it makes (where the platform allows it, as Linux does), so setting it again
     * would be one more system call per connection.
     */
    io.netty.bootstrap.Bootstrap upstreamBootstrap(io.netty.channel.EventLoop loop, InetSocketAddress endpoint) {
        io.netty.bootstrap.Bootstrap[] both = upstreamBootstraps.get();
        if (both == null || both[0].config().group() != loop) {
            both = new io.netty.bootstrap.Bootstrap[] {upstream(loop, ANY_IPV4), upstream(loop, ANY_IPV6)};
            upstreamBootstraps.set(both);
        }
        return both[endpoint.getAddress() instanceof java.net.Inet4Address ? 0 : 1];
    }

    private static final java.net.InetAddress ANY_IPV4 = new InetSocketAddress("0.0.0.0", 0).getAddress();
    private static final java.net.InetAddress ANY_IPV6 = new InetSocketAddress("::", 0).getAddress();

    /** An upstream bootstrap on {@code loop} whose sockets are of the family of {@code family}. */
    private io.netty.bootstrap.Bootstrap upstream(io.netty.channel.EventLoop loop, java.net.InetAddress family) {
        io.netty.bootstrap.Bootstrap b = new io.netty.bootstrap.Bootstrap()
                .group(loop)
                .channelFactory(transport.socketChannelFactory(family))
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.RECVBUF_ALLOCATOR, RelayHandler.reads(transport))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                // as a client socket's (Listener#tcpServer): an endpoint's end makes Netty's epoll transport read the
                // socket to its end whatever the client can take, so its receive buffer is what the proxy may hold;
                // set before the connect, it bounds the window the endpoint is offered (one system call more a connection)
                .option(ChannelOption.SO_RCVBUF, Listener.CLIENT_RECEIVE_BUFFER)
                .handler(NoHandler.INSTANCE);
        transport.sourcePortAtConnect(b);
        return b;
    }

    /** How often expired ClientIP affinity entries are swept (the shortest timeout Kubernetes allows is 1 s). */
    static final long AFFINITY_SWEEP_SECONDS = 1;

    /** Forgets the expired affinity entries of every cluster (all of them where ClientIP affinity was turned off). */
    void expireAffinity() {
        for (ClusterRuntime c : clusters.values()) {
            c.expireAffinity();
        }
    }

    /** The socket implementation every listener and upstream connection uses. */
    public Transport transport() {
        return transport;
    }

    EventLoopGroup workers() {
        return workers;
    }

    ProxyMetrics metrics() {
        return metrics;
    }

    int connectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    HttpSettings httpSettings() {
        return httpSettings;
    }

    /** What the traffic runs on, for a command's summary: "io_uring sockets, 2 event loops". */
    public String describe() {
        int loops = eventLoops();
        return transport.label() + " sockets, " + loops + " event loop" + (loops == 1 ? "" : "s");
    }

    /** How many event loops carry the traffic. */
    public int eventLoops() {
        return ((io.netty.util.concurrent.MultithreadEventExecutorGroup) workers).executorCount();
    }

    /**
     * The endpoints are elsewhere ({@code portway controller}: a real cluster's nodes): connections to
     * them come from the address the system chooses, as a cloud load balancer's SNAT does, not from
     * this machine's loopback addresses, which cannot reach them. Set before the first plan.
     */
    public void endpointsElsewhere() {
        endpointsLocal = false;
    }

    /** Whether the endpoints are on this machine (a local cluster): any of its addresses may be a connection's source. */
    boolean endpointsLocal() {
        return endpointsLocal;
    }

    private volatile boolean endpointsLocal = true;

    /** Whether {@link #shutdown} has begun. */
    boolean stopping() {
        return stopping;
    }

    /** Sets the L7 gateway's timeouts and limits (for connections accepted from now on). */
    public void httpSettings(HttpSettings settings) {
        this.httpSettings = settings;
    }

    /** Where the access log's JSON lines go (the {@code portway.access} logger unless set). */
    public void accessLog(java.util.function.Consumer<String> sink) {
        this.accessLog = sink;
    }

    java.util.function.Consumer<String> accessLog() {
        return accessLog;
    }

    java.util.concurrent.Executor blocking() {
        return blocking;
    }

    /** The live side of an access policy of the current plan (or a fresh one, for a policy the plan no longer has). */
    AccessControl accessControl(Plan.AccessPolicy policy) {
        AccessControl a = access.get(policy.name());
        return a != null && a.spec().equals(policy) ? a : new AccessControl(policy);
    }

    ClusterRuntime cluster(String name) {
        return clusters.get(name);
    }

    /**
     * With {@code true}, LoadBalancer traffic to this data plane's own nodes takes the real second
     * hop, a loopback connection into the node's NodePort listener, as traffic from a separate load
     * balancer does; with {@code false} (the default) the node's listener takes it in-process
     * ({@link FrontendHandler}). For connections accepted from now on.
     */
    public void loadBalancerSecondHop(boolean real) {
        this.secondHop = real;
    }

    /**
     * The NodePort listener of this data plane bound at {@code address}, when a LoadBalancer may
     * hand it a connection in-process: null when the second hop is real, when no listener of this
     * data plane has that address (a node elsewhere), or when it is closed (it would refuse).
     */
    TcpListener nodePortListener(InetSocketAddress address) {
        if (secondHop) {
            return null;
        }
        TcpListener l = nodePorts.get(address);
        return l != null && l.state() == Listener.State.BOUND ? l : null;
    }

    Collection<ClusterRuntime> clusters() {
        return clusters.values();
    }

    public Plan current() {
        return current;
    }

    /** Applies a plan: a diff against the one before. */
    public void apply(Plan plan) {
        apply(plan, null);
    }

    /**
     * Applies a plan given what it changes against the plan this data plane holds: only the
     * clusters and listeners named there are touched, so that one endpoint changing among 10,000
     * Services costs one cluster's update. Changes made against another plan (or none) are worked
     * out by diffing the whole plan.
     */
    public synchronized void apply(Plan plan, Plan.Changes changes) {
        if (stopping) {
            // the control plane runs on while pods stop: what it plans now must not bind anything again
            log.debug("stopping: plan {} not applied", plan.version());
            return;
        }
        if (changes == null || changes.from() != current.version()) {
            changes = diff(plan);
        }
        for (Map.Entry<String, Plan.Cluster> c : changes.clusters().entrySet()) {
            applyCluster(c.getKey(), c.getValue());
        }
        boolean nodePortsChanged = false;
        for (Map.Entry<Plan.ListenerKey, Plan.Listener> l : changes.listeners().entrySet()) {
            nodePortsChanged |= applyListener(l.getKey(), l.getValue());
        }
        for (Listener l : listeners.values()) {
            if (l.state() == Listener.State.FAILED && !(l instanceof HttpGatewayListener)) {
                l.update(l.spec()); // one that failed to bind tries again with every plan
            }
        }
        applyHttp(plan);
        if (nodePortsChanged) {
            Map<InetSocketAddress, TcpListener> byAddress = new HashMap<>();
            for (Listener l : listeners.values()) {
                if (l instanceof TcpListener tcp && tcp.spec().role() == Plan.Role.NODE_PORT) {
                    byAddress.put(tcp.key().address(), tcp);
                }
            }
            nodePorts = Map.copyOf(byAddress);
        }
        healthServers.apply(plan.healthServers());
        healthChecker.apply(clusters.values());
        current = plan;
        forgetRetired();
        metrics.planApplied(plan.version());
    }

    /**
     * Drops the metric series of what this plan closed for good, once per plan and only when it
     * closed something: Services and Gateways created and deleted over a cluster's life must not
     * grow the metrics without bound (kube-state-metrics drops an object's series with it). A
     * Service's (or Gateway's) series go when no listener of it is left in that role.
     */
    private void forgetRetired() {
        if (retired.isEmpty() && retiredGateways.isEmpty()) {
            return;
        }
        java.util.Set<String> serving = new java.util.HashSet<>();
        java.util.Set<String> gateways = new java.util.HashSet<>();
        for (Listener l : listeners.values()) {
            if (l instanceof HttpGatewayListener http) {
                gateways.add(http.http().owner());
            } else if (l.spec() != null) {
                serving.add(ProxyMetrics.serviceRole(l.spec()));
            }
        }
        metrics.forget(retired, serving);
        retiredGateways.removeAll(gateways);
        metrics.forgetGateways(retiredGateways);
        retired.clear();
        retiredGateways.clear();
    }

    /** The whole difference between the plan this data plane holds and {@code plan}. */
    private Plan.Changes diff(Plan plan) {
        Map<String, Plan.Cluster> changedClusters = new HashMap<>(plan.clusters());
        for (String name : clusters.keySet()) {
            if (!plan.clusters().containsKey(name)) {
                changedClusters.put(name, null);
            }
        }
        Map<Plan.ListenerKey, Plan.Listener> changedListeners = new HashMap<>();
        for (Map.Entry<Plan.ListenerKey, Listener> l : listeners.entrySet()) {
            if (!(l.getValue() instanceof HttpGatewayListener)) {
                changedListeners.put(l.getKey(), null);
            }
        }
        for (Plan.Listener l : plan.listeners()) {
            changedListeners.put(l.key(), l);
        }
        return new Plan.Changes(current.version(), changedClusters, changedListeners);
    }

    /** Adds, updates (most clusters of a big plan are as they were) or removes one cluster; endpoints that left drain. */
    private void applyCluster(String name, Plan.Cluster spec) {
        ClusterRuntime runtime = clusters.get(name);
        if (spec == null) {
            if (runtime != null) {
                clusters.remove(name);
                for (Plan.Endpoint e : runtime.spec().endpoints()) {
                    drain(runtime, e, runtime.spec().drainTimeout());
                }
            }
        } else if (runtime == null) {
            clusters.put(name, new ClusterRuntime(spec));
        } else if (!runtime.spec().equals(spec)) {
            for (Plan.Endpoint e : runtime.update(spec)) {
                drain(runtime, e, spec.drainTimeout());
            }
            runtime.expireAffinity();
        }
    }

    /**
     * Opens, updates or closes the L4 listener of one address; a Service's listener takes the
     * address from a Gateway's. Returns whether a NodePort listener came or went.
     */
    private boolean applyListener(Plan.ListenerKey key, Plan.Listener spec) {
        Listener listener = listeners.get(key);
        boolean nodePort = spec != null && spec.role() == Plan.Role.NODE_PORT;
        if (listener instanceof HttpGatewayListener) {
            if (spec == null) {
                return false; // the Gateway's: applyHttp decides
            }
            retire(key, listener);
            listener = null;
        } else if (listener != null && spec == null) {
            retire(key, listener);
            return listener.spec().role() == Plan.Role.NODE_PORT;
        }
        if (spec == null) {
            return false;
        }
        if (listener == null) {
            listener = spec.key().protocol() == Plan.Protocol.UDP ? new UdpListener(this, spec) : new TcpListener(this, spec);
            listener.after(unbinding.remove(spec.key()));
            listeners.put(spec.key(), listener);
        } else if (listener.spec().equals(spec) && listener.state() != Listener.State.FAILED) {
            return false; // as it was (one that failed to bind tries again)
        } else {
            nodePort |= listener.spec().role() == Plan.Role.NODE_PORT;
            if (!listener.spec().service().equals(spec.service()) || listener.spec().role() != spec.role()) {
                retired.add(listener.spec()); // the address went to another Service, or another role: the old series go
            }
        }
        listener.update(spec);
        return nodePort;
    }

    /** Closes a listener for good; one that takes its address later binds after it let go. */
    private void retire(Plan.ListenerKey key, Listener listener) {
        if (listener.spec() != null) {
            retired.add(listener.spec());
        }
        listeners.remove(key);
        unbinding.put(key, listener.close());
        unbinding.values().removeIf(CompletableFuture::isDone);
    }

    /**
     * The L7 listeners, taken whole from the plan (they are few): an address that is a Service's
     * too stays the Service's.
     */
    private void applyHttp(Plan plan) {
        List<Plan.AccessPolicy> policies = new ArrayList<>();
        for (Plan.HttpListener l : plan.httpListeners()) {
            for (Plan.VirtualHost vh : l.virtualHosts()) {
                for (Plan.HttpRule r : vh.rules()) {
                    if (r.policy() != null) {
                        policies.add(r.policy());
                    }
                }
            }
        }
        access = AccessControl.carryOver(access, policies);
        Map<Plan.ListenerKey, Plan.HttpListener> wantedHttp = new HashMap<>();
        for (Plan.HttpListener l : plan.httpListeners()) {
            Listener held = listeners.get(l.key());
            if (held != null && !(held instanceof HttpGatewayListener)) {
                log.warn("{} is a Service's address too; the Service keeps it and {} does not listen", l.key(), l.owner());
                continue;
            }
            wantedHttp.put(l.key(), l);
        }
        for (var it = listeners.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            if (e.getValue() instanceof HttpGatewayListener gone && !wantedHttp.containsKey(e.getKey())) {
                retiredGateways.add(gone.http().owner());
                unbinding.put(e.getKey(), e.getValue().close());
                it.remove();
            }
        }
        for (Plan.HttpListener spec : wantedHttp.values()) {
            Listener listener = listeners.get(spec.key());
            if (listener == null) {
                listener = new HttpGatewayListener(this, spec);
                listener.after(unbinding.remove(spec.key()));
                listeners.put(spec.key(), listener);
            }
            ((HttpGatewayListener) listener).update(spec);
        }
    }

    /**
     * For an upstream connection made, and tracked, while its cluster's endpoints changed: if its
     * endpoint has left (or the cluster has), it drains as the connections tracked before did.
     */
    void drainIfLeft(ClusterRuntime cluster, Plan.Endpoint endpoint) {
        boolean stays = clusters.get(cluster.name()) == cluster
                && cluster.spec().endpoints().stream().anyMatch(e -> e.address().equals(endpoint.address()));
        if (!stays) {
            drain(cluster, endpoint, cluster.spec().drainTimeout());
        }
    }

    /**
     * Connections to an endpoint that left its cluster may finish; those still open after
     * {@code timeout} are closed, unless the endpoint came back meanwhile.
     */
    private void drain(ClusterRuntime cluster, Plan.Endpoint endpoint, Duration timeout) {
        if (cluster.connectionsTo(endpoint.address()).isEmpty()) {
            return;
        }
        // the latest drain of an endpoint is the one that ends it: one that left, came back and left again
        // gets its full drain timeout from the second time, not what was left of the first
        DrainKey key = new DrainKey(cluster, endpoint.address());
        long generation = drains.merge(key, 1L, Long::sum);
        workers.schedule(() -> {
            if (!drains.remove(key, generation)) {
                return; // a later drain of the endpoint decides
            }
            ClusterRuntime now = clusters.get(cluster.name());
            boolean back = now != null && now.spec().endpoints().stream().anyMatch(e -> e.address().equals(endpoint.address()));
            if (!back) {
                List<Channel> open = cluster.connectionsTo(endpoint.address());
                if (!open.isEmpty()) {
                    log.info("{}: closing {} connection(s) to {} after {} s of draining", cluster.name(), open.size(),
                            endpoint.target(), timeout.toSeconds());
                }
                // cut short: their clients are reset, not ended (a client reading to the end would take half an answer whole)
                open.forEach(RelayHandler::abort);
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** An endpoint of one cluster runtime (by identity: a Service made again has a new one, with its own drains). */
    private record DrainKey(ClusterRuntime cluster, InetSocketAddress endpoint) {
    }

    /** How many times each endpoint began to drain, while one of its drains is under way (see {@link #drain}). */
    private final java.util.concurrent.ConcurrentHashMap<DrainKey, Long> drains = new java.util.concurrent.ConcurrentHashMap<>();

    /** Completes when every listener of the plans applied so far is bound or closed as they say. */
    public CompletableFuture<Void> settled() {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        synchronized (this) {
            for (Listener l : listeners.values()) {
                all.add(l.settled());
            }
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /** Makes a node's kube-proxy health endpoints report failure (or recover), as when a node fails. */
    public void setNodeFailed(String node, boolean failed) {
        healthServers.setNodeFailed(node, failed);
    }

    /** Whether each listener of a Service is bound, closed or failed, by address. */
    public Map<String, String> listenerStatus() {
        Map<String, String> status = new LinkedHashMap<>();
        synchronized (this) {
            for (Listener l : listeners.values()) {
                status.put(l.key().toString(), l.state() == Listener.State.FAILED ? "failed: " + l.failure() : l.state().name().toLowerCase());
            }
        }
        return status;
    }

    HealthServers healthServers() {
        return healthServers;
    }

    Map<String, Integer> listenerStates() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Listener.State s : Listener.State.values()) {
            counts.put(s.name().toLowerCase(), 0);
        }
        synchronized (this) {
            for (Listener l : listeners.values()) {
                counts.merge(l.state().name().toLowerCase(), 1, Integer::sum);
            }
        }
        return counts;
    }

    /**
     * Each TCP listener's client connections now (HAProxy's {@code scur}, Envoy's
     * {@code downstream_cx_active}); UDP's flows are {@link #udpFlows}.
     */
    void listenerConnections(java.util.function.ObjIntConsumer<Plan.Listener> each) {
        List<Listener> all;
        synchronized (this) {
            all = new ArrayList<>(listeners.values());
        }
        for (Listener l : all) {
            if (l.key().protocol() == Plan.Protocol.TCP) {
                each.accept(l.spec(), l.openConnections());
            }
        }
    }

    /** The client connections open on the listener at {@code key} now; 0 when there is none. */
    int listenerConnections(Plan.ListenerKey key) {
        Listener l;
        synchronized (this) {
            l = listeners.get(key);
        }
        return l == null ? 0 : l.openConnections();
    }

    Map<String, Integer> udpFlows() {
        Map<String, Integer> flows = new LinkedHashMap<>();
        for (ClusterRuntime c : clusters.values()) {
            if (c.spec().protocol() == Plan.Protocol.UDP) {
                flows.put(c.name(), c.udpFlows.get());
            }
        }
        return flows;
    }

    /** Open connections through the data plane now. */
    public int openConnections() {
        int n = 0;
        for (ClusterRuntime c : clusters.values()) {
            n += c.openConnections();
        }
        return n;
    }

    /**
     * Stops accepting, lets open connections finish for up to {@code drain}, then closes
     * everything and frees every port. Idle keep-alive connections to upstreams close at once, and
     * those that become idle later close instead of going back to the pool: nothing will use them,
     * and they are not worth waiting for. Plans applied from now on are ignored.
     */
    public CompletableFuture<Void> shutdown(Duration drain) {
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        synchronized (this) {
            stopping = true;
            for (Listener l : listeners.values()) {
                closing.add(l.close());
            }
            listeners.clear();
            healthChecker.close();
            healthServers.close();
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).whenComplete((r, e) -> {
            try {
                for (io.netty.util.concurrent.EventExecutor loop : workers) {
                    loop.execute(() -> UpstreamPool.current().closeIdle());
                }
                long deadline = System.nanoTime() + drain.toNanos();
                Runnable check = new Runnable() {
                    @Override
                    public void run() {
                        try {
                            if (openConnections() == 0 || System.nanoTime() >= deadline) {
                                for (ClusterRuntime c : clusters.values()) {
                                    c.allConnections().forEach(Channel::close);
                                }
                                done.complete(null);
                            } else {
                                workers.schedule(this, 50, TimeUnit.MILLISECONDS);
                            }
                        } catch (RuntimeException failure) {
                            done.completeExceptionally(failure);
                        }
                    }
                };
                workers.execute(check);
            } catch (RuntimeException failure) {
                // the workers are stopping (a second shutdown): what is left goes with them
                done.completeExceptionally(failure);
            }
        });
        return done;
    }

    /**
     * Stops at once: closes every listener and connection, then the event loops. Bounded: a
     * shutdown that cannot finish (a listener whose close never completes) is given up after a
     * few seconds, with a warning, so that a stopping Portway always exits.
     */
    @Override
    public void close() {
        try {
            shutdown(Duration.ZERO).get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            log.warn("closing the data plane: {}; stopping its event loops anyway", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        blocking.shutdownNow();
    }

    /** Closes a connection with a TCP reset (the client sees "connection reset", not a clean end). */
    static void reset(Channel channel) {
        if (!channel.isRegistered()) {
            channel.close();
            return;
        }
        // on the channel's own loop, and only while it is open: a socket closed meanwhile (its peer's close
        // raced this) has given its descriptor back, and another connection may hold that number by now
        if (channel.eventLoop().inEventLoop()) {
            resetNow(channel);
        } else {
            channel.eventLoop().execute(() -> resetNow(channel));
        }
    }

    private static void resetNow(Channel channel) {
        if (channel.isOpen()) {
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
            channel.close();
        }
    }
}
