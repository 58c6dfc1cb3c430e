package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.bootstrap.Bootstrap;
import java.net.InetSocketAddress;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * A copy of a request sent to a RequestMirror filter's backend, fire and forget: its own
 * connection (on the client's event loop), the same head and body, and an answer that is read and
 * dropped. A mirror never slows the real request down: body parts that arrive before the mirror's
 * connection is up wait only up to {@link #MAX_PENDING_BYTES}, and a mirror that cannot keep up
 * (not writable) is abandoned, as is one that takes longer than {@link #TIMEOUT_SECONDS}.
 */
final class MirrorRequest {

    static final int MAX_PENDING_BYTES = 256 * 1024;
    static final int TIMEOUT_SECONDS = 10;

    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private int pendingBytes;
    private Channel channel;
    private boolean abandoned;

    private MirrorRequest() {
    }

    /**
     * Starts a mirror of {@code head} (already prepared for upstream) to an endpoint of {@code cluster};
     * null when it has none, or has its cap of requests in flight (a mirror counts as one until its
     * connection closes).
     */
    static MirrorRequest start(DataPlane plane, ClusterRuntime cluster, HttpRequest head, EventLoop loop, java.net.InetAddress gateway) {
        Plan.Endpoint endpoint = cluster.pickForRequest(null);
        if (endpoint == null || !cluster.tryRequest()) {
            return null;
        }
        java.net.InetAddress source = HttpExchange.upstreamSource(gateway, endpoint.address()); // as the request it copies
        MirrorRequest m = new MirrorRequest();
        HttpRequest copy = new DefaultHttpRequest(head.protocolVersion(), head.method(), head.uri(), head.headers().copy());
        copy.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        m.pending.add(copy);
        ChannelFuture f = new Bootstrap()
                .group(loop)
                .channel(plane.transport().socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, plane.connectTimeoutMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new Discard());
                    }
                })
                .connect(endpoint.address(), source == null ? null : new InetSocketAddress(source, 0));
        if (f.isDone() && !f.channel().isRegistered()) {
            // no socket could be made (no descriptor left): nothing opened, nothing to count or to close
            cluster.requestEnded(false);
            return null;
        }
        m.channel = f.channel();
        ScheduledFuture<?> timeout = loop.schedule(m::abandon, TIMEOUT_SECONDS, TimeUnit.SECONDS);
        m.channel.closeFuture().addListener(closed -> {
            cluster.requestEnded(false);
            timeout.cancel(false);
            // closed before the body was all sent (the mirror answered early, or reset): what comes later has
            // nowhere to go, and what waits must not wait for good
            m.abandon();
        });
        f.addListener(done -> {
            if (!done.isSuccess() || m.abandoned) {
                m.abandon();
                return;
            }
            Object o;
            while ((o = m.pending.pollFirst()) != null) {
                m.channel.write(o, m.channel.voidPromise());
            }
            m.pendingBytes = 0;
            m.channel.flush();
        });
        return m;
    }

    /** A part of the request body (not consumed: the mirror takes its own reference). */
    void content(HttpContent c) {
        if (abandoned) {
            return;
        }
        if (channel.isActive() && pending.isEmpty()) {
            if (!channel.isWritable()) {
                abandon();
                return;
            }
            channel.write(c.retainedDuplicate(), channel.voidPromise());
            if (c instanceof LastHttpContent) {
                channel.flush();
            }
            return;
        }
        pendingBytes += c.content().readableBytes();
        if (pendingBytes > MAX_PENDING_BYTES) {
            abandon();
            return;
        }
        pending.add(c.retainedDuplicate());
    }

    void flush() {
        if (!abandoned && channel.isActive() && pending.isEmpty()) {
            channel.flush();
        }
    }

    void abandon() {
        abandoned = true;
        Object o;
        while ((o = pending.pollFirst()) != null) {
            ReferenceCountUtil.release(o);
        }
        channel.close();
    }

    /** Reads the mirror's answer and drops it; the connection closes when the answer ends. */
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean last = msg instanceof LastHttpContent;
            ReferenceCountUtil.release(msg);
            if (last) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
