package dev.portway.runtime.echo;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Looks at the first bytes of a connection and sets up the pipeline for them: a PROXY protocol
 * header (v1 or v2) is decoded first, then HTTP gets the HTTP echo and anything else the byte
 * echo. Removes itself once it has decided; the bytes it held go on to the new handlers.
 */
final class ProtocolSniffer extends ByteToMessageDecoder {

    private static final byte[] PROXY_V2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] PROXY_V1 = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final String[] METHODS = {"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};

    private final EchoServer.Identity identity;
    private final boolean afterProxyHeader;

    ProtocolSniffer(EchoServer.Identity identity) {
        this(identity, false);
    }

    private ProtocolSniffer(EchoServer.Identity identity, boolean afterProxyHeader) {
        this.identity = identity;
        this.afterProxyHeader = afterProxyHeader;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!afterProxyHeader) {
            Match proxy = Match.NO;
            for (byte[] signature : new byte[][] {PROXY_V2, PROXY_V1}) {
                proxy = proxy.or(matches(in, signature));
            }
            if (proxy == Match.MAYBE) {
                return;
            }
            if (proxy == Match.YES) {
                String name = ctx.name();
                ctx.pipeline().addAfter(name, "proxy-protocol", new HAProxyMessageDecoder());
                ctx.pipeline().addAfter("proxy-protocol", "proxy-capture", new ProxyHeaderCapture());
                ctx.pipeline().addAfter("proxy-capture", "sniffer", new ProtocolSniffer(identity, true));
                ctx.pipeline().remove(this);
                return;
            }
        }
        Match http = Match.NO;
        for (String method : METHODS) {
            http = http.or(matches(in, method.getBytes(StandardCharsets.US_ASCII)));
        }
        if (http == Match.MAYBE) {
            return;
        }
        String name = ctx.name();
        if (http == Match.YES) {
            ctx.pipeline().addAfter(name, "http-codec", new HttpServerCodec());
            ctx.pipeline().addAfter("http-codec", "http-keepalive", new HttpServerKeepAliveHandler());
            ctx.pipeline().addAfter("http-keepalive", "http-requests", new EchoRequests(false));
            ctx.pipeline().addAfter("http-requests", "http-echo", new HttpEchoHandler(identity));
        } else {
            ctx.pipeline().addAfter(name, "echo", new ByteEchoHandler());
        }
        ctx.pipeline().remove(this);
    }

    /** A client that resets its connection before its first bytes (a proxy passing a reset on): closed, quietly. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private enum Match {
        YES, MAYBE, NO;

        Match or(Match other) {
            if (this == YES || other == YES) {
                return YES;
            }
            return this == MAYBE || other == MAYBE ? MAYBE : NO;
        }
    }

    /** YES: starts with the prefix; MAYBE: what has arrived so far is the start of it; NO: it is not. */
    private static Match matches(ByteBuf in, byte[] prefix) {
        int n = Math.min(in.readableBytes(), prefix.length);
        for (int i = 0; i < n; i++) {
            if (in.getByte(in.readerIndex() + i) != prefix[i]) {
                return Match.NO;
            }
        }
        return n == prefix.length ? Match.YES : Match.MAYBE;
    }
}
