package dev.portway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AsciiString;
import io.netty.util.AttributeKey;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * A client connection to an L7 listener after its HTTP/1.1 codec (or one HTTP/2 stream after its
 * frame-to-HTTP codec): one request at a time, each an {@link HttpExchange}.
 *
 * <p>The connection reads only on demand. While an exchange streams a request body, the next read
 * is asked for only when the upstream can take more. Once the whole request is read, the
 * connection goes on reading while its exchange waits for the response, until the next request's
 * head is decoded: a pipelined request then waits in the backlog here (the rest in the socket) and
 * is answered in order, and the socket stays in the event loop's read set from request to request
 * instead of leaving it and coming back (two {@code epoll_ctl} calls a request).
 *
 * <p>A client may end its side after its requests (a TCP half-close, as HTTP/1.0-style clients
 * do): what it sent whole is answered, then the connection closes. A request cut short by that end
 * is refused, never passed on as if whole.
 *
 * <p>Between requests an idle timeout runs; from the first byte of a request to the end of its
 * headers a header timeout runs (slow clients get 408). The idle timeout is a deadline checked by
 * one timer that is rescheduled only when it fires early, not a timer per request.
 */
final class GatewayHandler extends ChannelInboundHandlerAdapter {

    /** On a TLS connection: the SNI name the client sent (lower case); unset when it sent none. */
    private static final AttributeKey<String> SERVER_NAME = AttributeKey.valueOf("portway.serverName");
    /** The timer that closes a connection which never gets as far as a protocol (see {@link #install}). */
    private static final AttributeKey<ScheduledFuture<?>> SETUP = AttributeKey.valueOf("portway.setup");

    /** HTTP/1.1 or HTTP/2 was chosen: its own timers watch the connection from now on. */
    private static void protocolChosen(Channel ch) {
        ScheduledFuture<?> setup = ch.attr(SETUP).getAndSet(null);
        if (setup != null) {
            setup.cancel(false);
        }
    }

    private final DataPlane plane;
    private final HttpGatewayListener listener;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>(4);
    private ChannelHandlerContext ctx;
    private HttpExchange exchange;
    /** Bytes of a new request arrived since the last exchange ended. */
    private boolean arriving;
    private boolean closing;
    /** A close lingers ({@link #linger}), and how many more bytes it drops before it closes anyway. */
    private boolean lingering;
    private long lingerLeft;
    private boolean draining;
    /** Between a read's first message and its readComplete (which flushes what the read wrote upstream). */
    private boolean reading;
    /** The header timeout's timer, while a request's head arrives. */
    private ScheduledFuture<?> timer;
    /** When the connection's idle time ends (System.nanoTime), or 0 while it is not idle. */
    private long idleDeadline;
    /** The timer that checks {@link #idleDeadline}; it may fire before the deadline, and then waits again. */
    private ScheduledFuture<?> idleTimer;
    /** The client ended its side of the connection (HTTP/1.1 only): no more requests will come. */
    private boolean inputShut;

    private final boolean stream;
    /** The HTTP/1.1 codec before this handler; null on an HTTP/2 stream. */
    private final Http1ServerCodec codec;
    /** On an HTTP/2 stream: its share of what the connection's streams may hold of their answers; null on HTTP/1.1. */
    private final StreamBudget.Meter budget;
    /** What the backlog holds, in bytes: its body parts' bytes, and {@link #MESSAGE_COST} for each message. */
    private long held;
    /** The backlog overflowed: everything read after that is dropped, and the connection closes once the rest is answered. */
    private boolean overflowed;
    private boolean active;
    /**
     * The client's address as the forwarding headers write it, and the last {@code Forwarded}
     * element made (a connection's requests mostly name one host): made once a connection (once a
     * stream on HTTP/2, whose streams have a handler each), not once a request.
     */
    private InetSocketAddress forwardedClient;
    private String clientIp;
    private String forwardedHost;
    private String forwardedScheme;
    private String forwardedElement;

    private GatewayHandler(DataPlane plane, HttpGatewayListener listener, Http1ServerCodec codec, StreamBudget.Meter budget) {
        this.plane = plane;
        this.listener = listener;
        this.stream = budget != null;
        this.codec = codec;
        this.budget = budget;
    }

