package dev.portway.control.alloc;

/**
 * A port range as {@code --service-node-port-range} takes it: {@code 30000-32767} or
 * {@code 30000+2767}.
 *
 * @param base the first port
 * @param size how many ports
 */
public record PortRange(int base, int size) {

    public static final PortRange DEFAULT_NODE_PORTS = new PortRange(30000, 2768);

    public PortRange {
        if (base < 1 || size < 1 || base + size - 1 > 65535) {
            throw new IllegalArgumentException("port range " + base + "+" + (size - 1) + " (expected: within 1-65535)");
        }
    }

    public static PortRange parse(String text) {
        String t = text.trim();
        try {
            if (t.contains("-")) {
                String[] p = t.split("-", 2);
                int lo = Integer.parseInt(p[0].trim());
                int hi = Integer.parseInt(p[1].trim());
                if (hi < lo) {
                    throw new IllegalArgumentException("port range " + text + ": end before start");
                }
                return new PortRange(lo, hi - lo + 1);
            }
            if (t.contains("+")) {
                String[] p = t.split("\\+", 2);
                return new PortRange(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()) + 1);
            }
            return new PortRange(Integer.parseInt(t), 1);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port range " + text + " (expected: like 30000-32767)", e);
        }
    }

    public int last() {
        return base + size - 1;
    }

    public boolean contains(int port) {
        return port >= base && port <= last();
    }

    @Override
    public String toString() {
        return base + "-" + last();
    }
}
