package dev.portway.admin;

import dev.portway.admin.auth.AdminCredentials;
import dev.portway.admin.auth.ViewerTokens;
import io.fabric8.kubernetes.api.model.Status;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;

/**
 * Decides, from a request's head alone, whether it may go on: before its body is read, so a
 * refused request costs no buffering. In order:
 * <ol>
 * <li>{@code Host} must name this server (an IP literal it listens on, {@code localhost}): a
 *     page on another domain that re-binds its DNS name to 127.0.0.1 sends its own name and is
 *     refused (403).</li>
 * <li>An {@code Origin} header means a browser made the request on a page's behalf; only origins
 *     explicitly allowed pass (none by default), so no web page can drive the API (403). The
 *     server's own origin passes too, as Kubernetes clients send it (fabric8's client with every
 *     watch, naming the API server); the one page of that origin, the topology page, only reads.</li>
 * <li>Authentication, as kube-apiserver's: the bearer token or a client certificate signed by the
 *     CA. A wrong token is refused even where anonymous access is allowed; without
 *     credentials only health and version GETs pass, and the topology page's files, which hold
 *     no data (401).</li>
 * <li>Authorization, as far as Portway has it: the topology page's viewer tokens
 *     ({@link ViewerTokens}) may only read, and not Secrets; and a browser (a request carrying
 *     {@code Sec-Fetch-Site}, which no script can take off) may only read, whatever it holds,
 *     unless its page's origin is one configured as allowed (403); and never, from any origin, runs
 *     a command in a container or connects to a pod ({@code pods/NAME/exec} and
 *     {@code portforward}, GETs when they ask for a WebSocket; the proxy, whose GETs are the pod's
 *     to act on): refused with any Fetch Metadata header, or with an {@code Origin} and no token.</li>
 * <li>A write must say it is JSON, YAML or a Kubernetes patch (415): a form post or
 *     {@code text/plain}, which a browser may send cross-site with no preflight, never is.</li>
 * <li>A body over the limit is refused from its Content-Length or as it streams (413).</li>
 * </ol>
 * A refused request gets a Kubernetes {@code Status}, its body is discarded, and the connection
 * closes. Nothing of the credentials is echoed. The authenticated user rides on {@link #USER}.
 */
final class RequestGate extends ChannelInboundHandlerAdapter {

    /** The user the current request authenticated as ({@code system:anonymous} for anonymous). */
    static final AttributeKey<String> USER = AttributeKey.valueOf("portway.admin.user");
    static final String ANONYMOUS = "system:anonymous";

    /** A refused request's body up to this size is read and dropped before closing; a bigger one is cut off. */
    private static final long DRAIN_LIMIT = 256 * 1024;
    private static final Set<String> REACHES_INTO_POD = Set.of("exec", "attach", "portforward");
    private static final Set<String> ANONYMOUS_PATHS = Set.of("/healthz", "/livez", "/readyz", "/version");
    private static final Set<String> WRITE_TYPES = Set.of("application/json", "application/yaml", ProtobufBody.CONTENT_TYPE);
    private static final Set<String> PATCH_TYPES = Set.of("application/json-patch+json", "application/merge-patch+json",
            "application/strategic-merge-patch+json", "application/apply-patch+yaml");

    private final AdminServer.Options options;
    private final ViewerTokens viewers;
    private final InetSocketAddress local;
    private final SslHandler tls;
    private final java.util.function.Consumer<io.netty.channel.Channel> authenticated;
    private boolean shownCredentials;
    private boolean refused;
    private boolean draining;
    private long limit;
    private long received;
    private boolean passing;

