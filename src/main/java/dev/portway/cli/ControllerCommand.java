package dev.portway.cli;

import dev.portway.api.ResourceKind;
import dev.portway.api.decode.Manifests;
import dev.portway.api.decode.ObjectDecoder;
import dev.portway.control.ApiServer;
import dev.portway.control.ClusterConfig;
import dev.portway.incluster.InClusterController;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code portway controller}: the LoadBalancer implementation of a real cluster, until stopped. */
@Command(name = "controller", mixinStandardHelpOptions = true, description = {
        "Be the LoadBalancer implementation of a Kubernetes cluster, until stopped (as MetalLB or cloud-provider-kind).",
        "Watches the cluster's Services through its API server, gives each LoadBalancer Service of its class (or of none) "
                + "an address from the IPAddressPools given with -f (without -f: the cluster's own, in metallb-system, as "
                + "MetalLB reads them), writes it to the Service's status.loadBalancer, and "
                + "balances the connections to that address over the nodes' NodePorts, which kube-proxy serves. The pools' "
                + "addresses must reach this machine: Portway listens at them, it does not announce them."})
final class ControllerCommand implements Callable<Integer> {

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--filename"}, paramLabel = "PATH",
            description = "The IPAddressPools (metallb.io/v1beta1) the addresses come from: file, directory or -. "
                    + "Without it, the cluster's IPAddressPools in metallb-system, followed as they change.")
    List<String> files = new ArrayList<>();

    @Option(names = "--kubeconfig", paramLabel = "PATH",
            description = "The cluster's kubeconfig (default: $KUBECONFIG, else ~/.kube/config, else the pod's service account).")
    Path kubeconfig;

    @Option(names = "--context", paramLabel = "NAME", description = "The kubeconfig context to use (default: its current context).")
    String context;

    @Option(names = "--load-balancer-class", paramLabel = "CLASS", defaultValue = ClusterConfig.DEFAULT_LOAD_BALANCER_CLASS,
            description = "The spec.loadBalancerClass handled (default: ${DEFAULT-VALUE}, which also takes Services that name none;"
                    + " another class leaves those to the cluster's default implementation).")
    String loadBalancerClass;

    @Option(names = "--node-health-port", paramLabel = "PORT", defaultValue = "10256",
            description = "Where each node answers GET /healthz, as kube-proxy does (default: ${DEFAULT-VALUE}); with "
                    + "externalTrafficPolicy: Local a node is checked at the Service's healthCheckNodePort instead.")
    int nodeHealthPort;

    @Option(names = "--metrics-address", paramLabel = "HOST:PORT|none", defaultValue = "127.0.0.1:7472",
            description = "Where GET /metrics, /healthz (liveness) and /readyz (watching the cluster) are served over plain HTTP, "
                    + "or none (default: ${DEFAULT-VALUE}).")
    String metricsAddress;

    @picocli.CommandLine.Mixin
    ProxyOptions proxy = new ProxyOptions();

    @Option(names = "--sync-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long the first lists of the cluster's Services, Nodes, EndpointSlices and Namespaces may take "
                    + "(default: ${DEFAULT-VALUE}).")
    int syncTimeoutSeconds;

    private Config clientConfig() {
        if (kubeconfig != null && !java.nio.file.Files.isReadable(kubeconfig)) {
            throw new Main.CliException("cannot read the kubeconfig " + kubeconfig + ": no such file, or not readable");
        }
        try {
            return kubeconfig != null ? Config.fromKubeconfig(context, kubeconfig.toFile()) : Config.autoConfigure(context);
        } catch (KubernetesClientException | IllegalArgumentException e) {
            throw new Main.CliException("cannot read the kubeconfig: " + e.getMessage());
        }
    }

    /**
     * The API server's version, asked once with no retries (the controller's own requests retry):
     * an unreachable or refusing server is told at once.
     */
    private static String version(Config config) {
        try (KubernetesClient once = new KubernetesClientBuilder()
                .withConfig(new io.fabric8.kubernetes.client.ConfigBuilder(config).withRequestRetryBackoffLimit(0).build()).build()) {
            return once.getKubernetesVersion().getGitVersion();
        } catch (KubernetesClientException e) {
            // the deepest cause that says something (fabric8's own is "An error has occurred."; the JDK's
            // client refused a connection with a ConnectException that says nothing)
            String why = e.getMessage();
            for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                if (t instanceof java.net.ConnectException) {
                    why = "cannot connect" + (t.getMessage() == null ? "" : ": " + t.getMessage());
                    break;
                }
                if (t.getMessage() != null) {
                    why = t.getMessage();
                }
            }
            throw new Main.CliException("cannot reach the API server at " + config.getMasterUrl() + ": " + why);
        }
    }

    @Override
    public Integer call() throws Exception {
        int proxyThreads = proxy.threads();
        if (nodeHealthPort < 1 || nodeHealthPort > 65535) {
            throw new Main.CliException("--node-health-port: " + nodeHealthPort + " (expected: 1-65535)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<HasMetadata> pools = new ArrayList<>();
        if (!files.isEmpty()) {
            Manifests.Loaded loaded = Manifests.load(files, main.stdin);
            Output.warnings(err, loaded.objects());
            if (!loaded.ok()) {
                Output.problems(err, loaded.problems());
                return 1;
            }
            for (ObjectDecoder.Decoded d : loaded.objects()) {
                if (ResourceKind.of(d.object()) != ResourceKind.IP_ADDRESS_POOL) {
                    err.println("error: " + d.object().getKind() + " " + d.object().getMetadata().getName()
                            + ": portway controller takes IPAddressPools only (the cluster's objects come from its API server)");
                    return 1;
                }
                pools.add(d.object());
            }
            if (pools.isEmpty()) {
                err.println("error: no IPAddressPool in " + String.join(", ", files));
                return 1;
            }
        }
        InClusterController controller;
        try {
            controller = new InClusterController(new InClusterController.Options(loadBalancerClass, nodeHealthPort, proxy.transport(),
                    proxyThreads, pools, Duration.ofSeconds(syncTimeoutSeconds),
                    "none".equals(metricsAddress) ? null : UpCommand.parseAddress(metricsAddress)));
        } catch (ApiServer.ApplyException e) {
            e.failures().forEach(f -> err.println(f.error().kubectlMessage()));
            return 1;
        }
        Config config;
        String version;
        try {
            config = clientConfig();
            version = version(config);
        } catch (RuntimeException e) {
            controller.close();
            throw e;
        }
        KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
        try {
            controller.start(client);
        } catch (TimeoutException e) {
            controller.close();
            client.close();
            throw new Main.CliException("cannot start: the cluster's objects were not listed within " + syncTimeoutSeconds
                    + "s from " + config.getMasterUrl());
        } catch (Exception e) {
            // the metrics address in use comes as a BindException, which Netty throws unchecked
            controller.close();
            client.close();
            throw new Main.CliException("cannot start: " + e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            controller.close();
            client.close();
            stopped.countDown();
        }, "portway-shutdown"));
        out.println("Portway is the LoadBalancer implementation of " + config.getMasterUrl() + " (Kubernetes " + version + ") for Services of class "
                + loadBalancerClass + (ClusterConfig.handles(loadBalancerClass, null) ? " or of none." : "."));
        List<dev.portway.api.metallb.IPAddressPool> current = controller.pools();
        if (controller.poolsFromCluster()) {
            out.println("Pools: the cluster's IPAddressPools in " + dev.portway.api.validation.MetalLbValidation.NAMESPACE
                    + (current.isEmpty() ? " (none yet: LoadBalancer Services wait for one)" : ", followed as they change:"));
        }
        for (dev.portway.api.metallb.IPAddressPool pool : current) {
            out.println("  pool " + pool.getMetadata().getName() + ": " + String.join(", ", pool.getSpec().getAddresses()));
        }
        if (controller.metricsAddress() != null) {
            var m = controller.metricsAddress();
            out.println("Metrics: http://" + io.netty.util.NetUtil.toSocketAddressString(m.getAddress().getHostAddress(), m.getPort()) + "/metrics");
        }
        out.println("Data plane: " + controller.dataPlane().describe() + " (--transport, --proxy-threads)");
        out.println("Ctrl-C stops the controller (the Services keep their addresses in the cluster).");
        out.flush();
        stopped.await();
        return 0;
    }
}
