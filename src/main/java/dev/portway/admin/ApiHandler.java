package dev.portway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.Keys;
import dev.portway.api.ResourceKind;
import dev.portway.api.Selectors;
import dev.portway.api.decode.DecodeProblem;
import dev.portway.api.decode.ObjectDecoder;
import dev.portway.control.ApiServer;
import dev.portway.control.ControlPlane;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the store under the Kubernetes REST paths, with Kubernetes {@code Status} objects for
 * errors, plus Portway's atomic multi-object apply at {@code /apis/portway.dev/v1/apply}.
 * Reads come straight from the store; writes run on the control thread.
 */
@ChannelHandler.Sharable
final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    static final String APPLY_PATH = "/apis/portway.dev/v1/apply";

    private final ControlPlane control;
    private final Map<String, Endpoint> extraEndpoints;
    private final PodLogs logs;

    ApiHandler(ControlPlane control, Map<String, Endpoint> extraEndpoints, PodLogs logs) {
        this.control = control;
        this.extraEndpoints = extraEndpoints;
        this.logs = logs;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        if (request.method().equals(HttpMethod.GET) && isLogPath(query.path())) {
            serveLog(ctx, query, io.netty.handler.codec.http.HttpUtil.isKeepAlive(request));
            return;
        }
        byte[] body = ByteBufUtil.getBytes(request.content());
        CompletableFuture<HttpResponses.Response> response;
        try {
            response = route(request, query, body);
        } catch (ApiException e) {
            response = CompletableFuture.completedFuture(HttpResponses.status(e.status()));
        } catch (RuntimeException e) {
            log.warn("{} {} failed", request.method(), request.uri(), e);
            response = CompletableFuture.completedFuture(HttpResponses.status(ApiException.internal(e.toString()).status()));
        }
        boolean keepAlive = io.netty.handler.codec.http.HttpUtil.isKeepAlive(request);
        response.whenComplete((r, err) -> {
            HttpResponses.Response out = r != null ? r : HttpResponses.status(toApiException(err).status());
            if (ctx.executor().inEventLoop()) {
                HttpResponses.write(ctx, out, keepAlive);
            } else {
                ctx.executor().execute(() -> HttpResponses.write(ctx, out, keepAlive));
            }
        });
    }

    private static boolean isLogPath(String path) {
        return path.endsWith("/log") && ApiPath.parse(path)
                .filter(a -> a.kind() == ResourceKind.POD && a.name() != null && "log".equals(a.subresource())).isPresent();
    }

    /** {@code GET /api/v1/namespaces/NS/pods/NAME/log?container=&previous=&follow=&tailLines=}. */
    private void serveLog(ChannelHandlerContext ctx, QueryStringDecoder query, boolean keepAlive) {
        ApiPath api = ApiPath.parse(query.path()).orElseThrow();
        String container = first(query, "container", null);
        boolean previous = Boolean.parseBoolean(first(query, "previous", "false"));
        boolean follow = Boolean.parseBoolean(first(query, "follow", "false"));
        int tail;
        try {
            tail = Integer.parseInt(first(query, "tailLines", "-1"));
        } catch (NumberFormatException e) {
            HttpResponses.write(ctx, HttpResponses.status(ApiException.badRequest("tailLines: invalid value").status()), keepAlive);
            return;
        }
        if (logs == null) {
            HttpResponses.write(ctx, HttpResponses.status(notFound(query.path()).status()), keepAlive);
            return;
        }
        // opening asks the control thread; not on the event loop
        Thread.ofVirtual().name("pod-log").start(() -> {
            try {
                PodLogs.LogStream stream = logs.open(api.namespace(), api.name(), container, previous);
                long start = stream.tailStart(tail);
                ctx.executor().execute(() -> LogResponder.respond(ctx, stream, start, follow, keepAlive));
            } catch (RuntimeException e) {
                ApiException error = toApiException(e);
                ctx.executor().execute(() -> HttpResponses.write(ctx, HttpResponses.status(error.status()), keepAlive));
            }
        });
    }

    private static ApiException toApiException(Throwable err) {
        Throwable t = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (t instanceof ApiException e) {
            return e;
        }
        log.warn("request failed", t);
        return ApiException.internal(String.valueOf(t));
    }

    private CompletableFuture<HttpResponses.Response> route(FullHttpRequest request, QueryStringDecoder query, byte[] body) {
        String path = query.path();
        HttpMethod method = request.method();
        Endpoint extra = extraEndpoints.get(path);
        if (extra != null) {
            return extra.handle(request, query);
        }
        switch (path) {
            case "/healthz", "/livez", "/readyz" -> {
                return done(HttpResponses.text(HttpResponseStatus.OK, "ok"));
            }
            case "/version" -> {
                return done(HttpResponses.json(HttpResponseStatus.OK, Discovery.version()));
            }
            case "/api" -> {
                return done(HttpResponses.json(HttpResponseStatus.OK, Discovery.apiVersions()));
            }
            case "/apis" -> {
                return done(HttpResponses.json(HttpResponseStatus.OK, Discovery.apiGroups()));
            }
            case APPLY_PATH -> {
                if (!method.equals(HttpMethod.POST)) {
                    throw ApiException.methodNotAllowed(method + " is not supported on " + APPLY_PATH);
                }
                return apply(query, body);
            }
            default -> {
            }
        }
        ApiPath api = ApiPath.parse(path).orElseThrow(() -> notFound(path));
        if (api.kind() == null) {
            if (!method.equals(HttpMethod.GET)) {
                throw ApiException.methodNotAllowed(method + " is not supported on " + path);
            }
            return done(HttpResponses.json(HttpResponseStatus.OK, Discovery.resources(api.group(), api.version())));
        }
        if (method.equals(HttpMethod.GET)) {
            return done(api.name() == null ? list(api, query) : get(api));
        }
        if (method.equals(HttpMethod.POST) && api.name() == null) {
            return create(api, body);
        }
        if (method.equals(HttpMethod.PUT) && api.name() != null) {
            return "status".equals(api.subresource()) ? updateStatus(api, body) : update(api, body);
        }
        if (method.equals(HttpMethod.DELETE) && api.name() != null) {
            return delete(api, query);
        }
        throw ApiException.methodNotAllowed(method + " is not supported on resources of kind " + '"' + api.kind().qualifiedResource() + '"');
    }

    private static ApiException notFound(String path) {
        return new ApiException(new StatusBuilder().withNewMetadata().endMetadata().withStatus("Failure")
                .withMessage("the server could not find the requested resource").withReason("NotFound")
                .withCode(404).build());
    }

    private static CompletableFuture<HttpResponses.Response> done(HttpResponses.Response r) {
        return CompletableFuture.completedFuture(r);
    }

    private HttpResponses.Response list(ApiPath api, QueryStringDecoder query) {
        List<String> selectorParam = query.parameters().get("labelSelector");
        LabelSelector selector = selectorParam == null || selectorParam.isEmpty() ? null : Selectors.parse(selectorParam.getFirst());
        ObjectNode list = JsonNodeFactory.instance.objectNode();
        list.put("apiVersion", api.kind().apiVersion());
        list.put("kind", api.kind().kind() + "List");
        list.putObject("metadata").put("resourceVersion", Long.toString(control.store().revision()));
        ArrayNode items = list.putArray("items");
        for (HasMetadata o : control.store().list(api.kind(), api.namespace())) {
            if (selector == null || Selectors.matches(selector, o.getMetadata().getLabels())) {
                items.add(Json.tree(o));
            }
        }
        return HttpResponses.json(HttpResponseStatus.OK, list);
    }

    private HttpResponses.Response get(ApiPath api) {
        HasMetadata o = control.store().get(api.kind(), api.namespace(), api.name())
                .orElseThrow(() -> ApiException.notFound(api.kind(), api.name()));
        return HttpResponses.json(HttpResponseStatus.OK, o);
    }

    private CompletableFuture<HttpResponses.Response> create(ApiPath api, byte[] body) {
        Decoded d = decodeBody(api, body);
        return control.submit(() -> control.api().create(d.object, api.namespace()))
                .thenApply(o -> HttpResponses.json(HttpResponseStatus.CREATED, o).withWarnings(d.warnings));
    }

    private CompletableFuture<HttpResponses.Response> update(ApiPath api, byte[] body) {
        Decoded d = decodeBody(api, body);
        if (!api.name().equals(d.object.getMetadata().getName())) {
            throw ApiException.badRequest("the name of the object (" + d.object.getMetadata().getName()
                    + ") does not match the name on the URL (" + api.name() + ")");
        }
        return control.submit(() -> control.api().update(d.object, api.namespace()))
                .thenApply(o -> HttpResponses.json(HttpResponseStatus.OK, o).withWarnings(d.warnings));
    }

    /** {@code PUT .../status}: another controller writing status (Portway's own write it directly). */
    private CompletableFuture<HttpResponses.Response> updateStatus(ApiPath api, byte[] body) {
        Decoded d = decodeBody(api, body);
        JsonNode status = Json.tree(d.object).get("status");
        return control.submit(() -> replaceStatus(control.api(), api.kind().type(), api, status))
                .thenApply(o -> HttpResponses.json(HttpResponseStatus.OK, o));
    }

    private static <T extends HasMetadata> T replaceStatus(ApiServer server, Class<T> type, ApiPath api, JsonNode status) {
        return server.mutate(type, api.namespace(), api.name(), current -> {
            ObjectNode tree = (ObjectNode) Json.tree(current);
            if (status == null) {
                tree.remove("status");
            } else {
                tree.set("status", status);
            }
            return Json.convert(tree, type);
        }).orElseThrow(() -> ApiException.notFound(api.kind(), api.name()));
    }

    private CompletableFuture<HttpResponses.Response> delete(ApiPath api, QueryStringDecoder query) {
        List<String> grace = query.parameters().get("gracePeriodSeconds");
        ApiServer.DeleteOptions options = grace == null || grace.isEmpty() ? ApiServer.DeleteOptions.DEFAULT
                : new ApiServer.DeleteOptions(Long.parseLong(grace.getFirst()));
        return control.submit(() -> control.api().delete(api.kind(), api.namespace(), api.name(), options))
                .thenApply(o -> HttpResponses.json(HttpResponseStatus.OK, o));
    }

    private CompletableFuture<HttpResponses.Response> apply(QueryStringDecoder query, byte[] body) {
        JsonNode tree = readJson(body);
        JsonNode items = tree.get("items");
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
        String namespace = first(query, "namespace", "default");
        boolean dryRun = "All".equals(first(query, "dryRun", ""));
        return control.submit(() -> {
            try {
                List<ApplyResult.Item> applied = new ArrayList<>();
                for (ApiServer.Applied a : control.api().apply(objects, namespace, dryRun)) {
                    Keys k = a.key();
                    applied.add(new ApplyResult.Item(k.kind().apiVersion(), k.kind().kind(), k.namespace(), k.name(), a.action().word()));
                }
                return HttpResponses.json(HttpResponseStatus.OK, ApplyResult.ok(applied, dryRun));
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

    private static String first(QueryStringDecoder query, String name, String otherwise) {
        List<String> values = query.parameters().get(name);
        return values == null || values.isEmpty() ? otherwise : values.getFirst();
    }

    private record Decoded(HasMetadata object, List<String> warnings) {
    }

    /** Strictly decodes a request body; apiVersion and kind default to the path's. */
    private static Decoded decodeBody(ApiPath api, byte[] body) {
        JsonNode tree = readJson(body);
        if (!(tree instanceof ObjectNode object)) {
            throw ApiException.badRequest("the request body must be a JSON object");
        }
        if (!object.has("apiVersion")) {
            object.put("apiVersion", api.kind().apiVersion());
        }
        if (!object.has("kind")) {
            object.put("kind", api.kind().kind());
        }
        ObjectDecoder.Result result = ObjectDecoder.decode(object, "request body");
        if (!result.problems().isEmpty()) {
            DecodeProblem p = result.problems().getFirst();
            throw ApiException.badRequest(p.message());
        }
        ObjectDecoder.Decoded decoded = result.objects().getFirst();
        if (decoded.kind() != api.kind()) {
            throw ApiException.badRequest("the API version in the data (" + decoded.kind().apiVersion() + ") and kind ("
                    + decoded.kind().kind() + ") do not match the expected " + api.kind().apiVersion() + " " + api.kind().kind());
        }
        HasMetadata o = decoded.object();
        if (api.namespace() != null && o.getMetadata() != null && o.getMetadata().getNamespace() != null
                && !o.getMetadata().getNamespace().isEmpty() && !o.getMetadata().getNamespace().equals(api.namespace())) {
            throw ApiException.badRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
        return new Decoded(o, decoded.warnings());
    }

    private static JsonNode readJson(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest("the request body is empty");
        }
        try {
            return Json.mapper().readTree(body);
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("the request body is not valid JSON: " + e.getMessage()
                    .replace(new String(body, StandardCharsets.UTF_8), ""));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection failed", cause);
        ctx.close();
    }
}
