package dev.portway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.FieldSelector;
import dev.portway.api.Json;
import dev.portway.api.Keys;
import dev.portway.api.LabelQuery;
import dev.portway.api.ResourceKind;
import dev.portway.api.decode.ObjectDecoder;
import dev.portway.api.decode.RequestJson;
import dev.portway.api.print.Tables;
import dev.portway.control.ApiServer;
import dev.portway.control.DeleteOptions;
import dev.portway.control.ControlPlane;
import dev.portway.control.Patcher;
import dev.portway.control.WriteOptions;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the store under the Kubernetes REST paths as kube-apiserver does for the verbs kubectl
 * uses: get, list and watch (with label and field selectors, and server-side tables), create,
 * update, patch (JSON, merge, strategic merge, server-side apply), delete (with propagation and
 * grace), the {@code status} and {@code scale} subresources, {@code dryRun=All} and
 * {@code fieldValidation}; discovery and OpenAPI documents; errors as {@code Status} objects.
 * Plus Portway's atomic multi-object apply at {@link #APPLY_PATH}.
 *
 * <p>Reads come straight from the store on the event loop; writes run on the control thread and
 * their answers come back to the event loop. Only requests {@link RequestGate} let through
 * arrive here.
 */
@ChannelHandler.Sharable
final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    static final String APPLY_PATH = "/apis/portway.dev/v1/apply";
    /** {@code POST}: a read-only token for the topology page ({@code portway ui}), as kube's TokenRequest mints one; {@code DELETE}: ends them all. */
    static final String VIEWER_TOKENS_PATH = "/apis/portway.dev/v1/viewertokens";
    /** Watches viewer tokens hold at once, together (the topology page polls and holds none). */
    static final int MAX_VIEWER_WATCHES = 16;
    private final dev.portway.net.Slots viewerWatches = new dev.portway.net.Slots();
    /** The snapshots the pages of chunked lists ({@code limit}, {@code continue}) are cut from. */
    private final ListPages pages;
    /**
     * Those of viewer tokens' lists, kept apart and fewer: a viewer link (which may leak) listing
     * with {@code limit} would otherwise push out the snapshots an admin's list is being paged
     * from, and the admin's next page would get 410 Expired.
     */
    private final ListPages viewerPages;
    private final dev.portway.admin.auth.ViewerTokens viewers;
    private static final Set<String> FIELD_VALIDATION = Set.of("Strict", "Warn", "Ignore");

    private final ControlPlane control;
    private final Map<String, Endpoint> extraEndpoints;
    private final PodLogs logs;
    private final PodExec execs;
    /** How connections to pods are opened (port-forward): the transport's channels. */
    private final java.util.function.Function<java.net.InetAddress, io.netty.channel.ChannelFactory<? extends io.netty.channel.Channel>> connector;
    private final OpenApi openApi = new OpenApi();

    /** How long a connection may hold an answer its client does not read before it closes (the server's read timeout). */
    private final long holdTimeoutMillis;

    ApiHandler(ControlPlane control, Map<String, Endpoint> extraEndpoints, PodLogs logs, PodExec execs,
               java.util.function.Function<java.net.InetAddress, io.netty.channel.ChannelFactory<? extends io.netty.channel.Channel>> connector,
               java.time.Duration holdTimeout, dev.portway.admin.auth.ViewerTokens viewers) {
        this.viewers = viewers;
        this.control = control;
        this.pages = new ListPages(control.api().config().clock());
        this.viewerPages = new ListPages(control.api().config().clock(), 4, 10_000);
        this.extraEndpoints = extraEndpoints;
        this.logs = logs;
        this.execs = execs;
        this.connector = connector;
        this.holdTimeoutMillis = holdTimeout.toMillis();
    }

    /** One request being answered. */
    private record Call(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder query, Params params,
                        String user, boolean keepAlive) {
        String path() {
            return query.path();
        }

        HttpMethod method() {
            return request.method();
        }

        String header(CharSequence name) {
            return request.headers().get(name);
        }
    }

    /**
     * Requests of one connection answered one at a time, in order: HTTP/1.1 pipelining must get
     * its answers in request order, and a request behind a watch or a followed log waits for the
     * stream to end. While one waits, the connection is not read (what one read held may still
     * add a few); more than a few, and the connection closes.
     */
    private static final class InOrder {
        private static final int MAX_WAITING = 16;
        /** Requests read and not yet handled, each with the user the gate authenticated it as (the channel's is the last one's). */
        private final java.util.ArrayDeque<Queued> waiting = new java.util.ArrayDeque<>();
        private boolean busy;
        /**
         * Set while an answer waits for the client to read (the next request goes once the connection
         * is writable again): closes the connection if that takes too long.
         */
        private io.netty.util.concurrent.ScheduledFuture<?> holdTimer;
    }

    /** A request waiting for its turn, or (request null) a refusal of the gate's ({@link Refusal}). */
    private record Queued(FullHttpRequest request, String user, Refusal refusal) {
        void release() {
            if (request != null) {
                request.release();
            } else {
                refusal.answer().release();
            }
        }
    }

    /**
     * The gate's answer to a request it refused while an earlier request of the connection was
     * still being answered: it goes out in its turn, after that answer (a pipelining client reads
     * the answers in the order it sent the requests), and closes the connection.
     */
    record Refusal(io.netty.handler.codec.http.FullHttpResponse answer) {
    }

    /** Whether a request of {@code channel} is being answered, or waits to be. */
    static boolean answering(io.netty.channel.Channel channel) {
        InOrder o = channel.attr(IN_ORDER).get();
        return o != null && (o.busy || !o.waiting.isEmpty());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof Refusal refusal) {
            InOrder order = inOrder(ctx);
            if (order.busy) {
                order.waiting.add(new Queued(null, null, refusal));
            } else {
                refuse(ctx, refusal);
            }
            return;
        }
        super.channelRead(ctx, msg);
    }

    private static void refuse(ChannelHandlerContext ctx, Refusal refusal) {
        ctx.writeAndFlush(refusal.answer()).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }

    private static final io.netty.util.AttributeKey<InOrder> IN_ORDER = io.netty.util.AttributeKey.valueOf("portway.admin.inOrder");

    private static InOrder inOrder(ChannelHandlerContext ctx) {
        InOrder o = ctx.channel().attr(IN_ORDER).get();
        if (o == null) {
            o = new InOrder();
            ctx.channel().attr(IN_ORDER).set(o);
            InOrder created = o;
            ctx.channel().closeFuture().addListener(f -> {
                Queued r;
                while ((r = created.waiting.poll()) != null) {
                    r.release();
                }
            });
        }
        return o;
    }

    /** How long a stream (a watch's first batch, a followed log) may wait for its client to read before it is closed. */
    static final int HOLD_TIMEOUT_SECONDS = 30;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!ctx.channel().isActive()) {
            return; // after a Connection: close answer, what else the same read held (released on return)
        }
        InOrder order = inOrder(ctx);
        if (order.busy) {
            if (order.waiting.size() >= InOrder.MAX_WAITING) {
                ctx.close();
                return;
            }
            order.waiting.add(new Queued(request.retain(), ctx.channel().attr(RequestGate.USER).get(), null));
            // read no further while requests wait: each may hold a body of megabytes, and a client that
            // pipelines behind a watch would otherwise have every one of them buffered
            ctx.channel().config().setAutoRead(false);
            return;
        }
        order.busy = true;
        handle(ctx, request, ctx.channel().attr(RequestGate.USER).get());
    }

    /** The current request is answered: the next waiting one, if any, goes. On the event loop. */
    private void next(ChannelHandlerContext ctx) {
        InOrder order = inOrder(ctx);
        if (!ctx.channel().isWritable() && ctx.channel().isActive()) {
            // a client that pipelines requests and reads no answer: later requests wait (a few; more close the
            // connection) rather than answers piling up unread without bound; if it never reads again, the
            // connection closes after the idle timeout
            if (order.holdTimer == null) {
                order.holdTimer = ctx.executor().schedule((Runnable) ctx::close, holdTimeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
            return;
        }
        if (order.holdTimer != null) {
            order.holdTimer.cancel(false);
            order.holdTimer = null;
        }
        order.busy = false;
        Queued r = order.waiting.poll();
        if (order.waiting.isEmpty() && ctx.channel().isActive() && (r == null || r.refusal() == null)) {
            ctx.channel().config().setAutoRead(true);
        }
        if (r != null && r.refusal() != null && ctx.channel().isActive()) {
            order.busy = true; // the connection ends with it
            refuse(ctx, r.refusal());
        } else if (r != null && ctx.channel().isActive()) {
            order.busy = true;
            try {
                handle(ctx, r.request(), r.user());
            } finally {
                r.request().release();
            }
        } else if (r != null) {
            r.release();
        }
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest request, String user) {
        if (request.decoderResult().isFailure()) {
            // a chunked body cut by a malformed chunk arrives with what came before it: never acted on
            // (a YAML body cut at a line is often still YAML), and nothing after it can be framed
            answer(ctx, HttpResponses.status(Statuses.badRequest("the request's body could not be parsed as HTTP/1.1 (a malformed chunk)")),
                    false);
            return;
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        try {
            query.parameters(); // decoded now (Netty decodes on first use): a bad escape is the caller's fault, not a 500
        } catch (IllegalArgumentException e) {
            answer(ctx, HttpResponses.status(Statuses.badRequest("the request's query could not be decoded: " + e.getMessage())),
                    HttpUtil.isKeepAlive(request));
            return;
        }
        Call call = new Call(ctx, request, query, new Params(query), user, HttpUtil.isKeepAlive(request));
        CompletableFuture<HttpResponses.Response> response;
        try {
            response = route(call);
        } catch (ApiException e) {
            response = CompletableFuture.completedFuture(HttpResponses.status(e.status()));
        } catch (RuntimeException | StackOverflowError e) {
            // answered either way: a request that throws past here would hold its connection's queue for good
            log.warn("{} {} failed", request.method(), query.path(), e);
            response = CompletableFuture.completedFuture(HttpResponses.status(ApiException.internal(e.toString()).status()));
        }
        if (response == null) {
            return; // answered by a stream (watch, log)
        }
        response.whenComplete((r, err) -> {
            HttpResponses.Response out = r != null ? r : HttpResponses.status(toApiException(err).status());
            if (ctx.executor().inEventLoop()) {
                answer(ctx, out, call.keepAlive());
            } else {
                ctx.executor().execute(() -> answer(ctx, out, call.keepAlive()));
            }
        });
    }

    private void answer(ChannelHandlerContext ctx, HttpResponses.Response out, boolean keepAlive) {
        HttpResponses.write(ctx, out, keepAlive);
        if (keepAlive) {
            next(ctx);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        InOrder order = ctx.channel().attr(IN_ORDER).get();
        if (order != null && order.holdTimer != null && ctx.channel().isWritable()) {
            next(ctx);
        }
        ctx.fireChannelWritabilityChanged();
    }

    private static ApiException toApiException(Throwable err) {
        Throwable t = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (t instanceof ApiException e) {
            return e;
        }
        if (t instanceof ApiServer.ApplyException e) {
            return e.failures().getFirst().error();
        }
        log.warn("request failed", t);
        return ApiException.internal(String.valueOf(t));
    }

    private static CompletableFuture<HttpResponses.Response> done(HttpResponses.Response r) {
        return CompletableFuture.completedFuture(r);
    }

    private CompletableFuture<HttpResponses.Response> route(Call c) {
        String path = c.path();
        HttpMethod method = c.method();
        Endpoint extra = extraEndpoints.get(path);
        if (extra != null) {
            return extra.handle(c.request(), c.query());
        }
        if (path.equals("/healthz") || path.equals("/livez") || path.equals("/readyz")
                || path.startsWith("/healthz/") || path.startsWith("/livez/") || path.startsWith("/readyz/")) {
            return done(HttpResponses.text(HttpResponseStatus.OK, "ok"));
        }
        if (path.equals(VIEWER_TOKENS_PATH)) {
            if (method.equals(HttpMethod.DELETE)) {
                com.fasterxml.jackson.databind.node.ObjectNode body = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
                body.put("apiVersion", "portway.dev/v1").put("kind", "ViewerTokenRevocation").put("revoked", viewers.revokeAll());
                return done(HttpResponses.json(HttpResponseStatus.OK, body));
            }
            if (!method.equals(HttpMethod.POST)) {
                throw ApiException.methodNotAllowed(method + " is not supported on " + VIEWER_TOKENS_PATH);
            }
            dev.portway.admin.auth.ViewerTokens.Minted minted = viewers.mint();
            com.fasterxml.jackson.databind.node.ObjectNode body = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            body.put("apiVersion", "portway.dev/v1").put("kind", "ViewerToken").put("token", minted.token())
                    .put("expirationTimestamp", dev.portway.api.Times.format(minted.expires()));
            return done(HttpResponses.json(HttpResponseStatus.CREATED, body));
        }
        if (path.equals(APPLY_PATH)) {
            if (!method.equals(HttpMethod.POST)) {
                throw ApiException.methodNotAllowed(method + " is not supported on " + APPLY_PATH);
            }
            return multiApply(c);
        }
        if (path.equals("/openapi/v3") || path.startsWith("/openapi/v3/")) {
            requireGet(c);
            return done(openApi.serve(path));
        }
        if (path.equals("/version") || path.equals("/version/")) {
            requireGet(c);
            return done(HttpResponses.json(HttpResponseStatus.OK, Discovery.version()));
        }
        if (path.equals("/api") || path.equals("/api/") || path.equals("/apis") || path.equals("/apis/")) {
            requireGet(c);
            return done(Discovery.root(path.startsWith("/apis"), c.header(HttpHeaderNames.ACCEPT)));
        }
        java.util.Optional<ApiProxy.ProxyPath> proxied = ApiProxy.parse(path);
        if (proxied.isPresent()) {
            proxy(c, proxied.get());
            return null;
        }
        ApiPath api = ApiPath.parse(path).orElseThrow(() -> new ApiException(Statuses.notFound()));
        if (api.kind() == null) {
            requireGet(c);
            return done(Discovery.groupVersion(api.group(), api.version()));
        }
        if (api.namespace() != null && !api.kind().namespaced()) {
            throw new ApiException(Statuses.notFound());
        }
        if (api.namespace() == null && api.kind().namespaced() && !method.equals(HttpMethod.GET)) {
            // the path across namespaces routes list and watch only: a DELETE here would empty every namespace
            throw new ApiException(Statuses.methodNotAllowed());
        }
        String sub = api.subresource();
        if (sub != null && !Set.of("status", "scale", "log", "eviction", "exec", "attach", "portforward").contains(sub)) {
            throw new ApiException(Statuses.notFound());
        }
        if ("eviction".equals(sub)) {
            if (api.kind() != ResourceKind.POD || api.name() == null) {
                throw new ApiException(Statuses.notFound());
            }
            if (!method.equals(HttpMethod.POST)) {
                throw new ApiException(Statuses.methodNotAllowed());
            }
            return evict(c, api);
        }
        if ("exec".equals(sub) || "attach".equals(sub)) {
            if (api.kind() != ResourceKind.POD || api.name() == null) {
                throw new ApiException(Statuses.notFound());
            }
            if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.POST)) {
                throw new ApiException(Statuses.methodNotAllowed());
            }
            exec(c, api, "attach".equals(sub));
            return null;
        }
        if ("portforward".equals(sub)) {
            if (api.kind() != ResourceKind.POD || api.name() == null) {
                throw new ApiException(Statuses.notFound());
            }
            if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.POST)) {
                throw new ApiException(Statuses.methodNotAllowed());
            }
            portForward(c, api);
            return null;
        }
        if ("status".equals(sub) && !Discovery.hasStatus(api.kind())) {
            throw new ApiException(Statuses.notFound());
        }
        if ("scale".equals(sub) && !Discovery.hasScale(api.kind())) {
            throw new ApiException(Statuses.notFound());
        }
        if ("log".equals(sub)) {
            if (api.kind() != ResourceKind.POD || !method.equals(HttpMethod.GET)) {
                throw new ApiException(Statuses.notFound());
            }
            serveLog(c, api);
            return null;
        }
        if (method.equals(HttpMethod.GET)) {
            if (api.name() == null) {
                return list(c, api);
            }
            return done(get(c, api));
        }
        if (method.equals(HttpMethod.POST) && api.name() == null) {
            return create(c, api);
        }
        if (method.equals(HttpMethod.PUT) && api.name() != null) {
            return replace(c, api);
        }
        if (method.equals(HttpMethod.PATCH) && api.name() != null) {
            return patch(c, api);
        }
        // status and scale are read, replaced and patched, never deleted (that deleted the object itself);
        // namespaces are deleted one by one (kube's namespace storage has no collection delete)
        if (method.equals(HttpMethod.DELETE) && sub == null
                && (api.name() != null || api.kind() != ResourceKind.NAMESPACE)) {
            return api.name() == null ? deleteCollection(c, api) : delete(c, api);
        }
        throw new ApiException(Statuses.methodNotAllowed());
    }

    /**
     * Checks {@code sendInitialEvents} and {@code resourceVersionMatch} as kube-apiserver's
     * ValidateListOptions does (with its WatchList feature on, as client-go's watch-list reflector
     * expects: a server without it refuses, and the reflector falls back to list and watch), and
     * returns {@code sendInitialEvents}: null when absent.
     */
    private Boolean listOptions(Call c, boolean watching) {
        String initial = c.params().string("sendInitialEvents");
        Boolean sendInitialEvents = initial == null ? null : c.params().bool("sendInitialEvents", false);
        String match = c.params().string("resourceVersionMatch", "");
        String rv = c.params().string("resourceVersion", "");
        boolean continued = !c.params().string("continue", "").isEmpty();
        FieldPath matchPath = FieldPath.of("resourceVersionMatch");
        List<FieldError> errors = new ArrayList<>();
        if (watching) {
            if (sendInitialEvents != null && !match.equals("NotOlderThan")) {
                errors.add(FieldError.forbidden(matchPath, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
            }
            if (!match.isEmpty()) {
                if (sendInitialEvents == null) {
                    errors.add(FieldError.forbidden(matchPath, "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
                }
                if (!match.equals("NotOlderThan")) {
                    errors.add(FieldError.notSupported(matchPath, match, "NotOlderThan"));
                }
                if (continued) {
                    errors.add(FieldError.forbidden(matchPath, "resourceVersionMatch is forbidden when continue is provided"));
                }
            }
        } else {
            if (!match.isEmpty()) {
                if (rv.isEmpty()) {
                    errors.add(FieldError.forbidden(matchPath, "resourceVersionMatch is forbidden unless resourceVersion is provided"));
                }
                if (continued) {
                    errors.add(FieldError.forbidden(matchPath, "resourceVersionMatch is forbidden when continue is provided"));
                }
                if (!match.equals("Exact") && !match.equals("NotOlderThan")) {
                    errors.add(FieldError.notSupported(matchPath, match, "Exact", "NotOlderThan", ""));
                }
                if (match.equals("Exact") && rv.equals("0")) {
                    errors.add(FieldError.forbidden(matchPath, "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
                }
            }
            if (sendInitialEvents != null) {
                errors.add(FieldError.forbidden(FieldPath.of("sendInitialEvents"), "sendInitialEvents is forbidden for list"));
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid("meta.k8s.io", "ListOptions", "", errors);
        }
        return sendInitialEvents;
    }

    private static void requireGet(Call c) {
        if (!c.method().equals(HttpMethod.GET) && !c.method().equals(HttpMethod.HEAD)) {
            throw new ApiException(Statuses.methodNotAllowed());
        }
    }

    // reads

    private Tables tables() {
        return new Tables(control.api().config().clock());
    }

    private CompletableFuture<HttpResponses.Response> list(Call c, ApiPath api) {
        Representation rep = Representation.negotiate(c.header(HttpHeaderNames.ACCEPT));
        LabelSelector labels = LabelQuery.parse(c.params().string("labelSelector"));
        FieldSelector fields = FieldSelector.parse(c.params().string("fieldSelector"), api.kind());
        String includeObject = c.params().oneOf("includeObject", Set.of("None", "Metadata", "Object"));
        Long rv = c.params().resourceVersion();
        boolean watching = c.params().bool("watch", false);
        Boolean initialEvents = listOptions(c, watching);
        if (watching) {
            Long timeout = c.params().longValue("timeoutSeconds");
            Duration d = timeout == null || timeout <= 0 || timeout > WatchStream.MAX_TIMEOUT.toSeconds()
                    ? WatchStream.MAX_TIMEOUT : Duration.ofSeconds(timeout);
            if (rv != null && rv > control.store().revision()) {
                throw new ApiException(Statuses.timeout("Too large resource version: " + rv + ", current: " + control.store().revision()));
            }
            ChannelHandlerContext ctx = c.ctx();
            boolean websocket = WatchSocket.isUpgrade(c.request());
            if (websocket) {
                WatchSocket.check(c.request());
            }
            WatchStream watch = new WatchStream(ctx, control.store(), api, labels, fields, c.params().bool("allowWatchBookmarks", false),
                    rep, tables(), includeObject, c.keepAlive(),
                    c.request().protocolVersion().equals(io.netty.handler.codec.http.HttpVersion.HTTP_1_0), websocket, () -> next(ctx));
            if (dev.portway.admin.auth.ViewerTokens.USER.equals(c.user())) {
                // a viewer token is a link that may leak: each watch may hold a snapshot and what its reader
                // leaves unread (up to 8 MiB) for as long as it runs, so the viewers hold a few at once, as
                // kube-apiserver's max-requests-inflight answers past its limit
                // given back when the watch stops, or when its connection closes first (a WebSocket upgrade
                // that never started it); nothing of it stays on the connection, which may serve watch after watch
                Runnable release = viewerWatches.tryTakeWhile(ctx.channel(), MAX_VIEWER_WATCHES);
                if (release == null) {
                    throw new ApiException(Statuses.of(429, "TooManyRequests", "Too many requests, please try again later."));
                }
                watch.whenStopped(release);
            }
            if (websocket) {
                WatchSocket.accept(ctx, c.request(), () -> watch.start(rv, d, initialEvents));
            } else {
                watch.start(rv, d, initialEvents);
            }
            return null;
        }
        Long limit = c.params().longValue("limit");
        String continueToken = c.params().string("continue", "");
        if (!continueToken.isEmpty()) {
            // the token names the revision (storage.ValidateListOptions; "0" is what a reflector's first list sends)
            String asked = c.params().string("resourceVersion", "");
            if (!asked.isEmpty() && !asked.equals("0")) {
                throw new ApiException(Statuses.badRequest("specifying resource version is not allowed when using continue"));
            }
        }
        // a first page is cut from the state these checks judged (a continued one, from its token's)
        Store.Snapshot snapshot = continueToken.isEmpty() ? control.store().snapshot(api.kind(), api.namespace()) : null;
        if (snapshot != null) {
            long now = snapshot.revision();
            if (rv != null && rv > now) {
                throw new ApiException(Statuses.timeout("Too large resource version: " + rv + ", current: " + now));
            }
            if ("Exact".equals(c.params().string("resourceVersionMatch")) && rv != null && rv < now) {
                // a list as of a past revision: the store keeps no past states (etcd answers this once it has compacted)
                throw new ApiException(Statuses.gone("The resourceVersion for the provided list is too old."));
            }
        }
        boolean selective = !c.params().string("labelSelector", "").isBlank() || !c.params().string("fieldSelector", "").isBlank();
        ListPages lists = dev.portway.admin.auth.ViewerTokens.USER.equals(c.user()) ? viewerPages : pages;
        ListPages.Page page = lists.page(api.kind(), api.namespace(), limit, continueToken, selective,
                o -> dev.portway.api.Selectors.matches(labels, o.getMetadata().getLabels()) && fields.matches(o),
                () -> snapshot != null ? snapshot : control.store().snapshot(api.kind(), api.namespace()));
        List<HasMetadata> items = new ArrayList<>(page.items().size());
        for (HasMetadata o : page.items()) {
            items.add(api.served(o));
        }
        ListPages.Page served = new ListPages.Page(items, page.revision(), page.continueToken(), page.remainingItemCount());
        return done(HttpResponses.of(HttpResponseStatus.OK, rep.contentType(), rep.list(api.kind(), api.apiVersion(), served, tables(), includeObject)));
    }

    private HttpResponses.Response get(Call c, ApiPath api) {
        HasMetadata o = control.store().get(api.kind(), api.namespace(), api.name())
                .orElseThrow(() -> ApiException.notFound(api.kind(), api.name()));
        if ("scale".equals(api.subresource())) {
            return HttpResponses.json(HttpResponseStatus.OK, Scales.of(o));
        }
        Representation rep = Representation.negotiate(c.header(HttpHeaderNames.ACCEPT));
        String includeObject = c.params().oneOf("includeObject", Set.of("None", "Metadata", "Object"));
        return HttpResponses.of(HttpResponseStatus.OK, rep.contentType(), rep.object(api.served(o), tables(), true, includeObject));
    }

    /**
     * {@code GET /api/v1/namespaces/NS/pods/NAME/log?container=&previous=&follow=&tailLines=&limitBytes=
     * &sinceSeconds=&sinceTime=&timestamps=}.
     */
    private void serveLog(Call c, ApiPath api) {
        String container = c.params().string("container");
        boolean previous = c.params().bool("previous", false);
        boolean follow = c.params().bool("follow", false);
        boolean timestamps = c.params().bool("timestamps", false);
        Long tailLines = c.params().longValue("tailLines");
        Long limitBytes = c.params().longValue("limitBytes");
        Long sinceSeconds = c.params().longValue("sinceSeconds");
        java.time.Instant sinceTime = c.params().time("sinceTime");
        List<FieldError> invalid = new ArrayList<>();
        if (tailLines != null && tailLines < 0) {
            invalid.add(FieldError.invalid(FieldPath.of("tailLines"), tailLines,
                    "must be greater than or equal to 0"));
        }
        if (limitBytes != null && limitBytes < 1) {
            invalid.add(FieldError.invalid(FieldPath.of("limitBytes"), limitBytes, "must be greater than 0"));
        }
        if (sinceSeconds != null && sinceTime != null) {
            invalid.add(FieldError.forbidden(FieldPath.of("sinceSeconds"), "at most one of `sinceTime` or `sinceSeconds` may be specified"));
        } else if (sinceSeconds != null && sinceSeconds < 1) {
            invalid.add(FieldError.invalid(FieldPath.of("sinceSeconds"), sinceSeconds, "must be greater than 0"));
        }
        if (!invalid.isEmpty()) {
            throw ApiException.invalid("", "PodLogOptions", api.name(), invalid);
        }
        int tail = tailLines == null ? -1 : (int) Math.min(Integer.MAX_VALUE, tailLines);
        // as the kubelet: the tail first, then the lines written since
        java.time.Instant since = sinceTime != null ? sinceTime
                : sinceSeconds != null ? java.time.Instant.now().minusSeconds(Math.min(sinceSeconds, 1L << 40)) : null;
        ChannelHandlerContext ctx = c.ctx();
        if (logs == null) {
            throw new ApiException(Statuses.notFound());
        }
        // opening asks the control thread; not on the event loop
        Thread.ofVirtual().name("pod-log").start(() -> {
            try {
                PodLogs.LogStream stream = logs.open(api.namespace(), api.name(), container, previous);
                long start = since == null ? stream.tailStart(tail)
                        : Math.max(stream.tailStart(tail), stream.sinceStart(PodLogs.epochNanos(since)));
                ctx.executor().execute(() -> LogResponder.respond(ctx, stream, start, follow, limitBytes, timestamps, c.keepAlive(),
                        c.request().protocolVersion().equals(io.netty.handler.codec.http.HttpVersion.HTTP_1_0), () -> next(ctx)));
            } catch (RuntimeException e) {
                ApiException error = toApiException(e);
                ctx.executor().execute(() -> answer(ctx, HttpResponses.status(error.status()), c.keepAlive()));
            }
        });
    }

    /**
     * {@code pods/NAME/exec} and {@code pods/NAME/attach}: kube-apiserver's checks
     * ({@code ExecLocation}, {@code AttachLocation}: the pod, its container, its node), the
     * kubelet's (a stream asked for, a running container), then the WebSocket upgrade and the
     * command, or the attached container's streams. kubectl asks for a WebSocket first and falls back to SPDY (a POST) when the
     * upgrade fails: a check that fails answers both alike, and SPDY itself is refused saying so.
     */
    private void exec(Call c, ApiPath api, boolean attach) {
        List<String> command = attach ? List.of() : c.query().parameters().getOrDefault("command", List.of());
        String container = c.params().string("container");
        // a stream not named is not asked for: the query's conversion sets each absent one to false, after
        // SetDefaults_PodExecOptions has set stdout and stderr (kubectl names only those it wants); with a
        // terminal, which carries both outputs, error output is not asked for (the kubelet's NewOptions)
        boolean tty = c.params().bool("tty", false);
        ExecSocket.Request request = new ExecSocket.Request(command, c.params().bool("stdin", false), c.params().bool("stdout", false),
                c.params().bool("stderr", false) && !tty, tty);
        if (execs == null) {
            throw new ApiException(Statuses.notFound());
        }
        upgradeInto(c, "pod-exec", held -> {
            PodExec.Target found = attach ? execs.attach(api.namespace(), api.name(), container)
                    : execs.find(api.namespace(), api.name(), container);
            if (!request.stdin() && !request.stdout() && !request.stderr()) {
                throw ApiException.badRequest("you must specify at least one of stdin, stdout, stderr");
            }
            if (command.isEmpty() && !attach) {
                throw ApiException.badRequest("you must specify at least one command for the container");
            }
            requireWebSocket(held, "Portway serves " + (attach ? "attach" : "exec") + " over WebSocket (" + ExecSocket.V5
                    + ", kubectl 1.30 and later), not SPDY");
            ExecSocket.check(held);
            return ctx -> ExecSocket.accept(ctx, held, found, request);
        });
    }

    /**
     * {@code pods/NAME/portforward}: kube-apiserver's checks ({@code PortForwardLocation}: the pod,
     * its node), the kubelet's (a pod it runs), then SPDY through a WebSocket. As with exec, a
     * failed check answers kubectl's SPDY fallback alike, and SPDY itself is refused saying so.
     */
    private void portForward(Call c, ApiPath api) {
        if (execs == null || connector == null) {
            throw new ApiException(Statuses.notFound());
        }
        upgradeInto(c, "pod-port-forward", held -> {
            PodExec.Forward found = execs.forward(api.namespace(), api.name());
            requireWebSocket(held, "Portway serves port-forward as SPDY through a WebSocket (" + PortForwardSocket.PROTOCOL
                    + ", kubectl 1.31 and later), not SPDY alone");
            PortForwardSocket.check(held);
            return ctx -> PortForwardSocket.accept(ctx, held, found.address(), api.name(), found.uid(), connector);
        });
    }

    private static final Set<HttpMethod> PROXY_METHODS = Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH,
            HttpMethod.DELETE, HttpMethod.HEAD, HttpMethod.OPTIONS);

    /**
     * {@code pods/NAME/proxy/...} and {@code services/NAME/proxy/...}: the request, carried to the
     * pod and its answer back ({@link ApiProxy}, {@link ProxyExchange}), with the methods
     * kube-apiserver's proxy connects. A WebSocket upgrade is refused: Portway carries plain
     * requests only, and {@code kubectl port-forward} reaches any port.
     */
    private void proxy(Call c, ApiProxy.ProxyPath p) {
        if (!PROXY_METHODS.contains(c.method())) {
            throw new ApiException(Statuses.methodNotAllowed());
        }
        if (c.request().headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            throw ApiException.badRequest("Portway's API server does not carry WebSocket upgrades through the proxy;"
                    + " kubectl port-forward reaches the pod's port");
        }
        // any other upgrade (Java's HTTP client offers h2c to every http:// URL, and kubectl proxy passes it on) is
        // declined by going on without it, as HTTP lets a server do: Upgrade is a hop-by-hop field the pod never sees
        ApiProxy.Target target = ApiProxy.locate(control.store(), p);
        String prefix = c.path().substring(0, c.path().length() - p.rest().length());
        String uri = c.request().uri();
        int q = uri.indexOf('?');
        ProxyExchange.start(c.ctx(), c.request(), target, prefix, q < 0 ? "" : uri.substring(q + 1), c.keepAlive(),
                connector.apply(target.address().getAddress()), () -> next(c.ctx()));
    }

    /**
     * Reaches into a pod: off the event loop, {@code prepare} (which may ask the control thread)
     * checks the request, held for it, and returns what takes the connection over, run then on the
     * event loop; a check that fails is answered instead.
     */
    private void upgradeInto(Call c, String thread,
                             java.util.function.Function<FullHttpRequest, java.util.function.Consumer<ChannelHandlerContext>> prepare) {
        ChannelHandlerContext ctx = c.ctx();
        FullHttpRequest held = c.request().retainedDuplicate(); // the call's is released when route returns
        Thread.ofVirtual().name(thread).start(() -> {
            try {
                java.util.function.Consumer<ChannelHandlerContext> takeOver = prepare.apply(held);
                ctx.executor().execute(() -> {
                    try {
                        takeOver.accept(ctx);
                    } finally {
                        held.release();
                    }
                });
            } catch (RuntimeException e) {
                ApiException error = toApiException(e);
                ctx.executor().execute(() -> {
                    held.release();
                    answer(ctx, HttpResponses.status(error.status()), c.keepAlive());
                });
            }
        });
    }

    /**
     * Refuses a request that is not a WebSocket upgrade, as kube-apiserver does ({@code Upgrade
     * request required}); kubectl's SPDY fallback (a POST) is told what is served instead.
     */
    private static void requireWebSocket(FullHttpRequest request, String spdyRefusal) {
        if (!WatchSocket.isUpgrade(request)) {
            throw ApiException.badRequest(request.method().equals(HttpMethod.POST) ? spdyRefusal : "Upgrade request required");
        }
        WatchSocket.check(request);
    }

    // writes

    private WriteOptions writeOptions(Call c) {
        String validation = c.params().string("fieldValidation");
        if (validation != null && !validation.isEmpty() && !FIELD_VALIDATION.contains(validation)) {
            throw ApiException.badRequest("fieldValidation parameter unsupported: " + validation
                    + ". Supported values: Ignore, Warn, Strict");
        }
        String manager = c.params().string("fieldManager");
        if (manager != null && manager.length() > 128) {
            throw ApiException.badRequest("fieldManager: Too long: may not be more than 128 bytes");
        }
        return new WriteOptions(c.params().dryRun(), validation == null || validation.isEmpty() ? "Warn" : validation,
                manager, c.params().bool("force", false), c.user());
    }

    private CompletableFuture<HttpResponses.Response> create(Call c, ApiPath api) {
        Representation rep = writtenRepresentation(c);
        WriteOptions options = writeOptions(c);
        Decoded d = decodeBody(c, api, options.fieldValidation());
        return control.submitWrite(() -> control.api().create(d.object, api.namespace(), options))
                .thenApply(o -> written(rep, api, HttpResponseStatus.CREATED, o, withStrategyWarnings(d.warnings, o, null)));
    }

    private CompletableFuture<HttpResponses.Response> replace(Call c, ApiPath api) {
        Representation rep = writtenRepresentation(c);
        WriteOptions options = writeOptions(c);
        if ("scale".equals(api.subresource())) {
            JsonNode body = readBody(c, true).tree();
            int replicas = Scales.replicas(body);
            String rv = body.path("metadata").path("resourceVersion").asText("");
            return control.submitWrite(() -> control.api().scale(api.kind(), api.namespace(), api.name(), replicas, rv, options))
                    .thenApply(o -> HttpResponses.json(HttpResponseStatus.OK, Scales.of(o)));
        }
        Decoded d = decodeBody(c, api, options.fieldValidation());
        if (d.object.getMetadata() == null || !api.name().equals(d.object.getMetadata().getName())) {
            throw ApiException.badRequest("the name of the object (" + (d.object.getMetadata() == null ? "" : d.object.getMetadata().getName())
                    + ") does not match the name on the URL (" + api.name() + ")");
        }
        if ("status".equals(api.subresource())) {
            return control.submitWrite(() -> control.api().updateStatus(d.object, api.namespace(), options))
                    .thenApply(o -> written(rep, api, HttpResponseStatus.OK, o, d.warnings));
        }
        return control.submitWrite(() -> {
            HasMetadata old = control.store().get(api.kind(), api.namespace(), api.name()).orElse(null);
            HasMetadata o = control.api().update(d.object, api.namespace(), options);
            return new Patcher.Result(o, false, withStrategyWarnings(d.warnings, o, old));
        }).thenApply(r -> written(rep, api, HttpResponseStatus.OK, r.object(), r.warnings()));
    }

    private CompletableFuture<HttpResponses.Response> patch(Call c, ApiPath api) {
        Representation rep = writtenRepresentation(c);
        WriteOptions options = writeOptions(c);
        Patcher.Type type = Patcher.Type.of(RequestGate.mediaType(c.header(HttpHeaderNames.CONTENT_TYPE)));
        byte[] body = ByteBufUtil.getBytes(c.request().content());
        if (type == Patcher.Type.APPLY && (options.fieldManager() == null || options.fieldManager().isEmpty())) {
            throw ApiException.badRequest("PATCH request bodies of type application/apply-patch+yaml require fieldManager to be set");
        }
        Patcher patcher = new Patcher(control.api());
        return control.submitWrite(() -> {
            HasMetadata old = api.subresource() == null ? control.store().get(api.kind(), api.namespace(), api.name()).orElse(null) : null;
            Patcher.Result r = patcher.patch(api.kind(), api.version(), api.namespace(), api.name(), api.subresource(), type, body, options);
            return api.subresource() == null ? new Patcher.Result(r.object(), r.created(), withStrategyWarnings(r.warnings(), r.object(), old)) : r;
        }).thenApply(r -> "scale".equals(api.subresource())
                ? HttpResponses.json(HttpResponseStatus.OK, Scales.of(r.object()))
                : written(rep, api, r.created() ? HttpResponseStatus.CREATED : HttpResponseStatus.OK, r.object(), r.warnings()));
    }

    /**
     * {@code POST pods/NAME/eviction} (policy/v1 Eviction), what {@code kubectl drain} sends: the
     * pod is deleted with the eviction's delete options. No PodDisruptionBudget is served, so none
     * refuses it. The answer is kube-apiserver's: 201 and a Status of Success.
     */
    private CompletableFuture<HttpResponses.Response> evict(Call c, ApiPath api) {
        JsonNode eviction = parseBody(c, ByteBufUtil.getBytes(c.request().content()), true).tree();
        if (!api.name().equals(eviction.path("metadata").path("name").asText(""))) {
            throw ApiException.badRequest("name in URL does not match name in Eviction object");
        }
        DeleteOptions options = deleteOptions(c, eviction.path("deleteOptions"));
        return control.submitWrite(() -> control.api().delete(api.kind(), api.namespace(), api.name(), options))
                .thenApply(o -> HttpResponses.json(HttpResponseStatus.CREATED, Map.of("kind", "Status", "apiVersion", "v1",
                        "metadata", Map.of(), "status", "Success")));
    }

    private CompletableFuture<HttpResponses.Response> delete(Call c, ApiPath api) {
        DeleteOptions options = deleteOptions(c);
        return control.submitWrite(() -> control.api().delete(api.kind(), api.namespace(), api.name(), options))
                .thenApply(o -> HttpResponses.json(HttpResponseStatus.OK, api.served(o)));
    }

    private CompletableFuture<HttpResponses.Response> deleteCollection(Call c, ApiPath api) {
        DeleteOptions options = deleteOptions(c);
        LabelSelector labels = LabelQuery.parse(c.params().string("labelSelector"));
        FieldSelector fields = FieldSelector.parse(c.params().string("fieldSelector"), api.kind());
        return control.submitWrite(() -> {
            List<HasMetadata> deleted = new ArrayList<>();
            for (HasMetadata o : control.store().list(api.kind(), api.namespace())) {
                if (dev.portway.api.Selectors.matches(labels, o.getMetadata().getLabels()) && fields.matches(o)) {
                    String ns = o.getMetadata().getNamespace();
                    deleted.add(api.served(control.api().delete(api.kind(), ns, o.getMetadata().getName(), options)));
                }
            }
            return HttpResponses.of(HttpResponseStatus.OK, "application/json",
                    Json.writeBytes(Representation.list(api.kind(), api.apiVersion(), deleted, control.store().revision())));
        });
    }

    /** DeleteOptions from the body (kubectl sends one) and the query, the query winning as in the API server. */
    private DeleteOptions deleteOptions(Call c) {
        byte[] body = ByteBufUtil.getBytes(c.request().content());
        return deleteOptions(c, body.length == 0 ? Json.mapper().createObjectNode() : parseBody(c, body, true).tree());
    }

    /** A DELETE's options: those of its body ({@code opts}), with the query's taking their place. */
    private DeleteOptions deleteOptions(Call c, JsonNode opts) {
        Long grace = opts.hasNonNull("gracePeriodSeconds") ? Long.valueOf(opts.get("gracePeriodSeconds").asLong()) : null;
        Long graceQuery = c.params().longValue("gracePeriodSeconds");
        if (graceQuery != null) {
            grace = graceQuery;
        }
        String policy = opts.path("propagationPolicy").asText(null);
        String policyQuery = c.params().string("propagationPolicy");
        if (policyQuery != null && !policyQuery.isEmpty()) {
            policy = policyQuery;
        }
        Boolean orphan = opts.hasNonNull("orphanDependents") ? opts.get("orphanDependents").asBoolean() : null;
        if (c.params().string("orphanDependents") != null) {
            orphan = c.params().bool("orphanDependents", false);
        }
        DeleteOptions.Propagation propagation = DeleteOptions.Propagation.BACKGROUND;
        if (policy != null && !policy.isEmpty()) {
            if (orphan != null) {
                throw ApiException.badRequest("orphanDependents: Invalid value: " + orphan
                        + ": orphanDependents and propagationPolicy cannot both be set");
            }
            String p = policy;
            propagation = DeleteOptions.Propagation.parse(policy).orElseThrow(() -> ApiException.badRequest(
                    "propagationPolicy: Unsupported value: \"" + p + "\": supported values: \"Foreground\", \"Background\", \"Orphan\""));
        } else if (Boolean.TRUE.equals(orphan)) {
            propagation = DeleteOptions.Propagation.ORPHAN;
        }
        JsonNode pre = opts.path("preconditions");
        boolean dryRun = c.params().dryRun() || (opts.path("dryRun").isArray() && !opts.path("dryRun").isEmpty());
        return new DeleteOptions(grace, propagation, pre.path("uid").asText(null),
                pre.path("resourceVersion").asText(null), dryRun);
    }

    /**
     * How a write's answer is written: negotiated before the write, as kube-apiserver does, so that
     * an Accept it cannot meet (406) writes nothing (a 406 after the commit made the client's retry
     * an AlreadyExists).
     */
    private static Representation writtenRepresentation(Call c) {
        Representation rep = Representation.negotiate(c.header(HttpHeaderNames.ACCEPT));
        return rep == Representation.TABLE ? Representation.JSON : rep;
    }

    /** The decoder's warnings, then what the kind's strategy warns of for the write ({@link dev.portway.api.validation.PodWarnings}). */
    private static List<String> withStrategyWarnings(List<String> decoding, HasMetadata written, HasMetadata old) {
        List<String> strategy;
        try {
            strategy = dev.portway.api.validation.PodWarnings.onWrite(written, old);
        } catch (RuntimeException e) {
            // the object is stored: a warning that cannot be made must not turn the answer into an error
            log.warn("could not make the warnings for {} {}", written.getKind(), written.getMetadata().getName(), e);
            return decoding;
        }
        if (strategy.isEmpty()) {
            return decoding;
        }
        List<String> all = new ArrayList<>(decoding == null ? List.of() : decoding);
        all.addAll(strategy);
        return all;
    }

    /** The answer to a write: the object as stored, at the version of the request's path. */
    private HttpResponses.Response written(Representation rep, ApiPath api, HttpResponseStatus status, HasMetadata o, List<String> warnings) {
        return HttpResponses.of(status, rep.contentType(), rep.object(api.served(o), tables(), true, null)).withWarnings(warnings);
    }

    private CompletableFuture<HttpResponses.Response> multiApply(Call c) {
        RequestJson.Parsed body = readBody(c, false);
        if (!body.duplicates().isEmpty()) {
            throw ApiException.badRequest("strict decoding error: " + String.join(", ", body.strictErrors()));
        }
        JsonNode items = body.tree().get("items");
        if (items == null || !items.isArray()) {
            throw ApiException.badRequest("expected a v1 List with items");
        }
        List<HasMetadata> objects = new ArrayList<>();
        for (JsonNode item : items) {
            ObjectDecoder.Result result = ObjectDecoder.decode(item, "request body");
            if (!result.problems().isEmpty()) {
                throw ApiException.badRequest(result.problems().getFirst().message());
            }
            result.objects().forEach(o -> objects.add(o.object()));
        }
        String namespace = c.params().string("namespace", "default");
        boolean dryRun = c.params().dryRun();
        return control.submitWrite(() -> {
            try {
                List<ApplyResult.Item> applied = new ArrayList<>();
                List<String> warnings = new ArrayList<>();
                for (ApiServer.Applied a : control.api().apply(objects, namespace, dryRun)) {
                    Keys k = a.key();
                    applied.add(new ApplyResult.Item(k.kind().apiVersion(), k.kind().kind(), k.namespace(), k.name(), a.action().word()));
                    if (a.action() != ApiServer.Action.UNCHANGED) {
                        warnings.addAll(withStrategyWarnings(List.of(), a.object(), a.old()));
                    }
                }
                return HttpResponses.json(HttpResponseStatus.OK, ApplyResult.ok(applied, dryRun)).withWarnings(warnings);
            } catch (ApiServer.ApplyException e) {
                List<ApplyResult.Failure> failures = new ArrayList<>();
                int code = 422;
                for (ApiServer.Failure f : e.failures()) {
                    Keys k = f.key();
                    failures.add(new ApplyResult.Failure(f.index(), k == null ? null : k.kind().kind(),
                            k == null ? null : k.namespace(), k == null ? null : k.name(), f.error().status()));
                    if (f.error().code() != 422) {
                        code = f.error().code();
                    }
                }
                return HttpResponses.json(HttpResponseStatus.valueOf(code), ApplyResult.failed(failures));
            }
        });
    }

    private record Decoded(HasMetadata object, List<String> warnings) {
    }

    /**
     * Decodes a request body (JSON or YAML) into an object of the path's kind; apiVersion and kind
     * default to the path's. The body may be at any version the kind is served at (as a CRD's
     * request scope accepts any of its served versions); it is decoded to the storage version.
     * Unknown fields are an error ({@code fieldValidation=Strict}), a warning ({@code Warn}, the
     * default) or dropped silently ({@code Ignore}).
     */
    private static Decoded decodeBody(Call c, ApiPath api, String fieldValidation) {
        RequestJson.Parsed body = readBody(c, !api.kind().customResource());
        if (!(body.tree() instanceof ObjectNode object)) {
            throw ApiException.badRequest("the request body must be a JSON object");
        }
        if (!object.has("apiVersion")) {
            object.put("apiVersion", api.apiVersion());
        }
        if (!object.has("kind")) {
            object.put("kind", api.kind().kind());
        }
        return decodeObject(object, api, fieldValidation, body.strictErrors());
    }

    private static Decoded decodeObject(ObjectNode object, ApiPath api, String fieldValidation, List<String> strictErrors) {
        ResourceKind kind = api.kind();
        String namespace = api.namespace();
        ObjectDecoder.Result result = ObjectDecoder.decodeRequest(object, fieldValidation, strictErrors);
        if (!result.problems().isEmpty()) {
            throw ApiException.badRequest(result.problems().getFirst().message());
        }
        if (result.objects().size() != 1) {
            throw ApiException.badRequest("the request body must hold one object");
        }
        ObjectDecoder.Decoded decoded = result.objects().getFirst();
        if (decoded.kind() != kind) {
            throw ApiException.badRequest("the API version in the data (" + object.path("apiVersion").asText() + ") and kind ("
                    + decoded.kind().kind() + ") do not match the expected " + api.apiVersion() + " " + kind.kind());
        }
        HasMetadata o = decoded.object();
        if (namespace != null && o.getMetadata() != null && o.getMetadata().getNamespace() != null
                && !o.getMetadata().getNamespace().isEmpty() && !o.getMetadata().getNamespace().equals(namespace)) {
            throw ApiException.badRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
        return new Decoded(o, decoded.warnings());
    }

    /** @param typed whether the body is read into a typed object (see {@link RequestJson#read}) */
    private static RequestJson.Parsed readBody(Call c, boolean typed) {
        byte[] body = ByteBufUtil.getBytes(c.request().content());
        if (body.length == 0) {
            throw ApiException.badRequest("the request body is empty");
        }
        return parseBody(c, body, typed);
    }

    /**
     * A request body as a tree. A JSON body's duplicate keys are noted for the caller to judge (see
     * {@link RequestJson}); YAML refuses them as it parses, as go-yaml does.
     */
    private static RequestJson.Parsed parseBody(Call c, byte[] body, boolean typed) {
        String type = RequestGate.mediaType(c.header(HttpHeaderNames.CONTENT_TYPE));
        try {
            if (type.equals(ProtobufBody.CONTENT_TYPE)) {
                return RequestJson.Parsed.of(ProtobufBody.toJson(body));
            }
            if (type.equals("application/yaml") || type.equals("application/apply-patch+yaml")) {
                var docs = dev.portway.api.decode.DocumentParser.parse("request body", new String(body, StandardCharsets.UTF_8));
                if (docs.size() != 1) {
                    throw ApiException.badRequest("the request body must hold one YAML document, not " + docs.size());
                }
                return RequestJson.Parsed.of(docs.getFirst().tree());
            }
            return RequestJson.read(body, typed);
        } catch (ApiException e) {
            throw e;
        } catch (java.io.IOException | dev.portway.api.decode.ManifestSyntaxException | RuntimeException e) {
            throw ApiException.badRequest("the request body is not valid " + (type.equals("application/yaml") ? "YAML" : "JSON")
                    + ": " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        String line = nl < 0 ? message : message.substring(0, nl);
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection failed", cause);
        ctx.close();
    }
}
