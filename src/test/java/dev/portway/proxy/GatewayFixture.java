package dev.portway.proxy;

import dev.portway.net.Transport;
import dev.portway.plan.Plan;
import dev.portway.runtime.echo.EchoServer;
import dev.portway.testing.TestCluster;
import io.netty.channel.EventLoopGroup;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A data plane with L7 listeners from hand-built plans, and echo servers as their endpoints: the
 * gateway's proxying tested without the control plane. Listeners are on 127.4.B.n:8080 and
 * endpoints on 127.5.B.n:8080, B being this JVM's address block.
 */
final class GatewayFixture implements AutoCloseable {

    static final int PORT = 8080;

    final PrometheusRegistry registry = new PrometheusRegistry();
    final DataPlane plane = new DataPlane(Transport.best(), 2, registry, Clock.systemUTC());
    private final EventLoopGroup backends = Transport.best().newGroup(1, "test-backends");
    private final List<AutoCloseable> servers = new ArrayList<>();
    private final Map<String, Plan.Cluster> clusters = new LinkedHashMap<>();
    private final Map<Plan.ListenerKey, Plan.HttpListener> listeners = new LinkedHashMap<>();
    private long version;

    static String listenerIp(int n) {
        return "127.4." + TestCluster.BLOCK + "." + n;
    }

    static String endpointIp(int n) {
        return "127.5." + TestCluster.BLOCK + "." + n;
    }

    /** An echo server named {@code pod} at endpoint address {@code n}. */
    InetSocketAddress echo(String pod, int n) {
        EchoServer echo = new EchoServer(new EchoServer.Identity(pod, "default", endpointIp(n), "node1"), Transport.best(), backends);
        echo.start(endpointIp(n), List.of(new EchoServer.Port(PORT, false))).join();
        servers.add(echo);
        return new InetSocketAddress(endpointIp(n), PORT);
    }

    /** Something else to stop with the fixture. */
    <T extends AutoCloseable> T own(T server) {
        servers.add(server);
        return server;
    }

    /** Registers a cluster (a Service port) with these ready endpoints. */
    String cluster(String name, InetSocketAddress... endpoints) {
        return cluster(name, 10_000, endpoints);
    }

    /** Registers a cluster with these ready endpoints that takes at most {@code maxConnections} at once (portway.dev/max-connections). */
    String cluster(String name, int maxConnections, InetSocketAddress... endpoints) {
        List<Plan.Endpoint> list = new ArrayList<>();
        for (InetSocketAddress a : endpoints) {
            list.add(new Plan.Endpoint(a, "node1", a.getAddress().getHostAddress() + ":" + a.getPort(), true, true, false));
        }
        clusters.put(name, new Plan.Cluster(name, "default/" + name, Plan.Protocol.TCP, list, Plan.Balancer.ROUND_ROBIN, null, false,
                Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ZERO, maxConnections, null));
        return name;
    }

    static Plan.HttpBackend to(String cluster) {
        return new Plan.HttpBackend(cluster, 1, List.of());
    }

    static Plan.HttpBackend to(String cluster, int weight) {
        return new Plan.HttpBackend(cluster, weight, List.of());
    }

    static Plan.PathMatch prefix(String p) {
        return new Plan.PathMatch(Plan.MatchType.PREFIX, p);
    }

    static Plan.PathMatch exact(String p) {
        return new Plan.PathMatch(Plan.MatchType.EXACT, p);
    }

    static Plan.HttpRule rule(String route, Plan.PathMatch path, List<Plan.HttpFilter> filters, Plan.HttpBackend... backends) {
        return new Plan.HttpRule(route, 0, path, List.of(), List.of(), null, filters, Arrays.asList(backends), null, null, null);
    }

    static Plan.HttpRule rule(String route, Plan.PathMatch path, Plan.HttpBackend... backends) {
        return rule(route, path, List.of(), backends);
    }

    static Plan.VirtualHost host(String hostname, Plan.HttpRule... rules) {
        return new Plan.VirtualHost(hostname, List.of(rules));
    }

    /** Listens on listener address {@code n} with these virtual hosts (replacing what it had) and applies the plan. */
    InetSocketAddress listen(int n, Plan.VirtualHost... hosts) {
        return listen(new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP, new InetSocketAddress(listenerIp(n), PORT)),
                "gateway default/test-" + n, List.of(), List.of(), List.of(hosts), List.of(), false));
    }

    InetSocketAddress listen(Plan.HttpListener listener) {
        listeners.put(listener.key(), listener);
        apply();
        return listener.key().address();
    }

    /** Applies the current clusters and listeners as a new plan, and waits for the listeners. */
    void apply() {
        plane.apply(new Plan(++version, List.of(), clusters, List.of(), List.copyOf(listeners.values())));
        plane.settled().orTimeout(10, TimeUnit.SECONDS).join();
    }

    @Override
    public void close() {
        plane.close();
        dev.portway.testing.Closing.all(servers);
        backends.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
