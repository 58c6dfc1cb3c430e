package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;

/**
 * An accepted connection, until its upstream is connected: picks an endpoint, connects to it
 * from the address the listener's NAT rule says (the client's, or the node's), tries another
 * endpoint when one refuses, then hands both channels to {@link RelayHandler}s and removes
 * itself. The upstream channel is created on the accepted channel's own event loop, so the pair
 * never needs a lock. Nothing is read from the client until the upstream is there, except when
 * the client's end comes first: Netty's epoll transport then reads what came before the end
 * unasked (its EPOLLRDHUP path ignores auto-read). That is kept, with the end, and passed on
 * once the upstream is there, as a NAT would pass it on.
 *
 * <p><b>The fused LoadBalancer hop.</b> A LoadBalancer listener picks a node, and the node's
 * NodePort listener picks a pod. When that NodePort listener is this data plane's own (a local
 * cluster), the connection is handed to it in-process instead of through a loopback connection
 * into it ({@link DataPlane#nodePortListener}): the node listener counts and admits it, picks the
 * pod by its own rules (traffic policy, affinity, SNAT to the node's address or the client's kept),
 * and one upstream connection is opened, where the real second hop takes three connections and
 * two relays. The LoadBalancer's cluster still tracks and counts the connection as it would the
 * one to the node, and the metrics count what the real hop's two listeners would. A node whose
 * listener would refuse the connection (closed: no usable endpoint) is treated as one that
 * refused it: another is tried. A node at its connection limit resets it, as the real one does.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter {

    /** How many endpoints a connection tries before giving up. */
    static final int MAX_ATTEMPTS = 3;

    private final DataPlane plane;
    private final TcpListener listener;
    private Set<InetSocketAddress> refused;
    /** The endpoints the last pick chose from: when they are still the cluster's at connect, nothing left meanwhile. */
    private ClusterRuntime.Snapshot pickedFrom;
    /** On a fused LoadBalancer hop: the node's listener that took the connection, the LB's cluster and the node picked. */
    private TcpListener node;
    private ClusterRuntime lbCluster;
    private Plan.Endpoint lbEndpoint;
    /** What the client sent before its end, read before the upstream was there; null when nothing was. */
    private java.util.ArrayDeque<ByteBuf> early;
    /** The capacity of {@link #early}'s buffers, counted in the relays' budget of held reads. */
    private long earlyHeld;
    /** The client ended its side before the upstream was there. */
    private boolean earlyEnd;

    FrontendHandler(DataPlane plane, TcpListener listener) {
        this.plane = plane;
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Plan.Listener spec = listener.spec();
        InetSocketAddress client = (InetSocketAddress) ctx.channel().remoteAddress();
        listener.counters().accepted().inc();
        if (!listener.allows(client.getAddress())) {
            plane.metrics().refused(spec, "source_range");
            DataPlane.reset(ctx.channel());
            return;
        }
        ClusterRuntime target = plane.cluster(spec.cluster());
        int max = target == null ? Integer.MAX_VALUE : target.spec().maxConnections();
        if (!listener.admit(ctx.channel(), max)) {
            // a flood on one listener takes its own slots, not every descriptor of the proxy
            plane.metrics().refused(spec, "connection_limit");
            DataPlane.reset(ctx.channel());
            return;
        }
        connect(ctx, spec, client, 1);
    }

    private void connect(ChannelHandlerContext ctx, Plan.Listener spec, InetSocketAddress client, int attempt) {
        Channel inbound = ctx.channel();
        ClusterRuntime cluster = plane.cluster(spec.cluster());
        pickedFrom = cluster == null ? null : cluster.snapshot();
        Plan.Endpoint endpoint = cluster == null ? null
                : cluster.pick(client.getAddress(), spec.localOnly() ? spec.nodeName() : null, refused);
        if (endpoint == null) {
            plane.metrics().refused(spec, refused == null ? "no_endpoints" : "upstream_refused");
            DataPlane.reset(inbound);
            return;
        }
        if (node == null && spec.role() == Plan.Role.LOAD_BALANCER) {
            TcpListener nodePort = plane.nodePortListener(endpoint.address());
            if (nodePort != null) {
                switch (enter(inbound, nodePort, client)) {
                    case TAKEN -> {
                        node = nodePort;
                        lbCluster = cluster;
                        lbEndpoint = endpoint;
                        refused = null;
                        connect(ctx, nodePort.spec(), client, 1);
                    }
                    case REFUSED -> failed(ctx, spec, endpoint, client, attempt);
                    case RESET -> DataPlane.reset(inbound);
                }
                return;
            }
        }
        Bootstrap b = plane.upstreamBootstrap(inbound.eventLoop(), endpoint.address());
        InetAddress source = sourceAddress(spec, client, endpoint.address(), plane.endpointsLocal());
        ChannelFuture f = source == null ? b.connect(endpoint.address()) : b.connect(endpoint.address(), new InetSocketAddress(source, 0));
        f.addListener(done -> {
            if (!inbound.eventLoop().inEventLoop()) {
                // a channel that could not even be registered (no descriptor left) fails on Netty's
                // global executor: the connection's state is its own event loop's alone
                inbound.eventLoop().execute(() -> connected(ctx, spec, cluster, endpoint, f, client, attempt));
                return;
            }
            connected(ctx, spec, cluster, endpoint, f, client, attempt);
        });
    }

    private void connected(ChannelHandlerContext ctx, Plan.Listener spec, ClusterRuntime cluster, Plan.Endpoint endpoint,
                           ChannelFuture f, InetSocketAddress client, int attempt) {
        if (!ctx.channel().isActive()) {
            dev.portway.net.Transport.close(f.channel()); // a failed channel (no descriptor) has no loop to close on
            return;
        }
        if (f.isSuccess()) {
            upstreamConnected(ctx, spec, cluster, endpoint, f.channel(), client);
        } else {
            failed(ctx, spec, endpoint, client, attempt);
        }
    }

    /** {@code endpoint} refused the connection: another is tried, up to {@value #MAX_ATTEMPTS} in all. */
    private void failed(ChannelHandlerContext ctx, Plan.Listener spec, Plan.Endpoint endpoint, InetSocketAddress client, int attempt) {
        plane.metrics().upstreamFailure(spec);
        if (refused == null) {
            refused = new HashSet<>();
        }
        refused.add(endpoint.address());
        if (attempt < MAX_ATTEMPTS) {
            connect(ctx, spec, client, attempt + 1);
        } else {
            plane.metrics().refused(spec, "upstream_refused");
            DataPlane.reset(ctx.channel());
        }
    }

    /** What a node's listener does with a connection a LoadBalancer hands it in-process. */
    private enum Entry {
        /** It takes it, and picks a pod. */
        TAKEN,
        /** It would have refused the connection (closed: no usable endpoint): another node is tried. */
        REFUSED,
        /** It accepted and reset it (its connection limit): so does the LoadBalancer, as with the real hop. */
        RESET
    }

    /**
     * What the node's NodePort listener does with a connection it accepts, for a connection the
     * LoadBalancer hands it in-process: counts it as the real hop's two listeners would, and takes
     * one of its connection slots.
     */
    private Entry enter(Channel inbound, TcpListener nodePort, InetSocketAddress client) {
        Plan.Listener spec = nodePort.spec();
        ClusterRuntime target = plane.cluster(spec.cluster());
        // a listener without usable endpoints is closed, and a connection to it refused: so is this one
        if (target == null || !target.hasUsableEndpoints(spec.localOnly() ? spec.nodeName() : null)
                || !nodePort.allows(client.getAddress())) {
            return Entry.REFUSED;
        }
        // the LoadBalancer's connection to the node is made; the node's listener accepts it
        listener.counters().connected().inc();
        nodePort.counters().accepted().inc();
        if (!nodePort.admitAgain(inbound, target.spec().maxConnections())) {
            plane.metrics().refused(spec, "connection_limit");
            return Entry.RESET;
        }
        return Entry.TAKEN;
    }

    private void upstreamConnected(ChannelHandlerContext ctx, Plan.Listener spec, ClusterRuntime cluster, Plan.Endpoint endpoint,
                                   Channel upstream, InetSocketAddress client) {
        Channel inbound = ctx.channel();
        cluster.track(endpoint.address(), upstream);
        if (cluster.snapshot() != pickedFrom || plane.cluster(cluster.name()) != cluster) {
            // the endpoints changed while this connection was being made: if its endpoint left, the
            // draining of it ran before the connection was tracked, and missed it
            plane.drainIfLeft(cluster, endpoint);
        }
        java.util.concurrent.atomic.LongAdder lbToUpstream = null;
        java.util.concurrent.atomic.LongAdder lbFromUpstream = null;
        InetSocketAddress proxyDestination = (InetSocketAddress) inbound.localAddress();
        if (node != null) {
            // the fused hop: the node's listener connected too, and the LoadBalancer's cluster has a connection to the node
            node.counters().connected().inc();
            lbCluster.track(lbEndpoint.address(), upstream);
            lbToUpstream = lbCluster.bytesToUpstream;
            lbFromUpstream = lbCluster.bytesFromUpstream;
            proxyDestination = lbEndpoint.address();
        }
        RelayHandler.Session session = new RelayHandler.Session();
        if (cluster.spec().proxyProtocol()) {
            ProxyProtocol.sendV2Header(upstream, client, proxyDestination);
        }
        upstream.pipeline().addLast(new RelayHandler(inbound, cluster.bytesFromUpstream, lbFromUpstream, session));
        inbound.pipeline().addLast(new RelayHandler(upstream, cluster.bytesToUpstream, lbToUpstream, session));
        if (node == null) {
            listener.counters().connected().inc();
        }
        java.time.Duration idle = cluster.spec().tcpIdleTimeout();
        if (idle != null && !idle.isZero()) {
            // on a fused hop both proxies' idle timeouts would have fired: both count it
            Plan.Listener lb = node == null ? null : listener.spec();
            session.closeWhenIdle(inbound, upstream, idle.toNanos(), () -> {
                plane.metrics().idleClosed(spec);
                if (lb != null) {
                    plane.metrics().idleClosed(lb);
                }
            });
        }
        java.util.ArrayDeque<ByteBuf> sent = early;
        early = null;
        HeldReads.release(earlyHeld); // the relay counts them again as it writes them
        earlyHeld = 0;
        inbound.pipeline().remove(this);
        if (sent != null) {
            // the relay passes it on and counts it, as if read now
            for (ByteBuf b : sent) {
                inbound.pipeline().fireChannelRead(b);
            }
            inbound.pipeline().fireChannelReadComplete();
        }
        if (earlyEnd) {
            inbound.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
        upstream.read();
        RelayHandler.read(inbound);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            int held = buf.capacity();
            if (!HeldReads.hold(earlyHeld, held, HeldReads.SMALL)) {
                // past twice the budget of held reads: this client is not let hold more while its upstream is made
                buf.release();
                DataPlane.reset(ctx.channel());
                return;
            }
            earlyHeld += held;
            if (early == null) {
                early = new java.util.ArrayDeque<>(2);
            }
            early.add(buf);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            earlyEnd = true;
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // the connection went before its upstream was there: what the client sent goes with it
        if (early != null) {
            early.forEach(ReferenceCountUtil::release);
            early = null;
            HeldReads.release(earlyHeld);
            earlyHeld = 0;
        }
    }

    /**
     * The source of a connection (TCP here, a UDP flow's too) to an endpoint on this machine: the
     * node's address for SNAT; else the client's own address when it can be used as a source here
     * (any loopback address can); else, for a client from outside the machine (a LoadBalancer or
     * external IP on a real interface), the node's address or, for a listener of no node, the
     * listener's own. Not the system's choice when it can be helped: towards a loopback endpoint
     * that is 127.0.0.1, and the endpoint would take a client from elsewhere for a process of its
     * own machine (Redis' protected mode, an admin port open to localhost only). An address of
     * another family than the endpoint's cannot be its source: an IPv6 client from outside the
     * machine, of an IPv6 external IP, is left to the system, and its pod sees 127.0.0.1 (the README
     * says so under externalTrafficPolicy).
     *
     * @param endpointsLocal false for endpoints elsewhere ({@code portway controller}'s nodes),
     *                       where the system chooses, as a cloud load balancer's SNAT does
     * @return the address to bind, or null for the system's choice
     */
    static InetAddress sourceAddress(Plan.Listener spec, InetSocketAddress client, InetSocketAddress endpoint, boolean endpointsLocal) {
        if (!endpointsLocal) {
            return null;
        }
        InetAddress chosen;
        if (spec.source() == Plan.Source.NODE && spec.nodeIp() != null) {
            chosen = new InetSocketAddress(spec.nodeIp(), 0).getAddress();
        } else if (client.getAddress().isLoopbackAddress()) {
            chosen = client.getAddress() instanceof Inet4Address ? client.getAddress() : null; // ::1: the system's 127.0.0.1 is true
        } else {
            chosen = spec.nodeIp() != null ? new InetSocketAddress(spec.nodeIp(), 0).getAddress() : spec.key().address().getAddress();
        }
        return chosen != null && chosen.getClass() == endpoint.getAddress().getClass() ? chosen : null;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
