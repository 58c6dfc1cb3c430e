package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The UDP side of a listener: each client address gets a flow (its own upstream socket to one
 * endpoint, on the listener's event loop), replies go back from the listener's address, and a
 * flow ends after its idle timeout or as soon as its endpoint leaves the cluster (kube-proxy
 * clears conntrack entries of removed UDP endpoints at once).
 */
final class UdpFrontend extends ChannelInboundHandlerAdapter {

    /** Datagrams held per flow while its upstream socket is being set up. */
    private static final int MAX_QUEUED = 64;

    private final DataPlane plane;
    private final UdpListener listener;
    private final Map<InetSocketAddress, Flow> flows = new HashMap<>();
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
            Plan.Endpoint endpoint = cluster == null ? null : cluster.pick(client.getAddress(), spec.localOnly() ? spec.nodeName() : null, null);
            if (endpoint == null) {
                plane.metrics().refused(spec, "no_endpoints");
                packet.release();
                return;
            }
            if (flows.size() >= cluster.spec().maxConnections()) {
                // a flood of sources takes this listener's flows, not the proxy's memory
                plane.metrics().refused(spec, "flow_limit");
                packet.release();
                return;
            }
            plane.metrics().accepted(spec);
            flow = new Flow(ctx.channel(), client, cluster, endpoint);
            flows.put(client, flow);
            flow.open(spec);
        }
        flow.send(packet.content());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (sweeper != null) {
            sweeper.cancel(false);
        }
        flows.values().forEach(Flow::close);
        flows.clear();
        ctx.fireChannelInactive();
    }

    /** Ends flows that are idle too long or whose endpoint is gone. */
    private void sweep() {
        long now = System.nanoTime();
        Iterator<Flow> it = flows.values().iterator();
        while (it.hasNext()) {
            Flow f = it.next();
            long idle = f.cluster.spec().udpIdleTimeout().toNanos();
            boolean endpointGone = f.cluster.spec().endpoints().stream().noneMatch(e -> e.address().equals(f.endpoint.address()));
            if (now - f.lastActive > idle || endpointGone || plane.cluster(f.cluster.name()) != f.cluster || f.closed) {
                f.close();
                it.remove();
            }
        }
    }

    /** One client's datagrams to one endpoint and back. */
    private final class Flow {
        final Channel downstream;
        final InetSocketAddress client;
        final ClusterRuntime cluster;
        final Plan.Endpoint endpoint;
        final ArrayDeque<ByteBuf> queued = new ArrayDeque<>();
        Channel upstream;
        long lastActive = System.nanoTime();
        boolean closed;

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
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof DatagramPacket reply && !closed) {
                                lastActive = System.nanoTime();
                                cluster.bytesFromUpstream.add(reply.content().readableBytes());
                                downstream.write(new DatagramPacket(reply.content(), client), downstream.voidPromise());
                            } else {
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
            InetAddress source = spec.source() == Plan.Source.NODE && spec.nodeIp() != null
                    ? new InetSocketAddress(spec.nodeIp(), 0).getAddress()
                    : client.getAddress() instanceof Inet4Address && client.getAddress().isLoopbackAddress() ? client.getAddress() : null;
            ChannelFuture bound = b.bind(source == null ? new InetSocketAddress(0) : new InetSocketAddress(source, 0));
            bound.addListener(f -> {
                if (!f.isSuccess()) {
                    plane.metrics().upstreamFailure(spec);
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

        void send(ByteBuf content) {
            lastActive = System.nanoTime();
            cluster.bytesToUpstream.add(content.readableBytes());
            if (closed) {
                content.release();
            } else if (upstream != null) {
                upstream.writeAndFlush(content, upstream.voidPromise());
            } else if (queued.size() < MAX_QUEUED) {
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
