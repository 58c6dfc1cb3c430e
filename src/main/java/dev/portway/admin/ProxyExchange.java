package dev.portway.admin;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One request through the proxy subresources, carried as kube-apiserver's proxy handler carries
 * it (apimachinery's {@code UpgradeAwareHandler} and its rewriting transport):
 * <ul>
 * <li>to the pod's address, on a connection of its own opened from the client's event loop (no
 *     pool: a proxied request is a user's, not the data plane's); {@code https} is TLS that
 *     checks no certificate, as kube-apiserver's proxy transport;</li>
 * <li>the request's fields go on, less the hop-by-hop ones (and those {@code Connection} names)
 *     and the client's {@code Authorization}, which kube-apiserver takes off once it has
 *     authenticated the request: a pod never sees the admin's token. {@code X-Forwarded-For} and
 *     {@code X-Forwarded-Uri} (the path the client asked for) are added;</li>
 * <li>the answer comes back as it is read, one read at a time, each after the client has taken the
 *     last (the pod may stream); less the hop-by-hop fields and the CORS ones (a pod cannot open
 *     the API to other origins); a {@code Location} on this host or the pod's, with an absolute
 *     path, is rewritten into the proxy's path;</li>
 * <li>a pod that cannot be reached is a 503 {@code error trying to reach service: ...}, as Go
 *     words the dial error.</li>
 * </ul>
 * kube-apiserver also rewrites the links in an HTML answer into the proxy's path, for browsers;
 * Portway refuses browsers here (see {@link RequestGate}), so HTML goes through as it is.
 */
final class ProxyExchange extends ChannelInboundHandlerAdapter {

    private static final Set<String> HOP_BY_HOP = Set.of("connection", "proxy-connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade");
    private static final Set<String> CORS = Set.of("access-control-allow-credentials", "access-control-allow-headers",
            "access-control-allow-methods", "access-control-allow-origin");
    private static final int CONNECT_TIMEOUT_MILLIS = 30_000;
    private static volatile SslContext insecureTls;

    private final ChannelHandlerContext client;
    private final FullHttpRequest request;
    private final ApiProxy.Target target;
    private final String prefix;
    private final String host;
    private final boolean head;
    /** The client's HTTP version: an HTTP/1.0 client gets no chunks, and its keep-alive said. */
    private final HttpVersion clientVersion;
    private boolean keepAlive;
    private final Runnable next;
    private Channel upstream;
    private final ChannelFutureListener clientClosed = f -> upstream.close();
    /** The answer's head has gone to the client: a failure now can only end the connection. */
    private boolean answered;
    /** Within a 1xx interim answer, which is not passed on. */
    private boolean interim;
    private boolean done;
    /** Writes to the client not yet done; the pod is read again only when none is left. */
    private int pendingWrites;
    /** A read of the pod's is done and the next waits for the client's writes. */
    private boolean readWanted;

    private ProxyExchange(ChannelHandlerContext client, FullHttpRequest request, ApiProxy.Target target, String prefix,
                          HttpVersion clientVersion, boolean keepAlive, Runnable next) {
        this.client = client;
        this.request = request;
        this.target = target;
        this.prefix = prefix;
        this.host = request.headers().get(HttpHeaderNames.HOST, "");
        this.head = request.method().equals(HttpMethod.HEAD);
        this.clientVersion = clientVersion;
        this.keepAlive = keepAlive;
        this.next = next;
    }

    /**
     * Carries {@code request} to {@code target} and its answer back; on the client's event loop.
     * A request that cannot be sent at all throws the API error to answer instead.
     *
     * @param prefix    the public path up to and with {@code proxy} (decoded)
     * @param next      run when the answer is written whole and the connection is kept
     */
    static void start(ChannelHandlerContext client, FullHttpRequest request, ApiProxy.Target target, String prefix, String query,
                      boolean keepAlive, ChannelFactory<? extends Channel> channels, Runnable next) {
        HttpMethod method = request.method();
        HttpVersion version = request.protocolVersion();
        if (target.path().isEmpty() && (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD))) {
            // kube's "hack for issue 4958": the root of the proxy is asked with a slash, so relative links resolve inside it
            FullHttpResponse moved = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.MOVED_PERMANENTLY);
            moved.headers().set(HttpHeaderNames.LOCATION, ApiProxy.escapePath(prefix + "/") + (query.isEmpty() ? "" : "?" + query));
            moved.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            finish(client, moved, version, keepAlive, next);
            return;
        }
        ProxyExchange exchange = new ProxyExchange(client, upstreamRequest(request, target, prefix, query, client), target, prefix,
                version, keepAlive, next);
        exchange.connect(channels);
    }

    private static void finish(ChannelHandlerContext client, FullHttpResponse response, HttpVersion clientVersion, boolean keepAlive,
                               Runnable next) {
        keepAlive(response, clientVersion, keepAlive);
        ChannelFuture written = client.writeAndFlush(response);
        if (keepAlive) {
            next.run();
        } else {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Says whether the connection stays, as a client of {@code version} reads it (an HTTP/1.0 client keeps it only when told). */
    private static void keepAlive(HttpResponse response, HttpVersion version, boolean keepAlive) {
        if (version.equals(HttpVersion.HTTP_1_0)) {
            response.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        } else {
            HttpUtil.setKeepAlive(response, keepAlive);
        }
    }

    /** The request as the pod gets it; it holds its own reference to the body, taken once nothing more can throw. */
    private static FullHttpRequest upstreamRequest(FullHttpRequest in, ApiProxy.Target target, String prefix, String query,
                                                   ChannelHandlerContext client) {
        String path = target.path().isEmpty() ? "/" : target.path();
        HttpHeaders headers = new io.netty.handler.codec.http.DefaultHttpHeaders();
        Set<String> named = connectionTokens(in.headers());
        for (Map.Entry<String, String> h : in.headers()) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(name) || named.contains(name) || name.equals("authorization") || name.equals("content-length")) {
                continue;
            }
            headers.add(h.getKey(), h.getValue());
        }
        int length = in.content().readableBytes();
        if (length > 0 || in.method().equals(HttpMethod.POST) || in.method().equals(HttpMethod.PUT) || in.method().equals(HttpMethod.PATCH)) {
            headers.setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        }
        String clientIp = client.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : null;
        if (clientIp != null) {
            String prior = String.join(", ", in.headers().getAll("X-Forwarded-For"));
            headers.set("X-Forwarded-For", prior.isEmpty() ? clientIp : prior + ", " + clientIp);
        }
        String forwardedUri = prefix + target.path();
        if (forwardedUri.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            // the path the client asked, decoded, as kube-apiserver sends it: Go's transport refuses such a field
            throw ApiProxy.unreachable("net/http: invalid header field value for \"X-Forwarded-Uri\"");
        }
        headers.set("X-Forwarded-Uri", forwardedUri);
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, in.method(), ApiProxy.escapePath(path) + (query.isEmpty() ? "" : "?" + query),
                in.content().retainedDuplicate(), headers, io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
    }

    private static Set<String> connectionTokens(HttpHeaders headers) {
        Set<String> named = new HashSet<>();
        for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                named.add(token.strip().toLowerCase(Locale.ROOT));
            }
        }
        return named;
    }

    private void connect(ChannelFactory<? extends Channel> channels) {
        InetSocketAddress address = target.address();
        Bootstrap b = new Bootstrap()
                .group(client.channel().eventLoop())
                .channelFactory(channels)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) throws Exception {
                        if (target.scheme().equals("https")) {
                            ch.pipeline().addLast(tls().newHandler(ch.alloc(), address.getAddress().getHostAddress(), address.getPort()));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(4096, 64 * 1024, 64 * 1024), ProxyExchange.this);
                    }
                });
        ChannelFuture connecting = b.connect(address);
        upstream = connecting.channel();
        // taken off again when the exchange ends: a kept connection (kubectl proxy keeps its own) carries many
        client.channel().closeFuture().addListener(clientClosed);
        connecting.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                request.release();
                fail(dialError(address, f.cause()));
                return;
            }
            // a write that fails closes the connection (or is made to): what the pod answered, or its end, decides the rest
            upstream.writeAndFlush(request).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            upstream.read();
        });
    }

    private static SslContext tls() throws javax.net.ssl.SSLException {
        SslContext ctx = insecureTls;
        if (ctx == null) {
            ctx = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            insecureTls = ctx;
        }
        return ctx;
    }

    /** Go's words for a dial that failed: {@code dial tcp 127.10.0.5:9: connect: connection refused}. */
    private static dev.portway.api.ApiException dialError(InetSocketAddress address, Throwable cause) {
        String where = "dial tcp " + address.getAddress().getHostAddress() + ":" + address.getPort() + ": ";
        if (cause instanceof ConnectTimeoutException) {
            return ApiProxy.unreachable(where + "i/o timeout");
        }
        if (cause instanceof ConnectException) {
            return ApiProxy.unreachable(where + "connect: connection refused");
        }
        return ApiProxy.unreachable(where + cause.getMessage());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HttpObject o)) {
            // bytes past a 101 (the decoder passes them on raw): the request asked for no switch
            ReferenceCountUtil.release(msg);
            fail(ApiProxy.unreachable("the pod switched protocols unasked"));
            return;
        }
        if (o.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            fail(ApiProxy.unreachable("malformed HTTP response: " + o.decoderResult().cause().getMessage()));
            return;
        }
        if (msg instanceof HttpResponse response) {
            if (response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                ReferenceCountUtil.release(msg);
                fail(ApiProxy.unreachable("the pod switched protocols unasked"));
                return;
            }
            if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                interim = true; // a 100 Continue or a 103: not passed on, the answer comes after
            } else {
                answered = true;
                write(clientHead(response));
                if (head) {
                    // the head is the whole answer (the decoder may expect a body after an interim answer, as it
                    // matches the HEAD to the first answer): nothing more is read
                    ReferenceCountUtil.release(msg);
                    last(LastHttpContent.EMPTY_LAST_CONTENT);
                    return;
                }
            }
        }
        if (msg instanceof HttpContent content) {
            boolean isLast = content instanceof LastHttpContent;
            if (interim) {
                content.release();
                interim = !isLast;
            } else if (isLast) {
                last(new io.netty.handler.codec.http.DefaultLastHttpContent(content.content()));
            } else {
                write(content);
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (done) {
            return;
        }
        client.flush();
        if (pendingWrites == 0) {
            ctx.read();
        } else {
            readWanted = true;
        }
    }

    /** Writes a part of the answer (flushed at the end of the read); the pod is read again once every such write is done. */
    private void write(Object part) {
        pendingWrites++;
        client.write(part).addListener((ChannelFutureListener) f -> {
            pendingWrites--;
            if (!f.isSuccess()) {
                fail(ApiProxy.unreachable("the client's connection failed"));
            } else if (pendingWrites == 0 && readWanted && !done) {
                readWanted = false;
                upstream.read();
            }
        });
    }

    /** The answer's end: written, the pod's connection closed (no pool), and the client's next request may go. */
    private void last(LastHttpContent end) {
        done = true;
        upstream.close();
        client.channel().closeFuture().removeListener(clientClosed);
        client.writeAndFlush(end).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess() && keepAlive) {
                next.run();
            } else {
                client.close();
            }
        });
    }

    private HttpResponse clientHead(HttpResponse in) {
        HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, in.status());
        Set<String> named = connectionTokens(in.headers());
        for (Map.Entry<String, String> h : in.headers()) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(name) || named.contains(name) || CORS.contains(name)) {
                continue;
            }
            if (name.equals("location")) {
                out.headers().add(h.getKey(), ApiProxy.rewriteLocation(h.getValue(), target.authority(), host, prefix));
                continue;
            }
            out.headers().add(h.getKey(), h.getValue());
        }
        int code = in.status().code();
        boolean bodyless = head || code == 204 || code == 304;
        if (!bodyless && !out.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
            if (clientVersion.equals(HttpVersion.HTTP_1_1)) {
                out.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else {
                keepAlive = false; // an HTTP/1.0 client reads to the end of the connection
            }
        }
        keepAlive(out, clientVersion, keepAlive);
        return out;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!done) {
            fail(ApiProxy.unreachable("EOF"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            fail(ApiProxy.unreachable(String.valueOf(cause.getMessage())));
        }
        ctx.close();
    }

    /**
     * The exchange failed: the pod's connection ends, and the client gets the error (a 503) if
     * nothing of the answer went yet; otherwise its connection ends too, as its answer cannot.
     */
    private void fail(dev.portway.api.ApiException error) {
        if (done) {
            return;
        }
        done = true;
        if (upstream != null) {
            upstream.close();
            client.channel().closeFuture().removeListener(clientClosed);
        }
        if (answered) {
            client.close();
        } else if (client.channel().isActive()) {
            finish(client, HttpResponses.toFull(HttpResponses.status(error.status()), keepAlive), clientVersion, keepAlive, next);
        }
    }
}
