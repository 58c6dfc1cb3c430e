package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.plan.Plan;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A plan comes with what it changes against the plan before it: the data plane touches those
 * clusters and listeners only, so that one endpoint changing among thousands of Services costs
 * one update. Changes made against a plan it does not hold are not trusted: it diffs the whole plan.
 */
class DataPlaneChangesTest {

    private static Plan.Cluster cluster(String name, String endpoint) {
        return new Plan.Cluster(name, "default/" + name, Plan.Protocol.TCP,
                List.of(new Plan.Endpoint(new InetSocketAddress(endpoint, 8080), null, endpoint, true, true, false)),
                Plan.Balancer.ROUND_ROBIN, null, false, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ZERO, 10_000, null);
    }

    private static Plan.Listener listener(int port, String cluster) {
        return new Plan.Listener(new Plan.ListenerKey(Plan.Protocol.TCP, new InetSocketAddress("127.0.62.1", port)), Plan.Role.CLUSTER_IP,
                "default/" + cluster, cluster, null, null, false, Plan.Source.CLIENT, List.of(), true);
    }

    /** A port free on the listeners' address now. */
    private static int freePort() throws java.io.IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.62.1"))) {
            return probe.getLocalPort();
        }
    }

    private static String endpointOf(DataPlane plane, String cluster) {
        return plane.cluster(cluster).spec().endpoints().getFirst().target();
    }

    @Test
    void onlyWhatTheChangesNameIsTouchedUnlessTheyAreAgainstAnotherPlan() throws Exception {
        int port = freePort();
        DataPlane plane = new DataPlane(dev.portway.net.Transport.NIO, 1, new PrometheusRegistry(), Clock.systemUTC());
        try {
            Plan first = new Plan(1, List.of(), Map.of("x", cluster("x", "127.60.0.1"), "y", cluster("y", "127.60.0.2")), List.of());
            plane.apply(first);
            assertThat(endpointOf(plane, "x")).isEqualTo("127.60.0.1");

            // both clusters differ in the plan, but the changes name x only: y is not looked at
            Plan second = new Plan(2, List.of(), Map.of("x", cluster("x", "127.60.0.3"), "y", cluster("y", "127.60.0.4")), List.of());
            plane.apply(second, new Plan.Changes(1, Map.of("x", second.clusters().get("x")), Map.of()));
            assertThat(endpointOf(plane, "x")).isEqualTo("127.60.0.3");
            assertThat(endpointOf(plane, "y")).as("untouched: the changes did not name it").isEqualTo("127.60.0.2");
            assertThat(plane.current()).isSameAs(second);

            // changes against a plan the data plane does not hold: the whole plan is diffed
            Plan third = new Plan(3, List.of(listener(port, "x")), Map.of("x", cluster("x", "127.60.0.5")), List.of());
            plane.apply(third, new Plan.Changes(7, Map.of(), Map.of()));
            assertThat(endpointOf(plane, "x")).isEqualTo("127.60.0.5");
            assertThat(plane.cluster("y")).as("gone with the whole diff").isNull();
            await().atMost(Duration.ofSeconds(5)).until(() -> "bound".equals(plane.listenerStatus().get("tcp/127.0.62.1:" + port)));

            // a listener removed by the changes is closed, and a cluster removed by them is gone
            Plan fourth = new Plan(4, List.of(), Map.of(), List.of());
            Map<String, Plan.Cluster> goneClusters = new HashMap<>();
            goneClusters.put("x", null);
            Map<Plan.ListenerKey, Plan.Listener> goneListeners = new HashMap<>();
            goneListeners.put(listener(port, "x").key(), null);
            plane.apply(fourth, new Plan.Changes(3, goneClusters, goneListeners));
            assertThat(plane.listenerStatus()).isEmpty();
            assertThat(plane.cluster("x")).isNull();
        } finally {
            plane.close();
        }
    }

    @Test
    void aListenerOnTheAddressOfOneJustClosedBindsOnceTheOldOneLetGo() throws Exception {
        // the close and the new bind may run on different event loops; the bind now waits for the close
        // (the race it could lose, address in use until some later plan, did not show here in 300 rounds
        // without that wait: this test keeps the re-creation working, it does not catch the race)
        int port = freePort();
        DataPlane plane = new DataPlane(dev.portway.net.Transport.best(), 2, new PrometheusRegistry(), Clock.systemUTC());
        try {
            Plan.Listener tcp = listener(port, "x");
            Plan.Listener udp = new Plan.Listener(new Plan.ListenerKey(Plan.Protocol.UDP, new InetSocketAddress("127.0.62.1", port)),
                    Plan.Role.CLUSTER_IP, "default/x", "x", null, null, false, Plan.Source.CLIENT, List.of(), true);
            Map<String, Plan.Cluster> clusters = Map.of("x", cluster("x", "127.60.0.1"));
            long version = 0;
            for (int i = 0; i < 30; i++) {
                plane.apply(new Plan(++version, List.of(tcp, udp), clusters, List.of()));
                plane.apply(new Plan(++version, List.of(), clusters, List.of()));
                plane.apply(new Plan(++version, List.of(tcp, udp), clusters, List.of()));
                plane.settled().get(5, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(plane.listenerStatus()).as("round " + i)
                        .containsEntry("tcp/127.0.62.1:" + port, "bound").containsEntry("udp/127.0.62.1:" + port, "bound");
            }
        } finally {
            plane.close();
        }
    }

    /** Once stopping, the data plane applies no plan: pods stopping after it change endpoints, and nothing may bind again. */
    @Test
    void aPlanAfterTheShutdownBeganBindsNothing() throws Exception {
        int port = freePort();
        DataPlane plane = new DataPlane(dev.portway.net.Transport.NIO, 1, new PrometheusRegistry(), Clock.systemUTC());
        try {
            plane.shutdown(Duration.ZERO).get(5, java.util.concurrent.TimeUnit.SECONDS);
            Plan late = new Plan(1, List.of(listener(port, "x")), Map.of("x", cluster("x", "127.60.0.1")), List.of());
            plane.apply(late);
            assertThat(plane.listenerStatus()).isEmpty();
            assertThat(plane.cluster("x")).isNull();
        } finally {
            plane.close();
        }
    }

    /**
     * A Service's listener series go with its last listener: Services created and deleted over a
     * cluster's life must not grow the metrics without bound; another Service's stay.
     */
    @Test
    void theSeriesOfAServiceGoWithItsLastListener() throws Exception {
        int first = freePort();
        int second = freePort();
        PrometheusRegistry registry = new PrometheusRegistry();
        DataPlane plane = new DataPlane(dev.portway.net.Transport.NIO, 1, registry, Clock.systemUTC());
        try {
            Plan both = new Plan(1, List.of(listener(first, "churn"), listener(second, "stays")),
                    Map.of("churn", cluster("churn", "127.60.0.1"), "stays", cluster("stays", "127.60.0.2")), List.of());
            plane.apply(both);
            plane.metrics().refused(listener(first, "churn"), "max_connections");
            assertThat(scrape(registry)).contains("service=\"default/churn\"").contains("service=\"default/stays\"");

            plane.apply(new Plan(2, List.of(listener(second, "stays")), Map.of("stays", cluster("stays", "127.60.0.2")), List.of()));
            assertThat(scrape(registry)).doesNotContain("default/churn").contains("service=\"default/stays\"");
        } finally {
            plane.close();
        }
    }

    private static String scrape(PrometheusRegistry registry) throws java.io.IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
}