    /** @param authenticated told of the connection when a request of it first carries good credentials */
    RequestGate(AdminServer.Options options, ViewerTokens viewers, InetSocketAddress local, SslHandler tls,
                java.util.function.Consumer<io.netty.channel.Channel> authenticated) {
        this.options = options;
        this.viewers = viewers;
        this.local = local;
        this.tls = tls;
        this.authenticated = authenticated;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            // after a refusal nothing more is read into the API: the rest of this request (and
            // anything pipelined behind it) is dropped; a short body is drained before closing
            ReferenceCountUtil.release(msg);
            if (draining && msg instanceof LastHttpContent) {
                draining = false;
                ctx.close();
            }
            return;
        }
        if (msg instanceof HttpRequest request) {
            passing = false;
            received = 0;
            Status refusal = check(ctx, request);
            if (refusal != null) {
                long length;
                try {
                    length = HttpUtil.getContentLength(request, HttpUtil.isTransferEncodingChunked(request) ? Long.MAX_VALUE : 0L);
                } catch (NumberFormatException malformed) {
                    length = Long.MAX_VALUE; // answered, then closed: what follows cannot be framed
                }
                refuse(ctx, refusal, msg, length <= DRAIN_LIMIT);
                return;
            }
            passing = true;
        }
        if (passing && msg instanceof HttpContent content) {
            received += content.content().readableBytes();
            if (received > limit) {
                // the head has gone on already: the aggregator never sees the end of this request,
                // and drops what it holds when the connection closes
                refuse(ctx, Statuses.tooLarge(limit), msg, false);
                return;
            }
        }
        if (msg instanceof LastHttpContent) {
            passing = false;
        }
        ctx.fireChannelRead(msg);
    }

    private Status check(ChannelHandlerContext ctx, HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            return Statuses.badRequest("the request could not be parsed as HTTP/1.1");
        }
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host == null || !isOwnHost(host)) {
            return Statuses.forbidden("the request's Host header does not name this server (requests through other host names are refused)");
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null && !options.allowedOrigins().contains(origin) && !isSameOrigin(origin, host)) {
            return Statuses.forbidden("cross-origin requests are refused (the Origin is not an allowed origin)");
        }
        String path;
        try {
            path = new QueryStringDecoder(request.uri()).path();
        } catch (IllegalArgumentException e) {
            // a bad escape (%zz): the caller's fault, answered, rather than the connection dropped without a word
            return Statuses.badRequest("the request's path could not be decoded: " + e.getMessage());
        }
        String user = authenticate(request);
        if (user == null) {
            return Statuses.unauthorized();
        }
        if (user.equals(ANONYMOUS) && (!(isRead(request.method()) && isAnonymousPath(path)) || hasBody(request))) {
            return Statuses.unauthorized();
        }
        ctx.channel().attr(USER).set(user);
        // a viewer's connection stays among those made room from at the cap, and gets the short idle allowance
        // (RequestTimeouts): a viewer link found in a browser's history must not be able to lock the admin out
        if (!shownCredentials && !user.equals(ANONYMOUS) && !user.equals(ViewerTokens.USER)) {
            shownCredentials = true;
            authenticated.accept(ctx.channel());
        }
        HttpMethod method = request.method();
        if (user.equals(ViewerTokens.USER) && (!isRead(method) || !viewerMayRead(path) || hasBody(request))) {
            return Statuses.forbidden("User \"" + ViewerTokens.USER + "\" may only read what the topology page shows"
                    + " (nodes, services, endpointslices, gateways, httproutes, /metrics)");
        }
        // a command run in a container (exec) or a connection to a pod (port-forward) is a GET when it asks
        // for a WebSocket: it is a write all the same
        boolean runs = reachesIntoPod(path);
        if (runs && (fetchMetadata(request) || origin != null && request.headers().get(HttpHeaderNames.AUTHORIZATION) == null)) {
            // never from a browser, whatever origin the page has (one configured as allowed too): a browser
            // sends Fetch Metadata, and where one does not, it sends an Origin with a WebSocket and cannot send
            // a token, so its credential would be a client certificate it holds; kubectl sends neither
            return Statuses.forbidden("a browser may not run a command in a container or connect to a pod");
        }
        String fetchSite = request.headers().get("Sec-Fetch-Site");
        if (fetchSite != null && (origin == null || !options.allowedOrigins().contains(origin))) {
            // a browser, which sends Sec-Fetch-* with every request and lets no script take them off: the
            // topology page only reads what it shows, so a script that got onto this origin may do no more,
            // whatever token it holds (an admin may paste theirs into the page's form); a page of an origin
            // configured as allowed still may, and so may the user's own navigation ("none": a typed URL)
            if (!isRead(method) || runs) {
                return Statuses.forbidden("a browser may only read (the request carries Sec-Fetch-Site)");
            }
            if (!fetchSite.equals("none") && !viewerMayRead(path)) {
                return Statuses.forbidden("a script in a browser may only read what the topology page shows"
                        + " (nodes, services, endpointslices, gateways, httproutes, /metrics)");
            }
        }
        // an exec's or port-forward's POST (kubectl's SPDY fallback) has no body to type
        boolean write = !runs && (method.equals(HttpMethod.POST) || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.PATCH));
        if (write) {
            String type = mediaType(request.headers().get(HttpHeaderNames.CONTENT_TYPE));
            boolean ok = method.equals(HttpMethod.PATCH) ? PATCH_TYPES.contains(type) : WRITE_TYPES.contains(type);
            if (!ok) {
                return method.equals(HttpMethod.PATCH) ? Statuses.unsupportedPatch(type)
                        : Statuses.unsupportedMediaType(type);
            }
        }
        limit = path.equals(ApiHandler.APPLY_PATH) ? options.maxApplyBody() : options.maxBody();
        if (HttpUtil.getContentLength(request, -1L) > limit) {
            return Statuses.tooLarge(limit);
        }
        return null;
    }

    /** Whether the request carries any of the Fetch Metadata headers ({@code Sec-Fetch-Site}, {@code -Mode}, {@code -Dest}, {@code -User}). */
    private static boolean fetchMetadata(HttpRequest request) {
        for (java.util.Map.Entry<String, String> h : request.headers()) {
            if (h.getKey().regionMatches(true, 0, "Sec-Fetch-", 0, 10)) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasBody(HttpRequest request) {
        return HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
    }

    /**
     * What a viewer token reads: what the topology page shows, discovery, and what anyone may read
     * (the page's files, health and version). The token is a link
     * (in a browser's history, a shared screen, a chat) that may leak, so it reads no pod (whose
     * spec may carry credentials in its environment), no log, no ConfigMap, and no Secret.
     */
    static final java.util.Set<dev.portway.api.ResourceKind> VIEWER_KINDS = java.util.EnumSet.of(dev.portway.api.ResourceKind.NODE,
            dev.portway.api.ResourceKind.SERVICE, dev.portway.api.ResourceKind.ENDPOINT_SLICE, dev.portway.api.ResourceKind.GATEWAY,
            dev.portway.api.ResourceKind.HTTP_ROUTE);

    private static boolean viewerMayRead(String path) {
        if (isAnonymousPath(path) || path.equals("/metrics") || path.equals("/api") || path.equals("/apis")) {
            return true;
        }
        return ApiPath.parse(path).map(p -> p.kind() == null || (VIEWER_KINDS.contains(p.kind()) && p.subresource() == null)).orElse(false);
    }

    /**
     * Whether {@code path} reaches into a pod: {@code pods/NAME/exec}, {@code attach} and
     * {@code portforward}, and the proxy ({@code pods/NAME/proxy} and {@code services/NAME/proxy}),
     * which sends the pod any request.
     */
    static boolean reachesIntoPod(String path) {
        if (ApiProxy.parse(path).isPresent()) {
            return true;
        }
        return ApiPath.parse(path).map(p -> p.kind() == dev.portway.api.ResourceKind.POD
                && p.subresource() != null && REACHES_INTO_POD.contains(p.subresource())).orElse(false);
    }

    private static boolean isRead(HttpMethod m) {
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD);
    }

    private static boolean isAnonymousPath(String path) {
        if (ANONYMOUS_PATHS.contains(path) || path.equals("/version/") || TopologyPage.PATHS.contains(path)) {
            return true;
        }
        return path.startsWith("/healthz/") || path.startsWith("/livez/") || path.startsWith("/readyz/");
    }

    /** The user, {@link #ANONYMOUS} without credentials, or null for credentials that do not check out. */
    private String authenticate(HttpRequest request) {
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization != null && !authorization.strip().equalsIgnoreCase("Bearer")) {
            String a = authorization.strip();
            if (a.regionMatches(true, 0, "Bearer ", 0, 7) && options.credentials().isToken(a.substring(7).strip())) {
                return AdminCredentials.ADMIN_USER;
            }
            if (a.regionMatches(true, 0, "Bearer ", 0, 7) && viewers.isValid(a.substring(7).strip())) {
                return ViewerTokens.USER;
            }
            return null; // a wrong token is refused, never downgraded to anonymous
        }
        String fromCert = clientCertificateUser();
        return fromCert != null ? fromCert : ANONYMOUS;
    }

    /** The CN of a verified client certificate (the TLS layer checked it chains to the CA), or null. */
    private String clientCertificateUser() {
        try {
            Certificate[] chain = tls.engine().getSession().getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate cert) {
                cert.verify(options.credentials().ca().cert().getPublicKey());
                String dn = cert.getSubjectX500Principal().getName(X500Principal.RFC2253);
                for (String part : dn.split(",")) {
                    if (part.startsWith("CN=")) {
                        return part.substring(3);
                    }
                }
            }
        } catch (SSLPeerUnverifiedException e) {
            return null;
        } catch (Exception e) {
            return null;
        }
        return null;
    }

    /**
     * Whether {@code origin} is this server's own, as the request named it in {@code Host} (already
     * found to be this server): {@code https://} and the same host and port.
     */
    private static boolean isSameOrigin(String origin, String host) {
        return origin.regionMatches(true, 0, "https://", 0, 8) && origin.substring(8).equalsIgnoreCase(host.strip());
    }

    /** Whether {@code host} (a Host header: name or IP, optional port) is this server. */
    private boolean isOwnHost(String hostHeader) {
        dev.portway.net.HostHeader parsed = dev.portway.net.HostHeader.parse(hostHeader, 443);
        if (parsed == null) {
            return false;
        }
        int port = parsed.port();
        String name = parsed.name();
        if (port != local.getPort()) {
            return false;
        }
        name = name.toLowerCase(Locale.ROOT);
        InetAddress bound = local.getAddress();
        if (name.equals("localhost")) {
            return bound.isLoopbackAddress() || bound.isAnyLocalAddress();
        }
        byte[] literal = io.netty.util.NetUtil.createByteArrayFromIpAddressString(name); // never a DNS lookup
        if (literal == null) {
            return false;
        }
        try {
            InetAddress asked = InetAddress.getByAddress(literal);
            if (bound.isAnyLocalAddress()) {
                return true;
            }
            return asked.equals(bound) || (bound.isLoopbackAddress() && asked.isLoopbackAddress());
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /** {@code application/json} from {@code application/json; charset=utf-8}. */
    static String mediaType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
    }

    /**
     * Answers, then closes the connection: at once, or, when the rest of the request is small
     * ({@code drain}), once it has been read and dropped, so a client still sending a short body
     * gets to read the answer (Go's HTTP server drains 256 KiB the same way). Nothing after a
     * refusal reaches the API.
     */
    private void refuse(ChannelHandlerContext ctx, Status status, Object msg, boolean drain) {
        boolean last = msg instanceof LastHttpContent;
        ReferenceCountUtil.release(msg);
        refused = true;
        passing = false;
        if (ApiHandler.answering(ctx.channel())) {
            // an earlier request of this connection is still being answered: the refusal follows that
            // answer (a pipelining client reads answers in the order of its requests), then the
            // connection closes; nothing more is read for it
            ctx.channel().config().setAutoRead(false);
            ctx.fireChannelRead(new ApiHandler.Refusal(HttpResponses.toFull(HttpResponses.status(status), false)));
            return;
        }
        var written = ctx.writeAndFlush(HttpResponses.toFull(HttpResponses.status(status), false));
        if (last || !drain) {
            ctx.channel().config().setAutoRead(false);
            written.addListener(ChannelFutureListener.CLOSE);
        } else {
            draining = true;
        }
    }
}
