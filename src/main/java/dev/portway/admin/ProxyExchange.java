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
    private boolean keepAlive;
    private final Runnable next;
    private Channel upstream;
    private final ChannelFutureListener clientClosed = f -> upstream.close();
    private boolean answered;
    private boolean interim;
    private boolean done;

    private ProxyExchange(ChannelHandlerContext client, FullHttpRequest request, ApiProxy.Target target, String prefix,
                          boolean keepAlive, Runnable next) {
        this.client = client;
        this.request = request;
        this.target = target;
        this.prefix = prefix;
        this.host = request.headers().get(HttpHeaderNames.HOST, "");
        this.head = request.method().equals(HttpMethod.HEAD);
        this.keepAlive = keepAlive;
        this.next = next;
    }

    /**
     * Carries {@code request} to {@code target} and its answer back; on the client's event loop.
     *
     * @param prefix    the public path up to and with {@code proxy} (decoded)
     * @param next      run when the answer is written whole and the connection is kept
     */
    static void start(ChannelHandlerContext client, FullHttpRequest request, ApiProxy.Target target, String prefix, String query,
                      boolean keepAlive, ChannelFactory<? extends Channel> channels, Runnable next) {
        HttpMethod method = request.method();
        if (target.path().isEmpty() && (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD))) {
            // kube's "hack for issue 4958": the root of the proxy is asked with a slash, so relative links resolve inside it
            FullHttpResponse moved = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.MOVED_PERMANENTLY);
            moved.headers().set(HttpHeaderNames.LOCATION, ApiProxy.escapePath(prefix + "/") + (query.isEmpty() ? "" : "?" + query));
            moved.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
            finish(client, moved, keepAlive, next);
            return;
        }
        ProxyExchange exchange = new ProxyExchange(client, upstreamRequest(request, target, prefix, query, client), target, prefix,
                keepAlive, next);
        exchange.connect(channels);
    }

    private static void finish(ChannelHandlerContext client, FullHttpResponse response, boolean keepAlive, Runnable next) {
        HttpUtil.setKeepAlive(response, keepAlive);
        ChannelFuture written = client.writeAndFlush(response);
        if (keepAlive) {
            next.run();
        } else {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The request as the pod gets it; it holds its own reference to the body. */
    private static FullHttpRequest upstreamRequest(FullHttpRequest in, ApiProxy.Target target, String prefix, String query,
                                                   ChannelHandlerContext client) {
        String path = target.path().isEmpty() ? "/" : target.path();
        FullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, in.method(),
                ApiProxy.escapePath(path) + (query.isEmpty() ? "" : "?" + query), in.content().retainedDuplicate());
        HttpHeaders headers = out.headers();
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
        headers.set("X-Forwarded-Uri", prefix + target.path());
        return out;
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
            upstream.writeAndFlush(request).addListener((ChannelFutureListener) w -> {
                if (!w.isSuccess()) {
                    fail(ApiProxy.unreachable(String.valueOf(w.cause().getMessage())));
                }
            });
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
        if (done || !client.channel().isActive()) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            broken(ApiProxy.unreachable("malformed HTTP response: " + o.decoderResult().cause().getMessage()));
            return;
        }
        if (msg instanceof HttpResponse response) {
            if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                interim = true; // a 100 Continue: the body went whole, the answer comes after
            } else {
                client.write(clientHead(response));
                answered = true;
            }
        }
        if (msg instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (interim) {
                content.release();
                interim = !last;
                ctx.read();
                return;
            }
            if (last) {
                done = true;
                client.writeAndFlush(new io.netty.handler.codec.http.DefaultLastHttpContent(content.content()))
                        .addListener((ChannelFutureListener) f -> ended(f.isSuccess()));
                ctx.close();
                return;
            }
            client.writeAndFlush(content).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    ctx.read();
                } else {
                    ctx.close();
                }
            });
            return;
        }
        if (!(msg instanceof HttpContent)) {
            client.flush();
            ctx.read();
        }
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
                out.headers().add(h.getKey(), ApiProxy.rewriteLocation(h.getValue(), hostPort(target.address()), host, prefix));
                continue;
            }
            out.headers().add(h.getKey(), h.getValue());
        }
        int code = in.status().code();
        boolean bodyless = head || code == 204 || code == 304;
        if (!bodyless && !out.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
            if (request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
                out.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else {
                keepAlive = false; // an HTTP/1.0 client reads to the end of the connection
            }
        }
        HttpUtil.setKeepAlive(out, keepAlive);
        return out;
    }

    private static String hostPort(InetSocketAddress a) {
        String ip = a.getAddress().getHostAddress();
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + a.getPort();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!done) {
            broken(ApiProxy.unreachable("EOF"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            broken(ApiProxy.unreachable(String.valueOf(cause.getMessage())));
        }
        ctx.close();
    }

    /** The pod's side failed: a 503 if nothing of the answer went yet, else the client's connection ends (its answer cannot). */
    private void broken(dev.portway.api.ApiException error) {
        if (done) {
            return;
        }
        if (answered) {
            done = true;
            upstream.close();
            client.close();
            return;
        }
        fail(error);
    }

    private void fail(dev.portway.api.ApiException error) {
        if (done) {
            return;
        }
        done = true;
        if (upstream != null) {
            upstream.close();
            client.channel().closeFuture().removeListener(clientClosed);
        }
        if (client.channel().isActive()) {
            finish(client, HttpResponses.toFull(HttpResponses.status(error.status()), keepAlive), keepAlive, next);
        }
    }

    private void ended(boolean written) {
        client.channel().closeFuture().removeListener(clientClosed);
        if (!written) {
            client.close();
        } else if (keepAlive) {
            next.run();
        } else {
            client.close();
        }
    }
}
