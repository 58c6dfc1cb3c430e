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
 *
 * <p>The log is read off the event loop, one read at a time: a read waits for the log's writer
 * (they share its lock) and for the disk, and the API server's one event loop serves every other
 * connection. A slow or hung disk under a pod's logs used to stall them all. The reads run on a
 * few platform threads of their own, not virtual ones: on JDK 21 to 23 a virtual thread that
 * waits for a monitor holds its carrier, and a few such waits would stall every virtual thread of
 * the process (the pods' log pumps, exit watchers, starts and probes).
 */
final class LogResponder {

    private static final long POLL_MILLIS = 100;
    private static final java.util.concurrent.ThreadPoolExecutor READERS = readers();

    private static java.util.concurrent.ThreadPoolExecutor readers() {
        var pool = new java.util.concurrent.ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(),
                Thread.ofPlatform().name("pod-log-read-", 0).daemon(true).factory());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    private final ChannelHandlerContext ctx;
    private final PodLogs.LogStream stream;
    private final boolean follow;
    private final boolean keepAlive;
    private final Runnable onEnd;
    private final Long limitBytes;
    /** Each line begins with the time it was written ({@code timestamps=true}), as the kubelet writes it. */
    private final boolean timestamps;
    /** The next byte read begins a line; only the read that is out touches it (one at a time). */
    private boolean atLineStart = true;
    /** What {@code limitBytes} still lets through, counting the timestamps (as the kubelet's limit counts its output). */
    private long outLeft = Long.MAX_VALUE;
    /** What a read fills; one read is out at a time, and its bytes are copied out before the next. */
    private final byte[] buf = new byte[16 * 1024];
    private long position;
    /**
     * What the answer may still send: what the log held from the start position when asked
     * (unless following), at most the byte limit; known once the first read is back. A count, not
     * an end position: a log that rotates while it is read has dropped those bytes, and the answer
     * goes on with the oldest kept.
     */
    private long remaining = Long.MAX_VALUE;
    private boolean sized;
    /** A read is out (off the event loop); its result comes back to it. */
    private boolean reading;
    /** How many times the answer has waited for the client to read; a stall check compares it. */
    private int waits;
    private ScheduledFuture<?> stallCheck;

    private LogResponder(ChannelHandlerContext ctx, PodLogs.LogStream stream, long position, boolean follow, Long limitBytes,
                         boolean timestamps, boolean keepAlive, Runnable onEnd) {
        this.timestamps = timestamps;
        this.ctx = ctx;
        this.stream = stream;
        this.position = position;
        this.follow = follow;
        this.keepAlive = keepAlive;
        this.onEnd = onEnd;
        this.limitBytes = limitBytes;
    }

    /**
     * Answers with the log from {@code position}; on the channel's event loop.
     *
     * @param limitBytes the most bytes to send, or null for no limit
     * @param timestamps each line begins with the time it was written, in RFC 3339 with nanoseconds, and a space
     */
    static void respond(ChannelHandlerContext ctx, PodLogs.LogStream stream, long position, boolean follow, Long limitBytes,
                        boolean timestamps, boolean keepAlive, boolean http10, Runnable onEnd) {
        new LogResponder(ctx, stream, position, follow, limitBytes, timestamps, keepAlive && !http10, onEnd).start(http10);
    }

    /**
     * What one read found, in {@link #buf} (null when the log cannot be read any more: its pod is
     * gone with its files); with timestamps, {@code stamped} holds the first {@code used} bytes
     * of it with their lines' times (null when none).
     */
    private record Read(PodLogs.Chunk chunk, boolean finished, long end, io.netty.buffer.ByteBuf stamped, int used) {
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

    /** Asks for the next bytes (on the event loop); what comes back is written by {@link #got}. */
    private void pump() {
        if (!ctx.channel().isActive() || reading) {
            return;
        }
        reading = true;
        long at = position;
        boolean wantsEnd = !sized && !follow;
        boolean wantsBytes = remaining > 0;
        long left = remaining;
        READERS.execute(() -> {
            Read r;
            try {
                boolean finished = stream.finished();
                long end = wantsEnd ? stream.end() : -1;
                PodLogs.Chunk chunk = wantsBytes ? stream.read(at, buf) : new PodLogs.Chunk(at, 0);
                if (timestamps && chunk.count() > 0) {
                    int n = (int) Math.min(chunk.count(), wantsEnd ? Math.max(0, end - chunk.from()) : left);
                    r = new Read(chunk, finished, end, n == 0 ? null : stamp(chunk.from(), n), n);
                } else {
                    r = new Read(chunk, finished, end, null, 0);
                }
            } catch (RuntimeException e) {
                r = new Read(null, true, -1, null, 0);
            }
            Read read = r;
            ctx.executor().execute(() -> {
                reading = false;
                got(read);
            });
        });
    }

    /** The {@code n} bytes in {@link #buf} from stream position {@code from}, each line led by when it was written. */
    private io.netty.buffer.ByteBuf stamp(long from, int n) {
        io.netty.buffer.ByteBuf out = Unpooled.buffer(n + 64);
        for (int i = 0; i < n; i++) {
            if (atLineStart) {
                io.netty.buffer.ByteBufUtil.writeAscii(out, rfc3339Nano(stream.writtenAt(from + i)));
                out.writeByte(' ');
                atLineStart = false;
            }
            out.writeByte(buf[i]);
            if (buf[i] == '\n') {
                atLineStart = true;
            }
        }
        return out;
    }

    /** A time in the logs' nanoseconds as the kubelet stamps a line ({@link dev.portway.api.Times#formatNano}). */
    static String rfc3339Nano(long epochNanos) {
        return dev.portway.api.Times.formatNano(java.time.Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L),
                Math.floorMod(epochNanos, 1_000_000_000L)));
    }

    private void got(Read r) {
        if (!ctx.channel().isActive()) {
            if (r.stamped() != null) {
                r.stamped().release();
            }
            return;
        }
        if (!sized) {
            sized = true;
            long held = follow ? Long.MAX_VALUE : Math.max(0, r.end() - position);
            remaining = limitBytes == null || timestamps ? held : Math.min(held, limitBytes);
            outLeft = limitBytes != null && timestamps ? limitBytes : Long.MAX_VALUE;
        }
        PodLogs.Chunk c = r.chunk();
        int n = c == null ? 0 : timestamps ? r.used() : (int) Math.min(c.count(), remaining);
        if (n == 0) {
            if (r.stamped() != null) {
                r.stamped().release();
            }
            if (c == null || remaining <= 0 || !follow || r.finished()) {
                end();
                return;
            }
            ctx.flush();
            ctx.executor().schedule(this::pump, POLL_MILLIS, TimeUnit.MILLISECONDS); // following: nothing new yet
            return;
        }
        io.netty.buffer.ByteBuf content = timestamps ? r.stamped() : Unpooled.copiedBuffer(buf, 0, n);
        position = c.from() + n;
        remaining -= n;
        if (content.readableBytes() >= outLeft) {
            content.writerIndex(content.readerIndex() + (int) outLeft); // the byte limit, timestamps counted
            remaining = 0;
        }
        outLeft -= content.readableBytes();
        ChannelFuture last = ctx.writeAndFlush(new DefaultHttpContent(content));
        if (ctx.channel().isWritable()) {
            pump();
            return;
        }
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
