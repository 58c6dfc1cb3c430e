package dev.portway.control.alloc;

import java.util.random.RandomGenerator;

/**
 * The cluster's one NodePort allocator: keyed by port number only, so a nodePort is unique
 * across namespaces and protocols (TCP 30007 blocks UDP 30007), as in Kubernetes.
 * Not thread-safe: owned by the control thread.
 */
public final class PortAllocator {

    private final PortRange range;
    private final BandedBitmap bitmap;

    public PortAllocator(PortRange range, RandomGenerator random) {
        this.range = range;
        this.bitmap = new BandedBitmap(range.size(), bandOffset(range.size()), random);
    }

    /** KEP-3668's static band size: min(max(16, size/32), 128), 0 for ranges of 16 or fewer. */
    static int bandOffset(int size) {
        if (size <= 16) {
            return 0;
        }
        return Math.min(Math.max(16, size / 32), 128);
    }

    public PortRange range() {
        return range;
    }

    /** The ports users should choose from by hand: {@code 30000-30085} for the default range. */
    public PortRange staticBand() {
        int offset = bandOffset(range.size());
        return offset == 0 ? range : new PortRange(range.base(), offset);
    }

    public void allocate(int port) throws AllocationException {
        if (!range.contains(port)) {
            throw new AllocationException(AllocationException.Reason.NOT_IN_RANGE,
                    "provided port is not in the valid range. The range of valid ports is " + range);
        }
        if (!bitmap.allocate(port - range.base())) {
            throw new AllocationException(AllocationException.Reason.ALREADY_ALLOCATED, "provided port is already allocated");
        }
    }

    public int allocateNext() throws AllocationException {
        int offset = bitmap.allocateNext();
        if (offset < 0) {
            throw new AllocationException(AllocationException.Reason.FULL, "range is full");
        }
        return range.base() + offset;
    }

    /** Frees the port; a port out of range or not allocated is ignored, as in Kubernetes. */
    public void release(int port) {
        if (range.contains(port)) {
            bitmap.release(port - range.base());
        }
    }

    public boolean isAllocated(int port) {
        return range.contains(port) && bitmap.has(port - range.base());
    }

    public int used() {
        return bitmap.used();
    }

    public int free() {
        return bitmap.size() - bitmap.used();
    }
}
