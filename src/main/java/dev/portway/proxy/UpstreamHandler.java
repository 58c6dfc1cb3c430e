package dev.portway.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;

/**
 * The end of an upstream connection's pipeline (after its HTTP client codec): passes what the
 * endpoint sends to the exchange that borrowed the connection. An idle pooled connection reads
 * too, so that it notices when the endpoint closes it; anything else it receives while idle is a
 * protocol error, and the connection is closed.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {

    private final java.net.InetAddress source;
    private final InetSocketAddress endpoint;
    private final Http1ClientCodec codec;
    private HttpExchange exchange;
    private long idleSince;

    UpstreamHandler(java.net.InetAddress source, InetSocketAddress endpoint, Http1ClientCodec codec) {
        this.source = source;
        this.endpoint = endpoint;
        this.codec = codec;
    }

    Http1ClientCodec codec() {
        return codec;
    }

    InetSocketAddress endpoint() {
        return endpoint;
    }

    long idleSince() {
        return idleSince;
    }

    /** Lends the connection to an exchange. */
    void attach(HttpExchange e) {
        this.exchange = e;
        codec.lent(true);
    }

    /** The exchange is done with the connection: it goes back to the pool (the caller puts it there). */
    void detach() {
        this.exchange = null;
        this.idleSince = System.nanoTime();
        codec.lent(false);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        HttpExchange e = exchange;
        if (e != null) {
            e.upstreamRead(msg);
        } else {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        HttpExchange e = exchange;
        if (e != null) {
            e.upstreamReadComplete();
        } else {
            ctx.read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        HttpExchange e = exchange;
        if (e != null && ctx.channel().isWritable()) {
            e.upstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        HttpExchange e = exchange;
        exchange = null;
        if (e != null) {
            e.upstreamClosed(null);
        } else {
            UpstreamPool.current().remove(source, endpoint, ctx.channel());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        HttpExchange e = exchange;
        exchange = null;
        if (e != null) {
            e.upstreamClosed(cause);
        }
        ctx.close();
    }
}
