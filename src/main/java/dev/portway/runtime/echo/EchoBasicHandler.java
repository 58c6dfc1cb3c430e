package dev.portway.runtime.echo;

import dev.portway.api.GoDuration;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Answers HTTP requests as the Gateway API's echo-basic does (see {@link EchoBasic}): its routes
 * ({@code /health}, {@code /status/}, {@code /retry/}, everything else echoed), its JSON, its
 * headers and its log line. One instance per connection; what outlives a connection (the retry
 * attempts, the log) is in {@link State}, shared by the server.
 */
final class EchoBasicHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Pattern STATUS = Pattern.compile("^/status/(\\d\\d\\d)$");

    /** What one echo-basic server keeps across connections. */
    static final class State {
        final EchoBasic.Context context;
        final String httpPort;
        final Consumer<String> log;
        final Map<String, Integer> attempts = new ConcurrentHashMap<>();

        State(EchoBasic.Context context, int httpPort, Consumer<String> log) {
            this.context = context;
            this.httpPort = Integer.toString(httpPort);
            this.log = log;
        }
    }

    private final State state;

    /** Answers requests {@link EchoRequests} made whole: their headers are as the client sent them (Go reports only those). */
    EchoBasicHandler(State state) {
        this.state = state;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        String uri = request.uri();
        QueryStringDecoder decoder = new QueryStringDecoder(uri);
        // echo-basic routes on the path with "//" collapsed (its preserveSlashes), as Go's ServeMux matches
        String path = decoder.rawPath().replace("//", "/");
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (path.equals("/health")) {
            respond(ctx, request, HttpResponseStatus.OK, "text/plain; charset=utf-8", "OK".getBytes(StandardCharsets.US_ASCII), keepAlive);
        } else if (path.equals("/status") || path.equals("/retry")) {
            redirectToSubtree(ctx, request, path, decoder.rawQuery(), keepAlive);
        } else if (path.startsWith("/status/")) {
            Matcher m = STATUS.matcher(uri);
            int code = m.matches() ? Integer.parseInt(m.group(1)) : 400;
            respond(ctx, request, HttpResponseStatus.valueOf(code), null, new byte[0], keepAlive);
        } else if (path.startsWith("/retry/")) {
            retry(ctx, request, decoder, keepAlive);
        } else {
            echo(ctx, request, keepAlive);
        }
    }

    /** {@code /retry/?uuid=U&succeedAfter=N[&responseCode=C][&delayRetry=D]}: fails N times per uuid, then echoes. */
    private void retry(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder decoder, boolean keepAlive) {
        String uuid = first(decoder.parameters(), "uuid");
        if (uuid == null || uuid.isEmpty()) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8", "uuid is required".getBytes(StandardCharsets.UTF_8), keepAlive);
            return;
        }
        int succeedAfter;
        try {
            succeedAfter = Integer.parseInt(String.valueOf(first(decoder.parameters(), "succeedAfter")));
        } catch (NumberFormatException e) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8", "succeedAfter is required".getBytes(StandardCharsets.UTF_8), keepAlive);
            return;
        }
        Integer responseCode = null;
        try {
            responseCode = Integer.parseInt(String.valueOf(first(decoder.parameters(), "responseCode")));
        } catch (NumberFormatException e) {
            // no response code: a failed attempt resets the connection
        }
        boolean fail;
        synchronized (state.attempts) {
            int seen = state.attempts.getOrDefault(uuid, 0);
            fail = seen < succeedAfter;
            if (fail) {
                state.attempts.put(uuid, seen + 1);
            }
        }
        if (!fail) {
            echo(ctx, request, keepAlive);
            return;
        }
        Duration delay;
        try {
            delay = delay(request, "delayRetry");
        } catch (IllegalArgumentException e) {
            error(ctx, request, e.getMessage(), keepAlive);
            return;
        }
        FullHttpResponse failure = responseCode == null ? null
                : response(request, HttpResponseStatus.valueOf(responseCode), new byte[0]);
        later(ctx, delay, () -> {
            if (failure != null) {
                send(ctx, failure, keepAlive);
            } else {
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                ctx.close();
            }
        });
    }

    private void echo(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
        String client = address(ctx.channel().remoteAddress());
        state.log.accept("Echoing back request made to " + request.uri() + " to client (" + client + ")\n");
        Duration delay;
        try {
            delay = delay(request, "delay");
        } catch (IllegalArgumentException e) {
            error(ctx, request, e.getMessage(), keepAlive);
            return;
        }
        Map<String, List<String>> headers = goHeaders(request.headers());
        String host = request.headers().get(HttpHeaderNames.HOST, "");
        String body = new GoJson().begin()
                .field("path", request.uri())
                .field("host", host)
                .field("method", request.method().name())
                .field("proto", request.protocolVersion().text())
                .field("headers", headers)
                .field("httpPort", state.httpPort)
                .field("namespace", state.context.namespace())
                .field("ingress", state.context.ingress())
                .field("service", state.context.service())
                .field("pod", state.context.pod())
                .end();
        FullHttpResponse response = response(request, HttpResponseStatus.OK, body.getBytes(StandardCharsets.UTF_8));
        setEchoedHeaders(response, request.headers().getAll("X-Echo-Set-Header"));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        response.headers().set("X-Content-Type-Options", "nosniff");
        later(ctx, delay, () -> send(ctx, response, keepAlive));
    }

    /**
     * {@code X-Echo-Set-Header: Name: value, Other: value}: each becomes a response header, with
     * the name as written; a name given twice gets the values joined with a comma, as echo-basic
     * joins them.
     */
    static void setEchoedHeaders(FullHttpResponse response, List<String> lists) {
        Map<String, String> set = new LinkedHashMap<>();
        for (String list : lists) {
            for (String kv : list.split(",", -1)) {
                String trimmed = kv.strip();
                int colon = trimmed.indexOf(':');
                String name = colon < 0 ? trimmed : trimmed.substring(0, colon);
                String value = colon < 0 ? "" : trimmed.substring(colon + 1);
                if (name.isEmpty()) {
                    continue; // Go writes no header with an empty name
                }
                set.merge(name, value.strip(), (a, b) -> a + "," + b);
            }
        }
        // names are case-sensitive here, as in Go's map: "x-a" and "X-A" are two header lines
        set.forEach((name, value) -> response.headers().add(name, value));
    }

    /** The request's headers as Go's {@code http.Request.Header} has them: canonical names, no Host, no Transfer-Encoding. */
    static Map<String, List<String>> goHeaders(HttpHeaders sent) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : sent) {
            String name = canonicalKey(h.getKey());
            if (name.equals("Host") || name.equals("Transfer-Encoding")) {
                continue;
            }
            headers.computeIfAbsent(name, k -> new ArrayList<>()).add(h.getValue());
        }
        return headers;
    }

    /** Go's {@code textproto.CanonicalMIMEHeaderKey}: "x-foo-bar" becomes "X-Foo-Bar"; a name with a character not allowed in a token stays as it is. */
    static String canonicalKey(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == ' ' || c > 0x7e || c <= 0x20 || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
                return name;
            }
        }
        StringBuilder sb = new StringBuilder(name.length());
        boolean upper = true;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            sb.append(upper ? Character.toUpperCase(c) : Character.toLowerCase(c));
            upper = c == '-';
        }
        return sb.toString();
    }

    /** The {@code key} form value (query, or an url-encoded body) as a Go duration; zero when absent. */
    private static Duration delay(FullHttpRequest request, String key) {
        String value = formValue(request, key);
        return value == null || value.isEmpty() ? Duration.ZERO : GoDuration.parse(value);
    }

    /** Go's {@code Request.FormValue}: an url-encoded body's value first, then the query's. */
    private static String formValue(FullHttpRequest request, String key) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        boolean bodyForm = type.startsWith("application/x-www-form-urlencoded")
                && (request.method().equals(HttpMethod.POST) || request.method().equals(HttpMethod.PUT)
                || request.method().equals(HttpMethod.PATCH));
        if (bodyForm) {
            String body = request.content().toString(StandardCharsets.UTF_8);
            String v = first(new QueryStringDecoder(body, false).parameters(), key);
            if (v != null) {
                return v;
            }
        }
        return first(new QueryStringDecoder(request.uri()).parameters(), key);
    }

    private static String first(Map<String, List<String>> params, String key) {
        List<String> values = params.get(key);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    /** echo-basic's {@code processError}: the status and {@code {"message":"..."}}. */
    private void error(ChannelHandlerContext ctx, FullHttpRequest request, String message, boolean keepAlive) {
        String body = "{\"message\":" + GoJson.quote(message) + "}";
        FullHttpResponse response = response(request, HttpResponseStatus.INTERNAL_SERVER_ERROR, body.getBytes(StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        response.headers().set("X-Content-Type-Options", "nosniff");
        send(ctx, response, keepAlive);
    }

    /** Go's ServeMux sends "/status" to "/status/", keeping the query. */
    private void redirectToSubtree(ChannelHandlerContext ctx, FullHttpRequest request, String path, String query, boolean keepAlive) {
        String location = path + "/" + (query == null || query.isEmpty() ? "" : "?" + query);
        byte[] body = request.method().equals(HttpMethod.GET)
                ? ("<a href=\"" + htmlEscape(location) + "\">Moved Permanently</a>.\n\n").getBytes(StandardCharsets.UTF_8) : new byte[0];
        FullHttpResponse response = response(request, HttpResponseStatus.MOVED_PERMANENTLY, body);
        response.headers().set(HttpHeaderNames.LOCATION, location);
        if (body.length > 0) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
        }
        send(ctx, response, keepAlive);
    }

    /** Go's {@code html.EscapeString}, as {@code http.Redirect} escapes the location it links to. */
    static String htmlEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&#34;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status, String contentType,
                         byte[] body, boolean keepAlive) {
        FullHttpResponse response = response(request, status, body);
        if (contentType != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        send(ctx, response, keepAlive);
    }

    private static FullHttpResponse response(FullHttpRequest request, HttpResponseStatus status, byte[] body) {
        ByteBuf content = request.method().equals(HttpMethod.HEAD) ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body);
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), status, content);
        response.headers().set(HttpHeaderNames.DATE, DateFormatter.format(new Date()));
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return response;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
        HttpUtil.setKeepAlive(response, keepAlive);
        ctx.writeAndFlush(response);
    }

    private static void later(ChannelHandlerContext ctx, Duration delay, Runnable action) {
        if (delay.isZero() || delay.isNegative()) {
            action.run();
        } else {
            ctx.executor().schedule(action, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Go's {@code RemoteAddr}: "ip:port", an IPv6 address in brackets. */
    private static String address(java.net.SocketAddress address) {
        if (!(address instanceof InetSocketAddress a)) {
            return String.valueOf(address);
        }
        String ip = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + a.getPort();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
