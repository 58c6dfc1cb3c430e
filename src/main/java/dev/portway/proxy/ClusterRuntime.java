package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A cluster's live state: the current endpoint snapshot (swapped whole when a plan changes it;
 * readers never lock), the round-robin position, ClientIP affinity, the health of LoadBalancer
 * targets, and the connections open to each endpoint (for draining).
 *
 * <p>Endpoint choice follows kube-proxy: ready endpoints, or when none is ready the serving
 * ones that are terminating; with a local-only listener, the same among the node's endpoints.
 */
final class ClusterRuntime {

    /** An immutable view of a cluster's endpoints, grouped the ways picks need them. */
    record Snapshot(Plan.Cluster spec, Plan.Endpoint[] ready, Plan.Endpoint[] servingTerminating,
                    Map<String, Plan.Endpoint[]> readyByNode, Map<String, Plan.Endpoint[]> servingTerminatingByNode) {

        static Snapshot of(Plan.Cluster spec) {
            List<Plan.Endpoint> ready = new ArrayList<>();
            List<Plan.Endpoint> st = new ArrayList<>();
            Map<String, List<Plan.Endpoint>> readyByNode = new HashMap<>();
            Map<String, List<Plan.Endpoint>> stByNode = new HashMap<>();
            for (Plan.Endpoint e : spec.endpoints()) {
                String node = e.nodeName() == null ? "" : e.nodeName();
                if (e.ready()) {
                    ready.add(e);
                    readyByNode.computeIfAbsent(node, k -> new ArrayList<>()).add(e);
                } else if (e.serving() && e.terminating()) {
                    st.add(e);
                    stByNode.computeIfAbsent(node, k -> new ArrayList<>()).add(e);
                }
            }
            Map<String, Plan.Endpoint[]> rbn = new HashMap<>();
            readyByNode.forEach((k, v) -> rbn.put(k, v.toArray(Plan.Endpoint[]::new)));
            Map<String, Plan.Endpoint[]> sbn = new HashMap<>();
            stByNode.forEach((k, v) -> sbn.put(k, v.toArray(Plan.Endpoint[]::new)));
            return new Snapshot(spec, ready.toArray(Plan.Endpoint[]::new), st.toArray(Plan.Endpoint[]::new), rbn, sbn);
        }
    }

    /** A client's endpoint under ClientIP affinity, and when the client was last seen (judged against the timeout in force). */
    private record Sticky(Plan.Endpoint endpoint, long lastSeenNanos) {
    }

    /** Passive health of an endpoint as the L7 gateway sees it: consecutive 5xx, and an ejection deadline. */
    private static final class Outlier {
        volatile int failures;
        volatile long ejectedUntilNanos;
    }

    /** Consecutive 5xx answers that eject an endpoint. */
    static final int EJECT_AFTER_5XX = 5;
    /** How long an ejected endpoint is left out (unless nothing else is left). */
    static final long EJECTION_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

    private static final Plan.Endpoint[] NONE = new Plan.Endpoint[0];

