package dev.portway.control.alloc;

import java.util.BitSet;
import java.util.random.RandomGenerator;

/**
 * The API server's bitmap allocator ({@code randomScanStrategyWithOffset}): offsets below
 * {@code bandOffset} form the static band users should pick from by hand; automatic allocation
 * starts at a random point of the upper, dynamic band and scans with wrap-around, falling back to
 * the static band only when the dynamic band is full (KEP-3668).
 */
final class BandedBitmap {

    private final BitSet bits;
    private final int size;
    private final int bandOffset;
    private final RandomGenerator random;
    private int used;

    BandedBitmap(int size, int bandOffset, RandomGenerator random) {
        this.bits = new BitSet(size);
        this.size = size;
        this.bandOffset = bandOffset;
        this.random = random;
    }

    /** True when the offset was free and is now taken. */
    boolean allocate(int offset) {
        if (bits.get(offset)) {
            return false;
        }
        bits.set(offset);
        used++;
        return true;
    }

    /** The offset taken, or -1 when everything is taken. */
    int allocateNext() {
        if (used >= size) {
            return -1;
        }
        int upper = size - bandOffset;
        if (upper > 0) {
            int start = random.nextInt(upper);
            for (int i = 0; i < upper; i++) {
                int at = bandOffset + ((start + i) % upper);
                if (!bits.get(at)) {
                    bits.set(at);
                    used++;
                    return at;
                }
            }
        }
        if (bandOffset > 0) {
            int start = random.nextInt(bandOffset);
            for (int i = 0; i < bandOffset; i++) {
                int at = (start + i) % bandOffset;
                if (!bits.get(at)) {
                    bits.set(at);
                    used++;
                    return at;
                }
            }
        }
        return -1;
    }

    /** True when the offset was taken and is now free. */
    boolean release(int offset) {
        if (!bits.get(offset)) {
            return false;
        }
        bits.clear(offset);
        used--;
        return true;
    }

    boolean has(int offset) {
        return bits.get(offset);
    }

    int used() {
        return used;
    }

    int size() {
        return size;
    }
}
