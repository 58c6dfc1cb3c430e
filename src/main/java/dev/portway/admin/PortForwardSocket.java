package dev.portway.admin;

import dev.portway.api.ApiException;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdyRstStreamFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdyStreamStatus;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code kubectl port-forward} as kubectl 1.31 and later ask for it: SPDY/3.1 tunnelled through a
 * WebSocket (subprotocol {@code SPDY/3.1+portforward.k8s.io}: the WebSocket's binary messages carry
 * the SPDY session as a byte stream), serving the kubelet's {@code portforward.k8s.io} protocol.
 *
 * <p>For each connection it forwards, the client opens two streams with the same
 * {@code requestID} header: an error stream and a data stream naming the {@code port}. Each is
 * answered (SYN_REPLY); the data stream's bytes go to a connection to the pod's address and port
 * and back, each end's close passed on as a half-close. When the pod's side has ended, the data
 * stream and then the error stream are finished; a connection that fails writes the kubelet's
 * message ({@code error forwarding port 8080 to pod ...}) on the error stream first.
 *
 * <p>As spdystream, kubectl's SPDY, has no flow control, none is kept here either; backpressure is
 * the connections' own: the client's WebSocket is read no more while a pod connection it writes to
 * is full, and a pod connection is read only while the WebSocket takes more. Everything of one
 * client, its WebSocket and its pod connections, runs on one event loop.
 */
final class PortForwardSocket {

    static final String PROTOCOL = "SPDY/3.1+portforward.k8s.io";
    /** The largest WebSocket frame a client may send: client-go writes what SPDY gives it (32 KiB a data frame). */
    private static final int MAX_CLIENT_FRAME = 256 * 1024;

    private PortForwardSocket() {
    }

