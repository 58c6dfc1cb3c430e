package dev.portway.admin;

import dev.portway.api.Json;
import io.fabric8.kubernetes.api.model.Status;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Building and writing the admin server's responses. */
public final class HttpResponses {

    private HttpResponses() {
    }

    /** A complete response: status, content type, body and any {@code Warning} headers. */
    public record Response(HttpResponseStatus status, String contentType, byte[] body, List<String> warnings) {

        Response withWarnings(List<String> more) {
            return new Response(status, contentType, body, more);
        }
    }

    static Response json(HttpResponseStatus status, Object value) {
        return new Response(status, "application/json", Json.writeBytes(value), List.of());
    }

    static Response text(HttpResponseStatus status, String text) {
        return new Response(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8), List.of());
    }

    static Response of(HttpResponseStatus status, String contentType, byte[] body) {
        return new Response(status, contentType, body, List.of());
    }

    static Response status(Status status) {
        return json(HttpResponseStatus.valueOf(status.getCode() == null ? 500 : status.getCode()), status);
    }

    /** The response as Netty writes it, with kube-apiserver's cache and security headers. */
    static FullHttpResponse toFull(Response r, boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, r.status(), Unpooled.wrappedBuffer(r.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache, private");
        response.headers().set("X-Content-Type-Options", "nosniff");
        if (r.contentType().startsWith("text/html") || r.contentType().startsWith("text/javascript")
                || r.contentType().startsWith("text/css")) {
            // the topology page: nothing from elsewhere, nothing sent elsewhere, no frame, no referrer
            response.headers().set("Content-Security-Policy", TopologyPage.CONTENT_SECURITY_POLICY);
            response.headers().set("X-Frame-Options", "DENY");
            response.headers().set("Referrer-Policy", "no-referrer");
            response.headers().set("Cross-Origin-Opener-Policy", "same-origin");
            response.headers().set("Cross-Origin-Resource-Policy", "same-origin");
            response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        }
        for (String w : r.warnings()) {
            response.headers().add("Warning", warning(w));
        }
        response.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        return response;
    }

    /** A {@code Warning: 299 - "..."} value, as kube-apiserver's warning headers are written. */
    static String warning(String text) {
        StringBuilder sb = new StringBuilder("299 - \"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        return sb.append('"').toString();
    }

    static void write(ChannelHandlerContext ctx, Response r, boolean keepAlive) {
        FullHttpResponse response = toFull(r, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
