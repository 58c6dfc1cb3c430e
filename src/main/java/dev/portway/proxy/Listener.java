package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelFuture;
import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An address the data plane listens on, open while its Service has somewhere to send traffic
 * and closed otherwise (a connection to a closed address is refused at once, as kube-proxy's
 * REJECT rule refuses it). Binds and closes of one listener happen one after the other, in order.
 */
abstract class Listener {

    private static final Logger log = LoggerFactory.getLogger(Listener.class);

    /** The state of a listener, for metrics and status. */
    enum State {
        BOUND, CLOSED, FAILED
    }

    protected final DataPlane plane;
    private final Plan.ListenerKey key;
    private volatile Plan.Listener spec;
    private volatile ProxyMetrics.ListenerCounters counters;
    /** The allowed clients (loadBalancerSourceRanges), or null when any client is. */
    private volatile List<IpSubnetFilterRule> sourceRanges;
    private Channel channel;
    private volatile State state = State.CLOSED;
    private volatile String failure;
    private CompletableFuture<Void> pending = CompletableFuture.completedFuture(null);
    /** Connections open now, on every event loop. */
    private final dev.portway.net.Slots open = new dev.portway.net.Slots();

    Listener(DataPlane plane, Plan.Listener spec) {
        this.plane = plane;
        this.key = spec.key();
        this.spec = spec;
        this.counters = plane.metrics().counters(spec);
    }

    /**
     * Takes a connection slot for {@code connection}, given back when it closes; false when
     * {@code max} are open already, or the process holds all the client connections its descriptors
     * allow ({@link DataPlane#admitClient}; the caller refuses the connection): a flood on one
     * listener takes its own slots, not every descriptor of the proxy.
     */
    boolean admit(Channel connection, int max) {
        if (!admitAgain(connection, max)) {
            return false;
        }
        if (!plane.admitClient(connection)) {
            return false; // its listener slot comes back as the refused connection closes
        }
        return true;
    }

    /**
     * Each source address's open connections here, and the source that held the most when one last
     * came: at the cap, one client (idle connections live an hour) must not lock every other out.
     */
    private final ConcurrentHashMap<InetAddress, Set<Channel>> bySource =
            new ConcurrentHashMap<>();
    private volatile InetAddress heaviest;
    /** When {@link #heaviest} was last found by a walk over every source (it goes stale as connections close). */
    private volatile long heaviestFoundAt;
    /** How often, at most, a listener at its cap walks its sources for the heaviest (a bound on what a flood makes it do). */
    private static final long FIND_HEAVIEST_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private void track(InetAddress source, Channel connection) {
        // added and removed under the map's lock for the source: a set emptied by a close is never one a new connection joins
        Set<Channel> mine = bySource.compute(source, (k, set) -> {
            Set<Channel> s = set == null ? ConcurrentHashMap.newKeySet() : set;
            s.add(connection);
            return s;
        });
        InetAddress top = heaviest;
        if (top == null || !top.equals(source) && mine.size() > held(top)) {
            heaviest = source;
        }
        // one listener gives the slot back and forgets the connection (a new connection's cost is counted)
        connection.closeFuture().addListener(f -> {
            open.release();
            bySource.computeIfPresent(source, (k, set) -> {
                set.remove(connection);
                return set.isEmpty() ? null : set;
            });
        });
    }

    private int held(InetAddress source) {
        Set<Channel> set = bySource.get(source);
        return set == null ? 0 : set.size();
    }

    /**
     * At the cap: the source holding the most gives up a connection (reset) when it holds at least
     * two more than {@code source}, as the UDP table's rule has it; a lighter source never loses one
     * to a heavier. True when the slot came free at once (the connection given up was this event
     * loop's; another loop's closes a moment later, and the newcomer is refused meanwhile).
     */
    private boolean makeRoom(InetAddress source) {
        long now = System.nanoTime();
        if (now - heaviestFoundAt > FIND_HEAVIEST_EVERY_NANOS) {
            heaviestFoundAt = now;
            InetAddress most = null;
            int count = 0;
            for (var e : bySource.entrySet()) {
                if (e.getValue().size() > count) {
                    count = e.getValue().size();
                    most = e.getKey();
                }
            }
            heaviest = most;
        }
        InetAddress top = heaviest;
        Set<Channel> theirs = top == null || top.equals(source) ? null : bySource.get(top);
        if (theirs == null || theirs.size() < held(source) + 2) {
            return false;
        }
        Channel victim = null;
        for (Channel c : theirs) {
            if (c.eventLoop().inEventLoop()) {
                victim = c;
                break;
            }
            if (victim == null) {
                victim = c;
            }
        }
        if (victim == null || !theirs.remove(victim)) {
            return false; // taken by another newcomer meanwhile
        }
        plane.metrics().refused(spec, "connection_evicted");
        RelayHandler.abort(victim);
        return victim.eventLoop().inEventLoop();
    }

    /** As {@link #admit}, for a connection the process holds already (a LoadBalancer's, fused into a node's listener). */
    boolean admitAgain(Channel connection, int max) {
        InetAddress source = ((InetSocketAddress) connection.remoteAddress()).getAddress();
        if (!open.tryTake(max) && !(makeRoom(source) && open.tryTake(max))) {
            return false;
        }
        track(source, connection);
        return true;
    }

    /** Client connections open here now (not the upstream ones they opened). */
    int openConnections() {
        return open.inUse();
    }

