package dev.portway.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.api.ResourceKind;
import dev.portway.control.DeleteOptions;
import dev.portway.testing.RawHttp;
import dev.portway.testing.TestCluster;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A pod killed under a steady load of GETs through a Gateway: no request fails (those that met
 * the dying pod are retried on another), and once its endpoint is gone from the plan no request
 * is sent its way.
 */
class GatewayFailoverTest {

    private TestCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster();
        cluster.apply(TestCluster.echoBackend("web", 3) + "---\n" + TestCluster.httpGateway("front", 18080) + """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: web}
                spec:
                  parentRefs: [{name: front}]
                  rules:
                  - backendRefs: [{name: web, port: 8000}]
                """);
        cluster.awaitReady("web", 3);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private double counter(String name) {
        return cluster.local().registry().scrape().stream().filter(s -> s.getMetadata().getName().equals(name))
                .flatMap(s -> s.getDataPoints().stream()).mapToDouble(d -> ((CounterSnapshot.CounterDataPointSnapshot) d).getValue()).sum();
    }

    private InetSocketAddress gateway() {
        InetSocketAddress at = cluster.gatewayAddress("front", 18080);
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> RawHttp.get(at, "x", "/").status() == 200);
        return at;
    }

    @Test
    void aPodKilledUnderLoadCostsNoRequest() throws Exception {
        InetSocketAddress at = gateway();
        String victim = cluster.pods("web").getFirst().getMetadata().getName();
        int clients = 4;
        int perClient = 1500;
        Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> byPod = new ConcurrentHashMap<>();
        CountDownLatch third = new CountDownLatch(clients * perClient / 3);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            futures.add(pool.submit(() -> {
                RawHttp c = null;
                for (int i = 0; i < perClient; i++) {
                    try {
                        if (c == null) {
                            c = new RawHttp(at);
                        }
                        RawHttp.Response r = c.get("x", "/load/" + i);
                        if (r.status() == 200) {
                            byPod.computeIfAbsent(r.header("x-portway-pod"), k -> new AtomicInteger()).incrementAndGet();
                        } else {
                            failures.computeIfAbsent(r.status() + " " + r.body().strip(), k -> new AtomicInteger()).incrementAndGet();
                        }
                    } catch (Exception e) {
                        failures.computeIfAbsent(e.toString(), k -> new AtomicInteger()).incrementAndGet();
                        c = null;
                    }
                    third.countDown();
                }
                return null;
            }));
        }
        assertThat(third.await(60, TimeUnit.SECONDS)).isTrue();
        int servedBefore = byPod.getOrDefault(victim, new AtomicInteger()).get();
        cluster.local().control().call(() -> cluster.local().control().api().delete(ResourceKind.POD, "default", victim, DeleteOptions.NOW));
        // the endpoint leaves the plan; from then on nothing may be sent to it
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.local().dataPlane().current().clusters().values().stream()
                .flatMap(c -> c.endpoints().stream()).noneMatch(e -> e.target().equals(victim)));
        double failedConnectsAfter = counter("portway_upstream_connect_failures");
        double retriesAfter = counter("portway_http_retries");
        int servedAfterRemoval = byPod.getOrDefault(victim, new AtomicInteger()).get();
        for (Future<?> f : futures) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(failures).as("failed requests").isEmpty();
        assertThat(servedBefore).as("the victim served its share before").isPositive();
        assertThat(byPod.getOrDefault(victim, new AtomicInteger()).get()).as("answers from the victim after its endpoint left")
                .isEqualTo(servedAfterRemoval);
        assertThat(counter("portway_upstream_connect_failures")).as("connects to the victim after its endpoint left")
                .isEqualTo(failedConnectsAfter);
        assertThat(counter("portway_http_retries")).as("retries after its endpoint left").isEqualTo(retriesAfter);
        assertThat(byPod.values().stream().mapToInt(AtomicInteger::get).sum()).isEqualTo(clients * perClient);
    }
}
