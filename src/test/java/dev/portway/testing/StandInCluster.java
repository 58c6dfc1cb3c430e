package dev.portway.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.portway.admin.AdminServer;
import dev.portway.admin.auth.AdminCredentials;
import dev.portway.api.validation.ValidationOptions;
import dev.portway.control.ClusterConfig;
import dev.portway.control.ControlPlane;
import dev.portway.control.DeleteOptions;
import dev.portway.control.alloc.PortRange;
import dev.portway.net.Cidr;
import dev.portway.net.Transport;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Kubernetes cluster for {@code portway controller} to serve, as far as one runs here: a real
 * Kubernetes API server cannot, so its API server is Portway's own (the one kubectl is tested
 * against) with no local runtime, and its nodes are loopback addresses where this class plays
 * kube-proxy: a Service's NodePort answers with the node's name, and {@code /healthz} on one port
 * answers 200 or 503 as the test says.
 *
 * <p>The cluster's own LoadBalancer implementation is of another class ({@link #CLOUD_CLASS}, a
 * cloud's): it leaves Portway's Services alone.
 */
public final class StandInCluster implements AutoCloseable {

    public static final String NODE_A = "127.0.61.1";
    public static final String NODE_B = "127.0.61.2";
    public static final String PORTWAY_CLASS = ClusterConfig.DEFAULT_LOAD_BALANCER_CLASS;
    public static final String CLOUD_CLASS = "cloud.example.com/lb";

    private final AdminCredentials credentials;
    private final ControlPlane control;
    private final EventLoopGroup group;
    private final AdminServer apiServer;
    private final String url;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final Map<String, AtomicBoolean> healthy = new HashMap<>();
    private final int healthPort;

