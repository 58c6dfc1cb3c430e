package dev.portway.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A count of things in use under a cap (open connections, queries in flight), lock-free: a slot
 * is taken only while fewer than the cap are, and given back once. A listener's connection limit,
 * the API server's and the DNS server's are each one of these.
 */
public final class Slots {

    private final AtomicInteger used = new AtomicInteger();

    /** Takes a slot; false, and nothing taken, when {@code max} are in use already. */
    public boolean tryTake(int max) {
        if (used.incrementAndGet() > max) {
            used.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Takes a slot for {@code channel}, given back when it closes; false when {@code max} are in use. */
    public boolean tryTakeFor(Channel channel, int max) {
        if (!tryTake(max)) {
            return false;
        }
        channel.closeFuture().addListener(f -> release());
        return true;
    }

    /**
     * Takes a slot for {@code channel} past the cap, given back when it closes: for a caller that
     * has just closed another holder, whose slot comes back as its close completes.
     */
    public void takeFor(Channel channel) {
        used.incrementAndGet();
        channel.closeFuture().addListener(f -> release());
    }

    /**
     * Takes a slot for a use on {@code channel} that may end before the channel closes (a watch on
     * a keep-alive connection): given back when the returned hand-back first runs, or when the
     * channel closes first, once either way. Nothing of it stays on the channel after the hand-back:
     * a listener left on the channel's close for each use would pile up on a connection that
     * serves uses one after another for as long as it stays open. Null, and nothing taken, when
     * {@code max} are in use.
     */
    public Runnable tryTakeWhile(Channel channel, int max) {
        if (!tryTake(max)) {
            return null;
        }
        Held held = new Held(channel);
        channel.closeFuture().addListener(held);
        return held;
    }

    private final class Held implements Runnable, ChannelFutureListener {
        private final Channel channel;
        private final AtomicBoolean given = new AtomicBoolean();

        Held(Channel channel) {
            this.channel = channel;
        }

        @Override
        public void run() {
            if (given.compareAndSet(false, true)) {
                release();
                channel.closeFuture().removeListener(this);
            }
        }

        @Override
        public void operationComplete(ChannelFuture future) {
            run();
        }
    }

    /** Gives back a slot taken with {@link #tryTake}. */
    public void release() {
        used.decrementAndGet();
    }

    /** How many are in use now. */
    public int inUse() {
        return used.get();
    }
}
