package dev.portway.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.ArrayList;
import java.util.List;

/**
 * Passes a connection's input on only while its output is writable, a slice at a time, for servers
 * that answer what they read (the echo server, health checks, DNS over TCP). A client that
 * pipelines requests and reads none of the answers is read no further: its bytes wait in the
 * kernel, then in its own socket, instead of every answer waiting in this process's memory.
 *
 * <p>Pausing reads alone is not enough: a decoder answers every request in what it was given at
 * once, so one 64 KiB read of small requests can queue megabytes of answers. Here a decoder gets
 * at most {@code sliceBytes} while the channel is writable, so the most written past the high
 * water mark is what one slice's requests make. The rest waits here (one read at most: reads stop
 * while anything waits), as does a client's end of input behind the bytes it sent before it.
 *
 * <p>First in the pipeline, ahead of every decoder; one per channel. Handlers that flush in
 * {@code channelReadComplete} are flushed: one follows the input passed on when writability comes
 * back.
 */
public final class WritabilityGate extends ChannelDuplexHandler {

    private final int sliceBytes;
    /** Input not passed on yet, or null. */
    private ByteBuf held;
    /** A client's end of input (and its read-complete event) held behind {@link #held}. */
    private final List<Object> heldEvents = new ArrayList<>(2);
    private boolean draining;

    /** The slice of servers that answer small requests (HTTP echo, health checks): a few dozen of them at once. */
    public static final int DEFAULT_SLICE = 4096;

    /** A gate passing on {@value #DEFAULT_SLICE} bytes at once. */
    public WritabilityGate() {
        this(DEFAULT_SLICE);
    }

    /** {@code sliceBytes}: the most input passed on at once while writable. */
    public WritabilityGate(int sliceBytes) {
        if (sliceBytes <= 0) {
            throw new IllegalArgumentException("sliceBytes must be positive: " + sliceBytes);
        }
        this.sliceBytes = sliceBytes;
    }

    /** Bytes written to {@code channels} that their peers have not taken yet (answers waiting in memory). */
    public static long queuedBytes(Iterable<? extends io.netty.channel.Channel> channels) {
        long sum = 0;
        for (io.netty.channel.Channel c : channels) {
            var out = c.unsafe().outboundBuffer();
            sum += out == null ? 0 : out.totalPendingWriteBytes();
        }
        return sum;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        held = held == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), held, in);
        drain(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (held != null && ctx.channel().isWritable() && !draining) {
            drain(ctx);
            ctx.fireChannelReadComplete(); // what the input made is flushed by handlers that flush there
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void drain(ChannelHandlerContext ctx) {
        if (draining) {
            return; // an answer written below changed writability: the loop looks again
        }
        draining = true;
        try {
            while (held != null && ctx.channel().isWritable() && ctx.channel().isActive()) {
                ByteBuf next;
                if (held.readableBytes() <= sliceBytes) {
                    next = held;
                    held = null;
                } else {
                    next = held.readRetainedSlice(sliceBytes);
                }
                ctx.fireChannelRead(next);
            }
        } finally {
            draining = false;
        }
        if (held != null) {
            ctx.channel().config().setAutoRead(false);
            return;
        }
        if (!ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
        for (Object evt : heldEvents) {
            ctx.fireUserEventTriggered(evt);
        }
        heldEvents.clear();
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (held == null) {
            ctx.read(); // a decoder asking for more while input waits here is not read further
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (held != null && (evt instanceof ChannelInputShutdownEvent || evt instanceof ChannelInputShutdownReadComplete)) {
            heldEvents.add(evt);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        if (held != null) {
            held.release();
            held = null;
        }
        heldEvents.clear();
    }
}