    public StandInCluster(Path stateDir) throws IOException, InterruptedException {
        credentials = AdminCredentials.loadOrCreate(stateDir, List.of("127.0.0.1"), Clock.systemUTC());
        ClusterConfig config = new ClusterConfig(Cidr.of("10.96.0.0/16"), PortRange.DEFAULT_NODE_PORTS, ValidationOptions.CLUSTER,
                CLOUD_CLASS, Clock.systemUTC(), null);
        control = new ControlPlane(new Store(), config, new Random(1));
        TestApi.apply(control, TestApi.decode("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: default
                ---
                """ + node("node-a", NODE_A) + "---\n" + node("node-b", NODE_B)));
        group = Transport.NIO.newGroup(1, "cluster-api");
        apiServer = new AdminServer(control, Transport.NIO, group, AdminServer.Options.defaults(credentials));
        url = "https://127.0.0.1:" + apiServer.start(new InetSocketAddress("127.0.0.1", 0)).getPort();
        HttpServer first = health(NODE_A, 0);
        healthPort = first.getAddress().getPort();
        health(NODE_B, healthPort);
    }

    private static String node(String name, String address) {
        return """
                apiVersion: v1
                kind: Node
                metadata:
                  name: %s
                status:
                  addresses:
                  - type: InternalIP
                    address: %s
                  conditions:
                  - type: Ready
                    status: "True"
                """.formatted(name, address);
    }

    /** The manifest of an IPAddressPool {@code edge} in metallb-system, with these addresses (YAML's list, or a CIDR). */
    public static String pool(String addresses) {
        return """
                apiVersion: metallb.io/v1beta1
                kind: IPAddressPool
                metadata:
                  name: edge
                  namespace: metallb-system
                spec:
                  addresses: [%s]
                """.formatted(addresses);
    }

    public String url() {
        return url;
    }

    public AdminCredentials credentials() {
        return credentials;
    }

    public ControlPlane control() {
        return control;
    }

    /** A client's configuration for the API server: its CA and the admin token. */
    public Config clientConfig() {
        return new ConfigBuilder(Config.empty()).withMasterUrl(url).withCaCertFile(credentials.caFile().toString())
                .withOauthToken(credentials.token()).build();
    }

    /** Where every node's kube-proxy answers {@code /healthz}. */
    public int healthPort() {
        return healthPort;
    }

    /** Whether a node's kube-proxy says it is healthy. */
    public void setHealthy(String node, boolean ok) {
        healthy.get(node).set(ok);
    }

    private HttpServer health(String node, int port) throws IOException {
        AtomicBoolean ok = new AtomicBoolean(true);
        healthy.put(node, ok);
        HttpServer server = HttpServer.create(new InetSocketAddress(node, port), 16);
        server.createContext("/healthz", x -> answer(x, ok.get() ? 200 : 503, ok.get() ? "ok" : "down"));
        server.start();
        closing.add(() -> server.stop(0));
        return server;
    }

    /** Serves a NodePort on both nodes as kube-proxy would, each answering with its node's name. */
    public void serveNodePort(int port) throws IOException {
        for (String[] n : new String[][] {{NODE_A, "node-a"}, {NODE_B, "node-b"}}) {
            HttpServer server = HttpServer.create(new InetSocketAddress(n[0], port), 64);
            server.createContext("/", x -> answer(x, 200, n[1]));
            server.start();
            closing.add(() -> server.stop(0));
        }
    }

    /**
     * Serves a Service's health check node port on both nodes as kube-proxy does for the Local
     * traffic policy: {@code GET /} answers 200 on a node with a local endpoint, 503 elsewhere.
     */
    public void serveHealthCheckNodePort(int port, String nodeWithEndpoints) throws IOException {
        for (String node : new String[] {NODE_A, NODE_B}) {
            boolean local = node.equals(nodeWithEndpoints);
            HttpServer server = HttpServer.create(new InetSocketAddress(node, port), 16);
            server.createContext("/", x -> answer(x, local ? 200 : 503, local ? "{\"localEndpoints\": 1}" : "{\"localEndpoints\": 0}"));
            server.start();
            closing.add(() -> server.stop(0));
        }
    }

    private static void answer(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    /**
     * Creates a LoadBalancer Service of class {@code cls} on port 8080 with one ready endpoint on
     * node-a, and returns its nodePort.
     */
    public int loadBalancer(String name, String cls) {
        return loadBalancer(name, cls, "Cluster");
    }

    /** {@link #loadBalancer(String, String)} with this {@code externalTrafficPolicy}. */
    public int loadBalancer(String name, String cls, String trafficPolicy) {
        TestApi.apply(control, TestApi.decode(service(name, """
                  type: LoadBalancer
                  externalTrafficPolicy: %s
                  loadBalancerClass: %s
                """.formatted(trafficPolicy, cls)) + """
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: %1$s-1
                  namespace: default
                  labels:
                    kubernetes.io/service-name: %1$s
                addressType: IPv4
                endpoints:
                - addresses: [10.244.1.5]
                  conditions:
                    ready: true
                  nodeName: node-a
                ports:
                - port: 80
                  protocol: TCP
                """.formatted(name)));
        return service(name).getSpec().getPorts().getFirst().getNodePort();
    }

    /** Makes a Service of {@link #loadBalancer} a ClusterIP Service (its type, class and policy go). */
    public void toClusterIp(String name) {
        TestApi.apply(control, TestApi.decode(service(name, "  type: ClusterIP\n")));
    }

    /** A Service {@code name} in default on port 8080 to the pods' 80, selecting app={@code name}; {@code spec} adds to its spec. */
    private static String service(String name, String spec) {
        return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %1$s
                  namespace: default
                spec:
                """.formatted(name) + spec + """
                  selector:
                    app: %1$s
                  ports:
                  - port: 8080
                    targetPort: 80
                """.formatted(name);
    }

    /** The Service as the cluster's store holds it. */
    public Service service(String name) {
        return control.call(() -> control.store().get(Service.class, "default", name).orElseThrow());
    }

    public void delete(String service) {
        control.call(() -> control.api().delete(dev.portway.api.ResourceKind.SERVICE, "default", service, DeleteOptions.DEFAULT));
    }

    /** The first address of a Service's {@code status.loadBalancer.ingress}, or null. */
    public String ingressIp(String service) {
        Service svc = service(service);
        var ingress = svc.getStatus() == null || svc.getStatus().getLoadBalancer() == null ? null : svc.getStatus().getLoadBalancer().getIngress();
        return ingress == null || ingress.isEmpty() ? null : ingress.getFirst().getIp();
    }

    @Override
    public void close() {
        Closing.all(closing.reversed());
        apiServer.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        control.close();
    }
}
