package dev.portway.proxy;

import static org.awaitility.Awaitility.await;

import dev.portway.net.Transport;
import dev.portway.plan.Plan;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A data plane of one event loop with one ClusterIP listener, on a free port of {@code serviceIp},
 * that forwards to one endpoint: the L4 relay tested without the control plane.
 */
final class OneServicePlane implements AutoCloseable {

    final DataPlane plane;
    final InetSocketAddress service;

    OneServicePlane(Transport transport, String serviceIp, InetSocketAddress endpoint) throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName(serviceIp))) {
            service = new InetSocketAddress(serviceIp, probe.getLocalPort());
        }
        Plan.Cluster cluster = new Plan.Cluster("c", "default/c", Plan.Protocol.TCP, List.of(new Plan.Endpoint(endpoint, null, "b", true, true, false)),
                Plan.Balancer.ROUND_ROBIN, null, false, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ZERO, 10_000, null);
        Plan.Listener listener = new Plan.Listener(new Plan.ListenerKey(Plan.Protocol.TCP, service), Plan.Role.CLUSTER_IP, "default/c", "c",
                null, null, false, Plan.Source.CLIENT, List.of(), true);
        plane = new DataPlane(transport, 1, new PrometheusRegistry(), Clock.systemUTC());
        plane.apply(new Plan(1, List.of(listener), Map.of("c", cluster), List.of()));
        String key = "tcp/" + service.getHostString() + ":" + service.getPort();
        await().atMost(Duration.ofSeconds(5)).until(() -> "bound".equals(plane.listenerStatus().get(key)));
    }

    @Override
    public void close() {
        plane.close();
    }
}
