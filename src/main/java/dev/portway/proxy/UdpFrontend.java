package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The UDP side of a listener: each client address gets a flow (its own upstream socket to one
 * endpoint, on the listener's event loop), replies go back from the listener's address, and a
 * flow ends after its idle timeout or as soon as its endpoint leaves the cluster or stops serving
 * (kube-proxy clears the conntrack entries of such UDP endpoints at once).
 */
final class UdpFrontend extends ChannelInboundHandlerAdapter {

    /** Datagrams held per flow while its upstream socket is being set up. */
    private static final int MAX_QUEUED = 64;

    /**
     * Every datagram is read whole: up to the largest UDP payload (Netty's default, 2 KiB, cut
     * larger ones short without a word, as a read into too small a buffer does).
     */
    static final RecvByteBufAllocator DATAGRAMS = new FixedRecvByteBufAllocator(65535).maxMessagesPerRead(16);

    private final DataPlane plane;
    private final UdpListener listener;
    private final Map<InetSocketAddress, Flow> flows = new HashMap<>();
    /**
     * Flows not assured yet, oldest first: the first to go when the table is full (conntrack's
     * early drop; {@link #victimFor} says who may take whose). As in conntrack, a flow is assured
     * once it has been answered and is still active two seconds after it began: one reply alone
     * made it permanent before, so one host sending a question from each of 10,000 ports to a DNS
     * endpoint filled the table with flows that could not go, and every new client was refused.
     */
    private final LinkedHashMap<InetSocketAddress, Flow> evictable = new LinkedHashMap<>();
    /** How long a flow answered must go on before it is assured (conntrack's UDP stream time). */
    static final long ASSURED_AFTER_NANOS = TimeUnit.SECONDS.toNanos(2);
    /**
     * Each source address's flows, oldest first. Assured flows are no proof of good faith: a host
     * that asks again from each of its ports two seconds later assures them all, and a table full of
     * its flows refused every other client ({@link #victimFor}).
     */
    private final Map<InetAddress, LinkedHashMap<InetSocketAddress, Flow>> bySource = new HashMap<>();
    /** The source holding the most flows, as of the last sweep (a scan of every source per refused datagram would cost a flood its weight). */
    private InetAddress heaviest;
    /**
     * The flows idle longest (at least {@link #IDLE_VICTIM_NANOS}), idlest first, as of the last
     * sweep: the last resort of a table full of assured flows. Assured flows can be made with
     * spoofed sources (the answer goes to the spoofed address; a second datagram two seconds later
     * assures it), one per source: a table full of those refused every new client.
     */
    private final java.util.ArrayDeque<Flow> idlest = new java.util.ArrayDeque<>();
    /** How many idle flows a sweep keeps at hand for {@link #idlest}: new clients a full table can take per sweep. */
    static final int IDLE_CANDIDATES = 64;
    /** How long a flow must have been idle to give way to a new client in a full table. */
    static final long IDLE_VICTIM_NANOS = TimeUnit.SECONDS.toNanos(1);
    private ScheduledFuture<?> sweeper;

    UdpFrontend(DataPlane plane, UdpListener listener) {
        this.plane = plane;
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        sweeper = ctx.executor().scheduleAtFixedRate(this::sweep, 250, 250, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket packet)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        InetSocketAddress client = packet.sender();
        Flow flow = flows.get(client);
        if (flow == null) {
            Plan.Listener spec = listener.spec();
            ClusterRuntime cluster = plane.cluster(spec.cluster());
            if (!listener.allows(client.getAddress())) {
                packet.release();
                return;
            }
            int maxFlows = cluster == null ? Integer.MAX_VALUE : cluster.spec().maxConnections(); // read once: a plan may change it
            Flow giving = null;
            if (flows.size() >= maxFlows) {
                giving = victimFor(client.getAddress());
                if (giving == null) {
                    // full, and no flow may make room for this one: refused before an endpoint is picked (and an affinity entry made)
                    plane.metrics().refused(spec, "flow_limit");
                    packet.release();
                    return;
                }
            }
            Plan.Endpoint endpoint = cluster == null ? null : cluster.pick(client.getAddress(), spec.localOnly() ? spec.nodeName() : null, null);
            if (endpoint == null) {
                plane.metrics().refused(spec, "no_endpoints");
                packet.release();
                return;
            }
            if (giving != null) {
                // a flood of sources takes this listener's flows, not the proxy's memory (see victimFor)
                plane.metrics().refused(spec, "flow_evicted");
                forget(giving);
                giving.close();
            }
            plane.metrics().accepted(spec);
            flow = new Flow(ctx.channel(), client, cluster, endpoint);
            flows.put(client, flow);
            evictable.put(client, flow);
            bySource.computeIfAbsent(client.getAddress(), a -> new LinkedHashMap<>()).put(client, flow);
            flow.open(spec);
        }
        flow.send(compact(packet.content()));
    }

    /** How far into a list of flows, oldest first, a search for one not assured looks (a bound on the work a flood makes). */
    private static final int LOOK_AHEAD = 16;

    /**
     * The flow that makes room in a full table for a new one from {@code newcomer}, or null (the
     * datagram is refused). First, the source that holds the most gives one, its oldest not
     * assured or else its oldest, when it holds at least two more than the newcomer's source: one
     * host cannot lock the others out, even with flows it assured by asking again from each port.
     * Else the newcomer's source gives its own oldest not assured. Else conntrack's early drop: the
     * oldest flow not assured, of a source that holds at least as many as the newcomer's (never a
     * lighter source's for a heavier one: a host could churn flows from new ports and take each
     * other client's flow before it is assured). Last, when every flow is assured: the one idle
     * longest ({@link #idlest}), under the same rule.
     */
    private Flow victimFor(InetAddress newcomer) {
        LinkedHashMap<InetSocketAddress, Flow> ownFlows = bySource.get(newcomer);
        int own = ownFlows == null ? 0 : ownFlows.size();
        LinkedHashMap<InetSocketAddress, Flow> top = heaviest == null ? null : bySource.get(heaviest);
        if (top != null && top.size() >= own + 2) {
            Flow unassured = oldestNotAssured(top.values());
            return unassured != null ? unassured : top.values().iterator().next();
        }
        if (ownFlows != null) {
            Flow unassured = oldestNotAssured(ownFlows.values());
            if (unassured != null) {
                return unassured;
            }
        }
        int looked = 0;
        for (Flow f : evictable.values()) {
            LinkedHashMap<InetSocketAddress, Flow> ofSource = bySource.get(f.client.getAddress());
            if (ofSource != null && ofSource.size() >= own) {
                return f;
            }
            if (++looked == LOOK_AHEAD) {
                break;
            }
        }
        // every flow assured: the one idle longest, of a source that holds at least as many (a flow that is
        // active again since the sweep, or already gone, is passed over)
        long now = System.nanoTime();
        for (Iterator<Flow> it = idlest.iterator(); it.hasNext();) {
            Flow f = it.next();
            if (f.closed || flows.get(f.client) != f || now - f.lastActive < IDLE_VICTIM_NANOS) {
                it.remove(); // gone, or active again since the sweep
                continue;
            }
            LinkedHashMap<InetSocketAddress, Flow> ofSource = bySource.get(f.client.getAddress());
            if (ofSource != null && ofSource.size() >= own) {
                it.remove();
                return f;
            }
            // kept: a lighter newcomer may take it
        }
        return null;
    }

    private static Flow oldestNotAssured(java.util.Collection<Flow> oldestFirst) {
        int looked = 0;
        for (Flow f : oldestFirst) {
            if (!f.assured) {
                return f;
            }
            if (++looked == LOOK_AHEAD) {
                break;
            }
        }
        return null;
    }

    /** Takes {@code f} out of the tables (not the sweep's iteration: it removes through its iterator first). */
    private void forget(Flow f) {
        flows.remove(f.client, f);
        evictable.remove(f.client, f);
        LinkedHashMap<InetSocketAddress, Flow> ofSource = bySource.get(f.client.getAddress());
        if (ofSource != null && ofSource.remove(f.client, f) && ofSource.isEmpty()) {
            bySource.remove(f.client.getAddress());
        }
    }

    /**
     * A datagram in a buffer of its own size when it fills less than half of the one it was read
     * into: a queued or unsent datagram of 100 bytes must not hold 64 KiB. (An unconnected socket's
     * datagram comes as a slice of the read buffer, a connected one's as that buffer.)
     */
    static ByteBuf compact(ByteBuf content) {
        int n = content.readableBytes();
        ByteBuf underlying = content;
        while (underlying.unwrap() != null) {
            underlying = underlying.unwrap(); // through a slice, and a leak detector's wrapper
        }
        if (n > underlying.capacity() / 2) {
            return content;
        }
        try {
            return content.alloc().buffer(n, n).writeBytes(content);
        } finally {
            content.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (sweeper != null) {
            sweeper.cancel(false);
        }
        flows.values().forEach(Flow::close);
        flows.clear();
        evictable.clear();
        idlest.clear();
        bySource.clear();
        ctx.fireChannelInactive();
    }

    /**
     * Ends flows that are idle too long, or whose endpoint is gone or no longer serves (kube-proxy
     * clears the conntrack entries of UDP endpoints that stop serving), or that health checks took
     * out while another passes them (a LoadBalancer's flow to a node that no longer has the pod:
     * kept alive by the client's own datagrams, each refused by the node, it was a black hole for good).
     */
    private void sweep() {
        long now = System.nanoTime();
        // each cluster's usable endpoint addresses once per sweep, not once per flow
        Map<ClusterRuntime, java.util.Set<InetSocketAddress>> endpoints = new java.util.IdentityHashMap<>();
        Plan.Listener spec = listener.spec();
        String localNode = spec.localOnly() ? spec.nodeName() : null;
        Iterator<Flow> it = flows.values().iterator();
        // the idlest flows, the most recently active of them on top (to be dropped when a less active one comes)
        java.util.PriorityQueue<Flow> idle = new java.util.PriorityQueue<>(IDLE_CANDIDATES + 1,
                java.util.Comparator.comparingLong((Flow f) -> f.lastActive).reversed());
        while (it.hasNext()) {
            Flow f = it.next();
            long idleTimeout = f.cluster.spec().udpIdleTimeout().toNanos();
            boolean endpointGone = !endpoints.computeIfAbsent(f.cluster, UdpFrontend::servingEndpoints).contains(f.endpoint.address())
                    || f.cluster.checkedOut(f.endpoint, localNode);
            if (now - f.lastActive > idleTimeout || endpointGone || plane.cluster(f.cluster.name()) != f.cluster || f.closed) {
                f.close();
                it.remove();
                forget(f);
            } else if (now - f.lastActive >= IDLE_VICTIM_NANOS) {
                idle.add(f);
                if (idle.size() > IDLE_CANDIDATES) {
                    idle.poll();
                }
            }
        }
        idlest.clear();
        while (!idle.isEmpty()) {
            idlest.addFirst(idle.poll()); // polled most recently active first: the idlest ends up first
        }
        heaviest = null;
        int most = 0;
        for (Map.Entry<InetAddress, LinkedHashMap<InetSocketAddress, Flow>> e : bySource.entrySet()) {
            if (e.getValue().size() > most) {
                most = e.getValue().size();
                heaviest = e.getKey();
            }
        }
    }

    /** The endpoints of {@code c} that serve (ready, or terminating and still serving). */
    private static java.util.Set<InetSocketAddress> servingEndpoints(ClusterRuntime c) {
        java.util.Set<InetSocketAddress> addresses = new java.util.HashSet<>();
        for (Plan.Endpoint e : c.spec().endpoints()) {
            if (e.serving()) {
                addresses.add(e.address());
            }
        }
        return addresses;
    }

    /** One client's datagrams to one endpoint and back. */
    private final class Flow {
        final Channel downstream;
        final InetSocketAddress client;
        final ClusterRuntime cluster;
        final Plan.Endpoint endpoint;
        final ArrayDeque<ByteBuf> queued = new ArrayDeque<>();
        Channel upstream;
        final long began = System.nanoTime();
        long lastActive = began;
        boolean closed;
        boolean answered;
        boolean assured;

        Flow(Channel downstream, InetSocketAddress client, ClusterRuntime cluster, Plan.Endpoint endpoint) {
            this.downstream = downstream;
            this.client = client;
            this.cluster = cluster;
            this.endpoint = endpoint;
            cluster.udpFlows.incrementAndGet();
        }

        void open(Plan.Listener spec) {
            Bootstrap b = new Bootstrap()
                    .group(downstream.eventLoop())
                    .channel(plane.transport().datagramChannel())
                    // no SO_REUSEADDR: with it the kernel may give two flows' sockets the same port, and
                    // one client's replies reach the other
                    .option(ChannelOption.RECVBUF_ALLOCATOR, DATAGRAMS)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof DatagramPacket reply && !closed && downstream.isWritable()) {
                                answered = true;
                                active();
                                cluster.bytesFromUpstream.add(reply.content().readableBytes());
                                downstream.write(new DatagramPacket(compact(reply.content()), client), downstream.voidPromise());
                            } else {
                                // closed, or the listener's socket is full: dropped, as the kernel drops
                                ReferenceCountUtil.release(msg);
                            }
                        }

                        @Override
                        public void channelReadComplete(ChannelHandlerContext ctx) {
                            downstream.flush();
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            // An ICMP port unreachable from the endpoint: drop, the flow stays until idle.
                        }
                    });
            InetAddress source = FrontendHandler.sourceAddress(spec, client, endpoint.address(), plane.endpointsLocal());
            ChannelFuture bound = b.bind(source == null ? new InetSocketAddress(0) : new InetSocketAddress(source, 0));
            bound.addListener(f -> {
                if (!f.isSuccess()) {
                    plane.metrics().upstreamFailure(spec);
                    // a channel that could not even be registered (no descriptor left) fails on Netty's global
                    // executor: the flow's state is its event loop's alone
                    downstream.eventLoop().execute(this::close);
                    return;
                }
                if (!plane.admitClient(bound.channel())) {
                    // a flow holds a descriptor as a connection does: the process's cap counts it (see DataPlane)
                    plane.metrics().refused(spec, "connection_limit");
                    bound.channel().close();
                    close();
                    return;
                }
                bound.channel().connect(endpoint.address()).addListener(c -> {
                    if (!c.isSuccess() || closed) {
                        bound.channel().close();
                        close();
                        return;
                    }
                    upstream = bound.channel();
                    plane.metrics().connected(spec);
                    ByteBuf buf;
                    while ((buf = queued.poll()) != null) {
                        upstream.write(buf, upstream.voidPromise());
                    }
                    upstream.flush();
                });
            });
        }

        /** A datagram went one way or the other: the flow is active, and assured once answered and two seconds old. */
        void active() {
            lastActive = System.nanoTime();
            if (!assured && answered && lastActive - began >= ASSURED_AFTER_NANOS) {
                assured = true;
                evictable.remove(client, this);
            }
        }

        void send(ByteBuf content) {
            active();
            if (closed) {
                content.release();
            } else if (upstream != null) {
                if (upstream.isWritable()) {
                    cluster.bytesToUpstream.add(content.readableBytes());
                    upstream.writeAndFlush(content, upstream.voidPromise());
                } else {
                    content.release(); // the endpoint's socket is full: dropped, as the kernel drops
                }
            } else if (queued.size() < MAX_QUEUED) {
                cluster.bytesToUpstream.add(content.readableBytes());
                queued.add(content);
            } else {
                content.release();
            }
        }

        void close() {
            if (!closed) {
                closed = true;
                cluster.udpFlows.decrementAndGet();
            }
            ByteBuf buf;
            while ((buf = queued.poll()) != null) {
                buf.release();
            }
            if (upstream != null) {
                upstream.close();
            }
        }
    }
}
