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
        for (String w : bounded(r.warnings())) {
            response.headers().add("Warning", warning(w));
        }
        response.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        return response;
    }

    /** kube-apiserver's bound on the warnings of one response: 4 Ki characters in all, then each cut to 256. */
    static final int WARNINGS_TOTAL = 4 * 1024;
    static final int WARNING_TRUNCATED = 256;

    /**
     * The warnings as kube-apiserver's warning recorder writes them: each text once; past 4 Ki
     * characters in all, every text cut to 256 characters, and none added once 4 Ki are written.
     */
    static List<String> bounded(List<String> warnings) {
        if (warnings.isEmpty()) {
            return warnings;
        }
        java.util.LinkedHashSet<String> unique = new java.util.LinkedHashSet<>();
        warnings.stream().filter(w -> !w.isEmpty()).forEach(unique::add);
        List<String> written = new java.util.ArrayList<>();
        int total = 0;
        boolean truncating = false;
        for (String w : unique) {
            if (truncating && total >= WARNINGS_TOTAL) {
                break;
            }
            int length = w.codePointCount(0, w.length());
            if (!truncating && total + length > WARNINGS_TOTAL) {
                truncating = true; // replay what was written, cut
                List<String> again = new java.util.ArrayList<>(written);
                written.clear();
                total = 0;
                for (String earlier : again) {
                    String cut = cut(earlier);
                    written.add(cut);
                    total += cut.codePointCount(0, cut.length());
                }
            }
            String text = truncating ? cut(w) : w;
            written.add(text);
            total += text.codePointCount(0, text.length());
        }
        return written;
    }

    private static String cut(String text) {
        return text.codePointCount(0, text.length()) <= WARNING_TRUNCATED ? text
                : text.substring(0, text.offsetByCodePoints(0, WARNING_TRUNCATED));
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