    /** Refuses, before the connection changes, a client that does not offer the tunnelled protocol. */
    static void check(FullHttpRequest request) {
        String offered = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "");
        if (Arrays.stream(offered.split(",")).map(String::strip).noneMatch(PROTOCOL::equals)) {
            throw new ApiException(Statuses.badRequest("port-forward speaks the WebSocket subprotocol " + PROTOCOL
                    + " (offered: " + (offered.isBlank() ? "none" : offered) + ")"));
        }
    }

    /**
     * Upgrades the connection ({@link #check checked} first) and serves the SPDY session on it,
     * forwarding to {@code pod}'s ports. On the event loop.
     *
     * @param connector how a connection to the pod is opened (the data plane's transport)
     */
    static void accept(ChannelHandlerContext ctx, FullHttpRequest http, InetAddress pod, String podName, String uid,
                       java.util.function.Function<InetAddress, io.netty.channel.ChannelFactory<? extends Channel>> connector) {
        WebSocketServerHandshaker handshaker = WatchSocket.takeOver(ctx, http, PROTOCOL, MAX_CLIENT_FRAME);
        if (handshaker == null) {
            return;
        }
        ChannelPipeline p = ctx.pipeline();
        String api = ctx.name();
        handshaker.handshake(ctx.channel(), http).addListener(f -> {
            if (!f.isSuccess()) {
                ctx.close();
                return;
            }
            // after the handshake's answer, which these would not let through
            p.addBefore(api, "port-forward-bytes", new WebSocketBytes());
            p.addBefore(api, "port-forward-spdy", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
            p.addBefore(api, "port-forward", new Streams(pod, podName, uid, connector.apply(pod)));
        });
    }

    /** The WebSocket as a byte stream: binary messages in, bytes out as binary messages; pings answered, a close ends it. */
    private static final class WebSocketBytes extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof BinaryWebSocketFrame || msg instanceof ContinuationWebSocketFrame) {
                ctx.fireChannelRead(((io.netty.handler.codec.http.websocketx.WebSocketFrame) msg).content());
            } else if (msg instanceof PingWebSocketFrame ping) {
                ctx.writeAndFlush(new PongWebSocketFrame(ping.content()));
            } else if (msg instanceof CloseWebSocketFrame close) {
                close.release();
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE)).addListener(ChannelFutureListener.CLOSE);
            } else {
                ReferenceCountUtil.release(msg); // text means nothing here
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg instanceof ByteBuf bytes ? new BinaryWebSocketFrame(bytes) : msg, promise);
        }
    }

    /** One forwarded connection: its two streams and its connection to the pod. */
    private static final class Pair {
        final String requestId;
        int errorStream;
        int dataStream;
        int port;
        Channel upstream;
        boolean clientDone;
        boolean finished;
        /** A stream of the pair the client reset, or 0. */
        int reset;

        Pair(String requestId) {
            this.requestId = requestId;
        }
    }

    /** The SPDY streams of one client, by stream and by request. */
    private static final class Streams extends ChannelInboundHandlerAdapter {
        private final InetAddress pod;
        private final String podName;
        private final String uid;
        private final io.netty.channel.ChannelFactory<? extends Channel> factory;
        private final Map<Integer, Pair> byStream = new HashMap<>();
        private final Map<String, Pair> byRequest = new HashMap<>();
        private ChannelHandlerContext ctx;

        Streams(InetAddress pod, String podName, String uid, io.netty.channel.ChannelFactory<? extends Channel> factory) {
            this.pod = pod;
            this.podName = podName;
            this.uid = uid;
            this.factory = factory;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof SpdySynStreamFrame syn) {
                    open(syn);
                } else if (msg instanceof SpdyDataFrame data) {
                    data(data);
                } else if (msg instanceof SpdyRstStreamFrame rst) {
                    Pair pair = byStream.get(rst.streamId());
                    if (pair != null) {
                        pair.reset = rst.streamId(); // nothing more is written on it
                        end(pair);
                    }
                } else if (msg instanceof SpdyPingFrame ping) {
                    ctx.writeAndFlush(ping); // the client's pings (odd) come back as they are
                    return;
                }
                // SETTINGS, WINDOW_UPDATE, HEADERS, GOAWAY: nothing to do (no flow control is kept)
            } finally {
                if (!(msg instanceof SpdyPingFrame)) {
                    ReferenceCountUtil.release(msg);
                }
            }
        }

        private void open(SpdySynStreamFrame syn) {
            int id = syn.streamId();
            String type = syn.headers().getAsString("streamType");
            String requestId = syn.headers().getAsString("requestID");
            if (requestId == null) {
                requestId = Integer.toString(id); // a client without requestID: the kubelet pairs by stream ID then too
            }
            if (!"error".equals(type) && !"data".equals(type) || byStream.containsKey(id)) {
                ctx.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.PROTOCOL_ERROR));
                return;
            }
            Pair pair = byRequest.computeIfAbsent(requestId, Pair::new);
            if (type.equals("error") ? pair.errorStream != 0 : pair.dataStream != 0) {
                // a second stream of a type for the same request: refused, as the kubelet refuses it
                ctx.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.PROTOCOL_ERROR));
                return;
            }
            byStream.put(id, pair);
            if (type.equals("error")) {
                pair.errorStream = id;
                ctx.writeAndFlush(reply(id, "error"));
            } else {
                pair.dataStream = id;
                String port = syn.headers().getAsString("port");
                try {
                    pair.port = Integer.parseInt(port == null ? "" : port.strip());
                } catch (NumberFormatException e) {
                    pair.port = -1;
                }
                connect(pair);
            }
        }

        /**
         * Connects to the pod, then answers the data stream: the client sends nothing on it before
         * the answer, so nothing waits here for the connection.
         */
        private void connect(Pair pair) {
            if (pair.port < 1 || pair.port > 65535) {
                ctx.writeAndFlush(reply(pair.dataStream, "data"));
                fail(pair, "invalid port");
                return;
            }
            Channel client = ctx.channel();
            ChannelFuture connecting = new Bootstrap().group(client.eventLoop()).channelFactory(factory)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new Upstream(this, pair))
                    .connect(new InetSocketAddress(pod, pair.port));
            pair.upstream = connecting.channel();
            connecting.addListener(f -> {
                if (!pair.finished) {
                    ctx.writeAndFlush(reply(pair.dataStream, "data"));
                }
                if (!f.isSuccess()) {
                    fail(pair, f.cause() == null ? "connection failed" : f.cause().getMessage());
                } else if (pair.finished) {
                    pair.upstream.close();
                } else {
                    pair.upstream.read();
                }
            });
        }

        /** The kubelet's message on the error stream, then both streams end. */
        private void fail(Pair pair, String why) {
            if (pair.finished) {
                return;
            }
            String message = "error forwarding port " + pair.port + " to pod " + podName + ", uid " + uid + ": " + why;
            if (pair.errorStream != 0) {
                ctx.write(new DefaultSpdyDataFrame(pair.errorStream, ctx.alloc().buffer().writeBytes(message.getBytes(StandardCharsets.UTF_8))));
            }
            end(pair);
        }

        private void data(SpdyDataFrame data) {
            Pair pair = byStream.get(data.streamId());
            if (pair == null || data.streamId() != pair.dataStream || pair.finished) {
                return; // the error stream's close, or a stream already ended
            }
            if (data.content().isReadable() && pair.upstream != null) {
                pair.upstream.write(data.content().retain());
                if (!pair.upstream.isWritable()) {
                    ctx.channel().config().setAutoRead(false); // read again when it drains (Upstream)
                }
            }
            if (data.isLast()) {
                pair.clientDone = true;
                if (pair.upstream != null) {
                    pair.upstream.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(f -> {
                        if (pair.upstream instanceof DuplexChannel d && d.isActive()) {
                            d.shutdownOutput();
                        }
                    });
                }
                // the pod gets a second to answer what it has, then the pair ends, as containerd ends a
                // forwarded connection a second after either side has: a pod that never closes its side
                // would otherwise hold kubectl's connection, which waits for the error stream to end
                ctx.executor().schedule(() -> end(pair), 1, java.util.concurrent.TimeUnit.SECONDS);
            } else if (pair.upstream != null) {
                pair.upstream.flush();
            }
        }

        /** The pod sent {@code bytes}: on the data stream, the pod connection read again once the client takes it. */
        void fromPod(Pair pair, ByteBuf bytes) {
            if (pair.finished) {
                bytes.release();
                return;
            }
            ctx.writeAndFlush(new DefaultSpdyDataFrame(pair.dataStream, bytes)).addListener(f -> {
                if (f.isSuccess() && ctx.channel().isWritable() && pair.upstream.isActive()) {
                    pair.upstream.read();
                }
            });
        }

        /** The pod's side ended (or the pod connection closed): both streams end, as the kubelet ends them. */
        void end(Pair pair) {
            if (pair.finished) {
                return;
            }
            pair.finished = true;
            if (pair.dataStream != 0 && pair.dataStream != pair.reset) {
                ctx.write(finish(pair.dataStream));
            }
            if (pair.errorStream != 0 && pair.errorStream != pair.reset) {
                ctx.write(finish(pair.errorStream));
            }
            ctx.flush();
            if (pair.upstream != null) {
                pair.upstream.close();
            }
            byStream.remove(pair.dataStream);
            byStream.remove(pair.errorStream);
            byRequest.remove(pair.requestId);
        }

        /**
         * The answer to a stream, naming its type back: a SPDY/3 reply carries a header block, which
         * spdystream reads, and Netty writes none for no headers (spdystream's server writes one
         * with no pairs, which Netty cannot).
         */
        private static DefaultSpdySynReplyFrame reply(int stream, String type) {
            DefaultSpdySynReplyFrame reply = new DefaultSpdySynReplyFrame(stream);
            reply.headers().set("streamtype", type);
            return reply;
        }

        private static SpdyDataFrame finish(int stream) {
            SpdyDataFrame last = new DefaultSpdyDataFrame(stream);
            last.setLast(true);
            return last;
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                byRequest.values().forEach(p -> {
                    if (p.upstream != null && p.upstream.isActive() && !p.finished) {
                        p.upstream.read();
                    }
                });
            }
            ctx.fireChannelWritabilityChanged();
        }

        /** A pod connection drained: the client's WebSocket is read again. */
        void upstreamWritable() {
            if (byRequest.values().stream().allMatch(p -> p.upstream == null || p.upstream.isWritable())) {
                ctx.channel().config().setAutoRead(true);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            byRequest.values().forEach(p -> {
                p.finished = true;
                if (p.upstream != null) {
                    p.upstream.close();
                }
            });
            byRequest.clear();
            byStream.clear();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a SPDY frame that does not parse ends the session
        }
    }

    /** The connection to the pod of one forwarded connection. */
    private static final class Upstream extends ChannelInboundHandlerAdapter {
        private final Streams streams;
        private final Pair pair;

        Upstream(Streams streams, Pair pair) {
            this.streams = streams;
            this.pair = pair;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf bytes) {
                streams.fromPod(pair, bytes);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                streams.end(pair); // the pod has no more to send
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                streams.upstreamWritable();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            streams.end(pair);
            streams.upstreamWritable();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
