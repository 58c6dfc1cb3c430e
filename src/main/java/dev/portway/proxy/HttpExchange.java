package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One request and its response through the gateway: route, policy and filters on the request
 * head, then either an answer of the gateway's own ({@link LocalReply}) or the request streamed to
 * an upstream endpoint and the response streamed back.
 *
 * <p>Everything runs on the client connection's event loop: the upstream connection is borrowed
 * from (and returned to) that loop's {@link UpstreamPool}, or made on that loop. Bodies flow
 * with backpressure both ways: the client is read while the upstream can take more, the
 * upstream while the client can.
 *
 * <p>A connect failure is retried on another endpoint (the request has not left the gateway);
 * an idempotent request without a body is retried too when the connection closes before any
 * response byte. Nothing is retried once a response byte went to the client.
 */
final class HttpExchange {

    private final GatewayHandler down;
    private final ChannelHandlerContext ctx;
    private final DataPlane plane;
    private final HttpGatewayListener listener;
    private final Plan.HttpListener spec;
    private final HttpRequest request;
    private final String method;
    private final long startNanos = System.nanoTime();
    private final boolean keepAliveRequested;
    /** The client spoke HTTP/1.0 (the request goes upstream as HTTP/1.1): it cannot read chunked bodies. */
    private final boolean clientHttp10;
    private final boolean bodyExpected;
    /** The {@link HeaderScan} bits of the request's headers (scanned again after filters change them). */
    private final int headerBits;
    private boolean headersModified;
    /** The request's fields once its hop-by-hop ones are gone (before the filters). */
    private int upstreamBits;
    /** The authority the client asked for: its Host header, or an absolute-form target's (checked once parsed). */
    private String originalHost;
    private final String originalUri;

    private RequestTarget target;
    private RouteTable.Rule rule;
    private AccessControl access;
    private ClusterRuntime cluster;
    private Plan.Endpoint endpoint;
    private Set<InetSocketAddress> failed;
    private int attempts;
    /** In the cluster's count of requests in flight; and holding a place in its retry budget. */
    private boolean counted;
    private boolean retrying;
    private String lastFailure;
    private List<Plan.ResponseHeaders> responseFilters;
    private List<String> mirrorClusters;
    /** How responses are decoded: heads of at most 64 KiB with a first line of 4 KiB, read in pieces of 64 KiB. */
    private static final HttpDecoderConfig UPSTREAM_DECODER = new HttpDecoderConfig()
            .setMaxInitialLineLength(4096).setMaxHeaderSize(64 * 1024).setMaxChunkSize(64 * 1024);

    private List<MirrorRequest> mirrors;
    /** When the route replaced a path prefix: the public prefix and what it became upstream (Location rewriting). */
    private String publicPrefix;
    private String upstreamPrefix;

    private Channel upstream;
    /** The write of the whole response (a local reply) or of its last part; null until then. */
    private ChannelFuture responseWritten;
    private UpstreamHandler upstreamHandler;
    private boolean pooled;
    /** A pooled connection failed before answering: the rest of the attempts connect afresh (that one is not counted). */
    private boolean stalePool;
    private boolean upstreamKeepAlive;

    private boolean requestDone;
    private boolean requestSent;
    private boolean responseStarted;
    /**
     * The response's head, read and not yet written: it goes out with the body's end as one
     * message when both come in the same read (most small answers), else at the read's end.
     */
    private HttpResponse heldHead;
    private boolean responseDone;
    private boolean skipInformational;
    /** A WebSocket handshake: Upgrade and Connection go upstream, and a 101 turns both connections into a tunnel. */
    private final boolean webSocket;
    /** The handshake's Sec-WebSocket-Key, which the endpoint's 101 must answer. */
    private final String webSocketKey;
    private boolean switching;
    private boolean closeAfter;
    private boolean finished;
    private boolean local;
    private int status;
    private long bytesIn;
    private long bytesOut;
    /** The answer goes to the client framed by the connection's end (no length, no chunks): only a reset tells it cut. */
    private boolean endedByClose;
    /** Bytes of the answer written while the client took no more, not out yet: counted in {@link HeldReads} (an HTTP/1.1 connection's holdings). */
    private long heldForClient;
    private long requestDeadline;
    private ScheduledFuture<?> timer;
    /** When a byte of this request's body or of its response last moved (the stream idle timeout). */
    private long lastMoved = startNanos;
    /** On HTTP/2: the stream's share of what the connection's streams may hold of their answers; null on HTTP/1.1. */
    private final StreamBudget.Meter budget;
    /** What the budget runs once there is room (made once, not at every wait). */
    private final Runnable budgetRoom;