    /**
     * Sets up an accepted connection: TLS (the certificate by SNI, and the SNI name kept on the
     * channel, which tells misdirected requests) then HTTP/2 or HTTP/1.1 as ALPN chose; in clear
     * text HTTP/2 with prior knowledge, else HTTP/1.1 (which may upgrade to h2c).
     */
    static void install(Channel ch, DataPlane plane, HttpGatewayListener listener) {
        HttpGatewayListener.Serving serving = listener.serving();
        if (serving.withoutCertificates()) {
            plane.metrics().refused(listener.spec(), "no_certificate");
            ch.close();
            return;
        }
        if (!listener.admit(ch, plane.httpSettings().maxConnections())) {
            plane.metrics().refused(listener.spec(), "connection_limit");
            DataPlane.reset(ch);
            return;
        }
        plane.metrics().accepted(listener.spec());
        // Until a protocol's own timers take over (HTTP/1.1's header and idle timeouts, HTTP/2's
        // idle one), nothing else would close a connection that sends nothing, half a connection
        // preface or half a TLS hello: it gets the header timeout to get that far.
        ScheduledFuture<?> setup = ch.eventLoop().schedule(() -> {
            ch.close();
        }, plane.httpSettings().headerTimeout().toNanos(), TimeUnit.NANOSECONDS);
        ch.attr(SETUP).set(setup);
        ch.closeFuture().addListener(f -> setup.cancel(false));
        ChannelPipeline p = ch.pipeline();
        p.addLast("send-stall", new SendStall(plane.httpSettings().streamIdleTimeout().toNanos()));
        p.addLast("start", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                ctx.read();
                ctx.fireChannelActive();
                ctx.pipeline().remove(this);
            }
        });
        TlsContexts tls = serving.tls();
        if (tls != null) {
            p.addLast("sni", new SniHandler(tls.mapping()) {
                @Override
                protected void replaceHandler(ChannelHandlerContext ctx, String hostname, SslContext context) throws Exception {
                    // the name the connection was set up for: its requests for another listener's hosts are misdirected
                    if (hostname != null) {
                        ctx.channel().attr(SERVER_NAME).set(hostname.toLowerCase(Locale.ROOT));
                    }
                    super.replaceHandler(ctx, hostname, context);
                }
            });
            p.addLast("alpn", new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
                @Override
                protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                    if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                        http2(ctx.pipeline(), plane, listener);
                    } else {
                        http1(ctx.pipeline(), plane, listener, false);
                    }
                }

                @Override
                protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
                    ctx.close();
                }
            });
        } else {
            p.addLast("preface", new PrefaceDetector(plane, listener));
        }
    }

    /**
     * HTTP/1.1 handlers; {@code h2cUpgrade}: the connection's first request may switch it to h2c
     * (RFC 7540 section 3.2, as curl and other clients send it; RFC 9113 deprecates the Upgrade).
     * Later requests do not pass through the upgrade handler at all.
     */
    static void http1(ChannelPipeline pipeline, DataPlane plane, HttpGatewayListener listener, boolean h2cUpgrade) {
        protocolChosen(pipeline.channel());
        HttpSettings settings = plane.httpSettings();
        Http1ServerCodec codec = new Http1ServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(settings.maxInitialLine())
                .setMaxHeaderSize(settings.maxHeaderBytes())
                .setMaxChunkSize(64 * 1024)
                .setStrictLineParsing(true));
        GatewayHandler handler = new GatewayHandler(plane, listener, codec, null);
        // a client's end of its side is an event here (the requests it sent whole are still answered), not a close;
        // set only now: before HTTP/1.1 is chosen (TLS, ALPN, the preface), such an end closes the connection
        pipeline.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        pipeline.addLast("watch", handler.new FirstByte());
        pipeline.addLast("http", codec);
        if (h2cUpgrade) {
            // removes itself as the first request passes: no later (pipelined) request reaches it
            pipeline.addLast("upgrade", new HttpServerUpgradeHandler(codec, protocol -> {
                if (!AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)) {
                    return null;
                }
                Http2FrameCodec h2 = frameCodec(settings);
                return new Http2ServerUpgradeCodec(h2, idleClose(h2, settings), UnknownFrames.DROP, multiplexer(plane, listener)) {
                    @Override
                    public boolean prepareUpgradeResponse(ChannelHandlerContext ctx, FullHttpRequest request,
                                                          io.netty.handler.codec.http.HttpHeaders headers) {
                        // a body that failed to decode (a malformed chunk) ends short: refused as HTTP/1.1, not upgraded
                        return request.decoderResult().isSuccess() && super.prepareUpgradeResponse(ctx, request, headers);
                    }
                };
            },
                    64 * 1024, DefaultHttpHeadersFactory.headersFactory(), DefaultHttpHeadersFactory.trailersFactory(), true) {
                @Override
                protected boolean shouldHandleUpgradeRequest(HttpRequest req) {
                    // a request the codec could not decode (Content-Length beside Transfer-Encoding, two lengths,
                    // a bad header line) is refused as HTTP/1.1 (400), never upgraded: its framing is unknown.
                    // Only a request for h2c with no body and no Expect is upgraded (as curl sends it): any other
                    // went through Netty's aggregator, which answers an Expect itself (417, or 413 past 64 KiB)
                    // without closing, and then reads the body that follows as the connection's next request
                    // (a request smuggled past every proxy in front). Passed on, it is proxied as HTTP/1.1.
                    HttpHeaders h = req.headers();
                    return req.decoderResult().isSuccess()
                            && h.containsValue(HttpHeaderNames.UPGRADE, Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, true)
                            && !h.contains(HttpHeaderNames.EXPECT)
                            && !h.contains(HttpHeaderNames.TRANSFER_ENCODING)
                            && HttpUtil.getContentLength(req, 0L) == 0;
                }
            });
        }
        pipeline.addLast("gateway", handler);
    }

    /** HTTP/2 handlers: every stream is a child channel with its own HTTP/1-style handler and exchange. */
    static void http2(ChannelPipeline pipeline, DataPlane plane, HttpGatewayListener listener) {
        // flow control holds each stream back (a stream reads on demand); the connection itself always reads
        protocolChosen(pipeline.channel());
        pipeline.channel().config().setAutoRead(true);
        Http2FrameCodec h2 = frameCodec(plane.httpSettings());
        pipeline.addLast("h2", h2);
        pipeline.addLast("h2-idle", idleClose(h2, plane.httpSettings()));
        pipeline.addLast("h2-unknown", UnknownFrames.DROP);
        pipeline.addLast("streams", multiplexer(plane, listener));
    }

    /**
     * Drops the frames of types HTTP/2 does not know (RFC 9113, 4.1: ignored and discarded) for
     * the whole connection, before the streams. Netty passes one for a stream on to the stream's
     * channel, which queues it, with no bound, while the stream is not reading (its request whole
     * and its answer awaited, or its body held back): such frames are not flow-controlled, and
     * each kept a slice of the connection's read buffer until the stream ended, so a client could
     * pin as much memory as it sent, on every stream it kept waiting.
     */
    @io.netty.channel.ChannelHandler.Sharable
    static final class UnknownFrames extends ChannelInboundHandlerAdapter {
        static final UnknownFrames DROP = new UnknownFrames();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof io.netty.handler.codec.http2.Http2UnknownFrame) {
                ReferenceCountUtil.release(msg);
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * Closes an HTTP/2 connection (a GOAWAY first) that has had no open stream for the idle
     * timeout, as an HTTP/1.1 connection between requests is. Only streams count: PING, SETTINGS
     * or WINDOW_UPDATE frames do not keep a connection without requests open (Envoy's
     * {@code idle_timeout} counts the same way).
     */
    private static ChannelInboundHandlerAdapter idleClose(Http2FrameCodec h2, HttpSettings settings) {
        return new StreamlessIdleClose(h2, settings.idleTimeout().toNanos());
    }

    private static final class StreamlessIdleClose extends ChannelInboundHandlerAdapter {
        private final Http2FrameCodec h2;
        private final long idleNanos;
        /** When the last stream closed (or the connection began): the idle time runs from there. */
        private long lastStream = System.nanoTime();
        private io.netty.util.concurrent.ScheduledFuture<?> timer;

        StreamlessIdleClose(Http2FrameCodec h2, long idleNanos) {
            this.h2 = h2;
            this.idleNanos = idleNanos;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            h2.connection().addListener(new io.netty.handler.codec.http2.Http2ConnectionAdapter() {
                @Override
                public void onStreamClosed(io.netty.handler.codec.http2.Http2Stream stream) {
                    lastStream = System.nanoTime();
                }
            });
            check(ctx);
        }

        private void check(ChannelHandlerContext ctx) {
            timer = null;
            if (!ctx.channel().isOpen()) {
                return;
            }
            long left = lastStream + idleNanos - System.nanoTime();
            if (h2.connection().numActiveStreams() == 0 && left <= 0) {
                ctx.close(); // the frame codec sends its GOAWAY first
                return;
            }
            timer = ctx.executor().schedule(() -> check(ctx), left > 0 ? left : idleNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            handlerRemoved(ctx);
            ctx.fireChannelInactive();
        }
    }

    /**
     * Resets a connection that could write nothing for the stream idle timeout: its client takes
     * no bytes, not even at the TCP level. By then every request on it has been given up (the
     * stream idle timeout), but an HTTP/2 stream's reset cannot be written either, Netty counts the
     * stream open until it is, and the connection idles out only with no stream open: without
     * this, such a client held its connection (and its slot under the listener's cap) for good.
     * HAProxy's {@code timeout client} counts a send that does not move the same way. A WebSocket
     * tunnel takes its own idle timeout instead (and none when that is off). First in the
     * pipeline, so that the close skips TLS's close_notify and HTTP/2's GOAWAY, which would wait
     * for the same stalled writes. A reset, not a FIN: a FIN queues behind what the kernel holds
     * for the client, so the socket and its send buffer (up to 4 MiB) outlived the connection for
     * as long as the client kept its window shut, uncounted by any cap, and a client that read on
     * later got the cut answer ended cleanly.
     */
    static final class SendStall extends ChannelInboundHandlerAdapter {
        /** How long the connection may stay unwritable; 0: for ever (the timeout is off). */
        private long limitNanos;
        private ChannelHandlerContext ctx;
        private ScheduledFuture<?> timer;

        SendStall(long limitNanos) {
            this.limitNanos = limitNanos;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        /** A new limit, from now (a WebSocket tunnel takes the tunnel idle timeout's); 0: none. */
        void limit(long nanos) {
            limitNanos = nanos;
            cancel();
            arm();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (!ctx.channel().isWritable()) {
                arm();
            } else {
                cancel();
            }
            ctx.fireChannelWritabilityChanged();
        }

        private void arm() {
            if (timer == null && limitNanos > 0 && !ctx.channel().isWritable() && ctx.channel().isOpen()) {
                timer = ctx.executor().schedule(this::stalled, limitNanos, TimeUnit.NANOSECONDS);
            }
        }

        private void stalled() {
            timer = null;
            if (!ctx.channel().isWritable() && ctx.channel().isOpen()) {
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                ctx.close();
            }
        }

        private void cancel() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            cancel();
            ctx.fireChannelInactive();
        }
    }

    /** Streams open at once on one HTTP/2 connection: 100, as HAProxy's and Envoy's edge advice (NGINX: 128). */
    static final int MAX_CONCURRENT_STREAMS = 100;

    private static Http2FrameCodec frameCodec(HttpSettings settings) {
        return Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(MAX_CONCURRENT_STREAMS)
                        .maxHeaderListSize(settings.maxHeaderBytes()))
                .validateHeaders(true)
                .build();
    }

    private static Http2MultiplexHandler multiplexer(DataPlane plane, HttpGatewayListener listener) {
        StreamBudget budget = new StreamBudget(StreamBudget.DEFAULT_BYTES);
        return new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.config().setAutoRead(false);
                StreamBudget.Meter meter = budget.meter();
                ch.pipeline().addLast("budget", meter); // first: where the stream's DATA frames pass
                ch.pipeline().addLast("http", new Http2StreamFrameToHttpObjectCodec(true));
                ch.pipeline().addLast("gateway", new GatewayHandler(plane, listener, null, meter));
            }
        });
    }

    /** Reads the first bytes of a clear-text connection: the HTTP/2 connection preface, or HTTP/1.1. */
    private static final class PrefaceDetector extends ByteToMessageDecoder {
        private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
        private final DataPlane plane;
        private final HttpGatewayListener listener;

        PrefaceDetector(DataPlane plane, HttpGatewayListener listener) {
            this.plane = plane;
            this.listener = listener;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
            if (!ByteBufUtil.equals(PREFACE, PREFACE.readerIndex(), in, in.readerIndex(), n)) {
                // no h2c upgrade through a trusted proxy: it tunnels blindly after the 101 (h2c smuggling), and every
                // stream would then come from the proxy's trusted address, its forwarding headers the client's own
                InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
                http1(ctx.pipeline(), plane, listener, !listener.trusts(peer.getAddress()));
                ctx.pipeline().remove(this);
            } else if (n == PREFACE.readableBytes()) {
                http2(ctx.pipeline(), plane, listener);
                ctx.pipeline().remove(this);
            }
        }
    }

    DataPlane plane() {
        return plane;
    }

    HttpGatewayListener listener() {
        return listener;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    /** An HTTP/2 stream (one request), not an HTTP/1.1 connection. */
    boolean isStream() {
        return stream;
    }

    /** On an HTTP/2 stream: its share of what the connection's streams may hold of their answers; null on HTTP/1.1. */
    StreamBudget.Meter budget() {
        return budget;
    }

    /** The client's connection: this handler's channel, or on HTTP/2 the connection its stream is on. */
    Channel connection() {
        return stream ? ctx.channel().parent() : ctx.channel();
    }

    /** The SNI name of the TLS connection this request came on, or null (clear text, or no SNI). */
    String serverName() {
        return connection().attr(SERVER_NAME).get();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // a WebSocket tunnel took the connection over
        cancelTimers();
        exchange = null;
        closing = true;
        releaseBacklog();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            activate();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        activate();
        ctx.fireChannelActive();
    }

    /** The client ended its side of the connection (or the backlog overflowed): no more requests will be read. */
    boolean inputShut() {
        return inputShut;
    }

    /** Starts reading: on a new connection, or when protocol detection put this handler in place. */
    private void activate() {
        if (active) {
            return;
        }
        active = true;
        if (!stream) {
            armIdle();
        }
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering && msg instanceof ByteBuf b) {
            lingerLeft -= b.readableBytes();
        }
        if (closing || !(msg instanceof io.netty.handler.codec.http.HttpObject)) {
            // not HTTP: on a stream, a frame of a type HTTP/2 does not know (RFC 9113, 4.1: ignored and
            // discarded), which Netty passes on as it came; held, it pinned the connection's read buffer for good
            ReferenceCountUtil.release(msg);
            return;
        }
        reading = true;
        long cost = cost(msg);
        if (overflowed || (held + cost > BACKLOG_BYTES && !backlog.isEmpty())) {
            // one read never fills the backlog (this connection reads only when it is empty); a half-close does, as
            // the transport then reads to the end of the stream unasked: what does not fit is dropped, and the
            // connection closes once what it holds is answered (a request cut short by the drop is refused)
            overflowed = true;
            inputShut = true;
            ReferenceCountUtil.release(msg);
            return;
        }
        held += cost;
        backlog.addLast(msg);
        drain();
    }

    /** The most a backlog holds (in the measure of {@link #cost}). */
    static final long BACKLOG_BYTES = 4 << 20;
    /** What a message counts for in the backlog besides its body bytes: a decoded head's objects, roughly. */
    private static final int MESSAGE_COST = 256;

    private static long cost(Object msg) {
        return MESSAGE_COST + (msg instanceof HttpContent c ? c.content().readableBytes() : 0);
    }

    private Object take() {
        Object m = backlog.pollFirst();
        held -= cost(m);
        return m;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (lingering) {
            if (lingerLeft > 0) {
                ctx.read();
            } else {
                ctx.close();
            }
            return;
        }
        reading = false;
        HttpExchange e = exchange;
        if (e != null) {
            e.flushUpstream();
        }
        maybeRead();
    }

    /**
     * Passes waiting messages on: a request when no exchange runs, body parts while the exchange
     * takes them. Not reentrant: an exchange that ends at once (a 404 to a pipelined request) asks
     * for more from inside this loop, and the loop itself goes on, so a thousand pipelined
     * requests do not make a thousand nested calls.
     */
    void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            drainBacklog();
        } finally {
            draining = false;
        }
        HttpExchange e = exchange;
        if (inputShut && e != null && !e.requestDone() && !backlogEndsRequest()) {
            e.requestCut();
            e = exchange;
        }
        if (!reading && e != null) {
            // body parts written outside a read of this connection: no readComplete will flush them
            e.flushUpstream();
        }
    }

    /** Whether the backlog holds the end of the running exchange's request. */
    private boolean backlogEndsRequest() {
        for (Object m : backlog) {
            if (m instanceof LastHttpContent) {
                return true;
            }
            if (m instanceof HttpRequest) {
                return false;
            }
        }
        return false;
    }

    private void drainBacklog() {
        Object m;
        while (!closing && (m = backlog.peekFirst()) != null) {
            if (m instanceof HttpRequest request) {
                if (exchange != null || !ctx.channel().isWritable()) {
                    // one request at a time; and the next waits while the client does not take the answers
                    // it has (channelWritabilityChanged goes on): a client that sends without reading
                    // holds the backlog's worth of requests, not their answers
                    return;
                }
                take();
                if (request instanceof FullHttpRequest full && full.decoderResult().isSuccess()) {
                    // an HTTP/2 request whose headers end the stream (or the h2c upgrade request): head, then its end
                    if (!lengthMatches(full)) {
                        full.release();
                        plane.metrics().httpReply(listener.http().owner(), HttpResponseStatus.BAD_REQUEST.code());
                        refuse(HttpResponseStatus.BAD_REQUEST, "the request's Content-Length is not the length of its body");
                        return;
                    }
                    DefaultLastHttpContent end = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
                    held += cost(end);
                    backlog.addFirst(end);
                    request = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
                }
                begin(request);
            } else if (exchange == null) {
                // the rest of a request answered before its body was read: dropped
                take();
                ReferenceCountUtil.release(m);
            } else if (exchange.takesBody()) {
                take();
                exchange.requestContent((HttpContent) m);
            } else {
                return;
            }
        }
    }

    /**
     * Whether a whole request's framing fields agree with its body: a Content-Length (every one, if
     * repeated) that is its length, and no Transfer-Encoding. HTTP/2's own checks see only the frames
     * the client sent, not a request handed over whole (the h2c upgrade's).
     */
    static boolean lengthMatches(FullHttpRequest full) {
        if (full.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return false;
        }
        int body = full.content().readableBytes();
        for (String length : full.headers().getAll(HttpHeaderNames.CONTENT_LENGTH)) {
            String digits = length.trim();
            if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Long.parseLong(digits) != body) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads more: between requests, when an exchange wants request bytes, and (HTTP/1.1) once the
     * exchange has read its whole request, the next request's head.
     */
    void maybeRead() {
        if (closing || inputShut || !backlog.isEmpty() || !ctx.channel().isActive()) {
            return;
        }
        HttpExchange e = exchange;
        if (e == null || e.wantsBody() || (!stream && e.requestRead())) {
            ctx.read();
        }
    }

    private void begin(HttpRequest request) {
        cancelTimer();
        idleDeadline = 0;
        arriving = false;
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            ReferenceCountUtil.release(request);
            HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            plane.metrics().httpReply(listener.http().owner(), status.code());
            refuse(status, "the request is not valid HTTP/1.1 (" + cause.getMessage() + ")");
            return;
        }
        exchange = new HttpExchange(this, request);
        if (idleTimer == null && plane.httpSettings().streamIdleTimeout().toNanos() > 0) {
            // kept alive, the connection's idle timer is still set from before: no timer per request
            idleTimer = ctx.executor().schedule(this::idleCheck, watchDelay(plane.httpSettings().streamIdleTimeout().toNanos()),
                    TimeUnit.NANOSECONDS);
        }
        exchange.start();
    }

    /** Answers without an exchange and closes: for requests the codec could not decode, and slow headers. */
    private void refuse(HttpResponseStatus status, String detail) {
        closing = true;
        cancelTimers();
        releaseBacklog();
        ctx.writeAndFlush(LocalReply.of(ctx.alloc(), status, detail, false)).addListener(ChannelFutureListener.CLOSE);
        closeDeadline();
    }

    /**
     * A connection (or stream) that closes once its last answer is out: a client that never takes it
     * (its window or its receive buffer kept full) would hold it until TCP gives up. A connection
     * gets the idle timeout; a stream the stream idle timeout, counted again from each time its
     * answer moves (it turns writable), so that a slow client still gets an answer that progresses.
     */
    private void closeDeadline() {
        long streamIdle = plane.httpSettings().streamIdleTimeout().toNanos();
        long nanos = stream && streamIdle > 0 ? streamIdle : plane.httpSettings().idleTimeout().toNanos();
        timer = ctx.executor().schedule(() -> {
            timer = null;
            if (stream && ctx.channel().isActive()) {
                // closing a stream whose request ended sends no RST_STREAM (Netty resets only a stream the
                // client may still send on), and its answer would stay queued in the connection's flow
                // control, counted as an open stream: the reset cancels it
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL)).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close();
            }
        }, nanos, TimeUnit.NANOSECONDS);
    }

    /** An exchange finished; the connection goes on with the next request, or closes. */
    void exchangeDone(HttpExchange e, boolean keepAlive) {
        if (exchange != e) {
            return;
        }
        exchange = null;
        if (stream) {
            // one request per HTTP/2 stream: the response ended it
            ctx.flush();
            ChannelFuture out = e.responseWritten();
            if (out != null && !out.isDone()) {
                // the answer waits for the client's window: a client that keeps it shut would hold the
                // stream (and the connection, which idles out only with no stream open) for good
                closeDeadline();
                out.addListener(f -> cancelTimer());
            }
            // a stream the client has not ended (HEADERS with a zero length and no END_STREAM) would stay half open once
            // answered, counted as active, with no timer left to end it: the connection and its slot, for good
            if (!keepAlive || ((Http2StreamChannel) ctx.channel()).stream().state().remoteSideOpen()) {
                ChannelFuture written = e.responseWritten();
                if (written == null) {
                    ctx.close(); // no complete response: the stream is cancelled (RST_STREAM CANCEL)
                } else {
                    // a complete response before the request's end: RFC 9113 8.1 has the server ask the client to stop
                    // sending with RST_STREAM NO_ERROR once the response is out, and the client keep the response
                    written.addListener(f -> {
                        if (f.isSuccess() && ctx.channel().isActive()) {
                            // the reset closes the stream (no CANCEL follows); closing the channel drops body frames still queued
                            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR)).addListener(ChannelFutureListener.CLOSE);
                        } else {
                            ctx.close();
                        }
                    });
                }
            }
            return;
        }
        if (!keepAlive || closing || (inputShut && !(backlog.peekFirst() instanceof HttpRequest))) {
            closeAfterFlush(!e.requestDone() && !inputShut);
            return;
        }
        ctx.flush();
        armIdle();
        drain();
        if (exchange == null && !closing && codec.holdsPartialHead()) {
            // the next request's first bytes came while this one was answered: its header timeout runs from now
            arriving = true;
            armHeaderTimeout();
        }
        maybeRead();
    }

    private void closeAfterFlush() {
        closeAfterFlush(false);
    }

    /**
     * Closes once the answers are out. {@code linger}: the request's body has not all been read
     * (an answer before it ended: a 413, a 401, a redirect). Closed with those bytes unread, the
     * kernel would reset the connection, and a reset may destroy the answer before the client
     * reads it. So the connection lingers, as NGINX's does: it sends its end (FIN, on clear text),
     * then reads and drops what the client still sends, until the client ends too, or for at most
     * {@link #LINGER_BYTES} or {@link #LINGER_NANOS}.
     */
    private void closeAfterFlush(boolean linger) {
        closing = true;
        cancelTimers();
        releaseBacklog();
        closeDeadline(); // a client that never takes its answer (first: a linger that begins at once replaces it)
        ChannelFuture flushed = ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER);
        if (linger && !stream) {
            flushed.addListener(f -> linger(f.isSuccess()));
        } else {
            flushed.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The most a lingering close reads and drops, and how long it waits for the client's end. */
    static final long LINGER_BYTES = 16 << 20;
    static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(5);

    private void linger(boolean flushed) {
        if (!flushed || !ctx.channel().isActive()) {
            ctx.close();
            return;
        }
        cancelTimer();
        timer = ctx.executor().schedule(() -> {
            timer = null;
            ctx.close();
        }, Math.min(LINGER_NANOS, plane.httpSettings().idleTimeout().toNanos()), TimeUnit.NANOSECONDS);
        lingering = true; // first: what the decoder holds comes at its removal, and is counted
        lingerLeft = LINGER_BYTES;
        // bytes from here, not requests: nothing more is decoded (what the decoder held comes here, and is dropped)
        if (ctx.pipeline().get("http") != null) {
            ctx.pipeline().remove("http");
        }
        if (ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class) == null && ctx.channel() instanceof DuplexChannel duplex) {
            RelayHandler.shutdownOutput(duplex);
        }
        ctx.read();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && !stream) {
            // the client sent all it will send; the codec passed on what it held (a head cut short arrives failed)
            inputShut = true;
            if (lingering) {
                ctx.close(); // a lingering close is done
                return;
            }
            if (!closing) {
                drain();
                if (exchange == null && !closing && !(backlog.peekFirst() instanceof HttpRequest)) {
                    closeAfterFlush(); // nothing (more) to answer (a request waiting for the client to take answers is, later)
                }
            }
            return;
        }
        if (stream && evt instanceof io.netty.handler.codec.http2.Http2ResetFrame) {
            // the client reset the stream: its exchange goes now. Netty closes the stream's channel only once
            // its queue is empty, and DATA held there while the endpoint took no more kept the exchange and its
            // connection open past the stream's removal (beyond the connection's stream limit, until a timeout)
            // closed once Netty has closed the stream, which it does right after this event: closed now, the
            // stream channel would send a reset of its own in answer to the client's (RFC 9113 5.4.2: must not)
            ctx.fireUserEventTriggered(evt);
            ctx.channel().eventLoop().execute(ctx::close);
            return;
        }
        if (evt instanceof HttpServerUpgradeHandler.UpgradeEvent) {
            // h2c: the connection is HTTP/2 from here on; its first request is stream 1's
            cancelTimers();
            closing = true;
            releaseBacklog();
            ctx.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
            ctx.channel().config().setAutoRead(true);
            ctx.pipeline().remove("watch");
            ctx.pipeline().remove(this);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        HttpExchange e = exchange;
        if (ctx.channel().isWritable() && !closing) {
            if (e != null) {
                e.downstreamWritable();
            } else if (stream && timer != null) {
                // the answer moves: the stream's deadline counts from its last progress
                cancelTimer();
                closeDeadline();
            } else if (!backlog.isEmpty()) {
                // a pipelined request waited for the client to take the answers before it; not from here, which
                // may be inside exchangeDone's flush (before its own drain, which then starts the request)
                ctx.executor().execute(this::resumeAfterWait);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void resumeAfterWait() {
        if (exchange == null && !closing && ctx.channel().isWritable() && backlog.peekFirst() instanceof HttpRequest) {
            drain();
            maybeRead();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        cancelTimers();
        releaseBacklog();
        HttpExchange e = exchange;
        exchange = null;
        if (e != null) {
            e.downstreamClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void releaseBacklog() {
        Object m;
        while ((m = backlog.pollFirst()) != null) {
            ReferenceCountUtil.release(m);
        }
        held = 0;
    }

    /** The connection idles from now until its next request's first byte. */
    private void armIdle() {
        long nanos = plane.httpSettings().idleTimeout().toNanos();
        idleDeadline = System.nanoTime() + nanos;
        if (idleDeadline == 0) {
            idleDeadline = 1; // 0 means "not idle"
        }
        if (idleTimer == null) {
            idleTimer = ctx.executor().schedule(this::idleCheck, nanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * The idle timer fired: the connection closes if it idled until its deadline, else the timer
     * waits for the deadline. During a request it watches the request instead (the stream idle
     * timeout), so that one timer serves a kept-alive connection's requests.
     */
    private void idleCheck() {
        idleTimer = null;
        if (closing) {
            return;
        }
        if (idleDeadline == 0) {
            HttpExchange e = exchange;
            java.time.Duration streamIdle = plane.httpSettings().streamIdleTimeout();
            if (e != null && streamIdle.toNanos() > 0) {
                long left = e.idleLeft(streamIdle.toNanos());
                if (left <= 0) {
                    e.idleTimedOut(streamIdle);
                } else if (left != Long.MAX_VALUE) {
                    idleTimer = ctx.executor().schedule(this::idleCheck, watchDelay(left), TimeUnit.NANOSECONDS);
                }
            }
            return; // else not idle now: the next armIdle starts a timer again
        }
        long left = idleDeadline - System.nanoTime();
        if (left > 0) {
            idleTimer = ctx.executor().schedule(this::idleCheck, left, TimeUnit.NANOSECONDS);
        } else if (exchange == null) {
            closing = true;
            ctx.close();
        }
    }

    /**
     * A wait of the idle timer while a request is under way: never longer than the connection's idle
     * timeout, so that once the request is done the same timer is there in time for the
     * connection's idle deadline.
     */
    private long watchDelay(long nanos) {
        long connectionIdle = plane.httpSettings().idleTimeout().toNanos();
        return stream || connectionIdle <= 0 ? nanos : Math.min(nanos, connectionIdle);
    }

    private void armHeaderTimeout() {
        cancelTimer();
        idleDeadline = 0;
        timer = ctx.executor().schedule(this::headerTimeout, plane.httpSettings().headerTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void cancelTimers() {
        cancelTimer();
        idleDeadline = 0;
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
    }

    private void headerTimeout() {
        timer = null;
        if (exchange != null || closing) {
            return;
        }
        if (backlog.peekFirst() instanceof HttpRequest) {
            // the head came whole and waits for the client to take the answers before it: not a slow head; the
            // connection idles (and closes at the idle timeout if the client never takes them)
            arriving = false;
            armIdle();
            return;
        }
        plane.metrics().httpReply(listener.http().owner(), 408);
        refuse(HttpResponseStatus.REQUEST_TIMEOUT, "the request headers did not arrive within "
                + plane.httpSettings().headerTimeout().toSeconds() + " s");
    }

    /** {@code client}'s address as text. */
    String clientIp(InetSocketAddress client) {
        if (client != forwardedClient) {
            forwardedClient = client;
            clientIp = client.getAddress().getHostAddress();
            forwardedElement = null;
        }
        return clientIp;
    }

    /** The {@code Forwarded} element (RFC 7239) of a request from {@code client} for {@code host} (null: none) over {@code scheme}. */
    String forwardedElement(InetSocketAddress client, String host, String scheme) {
        String ip = clientIp(client);
        if (forwardedElement == null || !Objects.equals(host, forwardedHost) || !scheme.equals(forwardedScheme)) {
            String node = client.getAddress() instanceof Inet6Address ? "\"[" + ip + "]\"" : ip;
            forwardedElement = "for=" + node + (host == null ? "" : ";host=\"" + host.replace("\"", "") + "\"") + ";proto=" + scheme;
            forwardedHost = host;
            forwardedScheme = scheme;
        }
        return forwardedElement;
    }

    /**
     * Sits before the codec: the first byte of a request starts its header timeout. The timer is
     * set only when the read did not bring the whole head (most reads do, and then the request
     * began before this returns).
     */
    private final class FirstByte extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext c, Object msg) {
            boolean first = exchange == null && !arriving && !closing;
            if (first) {
                arriving = true;
                idleDeadline = 0;
            }
            c.fireChannelRead(msg);
            if (first && arriving && exchange == null && !closing && timer == null) {
                armHeaderTimeout();
            }
        }
    }
}
