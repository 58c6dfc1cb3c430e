package dev.portway.control.alloc;

import dev.portway.net.Cidr;
import dev.portway.net.Ipv4;
import java.util.random.RandomGenerator;

/**
 * ClusterIP allocation from the service CIDR, as the API server's bitmap range does it: the
 * network and broadcast addresses are never handed out, automatic allocation prefers the upper
 * band (the lowest min(max(16, size/16), 256) addresses are left for users to request).
 * Not thread-safe: owned by the control thread.
 */
public final class IpAllocator {

    private final Cidr cidr;
    private final long base;   // first allocatable address
    private final BandedBitmap bitmap;

    public IpAllocator(Cidr cidr, RandomGenerator random) {
        this.cidr = cidr;
        long rangeSize = cidr.size();
        int max = (int) Math.max(0, Math.min(rangeSize - 2, Integer.MAX_VALUE));
        this.base = cidr.network() + 1;
        this.bitmap = new BandedBitmap(max, bandOffset(rangeSize), random);
    }

    static int bandOffset(long cidrSize) {
        if (cidrSize <= 16) {
            return 0;
        }
        return (int) Math.min(Math.max(16, cidrSize / 16), 256);
    }

    public Cidr cidr() {
        return cidr;
    }

    public void allocate(String ip) throws AllocationException {
        long address = Ipv4.parse(ip).orElse(-1L);
        long offset = address - base;
        if (address < 0 || !cidr.contains(address) || offset < 0 || offset >= bitmap.size()) {
            throw new AllocationException(AllocationException.Reason.NOT_IN_RANGE,
                    "the provided IP (" + ip + ") is not in the valid range. The range of valid IPs is " + cidr);
        }
        if (!bitmap.allocate((int) offset)) {
            throw new AllocationException(AllocationException.Reason.ALREADY_ALLOCATED, "provided IP is already allocated");
        }
    }

    public String allocateNext() throws AllocationException {
        int offset = bitmap.allocateNext();
        if (offset < 0) {
            throw new AllocationException(AllocationException.Reason.FULL, "range is full");
        }
        return Ipv4.format(base + offset);
    }

    public void release(String ip) {
        long address = Ipv4.parse(ip).orElse(-1L);
        long offset = address - base;
        if (address >= 0 && offset >= 0 && offset < bitmap.size()) {
            bitmap.release((int) offset);
        }
    }

    public boolean isAllocated(String ip) {
        long offset = Ipv4.parse(ip).orElse(-1L) - base;
        return offset >= 0 && offset < bitmap.size() && bitmap.has((int) offset);
    }

    public int used() {
        return bitmap.used();
    }
}
