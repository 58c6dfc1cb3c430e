package dev.portway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * How a gateway's connection to an endpoint reads: one buffer per read asked for (Netty's default
 * is up to 16), sized adaptively up to a limit its exchange sets. An answer held back by its
 * client then holds at most one read in the gateway beyond what its client's connection buffers:
 * 64 KiB for an HTTP/1.1 client (one answer per connection), 16 KiB for an HTTP/2 stream (a
 * client may open 100 on one connection and take nothing on any; 16 KiB is also a DATA frame's
 * default largest size, and HAProxy's buffer).
 *
 * <p>One instance per connection (the limit is the connection's, set each time an exchange takes
 * it, from the pool too): Netty makes a channel's read handle once, from its first allocator.
 */
final class UpstreamReads extends AdaptiveRecvByteBufAllocator {

    /** An HTTP/1.1 client's endpoint reads up to this much at once. */
    static final int CONNECTION_READ = 64 * 1024;
    /** An HTTP/2 stream's endpoint reads up to this much at once. */
    static final int STREAM_READ = 16 * 1024;

    private int limit = CONNECTION_READ;

    UpstreamReads() {
        super(64, 2048, CONNECTION_READ);
        maxMessagesPerRead(1);
    }

    /** From now on, reads of at most {@code bytes}. */
    void limit(int bytes) {
        limit = bytes;
    }

    @Override
    @SuppressWarnings("deprecation") // the return type of Netty's own interface
    public Handle newHandle() {
        return new Limited((ExtendedHandle) super.newHandle());
    }

    /** The adaptive handle, its buffers no larger than the limit. */
    private final class Limited extends DelegatingHandle implements ExtendedHandle {
        private final ExtendedHandle adaptive;

        Limited(ExtendedHandle adaptive) {
            super(adaptive);
            this.adaptive = adaptive;
        }

        @Override
        public int guess() {
            return Math.min(adaptive.guess(), limit);
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return alloc.ioBuffer(guess());
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return adaptive.continueReading(maybeMoreDataSupplier);
        }
    }
}
