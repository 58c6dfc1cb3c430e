package dev.portway.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.Http2DataFrame;
import java.util.ArrayDeque;

/**
 * What the streams of one HTTP/2 connection may hold of their answers at once: the bytes of DATA
 * frames written and not yet on the socket (flow control keeps them while the client's windows
 * are shut). Past it, a stream that holds bytes of its own asks its endpoint for no more until
 * there is room again; a stream that holds none may still read (once: what it reads it holds), so
 * that a client taking one stream's answer is never held up by the others it leaves waiting.
 *
 * <p>Each stream has a bound of its own (its channel's write watermark and one read of its
 * endpoint), but a client that keeps every window shut multiplied it by the streams it may open
 * (100): about 12.8 MB a connection until the stream idle timeout, and a few hundred such
 * connections reached the direct memory the data plane shares. With the budget a connection holds
 * at most the budget and one read (16 KiB, {@link UpstreamReads}) for each stream. Envoy bounds
 * the same with {@code per_connection_buffer_limit_bytes}, HAProxy with a buffer per stream.
 *
 * <p>Each stream's channel has a {@link Meter} first in its pipeline (where its DATA frames pass).
 * Everything runs on the connection's event loop (its streams and their endpoints' connections
 * are on it): no locks.
 */
final class StreamBudget {

    /** 512 KiB: what four HTTP/1.1 connections may hold (each its write watermark and one read). */
    static final long DEFAULT_BYTES = 512 * 1024;

    private final long limit;
    /** Bytes of DATA frames written by the streams whose writes have not completed. */
    private long held;
    /** Streams waiting for room, oldest first. */
    private final ArrayDeque<Meter> waiting = new ArrayDeque<>();
    private boolean waking;

    StreamBudget(long limit) {
        this.limit = limit;
    }

    /** A new stream's meter. */
    Meter meter() {
        return new Meter();
    }

    /** Wakes the waiting streams, oldest first, while there is room. */
    private void wake() {
        if (waking) {
            return;
        }
        waking = true;
        try {
            while (held < limit && !waiting.isEmpty()) {
                waiting.poll().wake();
            }
        } finally {
            waking = false;
        }
    }

    /** One stream's share: what it holds, and its wait for room. */
    final class Meter extends ChannelOutboundHandlerAdapter {
        /** Bytes of this stream's DATA frames whose writes have not completed. */
        private long pending;
        /** What runs once there is room, while the stream waits; null when it does not. */
        private Runnable onRoom;

        /** What the connection's streams hold together now. */
        long connectionHolds() {
            return held;
        }

        /** Whether the stream may ask its endpoint for more now. */
        boolean mayRead() {
            return pending == 0 || held < limit;
        }

        /** Runs {@code then} once the stream may read (once: a stream asks again if it must wait again). */
        void await(Runnable then) {
            if (onRoom == null) {
                waiting.add(this);
            }
            onRoom = then;
        }

        /** The stream no longer waits (its endpoint's connection was let go). */
        void leave() {
            if (onRoom != null) {
                onRoom = null;
                waiting.remove(this);
            }
        }

        private void wake() {
            Runnable then = onRoom;
            onRoom = null;
            then.run();
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof Http2DataFrame data) {
                int bytes = data.initialFlowControlledBytes();
                if (bytes > 0) {
                    pending += bytes;
                    held += bytes;
                    // completed once the bytes are on the socket, or failed with the stream; a void promise is made
                    // one that still reports a failure to the pipeline
                    promise = promise.unvoid();
                    promise.addListener(f -> written(bytes));
                }
            }
            ctx.write(msg, promise);
        }

        private void written(int bytes) {
            pending -= bytes;
            held -= bytes;
            if (pending == 0 && onRoom != null && held >= limit) {
                // its client took all it had: it may read whatever the others hold
                waiting.remove(this);
                wake();
            }
            StreamBudget.this.wake();
        }
    }
}
