package dev.portway.testing;

import static org.awaitility.Awaitility.await;

import dev.portway.api.ResourceKind;
import dev.portway.control.ApiServer;
import dev.portway.control.DeleteOptions;
import dev.portway.control.Pods;
import dev.portway.net.Cidr;
import dev.portway.runtime.LocalCluster;
import dev.portway.runtime.LocalClusterOptions;
import dev.portway.runtime.LocalNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerStatus;
import io.fabric8.kubernetes.api.model.networking.v1.IngressStatus;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * A running local cluster for data plane tests, with waits for the states tests need.
 *
 * <p>Tests run as an ordinary user: their Services listen on ports 1024 and up ({@link #apply}
 * refuses lower ones, which only root may bind; the built-in example on port 80 is
 * {@code QuickStartIT}'s, run in a network namespace of its own). And each test JVM takes a block
 * {@code b} (20-249) of loopback addresses of its own: nodes 127.0.b.N, pods 127.b.N.x, the
 * LoadBalancer pool 127.3.b.0/25; so the suite runs beside a {@code portway up} (127.0.10.N,
 * 127.1.N.x, 127.3.0.0/24) and beside another run of the suite on the same machine.
 */
public final class TestCluster implements AutoCloseable {

    /** This JVM's address block. */
    public static final int BLOCK = 20 + new SecureRandom().nextInt(230);

    /** The default LoadBalancer pool of the tests' clusters. */
    public static final String POOL = "127.3." + BLOCK + ".0/25";

    private final LocalCluster cluster;

    public TestCluster() throws InterruptedException {
        this(options());
    }

    /** {@link LocalClusterOptions#defaults()} with this JVM's addresses: start from these in tests. */
    public static LocalClusterOptions options() {
        return LocalClusterOptions.defaults()
                .withNodeAddresses(new LocalNode.Addresses(Cidr.of("127.0." + BLOCK + ".0/24"), Cidr.of("127." + BLOCK + ".0.0/16")))
                .withDefaultPool(POOL)
                .withIngressPorts(new dev.portway.plan.IngressPorts(INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT))
                // names in the pods' hosts files: no DNS server that two clusters of one JVM could both want
                .withKubelet(LocalClusterOptions.defaults().kubelet().withDns(dns(dev.portway.runtime.DnsOptions.Mode.HOSTS)));
    }

    /** Cluster DNS as {@code mode} says, on this JVM's DNS address (127.0.BLOCK.253). */
    public static dev.portway.runtime.DnsOptions dns(dev.portway.runtime.DnsOptions.Mode mode) {
        try {
            return dev.portway.runtime.DnsOptions.defaults().withMode(mode)
                    .withAddress(java.net.InetAddress.getByName("127.0." + BLOCK + ".253"));
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Where the Ingress controller listens in tests (80 and 443 need root). */
    public static final int INGRESS_HTTP_PORT = 18080;
    public static final int INGRESS_HTTPS_PORT = 18443;

    /** The {@code n}th address of the pool (1: the first one a LoadBalancer gets). */
    public static String poolIp(int n) {
        return "127.3." + BLOCK + "." + n;
    }

    /** An address outside the default pool (n: 0-127), for a test's own IPAddressPool. */
    public static String spareLoadBalancerIp(int n) {
        return "127.3." + BLOCK + "." + (128 + n);
    }

    public TestCluster(LocalClusterOptions options) throws InterruptedException {
        this.cluster = new LocalCluster(options).start();
    }

    public LocalCluster local() {
        return cluster;
    }

    /** The address of node {@code n} (1, 2...). */
    public String nodeIp(int n) {
        return cluster.nodes().get(n - 1).ip();
    }

    public List<ApiServer.Applied> apply(String yaml) {
        return apply(TestApi.decode(yaml));
    }

    public List<ApiServer.Applied> apply(List<HasMetadata> objects) {
        for (HasMetadata o : objects) {
            if (o instanceof Service s && s.getSpec() != null && s.getSpec().getPorts() != null) {
                for (ServicePort p : s.getSpec().getPorts()) {
                    if (p.getPort() != null && p.getPort() < 1024) {
                        throw new IllegalArgumentException("Service " + s.getMetadata().getName() + " port " + p.getPort()
                                + ": tests use ports 1024 and up, which a user who is not root can bind (port 80 is QuickStartIT's)");
                    }
                }
            }
        }
        return cluster.apply(objects);
    }

    public void delete(ResourceKind kind, String name) {
        cluster.control().call(() -> cluster.control().api().delete(kind, "default", name, DeleteOptions.DEFAULT));
    }

    public Service service(String name) {
        return cluster.store().get(Service.class, "default", name).orElseThrow();
    }

    public String clusterIp(String service) {
        return service(service).getSpec().getClusterIP();
    }

    public int nodePort(String service) {
        return service(service).getSpec().getPorts().getFirst().getNodePort();
    }

    /** Waits for the Service's LoadBalancer address and for its listener to be open. */
    public String loadBalancerIp(String service) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            Service s = service(service);
            return s.getStatus() != null && s.getStatus().getLoadBalancer() != null
                    && s.getStatus().getLoadBalancer().getIngress() != null && !s.getStatus().getLoadBalancer().getIngress().isEmpty();
        });
        return service(service).getStatus().getLoadBalancer().getIngress().getFirst().getIp();
    }

    public List<Pod> pods(String app) {
        return cluster.store().list(Pod.class, "default").stream()
                .filter(p -> p.getMetadata().getLabels() != null && Objects.equals(app, p.getMetadata().getLabels().get("app")))
                .toList();
    }

    /** Waits until exactly {@code n} pods labelled app={@code app} exist and are all ready (none terminating). */
    public List<Pod> awaitReady(String app, int n) {
        return awaitReady(app, n, Duration.ofSeconds(15));
    }

    public List<Pod> awaitReady(String app, int n, Duration atMost) {
        await().atMost(atMost).until(() -> {
            List<Pod> pods = pods(app);
            return pods.size() == n && pods.stream().allMatch(p -> Pods.isReady(p) && !Pods.isTerminating(p));
        });
        cluster.control().awaitIdle();
        return pods(app);
    }

    public Pod pod(String name) {
        return cluster.store().get(Pod.class, "default", name).orElseThrow(() -> new AssertionError("no pod " + name));
    }

    /** What the pod's (only) container has written, as {@code portway logs} prints it. */
    public String log(String pod) {
        return readAll(cluster.kubelet().open("default", pod, null, false));
    }

    /** All of a log that is there now. */
    public static String readAll(dev.portway.admin.PodLogs.LogStream log) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        long pos = log.tailStart(-1);
        for (var c = log.read(pos, buf); c.count() > 0; c = log.read(pos, buf)) {
            out.write(buf, 0, c.count());
            pos = c.next();
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The directory that holds volume {@code volume} of {@code pod} on this machine. */
    public java.nio.file.Path volumeDir(Pod pod, String volume) {
        var m = pod.getMetadata();
        return cluster.kubelet().stateDir().resolve("pods").resolve(m.getNamespace() + "_" + m.getName() + "_" + m.getUid())
                .resolve("volumes").resolve(volume);
    }

    /** A bare pod with one container that runs {@code sh -c script}. */
    public static String shellPod(String name, String restartPolicy, String script) {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                spec:
                  restartPolicy: %s
                  containers:
                  - name: app
                    image: busybox
                    command: [sh, -c, '%s']
                """.formatted(name, restartPolicy, script);
    }

    /**
     * Waits for a Gateway's address in its status, and for the control plane to act on it (the plan
     * with its listeners); returns it with {@code port}.
     */
    public InetSocketAddress gatewayAddress(String name, int port) {
        return awaitAddress(() -> cluster.store().get(Gateway.class, "default", name).map(Gateway::getStatus)
                .map(GatewayStatus::getAddresses).filter(a -> !a.isEmpty()).map(a -> a.getFirst().getValue()).orElse(null), port);
    }

    /** Waits for an Ingress's address in its status, as {@link #gatewayAddress}; returns it with the Ingress controller's HTTP port. */
    public InetSocketAddress ingressAddress(String name) {
        return awaitAddress(() -> cluster.store().get(Ingress.class, "default", name).map(Ingress::getStatus)
                .map(IngressStatus::getLoadBalancer).map(IngressLoadBalancerStatus::getIngress).filter(a -> !a.isEmpty())
                .map(a -> a.getFirst().getIp()).orElse(null), INGRESS_HTTP_PORT);
    }

    private InetSocketAddress awaitAddress(Supplier<String> ip, int port) {
        await().atMost(Duration.ofSeconds(10)).until(() -> ip.get() != null);
        cluster.control().awaitIdle();
        return new InetSocketAddress(ip.get(), port);
    }

    /** Waits until the data plane has applied everything the control plane knows, and every listener is open. */
    public void settle() {
        cluster.control().awaitIdle();
        cluster.dataPlane().settled().join();
        Map<String, String> failed = new TreeMap<>(cluster.dataPlane().listenerStatus());
        failed.values().removeIf(state -> !state.startsWith("failed"));
        if (!failed.isEmpty()) {
            throw new AssertionError("listeners failed: " + failed);
        }
    }

    @Override
    public void close() {
        cluster.close();
    }

    /** A Gateway of Portway's class with one HTTP listener, {@code http} on {@code port}. */
    public static String httpGateway(String name, int port) {
        return """
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: %s}
                spec:
                  gatewayClassName: portway
                  listeners:
                  - {name: http, protocol: HTTP, port: %d}
                """.formatted(name, port);
    }

    /** {@link #echoDeployment} and a LoadBalancer Service of the same name on {@code port} to the pods' http port. */
    public static String echoLoadBalancer(String app, int replicas, int port) {
        return echoService(app, replicas, "LoadBalancer", port);
    }

    /** {@link #echoDeployment} and a Service of the same name on port 8000 to the pods' http port: a backend for routes. */
    public static String echoBackend(String app, int replicas) {
        return echoService(app, replicas, "ClusterIP", 8000);
    }

    private static String echoService(String app, int replicas, String type, int port) {
        return echoDeployment(app, replicas, null) + """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: %1$s}
                spec:
                  type: %2$s
                  selector: {app: %1$s}
                  ports:
                  - {port: %3$d, targetPort: http}
                """.formatted(app, type, port);
    }

    /**
     * The application the restart tests keep: {@code replicas} echo pods ({@code app: kept}) behind a
     * NodePort Service {@code kept} (port 8000) and a LoadBalancer Service {@code kept-lb} (8001).
     */
    public static String keptApp(int replicas) {
        return echoDeployment("kept", replicas, null) + """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: kept}
                spec:
                  type: NodePort
                  selector: {app: kept}
                  ports: [{port: 8000, targetPort: http}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: kept-lb}
                spec:
                  type: LoadBalancer
                  selector: {app: kept}
                  ports: [{port: 8001, targetPort: http}]
                """;
    }

    /**
     * A Service without a selector on port 8000, with {@code annotations} (YAML lines, indented as
     * under {@code annotations:}), and an EndpointSlice of its own to {@code address}:{@code port}:
     * a backend outside the cluster (a test's own socket).
     */
    public static String serviceTo(String name, String annotations, int port, String address) {
        return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %1$s
                  annotations:
                %2$s
                spec:
                  ports:
                  - {port: 8000, targetPort: %3$d}
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: %1$s-1
                  labels:
                    kubernetes.io/service-name: %1$s
                addressType: IPv4
                ports:
                - {port: %3$d}
                endpoints:
                - addresses: ["%4$s"]
                """.formatted(name, annotations.stripIndent().strip().indent(4).stripTrailing(), port, address);
    }

    public static String echoDeployment(String app, int replicas, String extraPodSpec) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: %1$s
                spec:
                  replicas: %2$d
                  selector:
                    matchLabels: {app: %1$s}
                  template:
                    metadata:
                      labels: {app: %1$s}
                    spec:
                %3$s      containers:
                      - name: echo
                        image: portway/echo
                        ports:
                        - {name: http, containerPort: 8080}
                        - {name: dns, containerPort: 5353, protocol: UDP}
                """.formatted(app, replicas, extraPodSpec == null ? "" : extraPodSpec.stripIndent().indent(6));
    }
}
