package dev.portway.runtime;

import dev.portway.plan.DnsZone;
import dev.portway.plan.DnsZoneBuilder;
import dev.portway.proxy.dns.ClusterDnsServer;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Pod;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster DNS for local pods: keeps the {@link DnsZone} of the store, hands it to the DNS server
 * (when there is one), and writes each pod's {@code /etc/hosts} and {@code /etc/resolv.conf},
 * which the pods' {@link PodSandbox} binds over the machine's. Control thread, except {@link #zone()}.
 */
final class ClusterDns implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterDns.class);

    /** A DNS server's part: what Portway tells it, and how it stops. */
    interface Server extends AutoCloseable {
        void update(DnsZone zone);

        @Override
        void close();
    }

    private final DnsOptions options;
    private final PodSandbox sandbox;
    private final PodDns.HostResolver host;
    private final Server server;
    private volatile DnsZone zone = DnsZone.empty();
    /** Why there is no DNS server (hosts mode). */
    private String noServer = "--cluster-dns=hosts";
    private long revision = -1;

    ClusterDns(DnsOptions options, PodSandbox sandbox, Server server) {
        this.options = options;
        this.sandbox = sandbox;
        this.host = PodDns.HostResolver.read(options.hostConfig());
        this.server = server;
    }

    /**
     * Sets cluster DNS up as {@code options} say, for pods that run in {@code sandbox} (where their
     * own /etc files are bound, when it is available): a DNS server is started where one can be.
     */
    static ClusterDns start(DnsOptions options, PodSandbox sandbox, PodRuntime runtime) {
        if (options.mode() == DnsOptions.Mode.OFF) {
            return new ClusterDns(options, sandbox, null);
        }
        if (!sandbox.available() && options.mode() == DnsOptions.Mode.SERVER) {
            throw new IllegalStateException("cluster DNS: pods cannot have their own /etc/resolv.conf here: " + sandbox.unavailable());
        }
        String[] noServer = {"--cluster-dns=hosts"};
        Server server = null;
        if (sandbox.available() && options.mode() != DnsOptions.Mode.HOSTS) {
            server = startServer(options, runtime, noServer);
        }
        ClusterDns dns = new ClusterDns(options, sandbox, server);
        dns.noServer = noServer[0];
        return dns;
    }

    /** The DNS server on the address's port 53, or null (then {@code noServer} says why) where it cannot listen. */
    private static Server startServer(DnsOptions options, PodRuntime runtime, String[] noServer) {
        InetSocketAddress bind = new InetSocketAddress(options.address(), 53);
        ClusterDnsServer server = new ClusterDnsServer(runtime.transport(), runtime.group(),
                ClusterDnsServer.upstreamsFrom(options.hostConfig(), bind));
        try {
            server.start(bind);
        } catch (Exception e) {
            server.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String why = "cannot listen on " + options.address().getHostAddress() + ":53: " + e.getMessage();
            if (options.mode() == DnsOptions.Mode.SERVER) {
                throw new IllegalStateException("cluster DNS " + why, e);
            }
            noServer[0] = why + " (port 53 needs root, CAP_NET_BIND_SERVICE or net.ipv4.ip_unprivileged_port_start=53)";
            return null;
        }
        return new Server() {
            @Override
            public void update(DnsZone zone) {
                server.update(zone);
            }

            @Override
            public void close() {
                server.close();
            }
        };
    }

    /** How pods resolve cluster names here, in one sentence for the log and {@code up}. */
    String describe() {
        if (options.mode() == DnsOptions.Mode.OFF) {
            return "cluster DNS is off: pods use the machine's resolver";
        }
        if (!sandbox.available()) {
            return "pods cannot have their own /etc/hosts and /etc/resolv.conf here (" + sandbox.unavailable()
                    + "): cluster names do not resolve in pods; use Service variables or IPs (docs/dns.md)";
        }
        if (server != null) {
            return "a DNS server at " + options.address().getHostAddress() + ":53 answers pods for " + zone.domain()
                    + " (Services, headless Services' pods, Gateways as <gateway>-portway) and forwards other names";
        }
        return "no cluster DNS server (" + noServer + "): cluster names are written into each pod's /etc/hosts instead (docs/dns.md)";
    }

    /** Whether pods get files of their own. */
    boolean active() {
        return options.mode() != DnsOptions.Mode.OFF && sandbox.available();
    }

    DnsZone zone() {
        return zone;
    }

    /**
     * Rebuilds the zone if the store changed; true when it differs from the last one (then, without
     * a server, every pod's hosts file is to be rewritten).
     */
    boolean refresh(Store store) {
        if (!active() || store.revision() == revision) {
            return false;
        }
        revision = store.revision();
        DnsZone next = DnsZoneBuilder.build(store);
        if (next.equals(zone)) {
            return false;
        }
        zone = next;
        if (server != null) {
            server.update(next);
            return false;
        }
        return true;
    }

    /** Writes {@code etc/hosts} and {@code etc/resolv.conf} of a pod into {@code etcDir}, in place (a running pod sees them). */
    void writeFiles(Pod pod, String podIp, Path etcDir) throws IOException {
        if (!active()) {
            return;
        }
        Files.createDirectories(etcDir);
        writeInPlace(etcDir.resolve("hosts"), PodDns.hostsFile(pod, podIp, server == null ? zone : null));
        writeInPlace(etcDir.resolve("resolv.conf"), PodDns.resolvConf(pod, host, server == null ? null : options.address(), zone.domain()));
    }

    /** Rewrites the pod's hosts file when the cluster's names changed (hosts mode). */
    void rewriteHosts(Pod pod, String podIp, Path etcDir) throws IOException {
        if (active() && server == null && Files.exists(etcDir.resolve("hosts"))) {
            writeInPlace(etcDir.resolve("hosts"), PodDns.hostsFile(pod, podIp, zone));
        }
    }

    /**
     * The same file, new content: a bind mount holds the file's inode, so the file is overwritten,
     * never replaced. It is written whole in one call and then cut to length, so a reader sees
     * the old names or the new ones, and at worst, for a moment, the new ones followed by the old tail.
     */
    private static void writeInPlace(Path file, String content) throws IOException {
        byte[] bytes = content.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        // the pod can write the file (bound over its /etc/hosts, as in Kubernetes): it is read only when it
        // is the new content's size, so a pod that made it gigabytes long costs nothing but the rewrite
        try (var ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            if (ch.size() == bytes.length) {
                // at most one byte more than the new content is read, whatever the pod does to the file meanwhile
                java.nio.ByteBuffer now = java.nio.ByteBuffer.allocate(bytes.length + 1);
                while (now.hasRemaining() && ch.read(now, now.position()) > 0) {
                    // reads until the file ends or one byte past the new content's length
                }
                if (now.position() == bytes.length && java.util.Arrays.equals(now.array(), 0, bytes.length, bytes, 0, bytes.length)) {
                    return;
                }
            }
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf, buf.position());
            }
            ch.truncate(bytes.length);
        }
    }

    /** The pod's /etc files in {@code etcDir} when cluster DNS gives pods files of their own, else null (the machine's). */
    Path hostsFile(Path etcDir) {
        return active() ? etcDir.resolve("hosts") : null;
    }

    /** As {@link #hostsFile}, for resolv.conf. */
    Path resolvConf(Path etcDir) {
        return active() ? etcDir.resolve("resolv.conf") : null;
    }

    /**
     * {@code host} as a pod of {@code namespace} resolves it in the cluster (its search path, then
     * the name as given): an address, or {@code host} unchanged when the cluster does not know it.
     * Probes' {@code host} fields go through this.
     */
    String resolve(String host, String namespace) {
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            return host;
        }
        DnsZone z = zone;
        List<String> candidates = new ArrayList<>();
        String domain = z.domain();
        boolean absolute = host.endsWith(".");
        long dots = host.chars().filter(c -> c == '.').count();
        if (!absolute && dots < 5) {
            candidates.add(host + "." + namespace + ".svc." + domain);
            candidates.add(host + ".svc." + domain);
            candidates.add(host + "." + domain);
        }
        candidates.add(host);
        for (String c : candidates) {
            List<InetAddress> found = z.lookup(c);
            if (!found.isEmpty()) {
                return found.getFirst().getHostAddress();
            }
        }
        return host;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }

    static void logOnce(ClusterDns dns) {
        if (dns.server == null && dns.options.mode() != DnsOptions.Mode.OFF) {
            log.warn(dns.describe());
        } else {
            log.info(dns.describe());
        }
    }
}
