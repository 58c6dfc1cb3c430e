package dev.portway.runtime;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How local pods resolve cluster names ({@code docs/dns.md}).
 *
 * @param mode       {@link Mode#AUTO}: a DNS server where port 53 can be bound, else names in the pods' hosts files
 * @param address    where the DNS server listens (port 53, the only port resolvers ask)
 * @param hostConfig the machine's resolv.conf, whose nameservers {@code dnsPolicy: Default} pods get and
 *                   the DNS server forwards other names to
 */
public record DnsOptions(Mode mode, InetAddress address, Path hostConfig) {

    /** The cluster DNS address of {@code portway up}: the 10th address of the Service range, as kube-dns's 10.96.0.10. */
    public static final String DEFAULT_ADDRESS = "127.2.0.10";

    public enum Mode {
        /** A DNS server if port 53 can be bound on the address, else {@link #HOSTS}, said once. */
        AUTO,
        /** A DNS server; Portway does not start without it. */
        SERVER,
        /** No server: each pod's hosts file carries the cluster's names, rewritten as they change. */
        HOSTS,
        /** Pods see the machine's /etc/hosts and /etc/resolv.conf. */
        OFF
    }

    public DnsOptions {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(hostConfig, "hostConfig");
    }

    public static DnsOptions defaults() {
        try {
            return new DnsOptions(Mode.AUTO, InetAddress.getByName(DEFAULT_ADDRESS), PodDns.HostResolver.RESOLV_CONF);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    public DnsOptions withMode(Mode m) {
        return new DnsOptions(m, address, hostConfig);
    }

    public DnsOptions withAddress(InetAddress a) {
        return new DnsOptions(mode, a, hostConfig);
    }
}
