package dev.portway.admin;

import dev.portway.api.ApiException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * A watch over WebSocket, as kube-apiserver serves one to a request that asks to upgrade
 * (fabric8's informers and watches ask for it by default): the handshake, then each watch event
 * as one text message, the same JSON as a line of the streamed watch. What the client sends is
 * read and dropped, as kube-apiserver ignores it, except that a ping is answered (while the client
 * reads) and a close ends the watch. The watch's end (its timeout, or a client cut off for leaving
 * too much unread) is a normal close.
 *
 * <p>Once upgraded, the connection is no longer HTTP: the request timeouts, the gate (which has
 * let the request through) and keep-alive leave its pipeline.
 */
final class WatchSocket {

    /** The largest message a client may send (it has nothing to say). */
    private static final int MAX_CLIENT_FRAME = 4096;

    private WatchSocket() {
    }

    /** Whether the request asks for a WebSocket, as Go's {@code wsstream.IsWebSocketRequest} reads it. */
    static boolean isUpgrade(HttpRequest request) {
        return request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && HttpHeaderValues.WEBSOCKET.contentEqualsIgnoreCase(request.headers().get(HttpHeaderNames.UPGRADE, ""));
    }

    /**
     * Refuses, before anything of the connection changes, an upgrade the handshake would fail on:
     * RFC 6455's version 13 only (Netty would also take the drafts before it, and throw on a
     * malformed one after taking the connection apart), with its key, on a GET.
     *
     * @throws ApiException 400, as a request the server cannot take
     */
    static void check(FullHttpRequest request) {
        if (!HttpMethod.GET.equals(request.method())) {
            throw new ApiException(Statuses.badRequest("a WebSocket upgrade is a GET"));
        }
        if (!"13".equals(request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
            throw new ApiException(Statuses.badRequest("unsupported WebSocket version (expected Sec-WebSocket-Version: 13)"));
        }
        String key = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        if (key == null || key.isBlank()) {
            throw new ApiException(Statuses.badRequest("a WebSocket upgrade needs a Sec-WebSocket-Key"));
        }
    }

    /**
     * Upgrades the connection ({@link #check checked} first) and, once the handshake is written,
     * runs {@code start}.
     *
     * @param ctx the API handler's context (the frames' handler goes before it)
     */
    static void accept(ChannelHandlerContext ctx, FullHttpRequest request, Runnable start) {
        WebSocketServerHandshaker handshaker = takeOver(ctx, request, null, MAX_CLIENT_FRAME);
        if (handshaker == null) {
            return;
        }
        ctx.pipeline().addBefore(ctx.name(), "watch-frames", new Frames());
        handshaker.handshake(ctx.channel(), request).addListener(f -> {
            if (!f.isSuccess()) {
                ctx.close();
                return;
            }
            try {
                start.run();
            } catch (RuntimeException e) {
                // Netty drops what a listener throws: the connection would stay, upgraded, with no watch
                ctx.close();
                throw e;
            }
        });
    }

    /**
     * The handshaker for an upgrade ({@link #check checked} first), with the handlers of HTTP
     * requests (the timeouts, the gate, keep-alive) taken out of the connection's pipeline: null,
     * answered and closed, for a WebSocket version Netty does not take.
     *
     * @param subprotocols the subprotocols served, comma-separated, or null
     */
    static WebSocketServerHandshaker takeOver(ChannelHandlerContext ctx, FullHttpRequest request, String subprotocols, int maxFrame) {
        String url = "wss://" + request.headers().get(HttpHeaderNames.HOST, "") + request.uri();
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(url, subprotocols, false, maxFrame).newHandshaker(request);
        if (handshaker == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel()).addListener(ChannelFutureListener.CLOSE);
            return null;
        }
        if (!ctx.channel().isActive()) {
            return null; // the client left while its request was looked into
        }
        ChannelPipeline p = ctx.pipeline();
        p.remove(RequestTimeouts.class);
        p.remove(RequestGate.class);
        p.remove(HttpServerKeepAliveHandler.class);
        // a request pipelined behind the upgrade stopped reading (it waits, and is dropped with the connection):
        // from here on the connection carries frames
        ctx.channel().config().setAutoRead(true);
        return handshaker;
    }

    /**
     * Ends an upgraded watch: a normal close, then the connection closes. A client that has stopped
     * reading (the close would wait behind what it left unread) is closed at once, and one that reads
     * too slowly gets the hold timeout, as an unread answer does.
     */
    static void close(ChannelHandlerContext ctx) {
        if (!ctx.channel().isWritable()) {
            ctx.close();
            return;
        }
        ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE)).addListener(ChannelFutureListener.CLOSE);
        ctx.executor().schedule(() -> {
            ctx.close();
        }, ApiHandler.HOLD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** What the client sends: pings answered, a close ends the watch, anything else dropped. */
    private static final class Frames extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof PingWebSocketFrame ping) {
                if (ctx.channel().isWritable()) {
                    ctx.writeAndFlush(new PongWebSocketFrame(ping.content()));
                } else {
                    ping.release(); // a client that pings and reads nothing would have its pongs pile up
                }
            } else if (msg instanceof CloseWebSocketFrame close) {
                close.release();
                WatchSocket.close(ctx);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
