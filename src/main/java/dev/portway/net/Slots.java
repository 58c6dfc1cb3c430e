package dev.portway.net;

import io.netty.channel.Channel;
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

    /** Gives back a slot taken with {@link #tryTake}. */
    public void release() {
        used.decrementAndGet();
    }

    /** How many are in use now. */
    public int inUse() {
        return used.get();
    }
}
