package dev.portway.cli;

import dev.portway.api.ServiceAnnotations;
import dev.portway.api.decode.Manifests;
import dev.portway.api.decode.ObjectDecoder;
import dev.portway.control.ApiServer;
import dev.portway.control.ClusterConfig;
import dev.portway.control.alloc.PortRange;
import dev.portway.net.Cidr;
import dev.portway.proxy.HttpSettings;
import dev.portway.runtime.DnsOptions;
import dev.portway.runtime.LocalCluster;
import dev.portway.runtime.LocalClusterOptions;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code portway up}: runs a local cluster until Ctrl-C. */
@Command(name = "up", mixinStandardHelpOptions = true, description = {
        "Run a local cluster in this process until Ctrl-C.",
        "Nodes are loopback addresses, pods are processes, and the ClusterIP, NodePort and LoadBalancer addresses of "
                + "Services carry real traffic. The API server (HTTPS, token or client certificate) is what kubectl and "
                + "the other portway commands talk to; its kubeconfig is written to the state directory."})
final class UpCommand implements Callable<Integer> {

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--filename"}, paramLabel = "PATH",
            description = "Run these manifests (file, directory or -) instead of the built-in example.")
    List<String> files = new ArrayList<>();

    @Option(names = "--admin-address", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8001",
            description = "Where the API server listens (default: ${DEFAULT-VALUE}). It always serves HTTPS and "
                    + "authenticates every request; an address other than loopback makes it reachable from the network.")
    String adminAddress;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where the API server's CA, certificates, token and kubeconfig are kept, mode 0700 "
                    + "(default: $XDG_STATE_HOME/portway, else ~/.local/state/portway).")
    Path stateDir;

    @Option(names = "--write-kubeconfig", paramLabel = "PATH",
            description = "Also merge a `portway` cluster, user and context into this kubeconfig (for example ~/.kube/config); "
                    + "its other entries and its current context are kept.")
    Path writeKubeconfig;

    @Option(names = "--nodes", paramLabel = "N", defaultValue = "2", description = "How many nodes (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--service-node-port-range", paramLabel = "RANGE", defaultValue = "30000-32767",
            description = "Where nodePorts come from (default: ${DEFAULT-VALUE}).")
    String nodePortRange;

    @Option(names = "--service-cluster-ip-range", paramLabel = "CIDR", defaultValue = "127.2.0.0/16",
            description = "Where ClusterIPs come from (default: ${DEFAULT-VALUE}).")
    String serviceCidr;

    @Option(names = "--default-pool", paramLabel = "CIDR|none", defaultValue = LocalClusterOptions.DEFAULT_POOL,
            description = "The built-in LoadBalancer address pool, or none (default: ${DEFAULT-VALUE}).")
    String defaultPool;

    @Option(names = "--node-addresses", paramLabel = "CIDR", defaultValue = "127.0.10.0/24",
            description = "Where the nodes' addresses come from, one per node (default: ${DEFAULT-VALUE}).")
    String nodeAddresses;

    @Option(names = "--pod-addresses", paramLabel = "CIDR", defaultValue = "127.1.0.0/16",
            description = "Where the pods' addresses come from, a /24 per node (default: ${DEFAULT-VALUE}).")
    String podAddresses;

    @picocli.CommandLine.Mixin
    ProxyOptions proxy = new ProxyOptions();

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Where applied objects and allocations are kept across restarts and crashes (default: STATE_DIR/data).")
    Path dataDir;

    @Option(names = "--ephemeral", description = "Keep nothing: start empty, and forget everything when stopped.")
    boolean ephemeral;

    @Option(names = "--lb-second-hop", description = "Send LoadBalancer traffic to a node through a real connection into "
            + "its NodePort, as a separate load balancer does (two relays), instead of handing it to the node's proxy in-process.")
    boolean lbSecondHop;

    @Option(names = "--cluster-dns", paramLabel = "auto|server|hosts|off", defaultValue = "auto",
            description = "How pods resolve Service names (docs/dns.md): a DNS server on port 53 of --cluster-dns-address; "
                    + "names written into each pod's /etc/hosts (hosts); auto: the server where port 53 can be bound, else hosts; "
                    + "off: the machine's resolver (default: ${DEFAULT-VALUE}).")
    String clusterDns;

    @Option(names = "--cluster-dns-address", paramLabel = "IP",
            description = "Where the cluster DNS server listens (default: the 10th address of the Service range, 127.2.0.10, "
                    + "as kube-dns's 10.96.0.10).")
    String clusterDnsAddress;

    @Option(names = "--http-header-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "Gateways: from a connection's or request's first byte to the end of its headers; slower clients get 408 "
                    + "(HAProxy's timeout http-request, Envoy's request_headers_timeout) (default: ${DEFAULT-VALUE}).")
    String httpHeaderTimeout;

    @Option(names = "--http-idle-timeout", paramLabel = "DURATION", defaultValue = "60s",
            description = "Gateways: how long a kept-alive connection may wait for its next request, or an HTTP/2 connection "
                    + "without a stream (HAProxy's timeout http-keep-alive, Envoy's idle_timeout) (default: ${DEFAULT-VALUE}).")
    String httpIdleTimeout;

    @Option(names = "--http-stream-idle-timeout", paramLabel = "DURATION", defaultValue = "5m",
            description = "Gateways: how long a request under way may move no byte either way before it is ended (408 while "
                    + "its body is awaited, 504 while its answer is); 0 turns it off (Envoy's stream_idle_timeout) "
                    + "(default: ${DEFAULT-VALUE}).")
    String httpStreamIdleTimeout;

    @Option(names = "--websocket-idle-timeout", paramLabel = "DURATION", defaultValue = "1h",
            description = "Gateways: how long a WebSocket may carry nothing either way before it is closed; 0 turns it off "
                    + "(HAProxy's timeout tunnel) (default: ${DEFAULT-VALUE}).")
    String webSocketIdleTimeout;

    @Option(names = "--http-max-connections", paramLabel = "N", defaultValue = "10000",
            description = "Gateways: client connections each listener holds at once; more are reset, so a flood on one "
                    + "leaves the others and the API alone (HAProxy's maxconn) (default: ${DEFAULT-VALUE}).")
    int httpMaxConnections;

    @Override
    public Integer call() throws Exception {
        int proxyThreads = proxy.threads();
        HttpSettings http = httpSettings();
        warmUpTls();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Manifests.Loaded loaded = files.isEmpty() ? builtInExample() : Manifests.load(files, main.stdin);
        Output.warnings(err, loaded.objects());
        if (!loaded.ok()) {
            Output.problems(err, loaded.problems());
            return 1;
        }
        List<HasMetadata> objects = new ArrayList<>();
        loaded.objects().forEach((ObjectDecoder.Decoded d) -> objects.add(d.object()));
        ClusterConfig config = ClusterConfig.local()
                .withNodePortRange(PortRange.parse(nodePortRange))
                .withServiceCidr(Cidr.parse(serviceCidr).orElseThrow(() -> new Main.CliException("not a CIDR: " + serviceCidr)));
        Path state = stateDir != null ? stateDir : Kubeconfig.defaultStateDir();
        LocalClusterOptions options = LocalClusterOptions.defaults()
                .withStateDir(state)
                .withClusterConfig(config)
                .withAdminAddress(parseAddress(adminAddress))
                .withNodes(nodes)
                .withNodeAddresses(addresses())
                .withDefaultPool("none".equals(defaultPool) ? null : defaultPool)
                .withTransport(proxy.transport())
                .withProxyThreads(proxyThreads);
        options = options.withKubelet(options.kubelet().withDns(dnsOptions(config)))
                .withDataDir(ephemeral ? null : dataDir != null ? dataDir : state.resolve("data"));
        LocalCluster cluster;
        try {
            cluster = new LocalCluster(options);
        } catch (java.io.UncheckedIOException | IllegalStateException e) {
            throw new Main.CliException(e.getMessage());
        }
        cluster.dataPlane().loadBalancerSecondHop(lbSecondHop);
        cluster.dataPlane().httpSettings(http);
        if (cluster.restoredObjects() > 0) {
            out.println("Restored " + cluster.restoredObjects() + " objects from " + options.dataDir() + " (--ephemeral starts empty)");
        }
        try {
            cluster.start();
        } catch (Exception e) {
            cluster.close();
            String why = e.getMessage() != null && e.getMessage().contains("Address already in use")
                    ? "the admin address " + adminAddress + " is in use (is another portway up running? stop it, or pass --admin-address)"
                    : String.valueOf(e.getMessage());
            throw new Main.CliException("cannot start: " + why);
        }
        java.net.InetAddress bound = cluster.adminAddress().getAddress();
        if (!bound.isLoopbackAddress()) {
            err.println("note: the API server listens on " + adminAddress + (bound.isAnyLocalAddress() ? " (every interface)" : "")
                    + ", reachable from the network; every request needs TLS and the token or a client certificate in " + state);
        }
        if ("root".equals(System.getProperty("user.name"))) {
            err.println("note: running as root: every pod's processes run as root too (pods are processes of the user who runs "
                    + "Portway); for ports below 1024 as an ordinary user: sudo sysctl net.ipv4.ip_unprivileged_port_start=53");
        }
        Path kubeconfig = state.resolve("kubeconfig");
        try {
            Kubeconfig.write(kubeconfig, cluster.adminUrl(), cluster.credentials(), true);
            if (writeKubeconfig != null) {
                // it names the token's file (in the state directory, which pods cannot see) rather than holding
                // the token: pods are processes of this user, and ~/.kube/config is theirs to read
                Kubeconfig.write(writeKubeconfig, cluster.adminUrl(), cluster.credentials(), false, true);
            }
        } catch (java.io.IOException e) {
            cluster.close();
            throw new Main.CliException("cannot write the kubeconfig: " + e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            cluster.shutdown(java.time.Duration.ofSeconds(5));
            stopped.countDown();
        }, "portway-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        List<ApiServer.Applied> applied;
        try {
            applied = cluster.apply(objects);
        } catch (ApiServer.ApplyException e) {
            e.failures().forEach(f -> err.println(f.error().kubectlMessage()));
            err.println("error: nothing was applied");
            Runtime.getRuntime().removeShutdownHook(hook);
            cluster.close();
            return 1;
        }
        for (ApiServer.Applied a : applied) {
            out.println(a.key().kind().objectRef(a.key().name()) + " " + a.action().word());
        }
        new UpSummary(cluster, main.clock, out).print(applied, kubeconfig, writeKubeconfig);
        out.flush();
        stopped.await();
        return 0;
    }

    private DnsOptions dnsOptions(ClusterConfig config) {
        DnsOptions.Mode mode;
        try {
            mode = DnsOptions.Mode.valueOf(clusterDns.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Main.CliException("--cluster-dns: " + clusterDns + " (expected auto, server, hosts or off)");
        }
        String address = clusterDnsAddress != null ? clusterDnsAddress
                : dev.portway.net.Ipv4.format(config.serviceCidr().network() + 10);
        java.net.InetAddress ip = io.netty.util.NetUtil.createInetAddressFromIpAddressString(address);
        if (ip == null) {
            throw new Main.CliException("--cluster-dns-address: not an IP address: " + address);
        }
        if (mode != DnsOptions.Mode.OFF && mode != DnsOptions.Mode.HOSTS && !ip.isLoopbackAddress()) {
            spec.commandLine().getErr().println("note: cluster DNS on " + address + (ip.isAnyLocalAddress() ? " (every interface)" : "")
                    + " answers anyone who can reach it, and forwards their other names to this machine's nameservers");
        }
        return DnsOptions.defaults().withMode(mode).withAddress(ip);
    }

    private dev.portway.runtime.LocalNode.Addresses addresses() {
        Cidr nodeCidr = Cidr.parse(nodeAddresses).orElseThrow(() -> new Main.CliException("--node-addresses: not a CIDR: " + nodeAddresses));
        Cidr podCidr = Cidr.parse(podAddresses).orElseThrow(() -> new Main.CliException("--pod-addresses: not a CIDR: " + podAddresses));
        try {
            return new dev.portway.runtime.LocalNode.Addresses(nodeCidr, podCidr);
        } catch (IllegalArgumentException e) {
            throw new Main.CliException(e.getMessage());
        }
    }

    /** The gateways' timeouts and connection cap from their options; each a duration as annotations take them ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}). */
    HttpSettings httpSettings() {
        return HttpSettings.DEFAULTS.withHeaderTimeout(duration("--http-header-timeout", httpHeaderTimeout, false))
                .withIdleTimeout(duration("--http-idle-timeout", httpIdleTimeout, false))
                .withStreamIdleTimeout(duration("--http-stream-idle-timeout", httpStreamIdleTimeout, true))
                .withTunnelIdleTimeout(duration("--websocket-idle-timeout", webSocketIdleTimeout, true))
                .withMaxConnections(positive("--http-max-connections", httpMaxConnections));
    }

    private static int positive(String option, int n) {
        if (n < 1) {
            throw new Main.CliException(option + ": " + n + " (expected: 1 or more)");
        }
        return n;
    }

    private static java.time.Duration duration(String option, String text, boolean zeroTurnsOff) {
        java.time.Duration d = ServiceAnnotations.parseDuration(text);
        if (d == null || d.isZero() && !zeroTurnsOff) {
            throw new Main.CliException(option + ": " + text + " (expected a duration such as 500ms, 30s, 5m or 1h"
                    + (zeroTurnsOff ? ", or 0 to turn it off)" : ", more than 0)"));
        }
        return d;
    }

    private static Manifests.Loaded builtInExample() throws java.io.IOException {
        try (var in = UpCommand.class.getResourceAsStream("/examples/seed/app.yaml")) {
            if (in == null) {
                throw new Main.CliException("the built-in example is missing from the jar; run ./portway up -f examples/seed");
            }
            return Manifests.loadText("examples/seed/app.yaml", new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    static InetSocketAddress parseAddress(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new Main.CliException("address " + text + " (expected: HOST:PORT)");
        }
        return new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    }

    /**
     * Initializes the JDK's TLS provider, as the API server's first TLS context will, on a thread of
     * its own: a few hundred milliseconds of a start that the main thread spends meanwhile reading
     * the manifests and the credentials, and building the cluster (whichever comes second waits for
     * the first, as class initialization does).
     */
    private static void warmUpTls() {
        Thread.ofPlatform().daemon().name("portway-warm-up").start(() -> {
            try {
                Class.forName("io.netty.handler.ssl.JdkSslContext", true, UpCommand.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                // the API server's start reports any real problem
            }
        });
    }
}
