package dev.portway.runtime;

import java.util.Arrays;

/**
 * When a log's bytes were written: the time of each write, by the stream position of its first
 * byte, as a container runtime stamps each line it reads from a container (what {@code kubectl
 * logs --since} and {@code --timestamps} read). Times never go back: a wall clock stepped back
 * stamps the next writes with the last time given.
 *
 * <p>Bounded: past {@value #MAX} writes, every other one is forgotten, so a log of millions of
 * short writes costs at most 1 MiB here. Bytes of a forgotten write take the time of the write
 * kept before them: earlier than they were written, never later. Not thread-safe; its log guards it.
 */
final class WriteTimes {

    static final int MAX = 1 << 16;

    private long[] positions = new long[16];
    private long[] nanos = new long[16];
    private int count;
    /** Some writes were forgotten ({@link #thin}): a time now stands for a stretch of writes, the first of them. */
    private boolean thinned;

    /** The write that begins at {@code position} happened at {@code epochNanos}. */
    void add(long position, long epochNanos) {
        if (count > 0) {
            epochNanos = Math.max(epochNanos, nanos[count - 1]);
            if (positions[count - 1] == position) {
                return; // nothing was written since that time
            }
        }
        if (count == MAX) {
            thin();
        }
        if (count == positions.length) {
            positions = Arrays.copyOf(positions, count * 2);
            nanos = Arrays.copyOf(nanos, count * 2);
        }
        positions[count] = position;
        nanos[count] = epochNanos;
        count++;
    }

    private void thin() {
        thinned = true;
        int kept = 0;
        for (int i = 0; i < count; i += 2) {
            positions[kept] = positions[i];
            nanos[kept] = nanos[i];
            kept++;
        }
        count = kept;
    }

    /** Forgets the writes wholly before {@code position} (the oldest byte the log still keeps). */
    void dropBefore(long position) {
        int last = lastAtOrBefore(position);
        if (last > 0) {
            System.arraycopy(positions, last, positions, 0, count - last);
            System.arraycopy(nanos, last, nanos, 0, count - last);
            count -= last;
        }
    }

    /** When the byte at {@code position} was written; {@code otherwise} when no write is known for it. */
    long at(long position, long otherwise) {
        int i = lastAtOrBefore(position);
        return i < 0 ? otherwise : nanos[i];
    }

    /**
     * The position of the first write at or after {@code epochNanos}; {@code otherwise} when there
     * is none. Once writes were forgotten, the kept write before that one: a forgotten write
     * between them may be as late, and a few earlier lines are better than later ones left out.
     */
    long firstAtOrAfter(long epochNanos, long otherwise) {
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (nanos[mid] < epochNanos) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (thinned && lo > 0 && lo < count) {
            lo--; // (none kept at or after it: the last write is never a forgotten one's stand-in, nothing is later)
        }
        return lo < count ? positions[lo] : otherwise;
    }

    int size() {
        return count;
    }

    /** The index of the last write that begins at or before {@code position}; -1 when none does. */
    private int lastAtOrBefore(long position) {
        int lo = 0;
        int hi = count - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (positions[mid] <= position) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }
}