    private final String name;
    private volatile Snapshot snapshot;
    private final AtomicInteger next = new AtomicInteger();
    /**
     * Clients remembered for ClientIP affinity at most: past it a new client takes the place of the
     * client seen longest ago, so that many source addresses (a /64, spoofed UDP) cannot grow the
     * table without bound, nor keep later clients out of it (kube-proxy's iptables {@code recent}
     * lists are bounded too, and drop the entry updated longest ago).
     */
    static final int MAX_AFFINITY_ENTRIES = 65_536;
    /**
     * ClientIP affinity, the client seen longest ago first (xt_recent's order: an active client is
     * never the one that goes, where the order of first arrival dropped it). Guarded by itself:
     * taken once or twice per new connection, and only for Services with affinity.
     */
    private final java.util.LinkedHashMap<InetAddress, Sticky> affinity = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Sticky> eldest) {
            return size() > MAX_AFFINITY_ENTRIES;
        }
    };
    /** LoadBalancer targets that failed their health checks. */
    private final Set<InetSocketAddress> unhealthy = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<InetSocketAddress, Set<Channel>> connections = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<InetSocketAddress, Outlier> outliers = new ConcurrentHashMap<>();
    final LongAdder bytesToUpstream = new LongAdder();
    final LongAdder bytesFromUpstream = new LongAdder();
    final java.util.concurrent.atomic.AtomicInteger udpFlows = new java.util.concurrent.atomic.AtomicInteger();

    ClusterRuntime(Plan.Cluster spec) {
        this.name = spec.name();
        this.snapshot = Snapshot.of(spec);
    }

    String name() {
        return name;
    }

    Plan.Cluster spec() {
        return snapshot.spec();
    }

    /** The endpoints now: a new object whenever they change. */
    Snapshot snapshot() {
        return snapshot;
    }

    /** Swaps in a new endpoint set; returns the endpoints that are gone. */
    List<Plan.Endpoint> update(Plan.Cluster spec) {
        Snapshot old = snapshot;
        snapshot = Snapshot.of(spec);
        Set<InetSocketAddress> kept = new java.util.HashSet<>(spec.endpoints().size() * 2);
        for (Plan.Endpoint e : spec.endpoints()) {
            kept.add(e.address());
        }
        List<Plan.Endpoint> gone = new ArrayList<>();
        for (Plan.Endpoint e : old.spec().endpoints()) {
            if (!kept.contains(e.address())) {
                gone.add(e);
            }
        }
        if (spec.healthCheck() == null) {
            unhealthy.clear();
        }
        return gone;
    }

    void setHealthy(InetSocketAddress target, boolean healthy) {
        if (healthy) {
            unhealthy.remove(target);
        } else {
            unhealthy.add(target);
        }
    }

    boolean isHealthy(InetSocketAddress target) {
        return !unhealthy.contains(target);
    }

    /** Whether a pick could find an endpoint (health aside): as {@link Plan.Cluster#hasUsableEndpoints}, from the snapshot. */
    boolean hasUsableEndpoints(String localNode) {
        Snapshot s = snapshot;
        if (localNode == null) {
            return s.ready().length > 0 || s.servingTerminating().length > 0;
        }
        return s.readyByNode().containsKey(localNode) || s.servingTerminatingByNode().containsKey(localNode);
    }

    /**
     * Picks an endpoint for a new connection (or UDP flow).
     *
     * @param client    the client's address (for ClientIP affinity)
     * @param localNode only endpoints on this node, or null for any
     * @param exclude   endpoints that already refused this connection
     * @return the endpoint, or null when there is none to use
     */
    Plan.Endpoint pick(InetAddress client, String localNode, Set<InetSocketAddress> exclude) {
        Snapshot s = snapshot;
        Plan.Endpoint[] candidates = candidates(s, localNode);
        if (candidates.length == 0) {
            return null;
        }
        // when every candidate fails its checks at once, all are used (fail open, as AWS's Network Load Balancer
        // and Envoy's panic threshold do): checks that fail everywhere say more often that they cannot get through
        // (a firewall, a health server out of connections) than that every node is down, and a node with nothing
        // to serve refuses the connection itself (kube-proxy's Local policy) as surely as the load balancer would
        boolean checked = s.spec().healthCheck() != null && !unhealthy.isEmpty() && anyHealthy(candidates);
        var timeout = s.spec().affinityTimeout();
        if (timeout != null && client != null) {
            long now = System.nanoTime();
            synchronized (affinity) {
                // seen within the timeout in force now (kube-proxy's --rcheck --seconds): a shortened timeout applies
                // to the clients remembered already
                Sticky sticky = affinity.get(client);
                if (sticky != null && now - sticky.lastSeenNanos < timeout.toNanos() && contains(candidates, sticky.endpoint)
                        && usable(sticky.endpoint, checked, exclude)) {
                    affinity.put(client, new Sticky(sticky.endpoint, now));
                    return sticky.endpoint;
                }
            }
            Plan.Endpoint chosen = choose(candidates, start(s, candidates.length), checked, exclude);
            if (chosen != null) {
                // when the table is full, the client seen longest ago goes (in constant time, during the very floods
                // that fill it): refusing new clients instead left every later client without affinity for hours
                synchronized (affinity) {
                    affinity.put(client, new Sticky(chosen, now));
                }
            }
            return chosen;
        }
        return choose(candidates, start(s, candidates.length), checked, exclude);
    }

    /**
     * Whether a pick now would leave {@code endpoint} out because health checks took it out while
     * another candidate passes them ({@link #pick}'s rule, fail-open included): the UDP sweep ends
     * such flows, and must not end one a pick would give the same endpoint again.
     */
    boolean checkedOut(Plan.Endpoint endpoint, String localNode) {
        Snapshot s = snapshot;
        if (s.spec().healthCheck() == null || unhealthy.isEmpty() || !unhealthy.contains(endpoint.address())) {
            return false;
        }
        return anyHealthy(candidates(s, localNode));
    }

    /** What a pick chooses among: the ready endpoints (on {@code localNode}, unless null), else the serving terminating ones. */
    private static Plan.Endpoint[] candidates(Snapshot s, String localNode) {
        if (localNode == null) {
            return s.ready().length > 0 ? s.ready() : s.servingTerminating();
        }
        Plan.Endpoint[] local = s.readyByNode().getOrDefault(localNode, NONE);
        return local.length > 0 ? local : s.servingTerminatingByNode().getOrDefault(localNode, NONE);
    }

    private boolean anyHealthy(Plan.Endpoint[] candidates) {
        for (Plan.Endpoint e : candidates) {
            if (!unhealthy.contains(e.address())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Picks an endpoint for an HTTP request: as {@link #pick}, leaving out endpoints the gateway
     * ejected (a refused connection, or {@value #EJECT_AFTER_5XX} 5xx answers in a row) until their
     * cool-down ends; when every endpoint is ejected they are used anyway, as Envoy's panic mode does.
     */
    Plan.Endpoint pickForRequest(Set<InetSocketAddress> exclude) {
        if (!outliers.isEmpty()) {
            long now = System.nanoTime();
            Set<InetSocketAddress> out = exclude == null ? new java.util.HashSet<>() : new java.util.HashSet<>(exclude);
            outliers.forEach((address, o) -> {
                if (o.ejectedUntilNanos != 0 && o.ejectedUntilNanos - now > 0) {
                    out.add(address);
                }
            });
            if (!out.isEmpty()) {
                Plan.Endpoint e = pick(null, null, out);
                if (e != null) {
                    return e;
                }
            }
        }
        return pick(null, null, exclude);
    }

    /** A connection to an endpoint was refused or reset before any answer: it is ejected for a while. */
    void connectFailed(InetSocketAddress endpoint) {
        Outlier o = outliers.computeIfAbsent(endpoint, k -> new Outlier());
        o.ejectedUntilNanos = System.nanoTime() + EJECTION_NANOS;
    }

    /** An endpoint answered: 5xx in a row eject it, anything else resets the count. */
    void responded(InetSocketAddress endpoint, int status) {
        if (status >= 500) {
            Outlier o = outliers.computeIfAbsent(endpoint, k -> new Outlier());
            if (++o.failures >= EJECT_AFTER_5XX) {
                o.failures = 0;
                o.ejectedUntilNanos = System.nanoTime() + EJECTION_NANOS;
            }
        } else if (!outliers.isEmpty()) {
            Outlier o = outliers.get(endpoint);
            if (o != null) {
                if (o.ejectedUntilNanos - System.nanoTime() <= 0) {
                    outliers.remove(endpoint, o);
                } else {
                    o.failures = 0;
                }
            }
        }
    }

    /** HTTP requests in flight to this cluster, and how many of them are retrying: the retry budget. */
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger activeRetries = new AtomicInteger();
    /** Retries may be at most this share of the requests in flight ... */
    static final double RETRY_BUDGET = 0.2;
    /** ... or this many, whichever is more (Envoy's retry budget, with its defaults). */
    static final int MIN_RETRY_CONCURRENCY = 3;

    /**
     * Takes a place among the requests in flight to this cluster (its mirrored copies included);
     * false at the cluster's cap, {@code portway.dev/max-connections}, as Envoy's circuit breaker
     * on {@code max_requests} answers 503: a few clients with many HTTP/2 streams each cannot open
     * a connection to the backend per stream without bound.
     */
    boolean tryRequest() {
        int max = spec().maxConnections();
        for (;;) {
            int n = activeRequests.get();
            if (n >= max) {
                return false;
            }
            if (activeRequests.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Requests in flight to this cluster now, mirrored copies included (for tests). */
    int requestsInFlight() {
        return activeRequests.get();
    }

    void requestEnded(boolean retried) {
        activeRequests.decrementAndGet();
        if (retried) {
            activeRetries.decrementAndGet();
        }
    }

    /**
     * Takes a place in the retry budget for a request's first retry; false when the budget is
     * spent (a failing backend then sees its load fall instead of multiply).
     */
    boolean startRetrying() {
        int limit = Math.max(MIN_RETRY_CONCURRENCY, (int) (activeRequests.get() * RETRY_BUDGET));
        while (true) {
            int n = activeRetries.get();
            if (n >= limit) {
                return false;
            }
            if (activeRetries.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Whether the gateway has an endpoint ejected now (status, metrics). */
    boolean isEjected(InetSocketAddress endpoint) {
        Outlier o = outliers.get(endpoint);
        return o != null && o.ejectedUntilNanos != 0 && o.ejectedUntilNanos - System.nanoTime() > 0;
    }

    /** Where a pick starts among {@code n} candidates: the next in turn, or a random one. */
    private int start(Snapshot s, int n) {
        return s.spec().balancer() == Plan.Balancer.RANDOM ? ThreadLocalRandom.current().nextInt(n) : Math.floorMod(next.getAndIncrement(), n);
    }

    private Plan.Endpoint choose(Plan.Endpoint[] candidates, int start, boolean checked, Set<InetSocketAddress> exclude) {
        int n = candidates.length;
        for (int i = 0; i < n; i++) {
            Plan.Endpoint e = candidates[(start + i) % n];
            if (usable(e, checked, exclude)) {
                return e;
            }
        }
        return null;
    }

    private boolean usable(Plan.Endpoint e, boolean checked, Set<InetSocketAddress> exclude) {
        return (exclude == null || !exclude.contains(e.address())) && (!checked || !unhealthy.contains(e.address()));
    }

    private static boolean contains(Plan.Endpoint[] candidates, Plan.Endpoint e) {
        for (Plan.Endpoint c : candidates) {
            if (c.address().equals(e.address())) {
                return true;
            }
        }
        return false;
    }

    /** How many clients are remembered for ClientIP affinity now. */
    int affinityEntries() {
        synchronized (affinity) {
            return affinity.size();
        }
    }

    /** Forgets affinity entries past the timeout in force, and all of them once the Service has no affinity. */
    void expireAffinity() {
        var timeout = snapshot.spec().affinityTimeout();
        long now = System.nanoTime();
        synchronized (affinity) {
            if (timeout == null) {
                affinity.clear(); // turned off: turned on again, the old pins must not come back
            } else if (!affinity.isEmpty()) {
                affinity.values().removeIf(s -> now - s.lastSeenNanos >= timeout.toNanos());
            }
        }
    }

    /** Records an upstream connection so that draining can find it. */
    void track(InetSocketAddress endpoint, Channel upstream) {
        // per key, atomically: the last connection to an endpoint takes its set with it (pods come and
        // go; their addresses must not pile up for the cluster's lifetime)
        connections.compute(endpoint, (k, set) -> {
            Set<Channel> s = set == null ? ConcurrentHashMap.newKeySet() : set;
            s.add(upstream);
            return s;
        });
        upstream.closeFuture().addListener(f -> connections.computeIfPresent(endpoint, (k, set) -> {
            set.remove(upstream);
            return set.isEmpty() ? null : set;
        }));
    }

    /** Endpoints with a connection open now (for tests). */
    int endpointsWithConnections() {
        return connections.size();
    }

    /** The connections open to an endpoint now. */
    List<Channel> connectionsTo(InetSocketAddress endpoint) {
        Set<Channel> set = connections.get(endpoint);
        return set == null ? List.of() : List.copyOf(set);
    }

    int openConnections() {
        int n = 0;
        for (Set<Channel> s : connections.values()) {
            n += s.size();
        }
        return n;
    }

    List<Channel> allConnections() {
        List<Channel> all = new ArrayList<>();
        connections.values().forEach(all::addAll);
        return all;
    }
}
