package dev.portway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Socket;
import java.util.concurrent.atomic.LongAdder;

/**
 * Copies bytes from its channel to its peer: the hot path of every TCP connection.
 *
 * <p>Both channels live on one event loop and read only on demand (auto-read off). A read batch
 * is written without a flush per buffer, flushed once when the batch completes, and the next read
 * is asked for only while the peer can take more; when the peer's buffer fills, reading stops
 * until the peer's handler sees it writable again and asks for it. No promise or lambda is
 * allocated per buffer, and every buffer is either written or released.
 *
 * <p>A half-close (the client shuts its output) is passed on as a half-close, as a NAT would;
 * the connection closes when both directions are done or either side closes (the other side once
 * it has written what it holds, or at the idle timeout).
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {

    /**
     * How the channels of a relayed connection read: one read per wake-up, into a buffer that
     * adapts to what the socket holds, from 2 KiB up to 1 MiB (Netty's default stops at 64 KiB, and
     * reads up to 16 times a wake-up). A bulk stream moves in few large reads and writes (iperf3
     * through a NodePort: 21-24 against 12.5-15.6 Gbit/s), while a request or an answer of a few
     * bytes still gets a small buffer. What one direction holds stays bounded as before: a read
     * (at most 1 MiB) is asked for only while the peer has less than its high water mark to write.
     */
    static final RecvByteBufAllocator READS = new BudgetedReads(new AdaptiveRecvByteBufAllocator(64, 2048, 1 << 20).maxMessagesPerRead(1));

    /** Reads as {@code reads} makes them, but of at most {@link #SMALL} bytes while large reads held are over budget. */
    static final class BudgetedReads implements RecvByteBufAllocator {
        private final RecvByteBufAllocator reads;

        BudgetedReads(RecvByteBufAllocator reads) {
            this.reads = reads;
        }

        @Override
        @SuppressWarnings("deprecation") // the return type of Netty's own interface
        public Handle newHandle() {
            ExtendedHandle h = (ExtendedHandle) reads.newHandle();
            return new ExtendedHandle() {
                @Override
                public io.netty.buffer.ByteBuf allocate(io.netty.buffer.ByteBufAllocator alloc) {
                    return overBudget(h.guess()) ? alloc.ioBuffer(SMALL) : h.allocate(alloc);
                }

                @Override
                public int guess() {
                    int g = h.guess();
                    return overBudget(g) ? SMALL : g;
                }

                @Override
                public void reset(io.netty.channel.ChannelConfig config) {
                    h.reset(config);
                }

                @Override
                public void incMessagesRead(int numMessages) {
                    h.incMessagesRead(numMessages);
                }

                @Override
                public void lastBytesRead(int bytes) {
                    h.lastBytesRead(bytes);
                }

                @Override
                public int lastBytesRead() {
                    return h.lastBytesRead();
                }

                @Override
                public void attemptedBytesRead(int bytes) {
                    h.attemptedBytesRead(bytes);
                }

                @Override
                public int attemptedBytesRead() {
                    return h.attemptedBytesRead();
                }

                @Override
                public boolean continueReading() {
                    return h.continueReading();
                }

                @Override
                public boolean continueReading(io.netty.util.UncheckedBooleanSupplier maybeMoreDataSupplier) {
                    return h.continueReading(maybeMoreDataSupplier);
                }

                @Override
                public void readComplete() {
                    h.readComplete();
                }
            };
        }

        private static boolean overBudget(int guess) {
            return HeldReads.overBudget(guess);
        }
    }

    /**
     * The read policy for relayed channels of {@code transport}. io_uring allocates a read's buffer
     * when it submits the read, not when data is there, so an idle connection would pin a buffer
     * of its last guess (up to 1 MiB each way, after one bulk transfer): it keeps Netty's default
     * sizes (at most 64 KiB a read), budgeted as {@link #READS} is, so that what its reads hold for
     * a peer that takes nothing counts, and is bounded, as on epoll: after an RDHUP its channels
     * too read the socket to its end whatever was asked.
     */
    static RecvByteBufAllocator reads(dev.portway.net.Transport transport) {
        return transport == dev.portway.net.Transport.IO_URING ? IO_URING_READS : READS;
    }

    private static final RecvByteBufAllocator IO_URING_READS = new BudgetedReads(new AdaptiveRecvByteBufAllocator());

    /** A read of at most this many bytes is not left in a larger buffer while it waits for the peer. */
    private static final int SMALL = HeldReads.SMALL;

    private final Channel peer;
    private final LongAdder bytes;
    /** A second cluster's count of the same bytes (a LoadBalancer's, on a fused hop), or null. */
    private final LongAdder alsoBytes;
    private final Session session;

    /**
     * A side that failed (reset by its peer: ECONNRESET on a read, EPIPE on a write) or was cut by
     * the proxy ({@link #abort}) has the other side reset too, once what it holds is written, as a
     * NAT passes a reset on. Passed on as a FIN, a client that reads to the end of the stream took
     * half an answer for the whole one.
     */
    private boolean aborted;

    /** Marks a connection's channel as cut short (a drain's end): its peer is reset, not ended, when it closes. */
    static final io.netty.util.AttributeKey<Boolean> ABORTED = io.netty.util.AttributeKey.valueOf("portway.relay.aborted");

    /**
     * What the two directions of one connection share: their half-closes, and when a byte last
     * moved either way, for the idle timeout (HAProxy's {@code timeout tunnel}). The timeout is one
     * timer per connection, re-armed from the last activity when it fires, never per read.
     */
    static final class Session {
        private int inputsShutdown;
        private long lastActive = System.nanoTime();
        private java.util.concurrent.ScheduledFuture<?> idleTimer;

        /** True when both directions have now been shut down. */
        boolean inputShutdown() {
            return ++inputsShutdown == 2;
        }

        void active() {
            lastActive = System.nanoTime();
        }

        /**
         * Closes both channels once no byte has moved for {@code idleNanos}; checked on the
         * connection's event loop, which both channels share. The timer goes with the connection
         * ({@link #cancelIdle}): a closed connection leaves nothing in the scheduler.
         */
        void closeWhenIdle(Channel a, Channel b, long idleNanos, Runnable onIdle) {
            long due = lastActive + idleNanos - System.nanoTime();
            idleTimer = a.eventLoop().schedule(() -> {
                idleTimer = null;
                if (!a.isActive() && !b.isActive()) {
                    return;
                }
                if (System.nanoTime() - lastActive >= idleNanos) {
                    onIdle.run();
                    a.close();
                    b.close();
                } else {
                    closeWhenIdle(a, b, idleNanos, onIdle);
                }
            }, Math.max(due, 1), java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        /** Stops the idle timer (the connection closed). */
        void cancelIdle() {
            java.util.concurrent.ScheduledFuture<?> t = idleTimer;
            if (t != null) {
                idleTimer = null;
                t.cancel(false);
            }
        }
    }

    RelayHandler(Channel peer, LongAdder bytes, Session session) {
        this(peer, bytes, null, session);
    }

    RelayHandler(Channel peer, LongAdder bytes, LongAdder alsoBytes, Session session) {
        this.peer = peer;
        this.bytes = bytes;
        this.alsoBytes = alsoBytes;
        this.session = session;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        read(ctx.channel());
    }

    /**
     * Asks {@code ch} for more, unless its input is shut down: nothing more can come, and Netty's
     * epoll transport, which takes the socket out of its epoll set at the end of the input, would
     * fail the read (ENOENT) and close the channel, output and all.
     */
    static void read(Channel ch) {
        if (!(ch instanceof DuplexChannel duplex) || !duplex.isInputShutdown()) {
            ch.read();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        int large = 0;
        if (msg instanceof ByteBuf buf) {
            int n = buf.readableBytes();
            bytes.add(n);
            if (alsoBytes != null) {
                alsoBytes.add(n);
            }
            if (n <= SMALL && buf.capacity() > SMALL) {
                // a few bytes in a buffer sized for a bulk read: what waits for a slow peer is
                // counted by its bytes, so it must not hold a megabyte each
                try {
                    msg = ctx.alloc().directBuffer(n, n).writeBytes(buf);
                } finally {
                    buf.release();
                }
            } else if (n > SMALL) {
                large = buf.capacity(); // what the read pins, whatever it holds
            }
        }
        session.active();
        if (!peer.isActive()) {
            io.netty.util.ReferenceCountUtil.release(msg);
        } else if (large > 0 || (!peer.isWritable() && msg instanceof ByteBuf)) {
            // counted until it is written (or fails): one listener per large read, none per small one. And
            // any read made while the peer holds more than it should: Netty's native transports, once the other
            // side's FIN is in, read to the end of the input whatever was asked (a whole receive buffer,
            // megabytes), and a client that reads nothing keeps it all. Past twice the budget of held reads
            // (a quarter of the direct memory), a connection that holds more than a mebibyte for its peer so
            // is reset, rather than let stalled ones take the memory every listener reads into. (A WebSocket
            // tunnel's channels too: they keep the gateway's read policies, one read asked at a time, so what
            // they read unasked shows here the same way.)
            int held = large > 0 ? large : ((ByteBuf) msg).capacity();
            if (peer.isWritable()) {
                HeldReads.add(held);
            } else if (!HeldReads.hold(pendingFor(peer), held, HeldReads.RESET_PAST)) {
                io.netty.util.ReferenceCountUtil.release(msg);
                DataPlane.reset(peer); // its reader must not take what it got for a whole answer
                ctx.close();
                return;
            }
            peer.write(msg).addListener(f -> {
                HeldReads.release(held);
                if (!f.isSuccess() && peer.isRegistered()) {
                    // as the void promise does: the peer's handlers hear of it (and close both sides)
                    peer.pipeline().fireExceptionCaught(f.cause());
                }
            });
        } else {
            peer.write(msg, peer.voidPromise());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
        if (peer.isWritable()) {
            read(ctx.channel());
        }
    }

    /** This channel drained its outbound buffer: the peer may read again. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            // bytes reached the reader: activity, for the idle timeout too (a slow reader draining what
            // the proxy holds after the other side closed is not idle)
            session.active();
            if (peer.isActive()) {
                read(peer);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (!session.inputShutdown() && peer instanceof DuplexChannel duplex && peer.isActive()) {
                // one way is done: pass the end on as an end
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                    // The peer's own end, when it comes, ends the connection: let it close the
                    // peer at once. Half-closed in turn, Netty would shut the peer's input first, a
                    // system call that fails (ENOTCONN, both ways being done) and allocates an
                    // exception. Only now: everything for the peer is written.
                    peer.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
                    shutdownOutput(duplex);
                });
            } else {
                // both ways are done (or the peer cannot half-close): what each channel still has
                // to write (a slow reader's) goes first
                closeOnFlush(peer);
                closeOnFlush(ctx.channel());
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!peer.isActive()) {
            session.cancelIdle();
        }
        // else the idle timer stays: the peer closes once what it holds is written, which a client
        // that reads nothing never lets happen; nothing is read from now on, so the timer closes it
        // the idle timeout after the last byte, and its slot under max-connections comes back
        if (aborted || ctx.channel().hasAttr(ABORTED)) {
            resetOnFlush(peer);
        } else {
            closeOnFlush(peer);
        }
    }

    /** Closes {@code ch} with a reset, and has its relayed peer reset as well. */
    static void abort(Channel ch) {
        ch.attr(ABORTED).set(Boolean.TRUE);
        DataPlane.reset(ch);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        aborted = true;
        ctx.close();
    }

    /**
     * Sends the channel's FIN, once everything for it is written. On the native transports (epoll's
     * and io_uring's channels alike), through its socket: Netty's {@code shutdownOutput} makes an
     * exception with its stack trace on every call (to fail writes that might still come), which on
     * a proxy of short connections, each ended by a half-close, was about 5 % of the proxy's user
     * time. Nothing is written to the channel after its FIN: its input's end closes it (half-closure
     * is off by now).
     */
    static void shutdownOutput(DuplexChannel ch) {
        if (ch instanceof io.netty.channel.unix.UnixChannel unix && unix.fd() instanceof Socket socket) {
            try {
                socket.shutdown(false, true);
            } catch (java.io.IOException | java.nio.channels.NotYetConnectedException e) {
                ch.close(); // (the peer reset it meanwhile: ENOTCONN)
            }
            return;
        }
        ch.shutdownOutput();
    }

    private static long pendingFor(Channel ch) {
        var outbound = ch.unsafe().outboundBuffer();
        return outbound == null ? 0 : outbound.totalPendingWriteBytes();
    }

    static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(CLOSE_DESCRIPTOR_FIRST);
        }
    }

    /** What {@link ChannelFutureListener#CLOSE} does, through {@link #close}. */
    private static final ChannelFutureListener CLOSE_DESCRIPTOR_FIRST = f -> close(f.channel());

    /**
     * Closes {@code ch}, on epoll its descriptor first. Netty's close takes the socket out of epoll's
     * set and reads its {@code SO_LINGER} before it closes the descriptor, which would do both:
     * closing a socket removes it from the set, and a socket already closed is not asked. So each
     * channel closed here closes with two system calls fewer (a relayed connection's client side is
     * mostly closed by Netty itself, when its end comes: two fewer a connection, by {@code strace -c}).
     * And one that failed: when a connection's input ends and it has nothing left to wait for,
     * Netty 4.2 (up to 4.2.20 at least) removes it
     * from the set and forgets it did, so its close removed it again, failed (ENOENT), and made an
     * exception with its stack trace, one for every upstream connection an endpoint ended first.
     * Netty's close then runs as ever (its pipeline, its promise, its close future), and finds the
     * descriptor closed. Not for a reset ({@link DataPlane#reset}), whose {@code SO_LINGER} is set.
     */
    static void close(Channel ch) {
        if (ch instanceof EpollSocketChannel epoll && ch.isOpen() && ch.eventLoop().inEventLoop()) {
            try {
                epoll.fd().close();
            } catch (java.io.IOException e) {
                // Netty's close reports it, as it would have
            }
        }
        ch.close();
    }

    /** Resets {@code ch} once everything written to it is flushed. */
    static void resetOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> DataPlane.reset(ch));
        }
    }
}
