package dev.portway.net;

import java.util.ArrayList;
import java.util.List;

/**
 * An inclusive range of IPv4 addresses, parsed from the forms MetalLB accepts in
 * {@code IPAddressPool.spec.addresses}: a CIDR ({@code 127.3.0.0/24}) or {@code start-end}.
 *
 * @param first the first address
 * @param last  the last address (inclusive)
 */
public record AddressRange(long first, long last) {

    public AddressRange {
        if (first > last) {
            throw new IllegalArgumentException("first > last");
        }
    }

    /**
     * Parses one entry; the exception message is MetalLB's ({@code invalid CIDR "x"}, {@code
     * invalid IP range "a-b": start IP "a" is after the end IP "b"}).
     */
    public static AddressRange parse(String entry) {
        if (!entry.contains("-")) {
            Cidr cidr = Cidr.parse(entry.trim())
                    .orElseThrow(() -> new IllegalArgumentException("invalid CIDR " + quote(entry)));
            return new AddressRange(cidr.network(), cidr.last());
        }
        String[] parts = entry.split("-", 2);
        long start = Ipv4.parse(parts[0].trim()).orElseThrow(() ->
                new IllegalArgumentException("invalid IP range " + quote(entry) + ": invalid start IP " + quote(parts[0])));
        long end = Ipv4.parse(parts[1].trim()).orElseThrow(() ->
                new IllegalArgumentException("invalid IP range " + quote(entry) + ": invalid end IP " + quote(parts[1])));
        if (start > end) {
            throw new IllegalArgumentException("invalid IP range " + quote(entry) + ": start IP " + quote(parts[0].trim())
                    + " is after the end IP " + quote(parts[1].trim()));
        }
        return new AddressRange(start, end);
    }

    public long size() {
        return last - first + 1;
    }

    public boolean contains(long address) {
        return address >= first && address <= last;
    }

    public boolean overlaps(AddressRange other) {
        return first <= other.last && other.first <= last;
    }

    /** The ranges of several entries, in order. */
    public static List<AddressRange> parseAll(List<String> entries) {
        List<AddressRange> ranges = new ArrayList<>();
        for (String e : entries) {
            ranges.add(parse(e));
        }
        return ranges;
    }

    @Override
    public String toString() {
        return first == last ? Ipv4.format(first) : Ipv4.format(first) + "-" + Ipv4.format(last);
    }

    private static String quote(String s) {
        return '"' + s + '"';
    }
}