    /** The per-connection counters of the current spec. */
    ProxyMetrics.ListenerCounters counters() {
        return counters;
    }

    Plan.ListenerKey key() {
        return key;
    }

    Plan.Listener spec() {
        return spec;
    }

    State state() {
        return state;
    }

    String failure() {
        return failure;
    }

    /** Takes a new spec (same address); opens or closes as it says. */
    synchronized void update(Plan.Listener updated) {
        this.spec = updated;
        this.counters = plane.metrics().counters(updated);
        this.sourceRanges = sourceRules("loadBalancerSourceRanges", updated.sourceRanges());
        boolean active = updated.active();
        pending = pending.thenCompose(v -> active ? open() : shut());
    }

    /**
     * Binds only once {@code previous} is done: the close of the listener this one replaces on its
     * address (null: none).
     */
    synchronized void after(CompletableFuture<Void> previous) {
        if (previous != null) {
            pending = previous.handle((v, e) -> null);
        }
    }

    /** Completes when what was asked of this listener so far (open, close) is done. */
    synchronized CompletableFuture<Void> settled() {
        return pending;
    }

    /** Closes for good. */
    synchronized CompletableFuture<Void> close() {
        pending = pending.thenCompose(v -> shut());
        return pending;
    }

    /** Whether a client may use this listener ({@code loadBalancerSourceRanges}). */
    boolean allows(InetAddress client) {
        List<IpSubnetFilterRule> ranges = sourceRanges;
        return ranges == null || inAny(ranges, client);
    }

    /**
     * The rules of {@code loadBalancerSourceRanges} (IPv4 and IPv6 CIDRs); null when there are none
     * (any client). A filter fails closed: a range that cannot be read allows no one, and a list of
     * only such ranges (or only IPv6 ranges, for an IPv4 client) lets nobody in.
     */
    static List<IpSubnetFilterRule> sourceRules(String what, List<String> ranges) {
        if (ranges.isEmpty()) {
            return null;
        }
        List<IpSubnetFilterRule> rules = new ArrayList<>();
        for (String r : ranges) {
            int slash = r.indexOf('/');
            InetAddress network = slash < 0 ? null : NetUtil.createInetAddressFromIpAddressString(r.substring(0, slash).trim());
            if (network == null) {
                log.warn("{}: {} is not a CIDR; it allows no one", what, r);
                continue;
            }
            try {
                rules.add(new IpSubnetFilterRule(network, Integer.parseInt(r.substring(slash + 1).trim()), IpFilterRuleType.ACCEPT));
            } catch (IllegalArgumentException e) {
                log.warn("{}: {} is not a CIDR ({}); it allows no one", what, r, e.getMessage());
            }
        }
        return List.copyOf(rules);
    }

    /** Whether a client address is in one of the rules' ranges. */
    static boolean inAny(List<IpSubnetFilterRule> rules, InetAddress client) {
        InetSocketAddress address = new InetSocketAddress(client, 0);
        for (IpSubnetFilterRule rule : rules) {
            if (rule.matches(address)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A server bootstrap on the data plane's workers, for a listener whose connections read on
     * demand; its socket is of the listener's address family. No Nagle: Netty turns TCP_NODELAY on
     * for every accepted channel (see {@link DataPlane#upstreamBootstrap}).
     */
    protected ServerBootstrap tcpServer() {
        return new ServerBootstrap()
                .group(plane.workers())
                .channelFactory(plane.transport().serverChannelFactory(key.address().getAddress()))
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 4096)
                // inherited by every accepted socket (no call per connection): the kernel holds at most twice
                // this for a client, where autotuning would let it grow to tcp_rmem's largest (32 MiB here); a
                // half-close makes Netty's epoll transport read all of it at once, whatever the peer can take
                .option(ChannelOption.SO_RCVBUF, CLIENT_RECEIVE_BUFFER)
                .childOption(ChannelOption.AUTO_READ, false);
    }

    /** A client socket's receive buffer (the kernel doubles it): ample for loopback's bandwidth and delay. */
    static final int CLIENT_RECEIVE_BUFFER = 1 << 20;

    private CompletableFuture<Void> open() {
        if (channel != null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        ChannelFuture f = bind();
        f.addListener(result -> {
            if (result.isSuccess()) {
                channel = f.channel();
                state = State.BOUND;
                failure = null;
                log.debug("listening on {} for {}", key, spec.service());
            } else {
                state = State.FAILED;
                failure = explain(result.cause());
                log.warn("cannot listen on {} for {}: {}", key, spec.service(), failure);
            }
            done.complete(null);
        });
        return done;
    }

    private CompletableFuture<Void> shut() {
        if (channel == null) {
            state = State.CLOSED;
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        Channel c = channel;
        channel = null;
        c.close().addListener(f -> {
            state = State.CLOSED;
            done.complete(null);
        });
        return done;
    }

    /** Binds the listening socket. */
    protected abstract ChannelFuture bind();

    private String explain(Throwable cause) {
        String message = String.valueOf(cause.getMessage());
        if (message.contains("Permission denied") || message.contains("EACCES")) {
            return message + " (ports below 1024 need root, CAP_NET_BIND_SERVICE, or sysctl net.ipv4.ip_unprivileged_port_start=0)";
        }
        if (message.contains("Address already in use")) {
            return message + " (another process listens on " + key.address().getAddress().getHostAddress() + ":"
                    + key.address().getPort() + ")";
        }
        return message;
    }
}
