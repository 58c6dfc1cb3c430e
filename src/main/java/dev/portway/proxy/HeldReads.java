package dev.portway.proxy;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The process's budget of bytes read for a peer that cannot take them yet: large reads waiting in
 * a relay's outbound buffer, a client's bytes read before its upstream connection is there, and
 * whatever was read for a peer past its high water mark. Netty's native transports read a socket
 * to its end once the other side's FIN is in, whatever was asked (a whole receive buffer,
 * megabytes), and a peer that reads nothing keeps it all, until the idle timeout: a few thousand
 * such connections took all the direct memory, and every listener's reads failed.
 *
 * <p>Past the budget, relays read at most {@link #SMALL} bytes at a time ({@link
 * RelayHandler.BudgetedReads}); past twice the budget, a connection that holds more than its
 * allowance for its peer is reset rather than let hold more ({@link #hold}).
 */
final class HeldReads {

    /** A read of at most this many bytes is small: not counted while its peer takes it, and a relay's reads past the budget. */
    static final int SMALL = 64 * 1024;

    /** What a connection may hold for a peer past its high water mark before it is reset, when held reads are past twice their budget. */
    static final long RESET_PAST = 1 << 20;

    private static final AtomicLong HELD = new AtomicLong();
    private static final java.util.concurrent.atomic.LongAdder RESETS = new java.util.concurrent.atomic.LongAdder();

    /** An eighth of the direct memory the JVM allows, and at least 64 MiB. */
    private static volatile long budget = Math.max(64L << 20, io.netty.util.internal.PlatformDependent.maxDirectMemory() / 8);

    private HeldReads() {
    }

    /** Bytes held over the process. */
    static long held() {
        return HELD.get();
    }

    /** Connections (and HTTP/2 streams) refused more by {@link #hold}, and so reset, since the process started. */
    static long resets() {
        return RESETS.sum();
    }

    /** For tests: sets the budget, and returns the one before. */
    static long budget(long bytes) {
        long before = budget;
        budget = bytes;
        return before;
    }

    /** Whether a read of {@code guess} bytes is large while held reads are at or past their budget. */
    static boolean overBudget(int guess) {
        return guess > SMALL && HELD.get() >= budget;
    }

    /**
     * Counts {@code bytes} more held by a connection that already holds {@code connectionHolds}:
     * false, and nothing counted, when held reads would be past twice their budget and the
     * connection would hold more than {@code allowance}, counted in {@link #resets}. The caller
     * then resets the connection (its reader must not take what it got for a whole answer), and
     * gives what it counted back with {@link #release} once written, or failed.
     */
    static boolean hold(long connectionHolds, int bytes, long allowance) {
        if (connectionHolds + bytes > allowance && HELD.get() + bytes > 2 * budget) {
            RESETS.increment();
            return false;
        }
        HELD.addAndGet(bytes);
        return true;
    }

    /** Counts {@code bytes} held whatever the budget (a large read its peer takes at once). */
    static void add(long bytes) {
        HELD.addAndGet(bytes);
    }

    static void release(long bytes) {
        HELD.addAndGet(-bytes);
    }
}
