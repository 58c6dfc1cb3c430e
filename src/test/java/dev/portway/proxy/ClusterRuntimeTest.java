package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.plan.Plan;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Endpoint choice, as kube-proxy's CategorizeEndpoints and affinity rules make it. */
class ClusterRuntimeTest {

    static Plan.Endpoint endpoint(String ip, String node, boolean ready, boolean serving, boolean terminating) {
        return new Plan.Endpoint(new InetSocketAddress(ip, 8080), node, ip, ready, serving, terminating);
    }

    static Plan.Cluster cluster(Duration affinity, Plan.Endpoint... endpoints) {
        return new Plan.Cluster("default/web:80/TCP", "default/web", Plan.Protocol.TCP, List.of(endpoints),
                Plan.Balancer.ROUND_ROBIN, affinity, false, Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ZERO, 10_000, null);
    }

    private static Set<String> picks(ClusterRuntime c, String localNode, int n) throws Exception {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            Plan.Endpoint e = c.pick(InetAddress.getByName("127.0.0.1"), localNode, null);
            seen.add(e == null ? null : e.target());
        }
        return seen;
    }

    @Test
    void readyEndpointsAreUsedAndTerminatingOnesOnlyWhenNoneIsReady() throws Exception {
        ClusterRuntime c = new ClusterRuntime(cluster(null,
                endpoint("127.1.1.2", "node1", true, true, false),
                endpoint("127.1.1.3", "node1", false, true, true),
                endpoint("127.1.2.2", "node2", false, false, false)));
        assertThat(picks(c, null, 10)).containsExactly("127.1.1.2");

        c.update(cluster(null,
                endpoint("127.1.1.3", "node1", false, true, true),
                endpoint("127.1.2.2", "node2", false, false, false)));
        assertThat(picks(c, null, 10)).as("serving and terminating, as a last resort").containsExactly("127.1.1.3");

        c.update(cluster(null, endpoint("127.1.2.2", "node2", false, false, false)));
        assertThat(picks(c, null, 3)).as("not ready and not serving: never").containsExactly((String) null);
    }

    /** What draining finds is kept per endpoint while it has connections, not for the cluster's lifetime. */
    @Test
    void anEndpointsLastConnectionTakesItsEntryWithIt() {
        ClusterRuntime c = new ClusterRuntime(cluster(null, endpoint("127.1.1.2", "node1", true, true, false)));
        io.netty.channel.embedded.EmbeddedChannel one = new io.netty.channel.embedded.EmbeddedChannel();
        io.netty.channel.embedded.EmbeddedChannel two = new io.netty.channel.embedded.EmbeddedChannel();
        for (int pod = 0; pod < 100; pod++) {
            java.net.InetSocketAddress address = new java.net.InetSocketAddress("127.1.3." + pod, 8080);
            io.netty.channel.embedded.EmbeddedChannel ch = new io.netty.channel.embedded.EmbeddedChannel();
            c.track(address, ch);
            ch.close();
        }
        java.net.InetSocketAddress kept = new java.net.InetSocketAddress("127.1.1.2", 8080);
        c.track(kept, one);
        c.track(kept, two);
        one.close();
        assertThat(c.connectionsTo(kept)).containsExactly(two);
        assertThat(c.endpointsWithConnections()).isEqualTo(1);
        two.close();
        assertThat(c.endpointsWithConnections()).isZero();
    }

    @Test
    void aLocalListenerUsesOnlyItsNodesEndpoints() throws Exception {
        ClusterRuntime c = new ClusterRuntime(cluster(null,
                endpoint("127.1.1.2", "node1", true, true, false),
                endpoint("127.1.2.2", "node2", true, true, false),
                endpoint("127.1.2.3", "node2", true, true, false)));
        assertThat(picks(c, "node2", 10)).containsExactlyInAnyOrder("127.1.2.2", "127.1.2.3");
        assertThat(picks(c, "node3", 3)).containsExactly((String) null);
    }

    @Test
    void roundRobinTakesEachEndpointInTurnAndSkipsRefusedOnes() throws Exception {
        ClusterRuntime c = new ClusterRuntime(cluster(null,
                endpoint("127.1.1.2", "node1", true, true, false),
                endpoint("127.1.1.3", "node1", true, true, false),
                endpoint("127.1.1.4", "node1", true, true, false)));
        assertThat(picks(c, null, 3)).hasSize(3);
        Set<InetSocketAddress> refused = Set.of(new InetSocketAddress("127.1.1.2", 8080), new InetSocketAddress("127.1.1.3", 8080));
        for (int i = 0; i < 5; i++) {
            assertThat(c.pick(null, null, refused).target()).isEqualTo("127.1.1.4");
        }
    }

    @Test
    void clientIpAffinityHoldsUntilItsTimeoutAndLeavesAGoneEndpoint() throws Exception {
        ClusterRuntime c = new ClusterRuntime(cluster(Duration.ofMillis(200),
                endpoint("127.1.1.2", "node1", true, true, false),
                endpoint("127.1.1.3", "node1", true, true, false)));
        InetAddress client = InetAddress.getByName("127.0.0.55");
        String first = c.pick(client, null, null).target();
        for (int i = 0; i < 20; i++) {
            assertThat(c.pick(client, null, null).target()).isEqualTo(first);
        }
        String other = first.equals("127.1.1.2") ? "127.1.1.3" : "127.1.1.2";
        c.update(cluster(Duration.ofMillis(200), endpoint(other, "node1", true, true, false)));
        assertThat(c.pick(client, null, null).target()).as("the sticky endpoint is gone").isEqualTo(other);
    }

    @Test
    void unhealthyLoadBalancerTargetsAreSkipped() throws Exception {
        Plan.Cluster nodes = new Plan.Cluster("lb:default/web:80/TCP", "default/web", Plan.Protocol.TCP,
                List.of(endpoint("127.0.10.1", "node1", true, true, false), endpoint("127.0.10.2", "node2", true, true, false)),
                Plan.Balancer.ROUND_ROBIN, null, false, Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ZERO, 10_000,
                new Plan.HealthCheck(10256, "/healthz", Duration.ofMillis(500), Duration.ofMillis(400), 1, 2));
        ClusterRuntime c = new ClusterRuntime(nodes);
        c.setHealthy(new InetSocketAddress("127.0.10.2", 8080), false);
        assertThat(picks(c, null, 10)).containsExactly("127.0.10.1");
        // every target failing its checks at once: all are used (fail open, as AWS's NLB and Envoy's panic threshold)
        c.setHealthy(new InetSocketAddress("127.0.10.1", 8080), false);
        assertThat(picks(c, null, 10)).containsExactlyInAnyOrder("127.0.10.1", "127.0.10.2");
        // one back: only it again
        c.setHealthy(new InetSocketAddress("127.0.10.2", 8080), true);
        assertThat(picks(c, null, 10)).containsExactly("127.0.10.2");
        // a healthy target that refused this connection does not open the others: the retry finds none
        assertThat(c.pick(InetAddress.getByName("127.0.0.1"), null, java.util.Set.of(new InetSocketAddress("127.0.10.2", 8080))))
                .isNull();
    }

    @Test
    void failingOpenKeepsClientIpAffinity() throws Exception {
        Plan.Cluster nodes = new Plan.Cluster("lb:default/web:80/TCP", "default/web", Plan.Protocol.TCP,
                List.of(endpoint("127.0.10.1", "node1", true, true, false), endpoint("127.0.10.2", "node2", true, true, false)),
                Plan.Balancer.ROUND_ROBIN, Duration.ofMinutes(3), false, Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ZERO,
                10_000, new Plan.HealthCheck(10256, "/healthz", Duration.ofMillis(500), Duration.ofMillis(400), 1, 2));
        ClusterRuntime c = new ClusterRuntime(nodes);
        c.setHealthy(new InetSocketAddress("127.0.10.1", 8080), false);
        c.setHealthy(new InetSocketAddress("127.0.10.2", 8080), false);
        InetAddress client = InetAddress.getByName("127.0.0.55");
        String first = c.pick(client, null, null).target();
        for (int i = 0; i < 10; i++) {
            assertThat(c.pick(client, null, null).target()).isEqualTo(first);
        }
    }

    @Test
    void retriesStayWithinTheBudget() {
        ClusterRuntime c = new ClusterRuntime(cluster(null, endpoint("127.1.1.2", "node1", true, true, false)));
        for (int i = 0; i < 10; i++) {
            assertThat(c.tryRequest()).isTrue();
        }
        assertThat(c.startRetrying()).as("the minimum of 3 (20%% of 10 is less)").isTrue();
        assertThat(c.startRetrying()).isTrue();
        assertThat(c.startRetrying()).isTrue();
        assertThat(c.startRetrying()).as("the budget is spent").isFalse();
        c.requestEnded(true);
        assertThat(c.startRetrying()).as("a retrying request ended: its place is free").isTrue();
        for (int i = 0; i < 40; i++) {
            assertThat(c.tryRequest()).isTrue();
        }
        assertThat(c.startRetrying()).as("20%% of 49 in flight is 9").isTrue();
    }

    @Test
    void theAffinityTableHoldsItsCapOfClients() throws Exception {
        ClusterRuntime c = new ClusterRuntime(cluster(Duration.ofHours(3), endpoint("127.1.1.1", "node1", true, true, false),
                endpoint("127.1.1.2", "node1", true, true, false)));
        byte[] a = {127, 0, 0, 0};
        for (int i = 0; i < ClusterRuntime.MAX_AFFINITY_ENTRIES + 5_000; i++) {
            a[1] = (byte) (i >> 16);
            a[2] = (byte) (i >> 8);
            a[3] = (byte) i;
            assertThat(c.pick(java.net.InetAddress.getByAddress(a), null, null)).isNotNull();
        }
        assertThat(c.affinityEntries()).isEqualTo(ClusterRuntime.MAX_AFFINITY_ENTRIES);
        // a client new after the flood is remembered all the same: an entry made room (it used to be
        // balanced without affinity until the flood's entries expired, three hours later)
        java.net.InetAddress late = java.net.InetAddress.getByAddress(new byte[] {10, 9, 8, 7});
        String sticky = c.pick(late, null, null).target();
        for (int i = 0; i < 20; i++) {
            assertThat(c.pick(late, null, null).target()).as("a client new after the flood sticks").isEqualTo(sticky);
        }
        assertThat(c.affinityEntries()).isEqualTo(ClusterRuntime.MAX_AFFINITY_ENTRIES);
    }

    /**
     * As xt_recent, the client updated longest ago goes when the table is full: a client that keeps
     * coming stays remembered through a flood of new ones (the order of first arrival dropped it, and
     * a client whose entry had expired and come back lost its fresh one when its old place was reused).
     */
    @Test
    void aFullAffinityTableDropsTheClientSeenLongestAgoNotAnActiveOne() throws Exception {
        ClusterRuntime c = new ClusterRuntime(cluster(Duration.ofHours(3), endpoint("127.1.1.1", "node1", true, true, false),
                endpoint("127.1.1.2", "node1", true, true, false), endpoint("127.1.1.3", "node1", true, true, false)));
        InetAddress regular = InetAddress.getByAddress(new byte[] {10, 1, 1, 1});
        String pinned = c.pick(regular, null, null).target();
        byte[] a = {127, 0, 0, 0};
        for (int i = 0; i < 2 * ClusterRuntime.MAX_AFFINITY_ENTRIES; i++) {
            a[1] = (byte) (i >> 16);
            a[2] = (byte) (i >> 8);
            a[3] = (byte) i;
            c.pick(InetAddress.getByAddress(a), null, null);
            if (i % 1000 == 0) {
                assertThat(c.pick(regular, null, null).target()).as("the regular client, after %d others", i).isEqualTo(pinned);
            }
        }
        assertThat(c.affinityEntries()).isEqualTo(ClusterRuntime.MAX_AFFINITY_ENTRIES);
    }

    /**
     * The timeout in force judges every entry (kube-proxy's --rcheck --seconds): shortened, it ends
     * pins made under the longer one; and affinity turned off forgets them all.
     */
    @Test
    void theAffinityTimeoutInForceJudgesEveryEntry() throws Exception {
        Plan.Endpoint one = endpoint("127.1.1.1", "node1", true, true, false);
        Plan.Endpoint two = endpoint("127.1.1.2", "node1", true, true, false);
        ClusterRuntime c = new ClusterRuntime(cluster(Duration.ofHours(3), one, two));
        InetAddress client = InetAddress.getByName("127.0.0.9");
        String pinned = c.pick(client, null, null).target();
        org.awaitility.Awaitility.await().pollDelay(Duration.ofMillis(50)).until(() -> true);
        c.update(cluster(Duration.ofMillis(10), one, two));
        // seen 50 ms ago, past the 10 ms in force: balanced again (round robin: the other endpoint), not pinned
        assertThat(c.pick(client, null, null).target()).isNotEqualTo(pinned);
        c.update(cluster(null, one, two));
        c.expireAffinity();
        assertThat(c.affinityEntries()).isZero();
    }

    /** Affinity entries go when they expire on a quiet cluster, not only when a new plan is applied (the map grew with every client). */
    @Test
    void affinityEntriesExpireWithoutANewPlan() throws Exception {
        DataPlane plane = new DataPlane(dev.portway.net.Transport.NIO, 1, new io.prometheus.metrics.model.registry.PrometheusRegistry(),
                java.time.Clock.systemUTC());
        try {
            Plan.Cluster spec = cluster(Duration.ofSeconds(1), endpoint("127.1.1.1", "node1", true, true, false));
            plane.apply(new Plan(1, List.of(), java.util.Map.of(spec.name(), spec), List.of(), List.of()));
            ClusterRuntime c = plane.cluster(spec.name());
            for (int i = 1; i <= 200; i++) {
                c.pick(java.net.InetAddress.getByName("127.9." + (i / 250) + "." + (i % 250 + 1)), null, null);
            }
            org.assertj.core.api.Assertions.assertThat(c.affinityEntries()).isEqualTo(200);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(4)).until(() -> c.affinityEntries() == 0);
        } finally {
            plane.close();
        }
    }
}