    HttpExchange(GatewayHandler down, HttpRequest request) {
        this.down = down;
        this.ctx = down.ctx();
        this.plane = down.plane();
        this.listener = down.listener();
        this.spec = listener.http();
        this.request = request;
        this.method = request.method().name();
        this.budget = down.budget();
        this.budgetRoom = budget == null ? null : this::roomInBudget;
        this.headerBits = HeaderScan.of(request.headers());
        this.keepAliveRequested = HeaderScan.keepAlive(request, headerBits);
        this.clientHttp10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        this.bodyExpected = HeaderScan.bodyExpected(request, headerBits);
        this.originalHost = (headerBits & HeaderScan.HOST) == 0 ? null : request.headers().get(HttpHeaderNames.HOST);
        this.originalUri = request.uri();
        this.webSocket = !down.isStream() && (headerBits & HeaderScan.UPGRADE) != 0 && request.method().equals(HttpMethod.GET)
                && "websocket".equalsIgnoreCase(request.headers().get(HttpHeaderNames.UPGRADE))
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
        this.webSocketKey = webSocket ? request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY) : null;
    }

    // ---- the request head

    private static boolean hasLowerCase(String method) {
        for (int i = 0; i < method.length(); i++) {
            char c = method.charAt(i);
            if (c >= 'a' && c <= 'z') {
                return true;
            }
        }
        return false;
    }

    /**
     * Writes the body's framing as the gateway frames it upstream: {@code Transfer-Encoding:
     * chunked} exactly, a {@code Content-Length} without leading zeros. False, for a 501, when
     * the request names a coding besides chunked (as NGINX and Envoy answer it). Netty's decoder
     * takes any list that ends in chunked ({@code gzip, chunked}, {@code chunked,}, two fields),
     * decodes the chunks, and the gateway chunks the body again; passed on as the client wrote it,
     * a backend that takes only {@code chunked} itself, or reads one field of two, would read the
     * chunks as the next request on a pooled connection: another client's.
     */
    static boolean framingCanonical(HttpHeaders h) {
        List<String> codings = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!codings.isEmpty()) {
            if (codings.size() != 1 || !codings.getFirst().strip().equalsIgnoreCase("chunked")) {
                return false;
            }
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        String length = h.get(HttpHeaderNames.CONTENT_LENGTH); // one, and a number: the decoder checked
        if (length != null && length.length() > 1 && length.charAt(0) == '0') {
            h.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(Long.parseLong(length)));
        }
        return true;
    }

    void start() {
        HttpHeaders h = request.headers();
        if ((headerBits & HeaderScan.HOSTS) != 0) {
            reply(HttpResponseStatus.BAD_REQUEST, "the request has more than one Host header");
            return;
        }
        if ((headerBits & HeaderScan.OBSOLETE_WEBSOCKET_KEY) != 0) {
            // the gateway's decoder took 8 bytes as this request's body; a backend might not (or
            // might, when the gateway sent none): no framing both agree on, so the connection ends
            closeAfter = true;
            reply(HttpResponseStatus.BAD_REQUEST, "Sec-WebSocket-Key1 and -Key2 belong to the WebSocket handshake of draft 76,"
                    + " whose body has no length; use RFC 6455's Sec-WebSocket-Key");
            return;
        }
        if (hasLowerCase(method)) {
            // a method is case-sensitive, and "delete" is not DELETE to the routes and policies; but
            // frameworks that upper-case what they read run it as one: refused, as NGINX refuses it
            reply(HttpResponseStatus.BAD_REQUEST, "methods are upper case: " + method.toUpperCase(java.util.Locale.ROOT) + ", not " + method);
            return;
        }
        if ((headerBits & (HeaderScan.TRANSFER_ENCODING | HeaderScan.CONTENT_LENGTH)) != 0 && !down.isStream() && !framingCanonical(h)) {
            closeAfter = true; // the body's framing is not one the gateway passes on
            reply(HttpResponseStatus.NOT_IMPLEMENTED, "a Transfer-Encoding other than chunked alone is not implemented");
            return;
        }
        if ((headerBits & HeaderScan.UNDERSCORE) != 0) {
            // the client's, before the route, the policy and the filters look (a filter may add such a field)
            HeaderScan.removeUnderscored(h);
        }
        if (request.protocolVersion().equals(HttpVersion.HTTP_1_1) && originalHost == null) {
            reply(HttpResponseStatus.BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
            return;
        }
        if (request.method().equals(HttpMethod.CONNECT)) {
            // no route makes a tunnel (the Gateway API has none); passed on, a backend's 200 would turn the
            // pooled connection into one, and the next request on it would get raw bytes for an answer
            closeAfter = true; // what a CONNECT client sends next is its tunnel's, not a request
            reply(HttpResponseStatus.METHOD_NOT_ALLOWED, "CONNECT is not served: the gateway makes no tunnels");
            return;
        }
        if (down.isStream() && !request.uri().startsWith("/")) {
            // RFC 9113 8.3.1: an HTTP/2 request names its authority in :authority, its :path is a path
            reply(HttpResponseStatus.BAD_REQUEST, "an HTTP/2 request's :path must start with /");
            return;
        }
        try {
            target = RequestTarget.parse(request.uri(), originalHost);
        } catch (RequestTarget.Invalid e) {
            reply(HttpResponseStatus.BAD_REQUEST, e.getMessage());
            return;
        }
        if (!target.authority().equals(originalHost)) {
            // What was routed and checked is what goes upstream. For an absolute-form target, RFC
            // 9112 (3.2.2) has a proxy make a new Host from the target, not pass the client's on.
            originalHost = target.authority();
            h.set(HttpHeaderNames.HOST, originalHost);
            headersModified = true;
        }
        RouteTable routes = listener.routes();
        String serverName = down.serverName();
        if (serverName != null && routes.misdirected(serverName, target.host())) {
            reply(HttpResponseStatus.MISDIRECTED_REQUEST, "this connection was set up for " + serverName
                    + " (TLS SNI), whose listener does not serve host " + target.host() + "; make a new connection for it");
            return;
        }
        RouteTable.Match match = routes.route(target.host(), target.path(), method, h, target.query());
        if (match.rule() == null) {
            reply(HttpResponseStatus.NOT_FOUND, match.miss() == RouteTable.Miss.NO_HOST
                    ? "no route for host " + target.host() : "no route for " + method + " " + target.path() + " on host " + target.host());
            return;
        }
        rule = match.rule();
        Plan.HttpRule r = rule.spec();
        if (r.requestTimeout() != null) {
            requestDeadline = startNanos + r.requestTimeout().toNanos();
        }
        if (r.policy() != null) {
            access = plane.accessControl(r.policy());
            AccessControl.Verdict v = access.check(method, target.path(), h, clientAddress());
            if (v == AccessControl.VERIFY) {
                Channel connection = ctx.channel();
                access.verify(h, clientAddress(), connection::isActive, plane.blocking()).whenComplete((verdict, error) -> ctx.executor().execute(() -> {
                    if (!finished) {
                        if (verdict == AccessControl.PASS) {
                            proceed();
                        } else {
                            refuse(verdict != null ? verdict
                                    : new AccessControl.Verdict(HttpResponseStatus.INTERNAL_SERVER_ERROR, "the credentials could not be checked", null, null));
                        }
                    }
                }));
                return;
            }
            if (v != AccessControl.PASS) {
                refuse(v);
                return;
            }
        }
        proceed();
    }

    /** After route and policy: filters, the backend, and off to it. */
    private void proceed() {
        HttpHeaders h = request.headers();
        Plan.HttpRule r = rule.spec();
        // the client's hop-by-hop fields go before the filters: a field a filter sets is the route
        // author's, and a client's "Connection: x-tenant" must not take it away (Envoy strips them as early)
        upstreamBits = HeaderScan.stripHopByHop(h, headersModified ? HeaderScan.of(h) : headerBits);
        String path = applyFilters(r.filters(), target.path());
        if (path == null) {
            return;
        }
        Plan.HttpBackend backend = rule.pickBackend();
        if (backend == null) {
            reply(HttpResponseStatus.INTERNAL_SERVER_ERROR, "the route " + r.route() + " has no backend to send the request to");
            return;
        }
        path = applyFilters(backend.filters(), path);
        if (path == null) {
            return;
        }
        cluster = backend.cluster() == null ? null : plane.cluster(backend.cluster());
        if (cluster == null) {
            reply(HttpResponseStatus.INTERNAL_SERVER_ERROR, "the backend of route " + r.route() + " does not resolve to a Service port");
            return;
        }
        if (!cluster.tryRequest()) {
            reply(HttpResponseStatus.SERVICE_UNAVAILABLE, "the backend " + backend.cluster() + " has "
                    + cluster.spec().maxConnections() + " requests in flight, its limit (portway.dev/max-connections)");
            return;
        }
        counted = true;
        String expect = h.get(HttpHeaderNames.EXPECT);
        if (expect != null) {
            if (!expect.equalsIgnoreCase("100-continue")) {
                reply(HttpResponseStatus.EXPECTATION_FAILED, "only Expect: 100-continue is understood");
                return;
            }
            h.remove(HttpHeaderNames.EXPECT);
            if (bodyExpected) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE), ctx.voidPromise());
            }
        }
        prepareUpstreamHead(path);
        startMirrors();
        connect();
    }

    /** Leaves the cluster's count of requests in flight (once). */
    private void uncount() {
        if (counted) {
            counted = false;
            cluster.requestEnded(retrying);
        }
    }

    /** Copies of the request for RequestMirror filters, sent alongside (the body follows as it streams). */
    private void startMirrors() {
        if (mirrorClusters == null) {
            return;
        }
        mirrors = new ArrayList<>(mirrorClusters.size());
        for (String name : mirrorClusters) {
            ClusterRuntime c = plane.cluster(name);
            MirrorRequest m = c == null ? null : MirrorRequest.start(plane, c, request, ctx.channel().eventLoop(), spec.key().address().getAddress());
            if (m != null) {
                mirrors.add(m);
                if (!bodyExpected) {
                    m.content(LastHttpContent.EMPTY_LAST_CONTENT);
                }
            }
        }
    }

    private InetAddress clientAddress() {
        return ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
    }

    /** Answers with a policy's refusal, with the headers it asks for. */
    private void refuse(AccessControl.Verdict v) {
        HttpResponse response = localReply(v.status(), v.detail());
        if (response == null) {
            return;
        }
        if (v.retryAfter() != null) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, v.retryAfter());
        }
        if (v.authenticate() != null) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, v.authenticate());
        }
        if (v.status().equals(HttpResponseStatus.METHOD_NOT_ALLOWED)) {
            response.headers().set(HttpHeaderNames.ALLOW, String.join(", ", access.spec().allowedMethods()));
        }
        answer(response);
    }

    /** Applies filters in order; returns the (maybe rewritten) path, or null when a filter answered. */
    private String applyFilters(List<Plan.HttpFilter> filters, String path) {
        for (Plan.HttpFilter f : filters) {
            switch (f) {
                case Plan.RequestRedirect redirect -> {
                    redirect(redirect, path);
                    return null;
                }
                case Plan.RequestHeaders headers -> {
                    modify(request.headers(), headers.set(), headers.add(), headers.remove());
                    headersModified = true;
                }
                case Plan.ResponseHeaders headers -> {
                    if (responseFilters == null) {
                        responseFilters = new ArrayList<>(2);
                    }
                    responseFilters.add(headers);
                }
                case Plan.UrlRewrite rewrite -> {
                    if (rewrite.hostname() != null) {
                        request.headers().set(HttpHeaderNames.HOST, rewrite.hostname());
                        headersModified = true;
                    }
                    if (rewrite.fullPath() != null) {
                        path = rewrite.fullPath();
                    } else if (rewrite.prefix() != null && rule.spec().path().type() == Plan.MatchType.PREFIX) {
                        String matched = trimSlash(rule.spec().path().value());
                        path = replacePrefix(path, matched, rewrite.prefix());
                        publicPrefix = matched;
                        upstreamPrefix = trimSlash(rewrite.prefix());
                    }
                }
                case Plan.RequestMirror mirror -> {
                    if (mirrorClusters == null) {
                        mirrorClusters = new ArrayList<>(1);
                    }
                    mirrorClusters.add(mirror.cluster());
                }
                case Plan.Unresolvable unresolvable -> {
                    reply(HttpResponseStatus.INTERNAL_SERVER_ERROR, unresolvable.detail());
                    return null;
                }
            }
        }
        return path;
    }

    /**
     * Applies a header filter. The fields that frame a message or belong to one hop are the
     * gateway's own ({@link dev.portway.api.gateway.GatewayModel#GATEWAY_OWNED_HEADERS}; a route
     * whose filter changes one is not accepted) and pass untouched here too: a {@code Content-Length}
     * set on a request without a body would leave the pooled upstream connection waiting for bytes
     * that the next request then supplies, and one removed from a response would leave the client
     * reading until the connection ends.
     */
    static void modify(HttpHeaders h, java.util.Map<String, String> set, java.util.Map<String, String> add, List<String> remove) {
        set.forEach((name, value) -> {
            if (!framing(name)) {
                h.set(name, value);
            }
        });
        add.forEach((name, value) -> {
            if (!framing(name)) {
                h.add(name, value);
            }
        });
        for (String name : remove) {
            if (!framing(name)) {
                h.remove(name);
            }
        }
    }

    private static boolean framing(String name) {
        return dev.portway.api.gateway.GatewayModel.GATEWAY_OWNED_HEADERS.contains(name.toLowerCase(Locale.ROOT));
    }

    /** {@code /prefix/rest} with {@code /prefix} (whole segments) replaced: Gateway API's ReplacePrefixMatch. */
    static String replacePrefix(String path, String matched, String replacement) {
        String rest = matched.equals("/") ? path : path.substring(Math.min(matched.length(), path.length()));
        String r = replacement;
        if (r.endsWith("/") && (rest.startsWith("/") || rest.isEmpty()) && r.length() > 1) {
            r = r.substring(0, r.length() - 1);
        }
        if (r.equals("/") && rest.startsWith("/")) {
            r = "";
        }
        String out = r + rest;
        return out.isEmpty() ? "/" : out;
    }

    private static String trimSlash(String p) {
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    private void redirect(Plan.RequestRedirect r, String path) {
        String scheme = r.scheme() != null ? r.scheme() : spec.tls() ? "https" : "http";
        String host = r.hostname() != null ? r.hostname() : target.host();
        Integer port = r.port();
        if (port == null) {
            port = r.scheme() != null ? switch (r.scheme()) {
                case "http" -> 80;
                case "https" -> 443;
                default -> spec.key().address().getPort();
            } : spec.key().address().getPort();
        }
        String p = path;
        if (r.fullPath() != null) {
            p = r.fullPath();
        } else if (r.prefix() != null && rule.spec().path().type() == Plan.MatchType.PREFIX) {
            p = replacePrefix(path, trimSlash(rule.spec().path().value()), r.prefix());
        }
        boolean defaultPort = (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
        String location = scheme + "://" + host + (defaultPort ? "" : ":" + port) + p + (target.query() == null ? "" : "?" + target.query());
        HttpResponseStatus code = HttpResponseStatus.valueOf(r.statusCode());
        boolean keepAlive = keepAliveRequested && !bodyExpected;
        DefaultFullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, code);
        resp.headers().set(HttpHeaderNames.LOCATION, location).setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        if (!keepAlive) {
            resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            closeAfter = true;
        }
        answer(resp);
    }

    /** The head as it goes upstream: hop-by-hop headers out, forwarding headers in, the path normalized (and rewritten). */
    private void prepareUpstreamHead(String path) {
        HttpHeaders h = request.headers();
        // a filter may have changed the fields since: scanned (and stripped, of what a filter set) again
        int bits = headersModified ? HeaderScan.stripHopByHop(h, HeaderScan.of(h)) : upstreamBits;
        if ((bits & HeaderScan.X_HTTP2) != 0) {
            for (HttpConversionUtil.ExtensionHeaderNames n : HttpConversionUtil.ExtensionHeaderNames.values()) {
                h.remove(n.text()); // what the HTTP/2 codec adds for itself (x-http2-stream-id, ...), or a client claims
            }
        }
        InetSocketAddress client = (InetSocketAddress) ctx.channel().remoteAddress();
        if (!listener.trusts(client.getAddress())) {
            HeaderScan.remove(h, bits, HeaderScan.FORWARDING | HeaderScan.PATH_OVERRIDE);
            if ((bits & HeaderScan.X_FORWARDED_OTHER) != 0) {
                HeaderScan.removeOtherForwarded(h);
            }
            bits &= ~(HeaderScan.FORWARDING | HeaderScan.PATH_OVERRIDE | HeaderScan.X_FORWARDED_OTHER);
        }
        // what is not there is added (no lookup); what is there is read and replaced
        String ip = down.clientIp(client);
        String scheme = spec.tls() ? "https" : "http";
        if ((bits & HeaderScan.X_FORWARDED_FOR) == 0) {
            h.add(HeaderScan.X_FORWARDED_FOR_NAME, ip);
        } else {
            h.set(HeaderScan.X_FORWARDED_FOR_NAME, joined(h, HeaderScan.X_FORWARDED_FOR_NAME) + ", " + ip);
        }
        if ((bits & HeaderScan.X_REAL_IP) == 0) {
            h.add(HeaderScan.X_REAL_IP_NAME, ip);
        }
        if ((bits & HeaderScan.X_FORWARDED_PROTO) == 0) {
            h.add(HeaderScan.X_FORWARDED_PROTO_NAME, scheme);
        }
        if ((bits & HeaderScan.X_FORWARDED_HOST) == 0 && originalHost != null) {
            h.add(HeaderScan.X_FORWARDED_HOST_NAME, originalHost);
        }
        if ((bits & HeaderScan.X_FORWARDED_PORT) == 0) {
            h.add(HeaderScan.X_FORWARDED_PORT_NAME, listener.portText());
        }
        String element = down.forwardedElement(client, originalHost, scheme);
        if ((bits & HeaderScan.FORWARDED) == 0) {
            h.add(HeaderScan.FORWARDED_NAME, element);
        } else {
            h.set(HeaderScan.FORWARDED_NAME, joined(h, HeaderScan.FORWARDED_NAME) + ", " + element);
        }
        if (webSocket) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE).set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        }
        request.setUri(target.query() == null ? path : path + "?" + target.query());
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    // ---- the upstream connection

    private void connect() {
        attempts++;
        endpoint = cluster.pickForRequest(failed);
        if (endpoint == null) {
            if (failed == null) {
                reply(HttpResponseStatus.SERVICE_UNAVAILABLE, "no ready endpoint for " + cluster.spec().service());
            } else {
                reply(HttpResponseStatus.BAD_GATEWAY, "every endpoint of " + cluster.spec().service() + " failed (last: " + lastFailure + ")");
            }
            return;
        }
        armTimer();
        java.net.InetAddress source = upstreamSource(endpoint.address());
        Channel pooledChannel = stalePool ? null : UpstreamPool.current().acquire(source, endpoint.address());
        if (pooledChannel != null) {
            pooled = true;
            attach(pooledChannel);
            return;
        }
        pooled = false;
        Plan.Endpoint target = endpoint;
        Bootstrap b = new Bootstrap()
                .group(ctx.channel().eventLoop())
                .channelFactory(plane.transport().socketChannelFactory(target.address().getAddress()))
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.RECVBUF_ALLOCATOR, new UpstreamReads())
                // what the gateway holds for a client that reads nothing once the endpoint's FIN is in: the native
                // transports then read the socket to its end, whatever was asked (see holdForClient). Capped as an
                // L4 relay's is (about 2 MiB), not left to autotuning (up to tcp_rmem's largest)
                .option(ChannelOption.SO_RCVBUF, Listener.CLIENT_RECEIVE_BUFFER)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, plane.connectTimeoutMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        Http1ClientCodec codec = new Http1ClientCodec(UPSTREAM_DECODER.clone());
                        ch.pipeline().addLast("http", codec);
                        ch.pipeline().addLast("upstream", new UpstreamHandler(source, target.address(), codec));
                    }
                });
        if (source != null) {
            plane.transport().sourcePortAtConnect(b);
        }
        ChannelFuture f = source == null ? b.connect(target.address()) : b.connect(target.address(), new InetSocketAddress(source, 0));
        f.addListener(done -> {
            if (!ctx.channel().eventLoop().inEventLoop()) {
                // a channel that could not even be registered (no descriptor left) fails on Netty's global
                // executor: the exchange's state is its event loop's alone
                ctx.channel().eventLoop().execute(() -> connected(f, target));
                return;
            }
            connected(f, target);
        });
    }

    private void connected(ChannelFuture f, Plan.Endpoint target) {
        if (finished) {
            if (f.channel().isRegistered()) {
                f.channel().close();
            }
            return;
        }
        if (f.isSuccess()) {
            if (!plane.admitClient(f.channel())) {
                // behind a gateway one client connection may open many upstream ones (HTTP/2 streams): each
                // counts against the process's cap too, so they cannot take the descriptors the cap keeps
                f.channel().close();
                reply(HttpResponseStatus.SERVICE_UNAVAILABLE, "the gateway holds all the connections this process's"
                        + " descriptors allow; try again later");
                return;
            }
            cluster.track(target.address(), f.channel());
            plane.metrics().connected(listener.spec());
            attach(f.channel());
        } else {
            plane.metrics().upstreamFailure(listener.spec());
            cluster.connectFailed(target.address());
            exclude(target);
            retryOr(HttpResponseStatus.BAD_GATEWAY, "cannot connect to " + target.target() + ": " + f.cause().getMessage(), true);
        }
    }

    private void exclude(Plan.Endpoint e) {
        if (failed == null) {
            failed = new HashSet<>(4);
        }
        failed.add(e.address());
    }

    /**
     * Tries again when allowed, else answers. A connect failure always is, outside the retry
     * budget: nothing was sent, so the retry adds no load to the backend, which is what the budget
     * guards (with an endpoint gone, more connects at once than the budget's minimum would
     * otherwise fail although another endpoint is up). Both stay within the attempts and deadline.
     */
    private void retryOr(HttpResponseStatus status, String detail, boolean nothingSent) {
        lastFailure = detail;
        boolean retryable = nothingSent || (!bodyExpected && idempotent());
        if (retryable && attempts < plane.httpSettings().maxAttempts() && !pastDeadline()
                && (nothingSent || retrying || (retrying = cluster.startRetrying()))) {
            plane.metrics().httpRetry(spec.owner());
            connect();
        } else {
            reply(status, detail);
        }
    }

    private boolean idempotent() {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE" -> true;
            default -> false;
        };
    }

    private void attach(Channel ch) {
        upstream = ch;
        ((UpstreamReads) ch.config().getRecvByteBufAllocator()).limit(budget == null ? UpstreamReads.CONNECTION_READ : UpstreamReads.STREAM_READ);
        upstreamHandler = ch.pipeline().get(UpstreamHandler.class);
        upstreamHandler.attach(this);
        if (!bodyExpected) {
            // the head and its end as one message down the pipeline (a request is sent again as it was on a retry)
            ch.writeAndFlush(new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(), Unpooled.EMPTY_BUFFER,
                    request.headers(), EmptyHttpHeaders.INSTANCE), ch.voidPromise());
            readUpstream();
            requestSent = true;
        } else {
            ch.write(request, ch.voidPromise());
            readUpstream();
            down.drain();
            ch.flush();
            down.maybeRead();
        }
    }

    boolean takesBody() {
        return local || !bodyExpected || (upstream != null && upstream.isWritable());
    }

    boolean wantsBody() {
        return !requestDone && takesBody();
    }

    /**
     * The whole request was read: what the connection reads next belongs to the next request. Not
     * for a WebSocket handshake, whose next bytes belong to the tunnel and stay in the socket until
     * it forms.
     */
    boolean requestRead() {
        return requestDone && !webSocket;
    }

    void requestContent(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (last) {
            requestDone = true;
        }
        if (local || !bodyExpected || upstream == null || finished) {
            c.release();
            return;
        }
        if (c.decoderResult().isFailure()) {
            // a malformed chunk: the codec ends the body there, which must not look like its end upstream
            c.release();
            refuseBody("the request body is not valid HTTP/1.1 (" + c.decoderResult().cause().getMessage() + ")");
            return;
        }
        if (last && !((LastHttpContent) c).trailingHeaders().isEmpty()) {
            // request trailers are not passed on (NGINX's and Envoy's default): a backend that merges them into
            // the header section would read Host, Content-Length or X-Forwarded-For as the client chose them
            c = new DefaultLastHttpContent(c.content());
        }
        bytesIn += c.content().readableBytes();
        lastMoved = System.nanoTime();
        if (access != null && access.spec().maxBodyBytes() != null && bytesIn > access.spec().maxBodyBytes()) {
            c.release();
            abandonMirrors();
            refuse(access.tooLarge());
            return;
        }
        if (mirrors != null) {
            for (MirrorRequest m : mirrors) {
                m.content(c);
            }
        }
        upstream.write(c, upstream.voidPromise());
        if (last) {
            requestSent = true;
        }
    }

    /** The request's body has not all arrived (nor waits in the connection's backlog). */
    boolean requestDone() {
        return requestDone;
    }

    /** The client ended its side of the connection before the request's end: no more of it can come. */
    void requestCut() {
        refuseBody("the request ended before its body did: the client closed its side of the connection");
    }

    /** Refuses a request whose body cannot be passed on whole; the upstream connection (if any) is closed, not reused. */
    private void refuseBody(String detail) {
        if (finished) {
            return;
        }
        abandonMirrors();
        closeAfter = true;
        reply(HttpResponseStatus.BAD_REQUEST, detail);
    }

    /** Mirrors whose request will not be whole are ended now, not at their timeout. */
    private void abandonMirrors() {
        if (mirrors != null) {
            mirrors.forEach(MirrorRequest::abandon);
            mirrors = null;
        }
    }

    void flushUpstream() {
        if (upstream != null) {
            upstream.flush();
        }
        if (mirrors != null) {
            mirrors.forEach(MirrorRequest::flush);
        }
    }

    void upstreamWritable() {
        down.drain();
        flushUpstream();
        down.maybeRead();
    }

    void downstreamWritable() {
        if (upstream != null && !responseDone) {
            readUpstream();
        }
    }

    /**
     * Asks the endpoint for the next bytes of its answer. On HTTP/2, a stream that holds bytes of
     * its answer waits while the connection's streams hold their {@link StreamBudget}, so that
     * together they hold no more than the budget and one read each (16 KiB), however many there
     * are and whatever their clients' windows. A stream whose endpoint is slow to answer holds
     * nothing and stops no other.
     */
    private void readUpstream() {
        if (!down.connection().isOpen()) {
            // the client's connection is closing: its end (its streams' close, on HTTP/2) finishes this exchange and
            // closes the endpoint's connection mid-answer. Until then, reading on would take the rest of an answer
            // nobody gets: a closing HTTP/2 connection fails its streams' writes first, which frees the budget the
            // streams wait on, and under io_uring the close waits for the writes in flight to be cancelled. The
            // answers were then read whole meanwhile and their connections kept for reuse
            return;
        }
        if (budget != null && !budget.mayRead()) {
            budget.await(budgetRoom);
            return;
        }
        upstream.read();
    }

    private void roomInBudget() {
        if (!finished && upstream != null && !responseDone && ctx.channel().isWritable()) {
            readUpstream();
        }
    }

    // ---- the response

    /**
     * The source of the gateway's connections to an endpoint: the listener's own address, as a pod
     * in a cluster sees a gateway's traffic come from the gateway's pod, not from its own machine
     * (127.0.0.1, the system's choice towards loopback, would make a client from anywhere a local
     * process to the endpoint); null (the system's choice) when the families differ.
     */
    private java.net.InetAddress upstreamSource(InetSocketAddress endpoint) {
        return upstreamSource(spec.key().address().getAddress(), endpoint);
    }

    /** {@link #upstreamSource(InetSocketAddress)} for a gateway listening at {@code own} (its mirrors' too). */
    static java.net.InetAddress upstreamSource(java.net.InetAddress own, InetSocketAddress endpoint) {
        return own.getClass() == endpoint.getAddress().getClass() && !own.isAnyLocalAddress() ? own : null;
    }

    /**
     * A list field's lines as one (RFC 9110 5.3): a trusted proxy before this one may have added its
     * hop as a line of its own (HAProxy's {@code option forwardfor} does), and the hop must not be lost.
     */
    private static String joined(HttpHeaders h, CharSequence name) {
        List<String> lines = h.getAll(name);
        return lines.size() == 1 ? lines.getFirst() : String.join(", ", lines);
    }

    void upstreamRead(Object msg) {
        if (finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse r) {
            // Netty's decoder takes any number for a status; HTTP's are 100-599 (RFC 9110 15)
            if (r.decoderResult().isFailure() || r.status().code() < 100 || r.status().code() > 599) {
                refuseResponse(r, "the endpoint " + endpoint.target() + " sent an invalid response");
                return;
            }
            int code = r.status().code();
            if (code == 101 && webSocket && !completesHandshake(r.headers())) {
                // a 101 that is no WebSocket server's (one that echoes a status it was given): tunnelled,
                // the client's next bytes would reach the endpoint as requests that no route or policy judged
                refuseResponse(r, "the endpoint " + endpoint.target() + " answered the WebSocket handshake with a 101"
                        + " that does not complete it (Upgrade: websocket and the Sec-WebSocket-Accept of the request's key)");
                return;
            }
            if (code == 101 && webSocket) {
                switching = true;
                responseStarted = true;
                status = code;
                r.setProtocolVersion(HttpVersion.HTTP_1_1);
                ctx.write(r, ctx.voidPromise()); // with its Connection and Upgrade headers
                return;
            }
            if (code < 200) {
                // 1xx: the gateway sent no Expect upstream and passed no other Upgrade; informational answers are dropped
                skipInformational = true;
                return;
            }
            responseHead(r);
        } else if (!(msg instanceof HttpContent)) {
            // raw bytes: the codec stopped parsing (an unasked-for 101, a tunnel); no HTTP answer can follow,
            // and the connection is never pooled (reply closes it, or cuts both when a response began)
            ReferenceCountUtil.release(msg);
            reply(HttpResponseStatus.BAD_GATEWAY, "the endpoint " + endpoint.target() + " switched to another protocol");
            return;
        }
        if (msg instanceof HttpContent c) {
            if (switching) {
                c.release();
                tunnel();
                return;
            }
            if (c.decoderResult().isFailure()) {
                // a malformed chunk or trailer: Netty ends the body there and drops the rest of the
                // connection; passing that end on would give the client a cut body as a whole one
                // (the client's connection is cut, or gets a 502 if nothing of the answer reached it yet)
                c.release();
                reply(HttpResponseStatus.BAD_GATEWAY, "the endpoint " + endpoint.target() + " sent a malformed body");
                return;
            }
            if (skipInformational) {
                c.release();
                if (c instanceof LastHttpContent) {
                    skipInformational = false;
                }
                return;
            }
            int n = c.content().readableBytes();
            bytesOut += n;
            lastMoved = System.nanoTime();
            boolean last = c instanceof LastHttpContent;
            ChannelPromise written = holdForClient(n, last);
            if (written == null) {
                c.release();
                cutHeldClient();
                return;
            }
            if (last && heldHead != null) {
                // head and whole body in one read: one message down the client's pipeline, one buffer when it fits
                HttpResponse head = heldHead;
                heldHead = null;
                responseWritten = ctx.write(new DefaultFullHttpResponse(head.protocolVersion(), head.status(), c.content(), head.headers(),
                        ((LastHttpContent) c).trailingHeaders()), written);
                responseDone = true;
                finish();
            } else if (last) {
                responseWritten = ctx.write(c, written);
                responseDone = true;
                finish();
            } else {
                writeHeldHead();
                ctx.write(c, written);
            }
        }
    }

    /**
     * The promise for writing {@code bytes} of the answer (its end when {@code last}), or null
     * when the client must be cut instead. Bytes written while the client takes no more count
     * against the process's {@link HeldReads} until they are out: reads are asked for only while
     * the client is writable, but once the endpoint's FIN is in, Netty's native transports read its
     * connection to the end whatever was asked (up to the receive buffer set on it), and a client
     * that reads nothing would keep it all for the stream idle timeout, on each of its HTTP/2
     * streams. Past twice the budget, a client connection holding more than a mebibyte is cut
     * (its HTTP/2 streams together: the connection's {@link StreamBudget} counts them).
     */
    private ChannelPromise holdForClient(int bytes, boolean last) {
        if (bytes == 0 || ctx.channel().isWritable()) {
            return last ? ctx.newPromise() : ctx.voidPromise();
        }
        long holds = budget != null ? budget.connectionHolds() : heldForClient;
        if (!HeldReads.hold(holds, bytes, HeldReads.RESET_PAST)) {
            return null;
        }
        heldForClient += bytes;
        // as the void promise does, a failed write is the pipeline's exception too
        ChannelPromise promise = last ? ctx.newPromise() : ctx.voidPromise().unvoid();
        promise.addListener(f -> {
            heldForClient -= bytes;
            HeldReads.release(bytes);
        });
        return promise;
    }

    /**
     * Cuts a client that holds more than its allowance of an answer while held reads are past
     * twice their budget: an HTTP/1.1 connection is reset, as a FIN would end an answer framed by
     * the connection's end as if it were whole; an HTTP/2 stream is reset (RST_STREAM CANCEL).
     */
    private void cutHeldClient() {
        if (!down.isStream()) {
            DataPlane.reset(ctx.channel());
        }
        abort();
    }

    /** Drops an endpoint's response head and its connection, and answers the client 502. */
    private void refuseResponse(HttpResponse r, String why) {
        ReferenceCountUtil.release(r);
        Channel ch = upstream;
        detachUpstream();
        ch.close();
        reply(HttpResponseStatus.BAD_GATEWAY, why);
    }

    /**
     * Whether a 101 completes the client's WebSocket handshake (RFC 6455, 4.1): {@code Upgrade:
     * websocket}, {@code Connection: upgrade}, and {@code Sec-WebSocket-Accept} made from the
     * request's key, which a server must have read the handshake to send (or been given: the
     * client chooses the key, so an endpoint that echoes headers it is given can still be made to).
     */
    private boolean completesHandshake(HttpHeaders h) {
        String accept = h.get(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
        return webSocketKey != null && accept != null
                && "websocket".equalsIgnoreCase(h.get(HttpHeaderNames.UPGRADE))
                && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && accept.strip().equals(acceptOf(webSocketKey));
    }

    /** RFC 6455's Sec-WebSocket-Accept for {@code key}: base64 of the SHA-1 of the key and the protocol's GUID. */
    static String acceptOf(String key) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-1")
                    .digest((key.strip() + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return java.util.Base64.getEncoder().encodeToString(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
    }

    private void responseHead(HttpResponse r) {
        responseStarted = true;
        lastMoved = System.nanoTime();
        status = r.status().code();
        cluster.responded(endpoint.address(), status);
        HttpHeaders h = r.headers();
        int bits = HeaderScan.of(h);
        upstreamKeepAlive = HeaderScan.keepAlive(r, bits);
        // the gateway answers in its own version (RFC 9110 6.2): an HTTP/1.0 endpoint's body chunked for the client
        // went out as HTTP/1.0 with chunked framing, which a client must not read as chunks (RFC 9112 6.1)
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        HeaderScan.stripHopByHop(h, bits);
        if (responseFilters != null) {
            for (Plan.ResponseHeaders f : responseFilters) {
                modify(h, f.set(), f.add(), f.remove());
            }
        }
        if (publicPrefix != null) {
            String location = h.get(HttpHeaderNames.LOCATION);
            if (location != null) {
                h.set(HttpHeaderNames.LOCATION, rewriteLocation(location));
            }
        }
        if (!down.isStream()) {
            frameForClient(r, bits);
        }
        if (bodyExpected && !requestDone && !down.isStream()) {
            // an answer before the request's end (a 413, a 401): the rest of the body is not read as the next request;
            // the client is told the connection ends, and it lingers so that no reset destroys the answer
            closeAfter = true;
        }
        if (!keepAliveRequested || closeAfter) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        heldHead = r;
    }

    /** Writes the held response head, if any. */
    private void writeHeldHead() {
        if (heldHead != null) {
            HttpResponse head = heldHead;
            heldHead = null;
            ctx.write(head, ctx.voidPromise());
        }
    }

    /**
     * Frames the body for the HTTP/1 client (RFC 9112 6.3, 7.1). A body the endpoint ends by closing
     * its connection (no length, not chunked) is chunked for an HTTP/1.1 client, which would
     * otherwise read it, and the next response on the connection, as one body until the idle
     * timeout; an HTTP/1.0 client cannot read chunks, so its body is sent as it comes and ended by
     * closing the connection.
     */
    private void frameForClient(HttpResponse r, int bits) {
        boolean body = status != 204 && status != 304 && !method.equals("HEAD");
        boolean coded = (bits & HeaderScan.TRANSFER_ENCODING) != 0;
        boolean chunked = coded && HttpUtil.isTransferEncodingChunked(r);
        boolean untilClose = body && !chunked && (coded || (bits & HeaderScan.CONTENT_LENGTH) == 0);
        if (clientHttp10 && chunked) {
            HttpUtil.setTransferEncodingChunked(r, false);
            closeAfter = true;
            endedByClose = true;
        } else if (untilClose && (clientHttp10 || coded)) {
            closeAfter = true; // (a transfer coding other than chunked goes on as it came, ended the same way)
            endedByClose = true;
        } else if (untilClose) {
            HttpUtil.setTransferEncodingChunked(r, true);
        }
    }

    /** A Location under the upstream prefix goes back under the public one. */
    String rewriteLocation(String location) {
        String pathPart = location;
        String origin = "";
        int scheme = location.indexOf("://");
        if (scheme > 0) {
            int slash = location.indexOf('/', scheme + 3);
            String authority = slash < 0 ? location.substring(scheme + 3) : location.substring(scheme + 3, slash);
            String sentHost = request.headers().get(HttpHeaderNames.HOST);
            boolean ours = authority.equalsIgnoreCase(sentHost == null ? "" : sentHost) || authority.equalsIgnoreCase(originalHost)
                    || authority.equals(endpoint.address().getAddress().getHostAddress() + ":" + endpoint.address().getPort());
            if (!ours) {
                return location;
            }
            origin = location.substring(0, slash < 0 ? location.length() : slash);
            pathPart = slash < 0 ? "/" : location.substring(slash);
            if (authority.equals(endpoint.address().getAddress().getHostAddress() + ":" + endpoint.address().getPort())) {
                origin = location.substring(0, scheme + 3) + originalHost;
            }
        } else if (!location.startsWith("/")) {
            return location;
        }
        if (upstreamPrefix.equals("/") || RouteTable.prefixMatches(upstreamPrefix, pathPart.split("[?#]", 2)[0])) {
            return origin + replacePrefix(pathPart, upstreamPrefix, publicPrefix);
        }
        return location;
    }

    /**
     * The endpoint switched to WebSocket: from here on both connections carry raw bytes, relayed
     * as on an L4 listener (frames and close codes pass untouched), until either side closes or
     * the tunnel idles for longer than the tunnel timeout.
     */
    private void tunnel() {
        finished = true;
        cancelTimer();
        uncount();
        plane.metrics().httpRequest(spec.owner(), rule.spec().route(), 101, false, System.nanoTime() - startNanos);
        if (spec.accessLog()) {
            log(System.nanoTime() - startNanos);
        }
        boolean clientDone = this.down.inputShut();
        Channel down = ctx.channel();
        Channel up = upstream;
        detachUpstream();
        down.pipeline().addLast("tunnel-idle", new IdleStateHandler(0, 0, plane.httpSettings().tunnelIdleTimeout().toMillis(),
                TimeUnit.MILLISECONDS));
        GatewayHandler.SendStall stall = down.pipeline().get(GatewayHandler.SendStall.class);
        if (stall != null) {
            stall.limit(plane.httpSettings().tunnelIdleTimeout().toNanos()); // a tunnel's sends stall for as long as it may idle
        }
        RelayHandler.Session session = new RelayHandler.Session();
        down.pipeline().addLast("relay", new RelayHandler(up, cluster.bytesToUpstream, session));
        down.pipeline().addLast("tunnel-close", TunnelIdle.INSTANCE);
        up.pipeline().addLast("relay", new RelayHandler(down, cluster.bytesFromUpstream, session));
        up.pipeline().remove("upstream");
        down.pipeline().remove("gateway"); // first: no more HTTP events for this connection
        down.pipeline().remove("watch");
        if (down.pipeline().get("upgrade") != null) {
            down.pipeline().remove("upgrade");
        }
        down.pipeline().remove("http"); // bytes the codecs held already go to the relays
        up.pipeline().remove("http");
        down.flush();
        if (clientDone) {
            // the client ended its side before the 101: the tunnel passes that end on, as it would any later one
            down.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        } else {
            down.read();
        }
        up.read();
    }

    /** Closes a tunnel that idled for too long. */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class TunnelIdle extends io.netty.channel.ChannelInboundHandlerAdapter {
        static final TunnelIdle INSTANCE = new TunnelIdle();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.handler.timeout.IdleStateEvent) {
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }
    }

    void upstreamReadComplete() {
        writeHeldHead();
        ctx.flush();
        if (!finished && upstream != null && ctx.channel().isWritable()) {
            readUpstream();
        }
    }

    /** The upstream connection closed (or failed) while this exchange had it. */
    void upstreamClosed(Throwable cause) {
        if (finished) {
            return;
        }
        boolean wasPooled = pooled;
        Plan.Endpoint e = endpoint;
        upstream = null;
        upstreamHandler = null;
        leaveBudget();
        if (responseStarted) {
            // the response is cut short: so is the client's connection (or it gets a 502, if nothing reached it yet)
            reply(HttpResponseStatus.BAD_GATEWAY, "the endpoint " + e.target() + " closed the connection mid-answer");
            return;
        }
        if (!wasPooled) {
            cluster.connectFailed(e.address());
            exclude(e);
        } else if (!stalePool) {
            // kept alive by us, closed by the endpoint (an idle timeout, or it is going away): try a fresh connection
            stalePool = true;
            attempts--;
        }
        String why = cause == null ? "closed the connection" : "failed (" + cause.getMessage() + ")";
        retryOr(HttpResponseStatus.BAD_GATEWAY, "the endpoint " + e.target() + " " + why + " before answering", false);
    }

    void downstreamClosed() {
        if (!requestDone) {
            abandonMirrors();
        }
        if (finished) {
            return;
        }
        finished = true;
        cancelTimer();
        uncount();
        if (upstream != null) {
            Channel ch = upstream;
            detachUpstream();
            ch.close();
        }
    }

    // ---- endings

    /** Answers with the gateway's own response (when nothing was sent yet; else the connection is cut). */
    private void reply(HttpResponseStatus code, String detail) {
        HttpResponse response = localReply(code, detail);
        if (response != null) {
            answer(response);
        }
    }

    /**
     * The gateway's own response, kept alive when the request was read whole; null (and the
     * connection cut) when a response already began.
     */
    private HttpResponse localReply(HttpResponseStatus code, String detail) {
        if (responseStarted && heldHead == null) {
            abort();
            return null;
        }
        // a head held for its body's end has not reached the client: dropped, and the gateway answers instead
        heldHead = null;
        responseStarted = false;
        endedByClose = false; // the gateway's own answer has its length
        boolean keepAlive = keepAliveRequested && (requestDone || !bodyExpected) && !closeAfter;
        if (!keepAlive) {
            closeAfter = true;
        }
        return LocalReply.of(ctx.alloc(), code, detail, keepAlive);
    }

    private void answer(HttpResponse response) {
        local = true;
        if (upstream != null) {
            Channel ch = upstream;
            detachUpstream();
            ch.close();
        }
        responseStarted = true;
        responseDone = true;
        status = response.status().code();
        responseWritten = ctx.write(response);
        finish();
    }

    /** The write of the response's end, once it is written: then an HTTP/2 stream may be reset without loss. */
    ChannelFuture responseWritten() {
        return responseWritten;
    }

    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        cancelTimer();
        uncount();
        if (bodyExpected && !requestDone) {
            abandonMirrors(); // answered before its body was read whole: the mirrors' copies would stay cut short
        }
        if (upstream != null) {
            // bytes past the response's end would begin the next client's answer (Http1ClientCodec)
            boolean reuse = requestSent && responseDone && upstreamKeepAlive && upstream.isActive() && !plane.stopping()
                    && !upstreamHandler.codec().holdsBytes();
            Channel ch = upstream;
            InetSocketAddress address = endpoint.address();
            detachUpstream();
            if (reuse) {
                UpstreamPool.current().release(upstreamSource(address), address, ch);
                ch.read();
            } else {
                ch.close();
            }
        }
        long nanos = System.nanoTime() - startNanos;
        plane.metrics().httpRequest(spec.owner(), rule == null ? "" : rule.spec().route(), status, local, nanos);
        if (spec.accessLog()) {
            log(nanos);
        }
        boolean keepAlive = keepAliveRequested && !closeAfter && (requestDone || !bodyExpected);
        down.exchangeDone(this, keepAlive);
    }

    private void detachUpstream() {
        if (upstreamHandler != null) {
            upstreamHandler.detach();
        }
        upstream = null;
        upstreamHandler = null;
        leaveBudget();
    }

    /** The endpoint's connection is let go: no read of it waits for room. */
    private void leaveBudget() {
        if (budget != null) {
            budget.leave();
        }
    }

    /**
     * Cuts both connections: the response cannot be completed. A client that reads its answer to
     * the connection's end is reset, not sent a FIN, which would end a cut answer as if it were
     * whole (a client with a length or chunks to go by sees the cut either way, and a FIN lets it
     * have the answers before this one).
     */
    private void abort() {
        abort(false);
    }

    /**
     * As {@link #abort()}; with {@code reset}, an HTTP/1 client is reset whatever the framing:
     * one that took no bytes for the stream idle timeout. A FIN would wait behind what the kernel
     * holds for it for as long as it keeps its window shut ({@link GatewayHandler.SendStall}'s
     * reason), and the answers before this one go unread either way.
     */
    private void abort(boolean reset) {
        if ((endedByClose || reset) && !down.isStream()) {
            ctx.flush(); // what it has of the answer, then the reset
            DataPlane.reset(ctx.channel());
        }
        closeAfter = true;
        if (upstream != null) {
            Channel ch = upstream;
            detachUpstream();
            ch.close();
        }
        uncount();
        if (!finished) {
            finished = true;
            cancelTimer();
            plane.metrics().httpRequest(spec.owner(), rule == null ? "" : rule.spec().route(), status == 0 ? 502 : status, false,
                    System.nanoTime() - startNanos);
            down.exchangeDone(this, false);
        }
        ctx.close();
    }

    // ---- timeouts

    private void armTimer() {
        cancelTimer();
        long now = System.nanoTime();
        long deadline = requestDeadline;
        Duration backend = rule.spec().backendTimeout();
        if (backend != null) {
            long attemptDeadline = now + backend.toNanos();
            deadline = deadline == 0 ? attemptDeadline : Math.min(deadline, attemptDeadline);
        }
        if (deadline != 0) {
            timer = ctx.executor().schedule(this::timedOut, Math.max(0, deadline - now), TimeUnit.NANOSECONDS);
        }
    }

    private boolean pastDeadline() {
        return requestDeadline != 0 && System.nanoTime() - requestDeadline >= 0;
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /**
     * How long until this exchange has moved no byte either way (its body in, its response out) for
     * {@code idleNanos}; zero or less: it has. The connection's timer asks (no timer per request).
     */
    long idleLeft(long idleNanos) {
        return finished ? Long.MAX_VALUE : lastMoved + idleNanos - System.nanoTime();
    }

    /**
     * Nothing moved for the stream idle timeout: 408 while the client's body is awaited, 504 while
     * the backend's answer is (or while it takes no more of the body), else the connection is cut.
     */
    void idleTimedOut(java.time.Duration idle) {
        if (finished) {
            return;
        }
        String what = "nothing moved for " + idle.toSeconds() + " s";
        if (responseStarted) {
            abort(!ctx.channel().isWritable());
        } else if (bodyExpected && !requestDone && (upstream == null || upstream.isWritable())) {
            // (a body held back because the backend stopped taking it is the backend's stall: 504)
            closeAfter = true;
            reply(HttpResponseStatus.REQUEST_TIMEOUT, "the request body stalled: " + what);
        } else {
            reply(HttpResponseStatus.GATEWAY_TIMEOUT, "the backend did not answer: " + what);
        }
    }

    private void timedOut() {
        timer = null;
        if (finished) {
            return;
        }
        if (responseStarted) {
            abort();
            return;
        }
        reply(HttpResponseStatus.GATEWAY_TIMEOUT, "the backend did not answer in time (route " + rule.spec().route() + ")");
    }

    // ---- the access log

    private void log(long nanos) {
        InetSocketAddress client = (InetSocketAddress) ctx.channel().remoteAddress();
        StringBuilder b = new StringBuilder(256).append('{');
        field(b, "time", java.time.Instant.now().toString()).append(',');
        field(b, "gateway", spec.owner()).append(',');
        field(b, "client", client.getAddress().getHostAddress()).append(',');
        field(b, "method", method).append(',');
        field(b, "host", originalHost).append(',');
        field(b, "path", originalUri).append(',');
        b.append("\"status\":").append(status).append(',');
        b.append("\"bytes_in\":").append(bytesIn).append(',');
        b.append("\"bytes_out\":").append(bytesOut).append(',');
        b.append("\"duration_ms\":").append(String.format(Locale.ROOT, "%.3f", nanos / 1e6)).append(',');
        field(b, "route", rule == null ? null : rule.spec().route()).append(',');
        field(b, "upstream", endpoint == null || local && status != 502 && status != 504 ? null : endpoint.target()).append(',');
        b.append("\"retries\":").append(Math.max(0, attempts - 1)).append('}');
        plane.accessLog().accept(b.toString());
    }

    private static StringBuilder field(StringBuilder b, String name, String value) {
        b.append('"').append(name).append("\":");
        if (value == null) {
            return b.append("null");
        }
        b.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"');
    }
}
