package dev.portway.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.TimeUnit;

/**
 * Writes a container's log as the answer to {@code GET .../pods/NAME/log}: all of it at once, or
 * with {@code follow=true} as a chunked response that grows with the log until the container's
 * run ends or the client goes. A follower reads only while the connection can take more, and
 * looks for new bytes every 100 ms.
 */
final class LogResponder {

    private static final long POLL_MILLIS = 100;

    private final ChannelHandlerContext ctx;
    private final PodLogs.LogStream stream;
    private final boolean keepAlive;
    private final Runnable onEnd;
    private final byte[] buf = new byte[16 * 1024];
    private long position;

    private LogResponder(ChannelHandlerContext ctx, PodLogs.LogStream stream, long position, boolean keepAlive, Runnable onEnd) {
        this.ctx = ctx;
        this.onEnd = onEnd;
        this.stream = stream;
        this.position = position;
        this.keepAlive = keepAlive;
    }

    /** Answers with the log from {@code position}; on the channel's event loop. */
    static void respond(ChannelHandlerContext ctx, PodLogs.LogStream stream, long position, boolean follow, boolean keepAlive,
                        Runnable onEnd) {
        LogResponder r = new LogResponder(ctx, stream, position, keepAlive, onEnd);
        if (follow) {
            r.startFollowing();
        } else {
            HttpResponses.write(ctx, HttpResponses.of(HttpResponseStatus.OK, "text/plain", r.readAvailable()), keepAlive);
            if (keepAlive) {
                onEnd.run();
            }
        }
    }

    private byte[] readAvailable() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            PodLogs.Chunk c = read();
            if (c == null || c.count() == 0) {
                return out.toByteArray();
            }
            out.write(buf, 0, c.count());
            position = c.next();
        }
    }

    /** The next bytes, or null when the log cannot be read any more (its pod is gone with its files). */
    private PodLogs.Chunk read() {
        try {
            return stream.read(position, buf);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void startFollowing() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
        head.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache, private");
        head.headers().set("X-Content-Type-Options", "nosniff"); // as on every other answer
        HttpUtil.setTransferEncodingChunked(head, true);
        if (!keepAlive) {
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.write(head);
        pump();
    }

    private void pump() {
        if (!ctx.channel().isActive()) {
            return;
        }
        boolean wrote = false;
        while (ctx.channel().isWritable()) {
            boolean finished = stream.finished();
            PodLogs.Chunk c = read();
            if (c == null || c.count() == 0) {
                if (finished || c == null) {
                    var f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                    if (!keepAlive) {
                        f.addListener(ChannelFutureListener.CLOSE);
                    } else {
                        onEnd.run();
                    }
                    return;
                }
                break;
            }
            ByteBuf chunk = Unpooled.copiedBuffer(buf, 0, c.count());
            ctx.write(new DefaultHttpContent(chunk));
            position = c.next();
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
        ctx.executor().schedule(this::pump, POLL_MILLIS, TimeUnit.MILLISECONDS);
    }
}
