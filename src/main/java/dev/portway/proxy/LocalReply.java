package dev.portway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * An answer the gateway gives itself (no route, no endpoint, refused by policy, a redirect): a
 * small plain-text body that says the status and why, so that whoever sees it knows it came from
 * the gateway and not the backend. docs/gateway.md lists every one.
 */
final class LocalReply {

    private LocalReply() {
    }

    /**
     * A response with body {@code "<code> <reason>: <detail>\n"}.
     *
     * @param keepAlive false adds {@code Connection: close}
     */
    static FullHttpResponse of(ByteBufAllocator alloc, HttpResponseStatus status, String detail, boolean keepAlive) {
        byte[] text = (status.code() + " " + status.reasonPhrase() + ": " + detail + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuf body = alloc.buffer(text.length).writeBytes(text);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, text.length)
                .set("x-portway-reply", "gateway");
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }
}
