package dev.portway.admin;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.ReferenceCountUtil;

/**
 * A watch over WebSocket, as kube-apiserver serves one to a request that asks to upgrade
 * (fabric8's informers and watches ask for it by default): the handshake, then each watch event
 * as one text message, the same JSON as a line of the streamed watch. What the client sends is
 * read and dropped, as kube-apiserver ignores it, except that a ping is answered and a close
 * ends the watch. The watch's end (its timeout) is a normal close.
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
     * Upgrades the connection and, once the handshake is written, runs {@code start}; a client that
     * speaks a WebSocket version other than 13 gets 426 and the connection closes.
     *
     * @param ctx the API handler's context (the frames' handler goes before it)
     */
    static void accept(ChannelHandlerContext ctx, FullHttpRequest request, Runnable start) {
        String url = "wss://" + request.headers().get(HttpHeaderNames.HOST, "") + request.uri();
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(url, null, false, MAX_CLIENT_FRAME).newHandshaker(request);
        if (handshaker == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel()).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ChannelPipeline p = ctx.pipeline();
        p.remove(RequestTimeouts.class);
        p.remove(RequestGate.class);
        p.remove(HttpServerKeepAliveHandler.class);
        p.addBefore(ctx.name(), "watch-frames", new Frames());
        handshaker.handshake(ctx.channel(), request).addListener(f -> {
            if (f.isSuccess()) {
                start.run();
            } else {
                ctx.close();
            }
        });
    }

    /** Ends an upgraded watch: a normal close, then the connection closes. */
    static void close(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE)).addListener(ChannelFutureListener.CLOSE);
    }

    /** What the client sends: pings answered, a close ends the watch, anything else dropped. */
    private static final class Frames extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof PingWebSocketFrame ping) {
                ctx.writeAndFlush(new PongWebSocketFrame(ping.content()));
            } else if (msg instanceof CloseWebSocketFrame close) {
                close.release();
                WatchSocket.close(ctx);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
