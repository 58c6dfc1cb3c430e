package dev.portway.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
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
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Writes a container's log as the answer to {@code GET .../pods/NAME/log}, as a chunked response
 * (for an HTTP/1.0 client, one the connection's end ends):
 * what the log holds when asked, or with {@code follow=true} growing with the log until the
 * container's run ends or the client goes; {@code limitBytes} ends it early. Either way it is read
 * only while the connection can take more (a log may hold 50 MiB, and was read whole into memory
 * on the event loop), goes on when the client has read what was written, and looks for new bytes
 * every 100 ms when following. A client that reads nothing for {@link ApiHandler#HOLD_TIMEOUT_SECONDS}
 * is cut off, as it is between answers.
 */
final class LogResponder {

    private static final long POLL_MILLIS = 100;

    private final ChannelHandlerContext ctx;
    private final PodLogs.LogStream stream;
    private final boolean follow;
    private final boolean keepAlive;
    private final Runnable onEnd;
    private final byte[] buf = new byte[16 * 1024];
    private long position;
    /**
     * What the answer may still send: what the log held from the start position when asked
     * (unless following), at most the byte limit. A count, not an end position: a log that rotates
     * while it is read has dropped those bytes, and the answer goes on with the oldest kept.
     */
    private long remaining;
    /** How many times the answer has waited for the client to read; a stall check compares it. */
    private int waits;
    private ScheduledFuture<?> stallCheck;

    private LogResponder(ChannelHandlerContext ctx, PodLogs.LogStream stream, long position, boolean follow, Long limitBytes,
                         boolean keepAlive, Runnable onEnd) {
        this.ctx = ctx;
        this.stream = stream;
        this.position = position;
        this.follow = follow;
        this.keepAlive = keepAlive;
        this.onEnd = onEnd;
        long held = follow ? Long.MAX_VALUE : Math.max(0, stream.end() - position);
        this.remaining = limitBytes == null ? held : Math.min(held, limitBytes);
    }

    /**
     * Answers with the log from {@code position}; on the channel's event loop.
     *
     * @param limitBytes the most bytes to send, or null for no limit
     */
    static void respond(ChannelHandlerContext ctx, PodLogs.LogStream stream, long position, boolean follow, Long limitBytes,
                        boolean keepAlive, boolean http10, Runnable onEnd) {
        new LogResponder(ctx, stream, position, follow, limitBytes, keepAlive && !http10, onEnd).start(http10);
    }

    /** The next bytes, or null when the log cannot be read any more (its pod is gone with its files). */
    private PodLogs.Chunk read() {
        try {
            return stream.read(position, buf);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** @param http10 an HTTP/1.0 client reads no chunks: its answer ends with the connection, as Go's server ends it */
    private void start(boolean http10) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
        head.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache, private");
        head.headers().set("X-Content-Type-Options", "nosniff"); // as on every other answer
        HttpUtil.setTransferEncodingChunked(head, !http10);
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
        ChannelFuture last = null;
        while (ctx.channel().isWritable()) {
            boolean finished = stream.finished();
            PodLogs.Chunk c = remaining <= 0 ? new PodLogs.Chunk(position, 0) : read();
            int n = c == null ? 0 : (int) Math.min(c.count(), remaining);
            if (n == 0) {
                if (c == null || remaining <= 0 || !follow || finished) {
                    end();
                    return;
                }
                break; // following: nothing new yet
            }
            last = ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer(buf, 0, n)));
            position = c.from() + n;
            remaining -= n;
        }
        ctx.flush();
        if (last != null && !ctx.channel().isWritable()) {
            // go on once the client has read what was written, not 100 ms later
            waits++;
            last.addListener(f -> {
                if (f.isSuccess()) {
                    pump();
                }
            });
            if (stallCheck == null) {
                checkStallIn(waits);
            }
        } else {
            ctx.executor().schedule(this::pump, POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Closes the connection if the wait that is {@code mark} is still on a hold timeout from now. */
    private void checkStallIn(int mark) {
        stallCheck = ctx.executor().schedule(() -> {
            stallCheck = null;
            if (!ctx.channel().isActive() || ctx.channel().isWritable()) {
                return;
            }
            if (waits == mark) {
                ctx.close(); // nothing written has been read for the whole timeout
            } else {
                checkStallIn(waits);
            }
        }, ApiHandler.HOLD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    private void end() {
        if (stallCheck != null) {
            stallCheck.cancel(false);
            stallCheck = null;
        }
        var f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        } else {
            onEnd.run();
        }
    }
}
