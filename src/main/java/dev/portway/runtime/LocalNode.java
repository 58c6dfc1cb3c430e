package dev.portway.runtime;

import dev.portway.net.Cidr;
import dev.portway.net.Ipv4;
import java.util.BitSet;

/**
 * A node of the local cluster: a loopback address of its own ({@code 127.0.10.N}) and a pod
 * range ({@code 127.1.N.0/24}) its pods take their IPs from.
 */
public final class LocalNode {

    /** The health port kube-proxy serves on every node ({@code /healthz}). */
    public static final int PROXY_HEALTH_PORT = 10256;

    private final String name;
    private final int index;
    private final String ip;
    private final Cidr podCidr;
    private final BitSet podIps = new BitSet(256);

    public LocalNode(int index) {
        if (index < 1 || index > 254) {
            throw new IllegalArgumentException("node index: " + index + " (expected: 1-254)");
        }
        this.index = index;
        this.name = "node" + index;
        this.ip = "127.0.10." + index;
        this.podCidr = Cidr.of("127.1." + index + ".0/24");
    }

    public String name() {
        return name;
    }

    public int index() {
        return index;
    }

    /** The node's address: {@code 127.0.10.N}. */
    public String ip() {
        return ip;
    }

    public Cidr podCidr() {
        return podCidr;
    }

    /**
     * Hands out the lowest free pod IP (.2 to .254; .1 stays free as the "gateway"), or null when the
     * node is full. Not thread-safe: the control thread owns it.
     */
    public String allocatePodIp() {
        int offset = podIps.nextClearBit(2);
        if (offset > 254) {
            return null;
        }
        podIps.set(offset);
        return Ipv4.format(podCidr.network() + offset);
    }

    public void releasePodIp(String podIp) {
        long address = Ipv4.parse(podIp).orElse(-1L);
        if (podCidr.contains(address)) {
            podIps.clear((int) (address - podCidr.network()));
        }
    }

    /** Marks an IP taken (pods that already run when the node starts). */
    public void reservePodIp(String podIp) {
        long address = Ipv4.parse(podIp).orElse(-1L);
        if (podCidr.contains(address)) {
            podIps.set((int) (address - podCidr.network()));
        }
    }
}
