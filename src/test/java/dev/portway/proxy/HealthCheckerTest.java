package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.portway.plan.Plan;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A node's health check is probed once per interval, however many LoadBalancers send to the node:
 * a check of the same target, port and path is one probe whose result every LoadBalancer takes.
 */
class HealthCheckerTest {

    private static final int SERVICES = 50;

    @Test
    void oneProbePerTargetServesEveryLoadBalancerOfTheNode() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        AtomicInteger status = new AtomicInteger(200);
        HttpServer node = HttpServer.create(new InetSocketAddress("127.0.61.1", 0), 50);
        node.createContext("/healthz", exchange -> {
            requests.incrementAndGet();
            exchange.sendResponseHeaders(status.get(), -1);
            exchange.close();
        });
        node.start();
        DataPlane plane = new DataPlane(dev.portway.net.Transport.NIO, 1, new PrometheusRegistry(), Clock.systemUTC());
        try {
            Plan.HealthCheck check = new Plan.HealthCheck(node.getAddress().getPort(), "/healthz", Duration.ofMillis(100),
                    Duration.ofMillis(80), 1, 2);
            Map<String, Plan.Cluster> clusters = new HashMap<>();
            for (int i = 0; i < SERVICES; i++) {
                Plan.Endpoint target = new Plan.Endpoint(new InetSocketAddress("127.0.61.1", 30000 + i), "node1", "node1", true, true, false);
                Plan.Cluster c = new Plan.Cluster("lb:default/svc-" + i + ":80/TCP", "default/svc-" + i, Plan.Protocol.TCP, List.of(target),
                        Plan.Balancer.ROUND_ROBIN, null, false, Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofHours(1),
                        10_000, check);
                clusters.put(c.name(), c);
            }
            long started = System.nanoTime();
            plane.apply(new Plan(1, List.of(), clusters, List.of()));
            await().atMost(Duration.ofSeconds(5)).until(() -> requests.get() >= 8);
            long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            assertThat(elapsedMs).as("8 checks at one probe per 100 ms take most of a second; %d probes would take a few ms", SERVICES)
                    .isGreaterThanOrEqualTo(600);

            status.set(503);
            await().atMost(Duration.ofSeconds(2)).until(() -> plane.clusters().stream()
                    .allMatch(c -> !c.isHealthy(c.spec().endpoints().getFirst().address())));
            // a new plan that changes the nodes' endpoints otherwise (here their target name) keeps the checks' verdict
            Map<String, Plan.Cluster> renamed = new HashMap<>();
            clusters.values().forEach(c -> {
                Plan.Endpoint e = c.endpoints().getFirst();
                Plan.Cluster r = new Plan.Cluster(c.name(), c.service(), c.protocol(), List.of(new Plan.Endpoint(e.address(), e.nodeName(),
                        "node1-renamed", true, true, false)), c.balancer(), c.affinityTimeout(), c.proxyProtocol(), c.drainTimeout(),
                        c.udpIdleTimeout(), c.tcpIdleTimeout(), c.maxConnections(), c.healthCheck());
                renamed.put(r.name(), r);
            });
            plane.apply(new Plan(2, List.of(), renamed, List.of()));
            assertThat(plane.clusters()).as("still out of rotation: the plan's expectation does not overrule the checks")
                    .allMatch(c -> !c.isHealthy(c.spec().endpoints().getFirst().address()));

            status.set(200);
            await().atMost(Duration.ofSeconds(2)).until(() -> plane.clusters().stream()
                    .allMatch(c -> c.isHealthy(c.spec().endpoints().getFirst().address())));
        } finally {
            plane.close();
            node.stop(0);
        }
    }
}
