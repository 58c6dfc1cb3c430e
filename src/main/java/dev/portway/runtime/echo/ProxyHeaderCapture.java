package dev.portway.runtime.echo;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.util.AttributeKey;

/** Keeps the client address a PROXY protocol header carried, for the echo's answer. */
final class ProxyHeaderCapture extends ChannelInboundHandlerAdapter {

    /** {@code address:port} of the client as the proxy saw it. */
    static final AttributeKey<String> PROXIED_CLIENT = AttributeKey.valueOf("portway.proxied-client");

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage header) {
            try {
                if (header.sourceAddress() != null) {
                    ctx.channel().attr(PROXIED_CLIENT).set(header.sourceAddress() + ":" + header.sourcePort());
                }
            } finally {
                header.release();
            }
            ctx.pipeline().remove(this);
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
