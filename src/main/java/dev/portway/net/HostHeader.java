package dev.portway.net;

/**
 * A {@code Host} header's name and port ({@code name}, {@code name:port}, {@code [v6]},
 * {@code [v6]:port}), read without a DNS lookup; servers that must refuse names other than their
 * own (DNS rebinding: a web page whose name resolves to 127.0.0.1) judge the parts.
 *
 * @param name the name or address, brackets removed
 * @param port the port, {@code defaultPort} when none is given, -1 when it is not a number
 */
public record HostHeader(String name, int port) {

    /** {@code value} read, or null when it is malformed (an open bracket, text after one, two colons without brackets). */
    public static HostHeader parse(String value, int defaultPort) {
        if (value == null) {
            return null;
        }
        String h = value.strip();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            if (end < 0) {
                return null;
            }
            String rest = h.substring(end + 1);
            if (rest.startsWith(":")) {
                return new HostHeader(h.substring(1, end), port(rest.substring(1)));
            }
            return rest.isEmpty() ? new HostHeader(h.substring(1, end), defaultPort) : null;
        }
        int colon = h.lastIndexOf(':');
        if (colon < 0) {
            return new HostHeader(h, defaultPort);
        }
        return h.indexOf(':') == colon ? new HostHeader(h.substring(0, colon), port(h.substring(colon + 1))) : null;
    }

    /** Whether the name is an IP address (never looked up) or {@code localhost}. */
    public boolean isAddressOrLocalhost() {
        return name.equalsIgnoreCase("localhost") || io.netty.util.NetUtil.createByteArrayFromIpAddressString(name) != null;
    }

    private static int port(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
