package dev.portway.proxy;

import dev.portway.plan.Plan;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The endpoint pick of every new connection, and the snapshot swap of every endpoint change
 * (bench/jmh). Endpoints on two nodes, all ready.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ClusterRuntimeBenchmark {

    @Param({"10", "100"})
    int endpoints;

    private ClusterRuntime roundRobin;
    private ClusterRuntime sticky;
    private Plan.Cluster next;
    private Plan.Cluster previous;
    private ClusterRuntime swapped;
    private InetAddress client;

    static Plan.Cluster cluster(String name, int n, int base, Duration affinity) {
        List<Plan.Endpoint> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String node = i % 2 == 0 ? "node1" : "node2";
            list.add(new Plan.Endpoint(new InetSocketAddress("127.1." + (i % 2 + 1) + "." + (base + i % 200 + 1), 8080),
                    node, "pod-" + i, true, true, false));
        }
        return new Plan.Cluster(name, "default/" + name, Plan.Protocol.TCP, list, Plan.Balancer.ROUND_ROBIN, affinity, false,
                Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofHours(1), 10_000, null);
    }

    @Setup
    public void setUp() throws Exception {
        roundRobin = new ClusterRuntime(cluster("rr", endpoints, 0, null));
        sticky = new ClusterRuntime(cluster("sticky", endpoints, 0, Duration.ofHours(3)));
        previous = cluster("swap", endpoints, 0, null);
        next = cluster("swap", endpoints, 1, null);
        swapped = new ClusterRuntime(previous);
        client = InetAddress.getByName("127.0.0.66");
    }

    @Benchmark
    public Plan.Endpoint pickRoundRobin() {
        return roundRobin.pick(client, null, null);
    }

    @Benchmark
    public Plan.Endpoint pickLocalOnly() {
        return roundRobin.pick(client, "node2", null);
    }

    @Benchmark
    public Plan.Endpoint pickWithClientIpAffinity() {
        return sticky.pick(client, null, null);
    }

    /** A new endpoint set (one endpoint moved per swap, alternating), and the list of those gone. */
    @Benchmark
    public List<Plan.Endpoint> swapSnapshot() {
        Plan.Cluster to = swapped.spec() == previous ? next : previous;
        return swapped.update(to);
    }
}
