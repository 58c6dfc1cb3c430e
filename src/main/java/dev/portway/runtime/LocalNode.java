package dev.portway.runtime;

import dev.portway.net.Cidr;
import dev.portway.net.Ipv4;
import java.util.BitSet;
import java.util.Objects;

/**
 * A node of the local cluster: a loopback address of its own ({@code 127.0.10.N}) and a pod
 * range ({@code 127.1.N.0/24}) its pods take their IPs from, or where {@link Addresses} says.
 */
public final class LocalNode {

    /**
     * Where a cluster's nodes get their addresses: node N takes the Nth address of {@code nodes},
     * and its pods the Nth /24 of {@code pods}. Two clusters with different addresses can run on
     * one machine at the same time (the tests' clusters beside a {@code portway up}).
     */
    public record Addresses(Cidr nodes, Cidr pods) {

        /** What {@code portway up} uses: nodes 127.0.10.N, pods 127.1.N.0/24. */
        public static final Addresses DEFAULT = new Addresses(Cidr.of("127.0.10.0/24"), Cidr.of("127.1.0.0/16"));

        public Addresses {
            Objects.requireNonNull(nodes, "nodes");
            Objects.requireNonNull(pods, "pods");
            if (nodes.prefix() > 24) {
                throw new IllegalArgumentException("nodes: " + nodes + " (expected: a /24 or larger, an address per node)");
            }
            if (pods.prefix() > 16) {
                throw new IllegalArgumentException("pods: " + pods + " (expected: a /16 or larger, a /24 per node)");
            }
            if (nodes.contains(pods.network()) || pods.contains(nodes.network())) {
                throw new IllegalArgumentException("nodes " + nodes + " and pods " + pods + " overlap");
            }
        }

        String ip(int index) {
            return Ipv4.format(nodes.network() + index);
        }

        Cidr podCidr(int index) {
            return new Cidr(pods.network() + ((long) index << 8), 24);
        }
    }

    /** The health port kube-proxy serves on every node ({@code /healthz}). */
    public static final int PROXY_HEALTH_PORT = 10256;

    private final String name;
    private final int index;
    private final String ip;
    private final Cidr podCidr;
    private final BitSet podIps = new BitSet(256);

    public LocalNode(int index) {
        this(index, Addresses.DEFAULT);
    }

    public LocalNode(int index, Addresses addresses) {
        if (index < 1 || index > 254) {
            throw new IllegalArgumentException("node index: " + index + " (expected: 1-254)");
        }
        this.index = index;
        this.name = "node" + index;
        this.ip = addresses.ip(index);
        this.podCidr = addresses.podCidr(index);
    }

    public String name() {
        return name;
    }

    public int index() {
        return index;
    }

    /** The node's address: {@code 127.0.10.N} by default. */
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

    /** How many pod addresses are taken now; on the control thread. */
    public int podIpsInUse() {
        return podIps.cardinality();
    }

    /** Marks an IP taken (pods that already run when the node starts). */
    public void reservePodIp(String podIp) {
        long address = Ipv4.parse(podIp).orElse(-1L);
        if (podCidr.contains(address)) {
            podIps.set((int) (address - podCidr.network()));
        }
    }
}
