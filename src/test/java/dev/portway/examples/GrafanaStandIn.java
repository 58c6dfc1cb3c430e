package dev.portway.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.portway.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A stand-in for Grafana where a proxy in front of it can break it: redirects and the
 * {@code <base href>} under the sub path of {@code GF_SERVER_ROOT_URL}, the health API, the
 * Live WebSocket with Grafana's origin check, and the data-source proxy that queries a
 * provisioned data source (Prometheus) on the user's behalf. Configured from the environment
 * as Grafana is; run it as a process ({@link #main}) or in-process ({@link #start}).
 */
public final class GrafanaStandIn implements AutoCloseable {

    /** A provisioned data source: what Grafana keeps of {@code datasources/*.yaml} that matters here. */
    public record DataSource(String name, String type, String uid, String url) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROXY_PREFIX = "/api/datasources/proxy/uid/";
    private static final Duration PROXY_TIMEOUT = Duration.ofSeconds(10);

    private final URI appUrl;
    private final String subPath;
    private final boolean serveFromSubPath;
    private final Map<String, DataSource> dataSources;
    private final EventLoopGroup group;
    private final HttpClient client;
    private final Channel server;

    private GrafanaStandIn(String address, int port, URI appUrl, boolean serveFromSubPath, Map<String, DataSource> dataSources)
            throws InterruptedException {
        this.appUrl = appUrl;
        this.subPath = subPath(appUrl);
        this.serveFromSubPath = serveFromSubPath;
        this.dataSources = dataSources;
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(PROXY_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build();
        Transport transport = Transport.best();
        this.group = transport.newGroup(1, "grafana-stand-in");
        try {
            this.server = new ServerBootstrap().group(group).channel(transport.serverChannel())
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Handler());
                        }
                    }).bind(new InetSocketAddress(address, port)).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            client.close();
            throw e;
        }
    }

    /**
     * Starts a stand-in configured by {@code env} (Grafana's variables: {@code GF_SERVER_HTTP_ADDR},
     * {@code GF_SERVER_HTTP_PORT} (0: any free port), {@code GF_SERVER_ROOT_URL},
     * {@code GF_SERVER_SERVE_FROM_SUB_PATH}, {@code GF_PATHS_PROVISIONING}).
     */
    public static GrafanaStandIn start(Map<String, String> env) throws InterruptedException {
        String address = env.getOrDefault("GF_SERVER_HTTP_ADDR", "").isBlank() ? "0.0.0.0" : env.get("GF_SERVER_HTTP_ADDR").trim();
        String portText = env.getOrDefault("GF_SERVER_HTTP_PORT", "").isBlank() ? "3000" : env.get("GF_SERVER_HTTP_PORT").trim();
        int port = Integer.parseInt(portText);
        URI appUrl = appUrl(env, portText);
        boolean fromSubPath = Boolean.parseBoolean(env.getOrDefault("GF_SERVER_SERVE_FROM_SUB_PATH", "false").trim());
        String provisioning = env.get("GF_PATHS_PROVISIONING");
        Map<String, DataSource> dataSources = provisioning == null || provisioning.isBlank()
                ? Map.of() : dataSources(Path.of(provisioning.trim()), env);
        return new GrafanaStandIn(address, port, appUrl, fromSubPath, dataSources);
    }

    /** Runs until killed, configured by the process's environment; prints {@link #startupLine()} once listening. */
    public static void main(String[] args) throws InterruptedException {
        GrafanaStandIn grafana = start(System.getenv());
        Runtime.getRuntime().addShutdownHook(new Thread(grafana::close, "grafana-stand-in-shutdown"));
        System.out.println(grafana.startupLine());
        System.out.flush();
        grafana.server.closeFuture().sync();
    }

    /** The port it listens on. */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** The address it listens on. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** The sub path of the root URL, without a trailing slash: {@code /grafana}, or empty at the root. */
    public String subPath() {
        return subPath;
    }

    public Map<String, DataSource> dataSources() {
        return dataSources;
    }

    /**
     * {@code grafana stand-in listening on <addr>:<port>, sub path <sub>, data sources [<uid> -> <url>, ...]}; the
     * sub path is {@code /} when the root URL has none.
     */
    public String startupLine() {
        InetAddress ip = address().getAddress();
        String host = ip.getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        List<String> sources = new ArrayList<>();
        dataSources.values().forEach(d -> sources.add(d.uid() + " -> " + d.url()));
        return "grafana stand-in listening on " + host + ":" + port() + ", sub path " + (subPath.isEmpty() ? "/" : subPath)
                + ", data sources [" + String.join(", ", sources) + "]";
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        client.close();
    }

    // --- configuration -------------------------------------------------------------------------

    /**
     * {@code GF_SERVER_ROOT_URL} (by default {@code %(protocol)s://%(domain)s:%(http_port)s/}) with Grafana's
     * {@code %(protocol)s}, {@code %(domain)s} and {@code %(http_port)s} filled in from {@code GF_SERVER_PROTOCOL}
     * (http), {@code GF_SERVER_DOMAIN} (localhost) and the port.
     */
    static URI appUrl(Map<String, String> env, String port) {
        String root = env.getOrDefault("GF_SERVER_ROOT_URL", "").isBlank()
                ? "%(protocol)s://%(domain)s:%(http_port)s/" : env.get("GF_SERVER_ROOT_URL").trim();
        String domain = env.getOrDefault("GF_SERVER_DOMAIN", "").isBlank() ? "localhost" : env.get("GF_SERVER_DOMAIN").trim();
        String protocol = env.getOrDefault("GF_SERVER_PROTOCOL", "").isBlank() ? "http" : env.get("GF_SERVER_PROTOCOL").trim();
        String url = root.replace("%(protocol)s", protocol).replace("%(domain)s", domain).replace("%(http_port)s", port);
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("GF_SERVER_ROOT_URL " + root + ": " + e.getMessage(), e);
        }
    }

    /** The root URL's path without its trailing slash: Grafana's sub path ({@code /grafana}), empty at the root. */
    static String subPath(URI appUrl) {
        String path = appUrl.getPath() == null ? "" : appUrl.getPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return path;
    }

    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\$|\\$\\{(\\w+)}|\\$(\\w+)");

    /**
     * The data sources of {@code <provisioning>/datasources/*.yaml|*.yml}, by uid; as Grafana does, {@code $VAR}
     * and {@code ${VAR}} in a file take the environment's values ({@code $$} is a dollar).
     */
    static Map<String, DataSource> dataSources(Path provisioning, Map<String, String> env) {
        Path dir = provisioning.resolve("datasources");
        if (!Files.isDirectory(dir)) {
            return Map.of();
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> {
                String name = p.getFileName().toString();
                return (name.endsWith(".yaml") || name.endsWith(".yml")) && Files.isRegularFile(p);
            }).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ObjectMapper yaml = new YAMLMapper();
        Map<String, DataSource> byUid = new LinkedHashMap<>();
        for (Path file : files) {
            JsonNode doc;
            try {
                doc = yaml.readTree(expand(Files.readString(file), env));
            } catch (IOException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
            if (doc == null) {
                continue;
            }
            for (JsonNode ds : doc.path("datasources")) {
                String name = ds.path("name").asText("");
                String uid = ds.path("uid").asText("");
                if (uid.isEmpty()) {
                    uid = name; // Grafana would generate one; a test needs one it can name
                }
                if (uid.isEmpty()) {
                    throw new IllegalArgumentException(file + ": a data source without name or uid");
                }
                byUid.put(uid, new DataSource(name, ds.path("type").asText(""), uid, ds.path("url").asText("")));
            }
        }
        return Collections.unmodifiableMap(byUid);
    }

    private static String expand(String text, Map<String, String> env) {
        Matcher m = ENV_REFERENCE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            String value = name == null ? "$" : env.getOrDefault(name, "");
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    // --- HTTP ----------------------------------------------------------------------------------

    private final class Handler extends SimpleChannelInboundHandler<Object> {

        private WebSocketServerHandshaker handshaker;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullHttpRequest req) {
                request(ctx, req);
            } else if (msg instanceof WebSocketFrame frame) {
                frame(ctx, frame);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private void request(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!req.decoderResult().isSuccess()) {
                respond(ctx, req, text(HttpResponseStatus.BAD_REQUEST, "Bad Request"), false);
                return;
            }
            String uri = req.uri();
            int q = uri.indexOf('?');
            String path = q < 0 ? uri : uri.substring(0, q);
            String query = q < 0 ? null : uri.substring(q + 1);
            String route;
            if (serveFromSubPath && !subPath.isEmpty()) {
                if (path.equals(subPath)) {
                    respond(ctx, req, redirect(HttpResponseStatus.MOVED_PERMANENTLY, subPath + "/"), true);
                    return;
                }
                if (!path.startsWith(subPath + "/")) {
                    if (path.equals("/") && req.method().equals(HttpMethod.GET)) {
                        respond(ctx, req, redirect(HttpResponseStatus.FOUND, subPath + "/"), true);
                    } else {
                        respond(ctx, req, notFound(), true);
                    }
                    return;
                }
                route = path.substring(subPath.length());
            } else {
                route = path;
            }

            if (route.startsWith(PROXY_PREFIX)) {
                proxy(ctx, req, route.substring(PROXY_PREFIX.length()), query);
                return;
            }
            if (!req.method().equals(HttpMethod.GET)) {
                respond(ctx, req, notFound(), true);
                return;
            }
            switch (route) {
                case "/" -> respond(ctx, req, redirect(HttpResponseStatus.FOUND, subPath + "/login"), true);
                case "/login" -> respond(ctx, req, response(HttpResponseStatus.OK, "text/html; charset=UTF-8", loginPage()), true);
                case "/api/health" -> respond(ctx, req, json(HttpResponseStatus.OK,
                        "{\"commit\":\"stand-in\",\"database\":\"ok\",\"version\":\"11.0.0\"}"), true);
                case "/api/live/ws" -> live(ctx, req, path);
                default -> respond(ctx, req, notFound(), true);
            }
        }

        private String loginPage() {
            return """
                    <!DOCTYPE html>
                    <html lang="en">
                      <head>
                        <meta charset="utf-8" />
                        <base href="%1$s/" />
                        <title>Grafana</title>
                        <link rel="icon" type="image/png" href="public/img/fav32.png" />
                      </head>
                      <body>
                        <div id="reactRoot">Grafana stand-in: please log in</div>
                        <script>window.grafanaBootData = {"settings": {"appSubUrl": "%1$s"}};</script>
                      </body>
                    </html>
                    """.formatted(subPath);
        }

        /** Grafana Live: a WebSocket whose Origin, if any, must name the host the request was sent to. */
        private void live(ChannelHandlerContext ctx, FullHttpRequest req, String path) {
            boolean upgrade = req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                    && req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
            if (!upgrade) {
                respond(ctx, req, text(HttpResponseStatus.BAD_REQUEST, "Bad Request: a WebSocket upgrade is expected"), true);
                return;
            }
            String host = req.headers().get(HttpHeaderNames.HOST, "");
            String origin = req.headers().get(HttpHeaderNames.ORIGIN);
            if (origin != null && !originAllowed(origin, host, appUrl)) {
                respond(ctx, req, text(HttpResponseStatus.FORBIDDEN,
                        "request origin is not authorized: " + origin + " is neither the host " + host + " nor the root URL " + appUrl), false);
                return;
            }
            WebSocketServerHandshakerFactory factory = new WebSocketServerHandshakerFactory("ws://" + host + path, null, true, 1 << 20);
            handshaker = factory.newHandshaker(req);
            if (handshaker == null) {
                WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
            } else {
                handshaker.handshake(ctx.channel(), req);
            }
        }

        private void frame(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof CloseWebSocketFrame close) {
                handshaker.close(ctx.channel(), close.retain());
            } else if (frame instanceof PingWebSocketFrame) {
                ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
            } else if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
                ctx.writeAndFlush(frame.retain());
            }
        }

        /** The data-source proxy: {@code <uid>/<rest>} fetched from the data source's URL, off the event loop. */
        private void proxy(ChannelHandlerContext ctx, FullHttpRequest req, String uidAndRest, String query) {
            int slash = uidAndRest.indexOf('/');
            String uid = slash < 0 ? uidAndRest : uidAndRest.substring(0, slash);
            String rest = slash < 0 ? "" : uidAndRest.substring(slash + 1);
            DataSource ds = dataSources.get(uid);
            if (ds == null) {
                respond(ctx, req, json(HttpResponseStatus.NOT_FOUND, "{\"message\":\"Data source not found\"}"), true);
                return;
            }
            URI target;
            try {
                String base = ds.url();
                while (base.endsWith("/")) {
                    base = base.substring(0, base.length() - 1);
                }
                target = URI.create(base + "/" + rest + (query == null ? "" : "?" + query));
            } catch (IllegalArgumentException e) {
                respond(ctx, req, error(HttpResponseStatus.BAD_GATEWAY, "bad data source URL: " + e.getMessage()), true);
                return;
            }
            HttpRequest.Builder forward;
            try {
                byte[] body = ByteBufUtil.getBytes(req.content());
                forward = HttpRequest.newBuilder(target).timeout(PROXY_TIMEOUT)
                        .method(req.method().name(), body.length == 0
                                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
                for (CharSequence name : List.of(HttpHeaderNames.ACCEPT, HttpHeaderNames.CONTENT_TYPE)) {
                    String value = req.headers().get(name);
                    if (value != null) {
                        forward.header(name.toString(), value);
                    }
                }
            } catch (IllegalArgumentException e) {
                respond(ctx, req, error(HttpResponseStatus.BAD_GATEWAY, e.getMessage()), true);
                return;
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpVersion version = req.protocolVersion();
            String method = req.method().name();
            ctx.channel().config().setAutoRead(false); // one request at a time: answers stay in order
            client.sendAsync(forward.build(), HttpResponse.BodyHandlers.ofByteArray()).whenComplete((res, failure) -> {
                FullHttpResponse out;
                if (failure != null) {
                    out = error(HttpResponseStatus.BAD_GATEWAY, "data source proxy error: " + method + " " + target + ": " + describe(failure));
                } else {
                    out = new DefaultFullHttpResponse(version, HttpResponseStatus.valueOf(res.statusCode()), Unpooled.wrappedBuffer(res.body()));
                    res.headers().firstValue("Content-Type").ifPresent(v -> out.headers().set(HttpHeaderNames.CONTENT_TYPE, v));
                    HttpUtil.setContentLength(out, res.body().length);
                }
                send(ctx, out, version, keepAlive).addListener(f -> ctx.channel().config().setAutoRead(true));
            });
        }
    }

    /** A failure and its causes, for a message: {@code ConnectException (UnresolvedAddressException)}. */
    private static String describe(Throwable failure) {
        Throwable t = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        List<String> parts = new ArrayList<>();
        for (int depth = 0; t != null && depth < 4; t = t.getCause(), depth++) {
            parts.add(t.getMessage() == null || t.getMessage().isBlank() ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage());
        }
        return String.join(" <- ", parts);
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse res, boolean mayKeepAlive) {
        send(ctx, res, req.protocolVersion(), mayKeepAlive && HttpUtil.isKeepAlive(req));
    }

    private static ChannelFuture send(ChannelHandlerContext ctx, FullHttpResponse res, HttpVersion version, boolean keepAlive) {
        res.setProtocolVersion(version);
        HttpUtil.setKeepAlive(res, keepAlive);
        ChannelFuture written = ctx.writeAndFlush(res);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
        return written;
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        HttpUtil.setContentLength(res, bytes.length);
        return res;
    }

    private static FullHttpResponse json(HttpResponseStatus status, String body) {
        return response(status, "application/json", body);
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        return response(status, "text/plain; charset=utf-8", body + "\n");
    }

    private static FullHttpResponse error(HttpResponseStatus status, String message) {
        ObjectNode body = JSON.createObjectNode().put("message", message);
        return json(status, body.toString());
    }

    private static FullHttpResponse notFound() {
        return json(HttpResponseStatus.NOT_FOUND, "{\"message\":\"Not found\"}");
    }

    private static FullHttpResponse redirect(HttpResponseStatus status, String location) {
        FullHttpResponse res = response(status, "text/html; charset=utf-8",
                "<a href=\"" + location + "\">" + status.reasonPhrase() + "</a>.\n");
        res.headers().set(HttpHeaderNames.LOCATION, location);
        return res;
    }

    /**
     * Grafana Live's origin check: an Origin is allowed when its host[:port] is the request's Host header, or
     * when it is the root URL's scheme and host (and port, if the Origin has one). Grafana also allows the
     * patterns of {@code [live] allowed_origins}, which the stand-in does not read.
     */
    static boolean originAllowed(String origin, String host, URI appUrl) {
        URI o;
        try {
            o = new URI(origin.trim().toLowerCase(Locale.ROOT));
        } catch (URISyntaxException e) {
            return false;
        }
        String authority = o.getRawAuthority();
        if (authority == null) {
            return false;
        }
        if (authority.equalsIgnoreCase(host.trim())) {
            return true;
        }
        if (o.getScheme() == null || !o.getScheme().equalsIgnoreCase(appUrl.getScheme())) {
            return false;
        }
        String app = o.getPort() == -1 ? appUrl.getHost() : appUrl.getRawAuthority();
        return authority.equalsIgnoreCase(app);
    }
}
