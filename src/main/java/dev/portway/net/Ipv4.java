package dev.portway.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/** IPv4 addresses as unsigned 32-bit values held in a long: parsing, printing, arithmetic. */
public final class Ipv4 {

    private Ipv4() {
    }

    /** Parses a dotted quad ({@code 127.0.10.1}); no names, no shortened forms. */
    public static Optional<Long> parse(String text) {
        if (text == null || text.isEmpty() || text.length() > 15) {
            return Optional.empty();
        }
        long value = 0;
        int octets = 0;
        int current = -1;
        int digits = 0;
        for (int i = 0; i <= text.length(); i++) {
            char c = i < text.length() ? text.charAt(i) : '.';
            if (c == '.') {
                if (current < 0 || octets == 4) {
                    return Optional.empty();
                }
                value = (value << 8) | current;
                octets++;
                current = -1;
                digits = 0;
            } else if (c >= '0' && c <= '9') {
                current = (current < 0 ? 0 : current * 10) + (c - '0');
                if (++digits > 3 || current > 255) {
                    return Optional.empty();
                }
            } else {
                return Optional.empty();
            }
        }
        return octets == 4 ? Optional.of(value) : Optional.empty();
    }

    public static String format(long address) {
        return ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "." + (address & 0xff);
    }

    public static InetAddress toInetAddress(long address) {
        byte[] b = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    public static long of(InetAddress address) {
        if (!(address instanceof Inet4Address)) {
            throw new IllegalArgumentException("not an IPv4 address: " + address);
        }
        byte[] b = address.getAddress();
        return ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
    }

    public static boolean isLoopback(long address) {
        return (address >>> 24) == 127;
    }
}
