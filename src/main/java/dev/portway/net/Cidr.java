package dev.portway.net;

import java.util.Optional;

/**
 * An IPv4 CIDR block: {@code 127.2.0.0/16}.
 *
 * @param base   the address as written (may have host bits set, as Go's ParseCIDR allows)
 * @param prefix the prefix length, 0..32
 */
public record Cidr(long base, int prefix) {

    public Cidr {
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("prefix: " + prefix + " (expected: 0..32)");
        }
    }

    public static Optional<Cidr> parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            return Optional.empty();
        }
        String bits = text.substring(slash + 1);
        if (bits.isEmpty() || bits.length() > 2 || !bits.chars().allMatch(Character::isDigit)) {
            return Optional.empty();
        }
        int prefix = Integer.parseInt(bits);
        if (prefix > 32) {
            return Optional.empty();
        }
        return Ipv4.parse(text.substring(0, slash)).map(a -> new Cidr(a, prefix));
    }

    public static Cidr of(String text) {
        return parse(text).orElseThrow(() -> new IllegalArgumentException("not an IPv4 CIDR: " + text));
    }

    public long mask() {
        return prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
    }

    /** The first address of the block. */
    public long network() {
        return base & mask();
    }

    /** The last address of the block. */
    public long last() {
        return network() | (~mask() & 0xffffffffL);
    }

    public long size() {
        return 1L << (32 - prefix);
    }

    public boolean contains(long address) {
        return (address & mask()) == network();
    }

    @Override
    public String toString() {
        return Ipv4.format(network()) + "/" + prefix;
    }
}
