package dev.portway.bench;

import dev.portway.net.Cidr;
import dev.portway.plan.Plan;
import dev.portway.runtime.DnsOptions;
import dev.portway.runtime.LocalCluster;
import dev.portway.runtime.LocalClusterOptions;
import dev.portway.runtime.LocalNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The scale benchmark ({@code bench/scale [SERVICES] [ENDPOINTS]}): SERVICES ClusterIP Services
 * with ENDPOINTS endpoints each, in one EndpointSlice per Service, applied to an in-process local
 * cluster through its API server's apply (validation, allocation, store, controllers) in one
 * batch, as {@code portway apply -f} sends them; then the time until every listener is bound, the
 * heap and RSS, and the time from one EndpointSlice change to the data plane holding it. Not a
 * test: figures only, printed as {@code scale:} lines. Loopback only: the Services' ClusterIPs,
 * and endpoint addresses nobody connects to.
 */
public final class ScaleBench {

    private ScaleBench() {
    }

    public static void main(String[] args) throws Exception {
        int services = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int endpoints = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Path state = Files.createTempDirectory("portway-scale-");
        LocalClusterOptions options = LocalClusterOptions.defaults()
                .withNodes(1)
                .withNodeAddresses(new LocalNode.Addresses(Cidr.of("127.0.77.0/24"), Cidr.of("127.77.0.0/16")))
                .withDefaultPool(null)
                .withStateDir(state)
                .withKubelet(LocalClusterOptions.defaults().kubelet().withDns(DnsOptions.defaults().withMode(DnsOptions.Mode.OFF)));
        try (LocalCluster cluster = new LocalCluster(options)) {
            cluster.start();
            report("heap after start, after a GC: %d MB; RSS %d MB", heapAfterGc() >> 20, rss() >> 20);

            List<HasMetadata> objects = new ArrayList<>(2 * services);
            for (int i = 0; i < services; i++) {
                objects.add(service(i));
                objects.add(slice(i, endpoints, null));
            }
            long started = System.nanoTime();
            cluster.apply(objects);
            long applied = System.nanoTime();
            cluster.dataPlane().settled().get();
            long bound = System.nanoTime();
            long listeners = cluster.dataPlane().listenerStatus().values().stream().filter("bound"::equals).count();
            report("%d Services x %d endpoints applied in %d ms; all %d listeners bound %d ms after the apply began",
                    services, endpoints, (applied - started) / 1_000_000, listeners, (bound - started) / 1_000_000);
            objects.clear();
            report("heap with them, after a GC: %d MB; RSS %d MB", heapAfterGc() >> 20, rss() >> 20);

            // one endpoint changes: how long until the data plane uses it, and where the passes' time goes
            Map<String, Long> before = cluster.control().reconcileNanos();
            long passesBefore = cluster.control().passes();
            int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 101;
            long[] micros = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                int i = (r * 7919) % services;
                String address = "127.201.0." + (r + 1);
                long t0 = System.nanoTime();
                cluster.apply(List.of(slice(i, endpoints, address)));
                while (!holds(cluster.dataPlane().current(), i, address)) {
                    Thread.onSpinWait();
                }
                micros[r] = (System.nanoTime() - t0) / 1000;
            }
            Map<String, Long> after = cluster.control().reconcileNanos();
            long passes = cluster.control().passes() - passesBefore;
            StringBuilder where = new StringBuilder();
            after.entrySet().stream()
                    .sorted((a, b) -> Long.compare(b.getValue() - before.getOrDefault(b.getKey(), 0L), a.getValue() - before.getOrDefault(a.getKey(), 0L)))
                    .limit(6)
                    .forEach(e -> where.append(where.isEmpty() ? "" : ", ").append(e.getKey()).append(' ')
                            .append(String.format("%.1f", (e.getValue() - before.getOrDefault(e.getKey(), 0L)) / 1e6 / rounds)));
            report("per change: %.1f reconcile passes; ms per change by controller: %s", (double) passes / rounds, where);
            Arrays.sort(micros);
            report("one EndpointSlice changed, among %d Services: in the data plane after %.1f ms (median of %d), %.1f ms at most",
                    services, micros[rounds / 2] / 1000.0, rounds, micros[rounds - 1] / 1000.0);
        } finally {
            try (var files = Files.walk(state)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static boolean holds(Plan plan, int i, String address) {
        Plan.Cluster c = plan.clusters().get("default/scale-" + i + ":80/TCP");
        return c != null && c.endpoints().stream().anyMatch(e -> e.address().getAddress().getHostAddress().equals(address));
    }

    private static HasMetadata service(int i) {
        return new ServiceBuilder()
                .withNewMetadata().withName("scale-" + i).withNamespace("default").endMetadata()
                .withNewSpec().addNewPort().withName("http").withPort(80).withNewTargetPort(8080).endPort().endSpec()
                .build();
    }

    /** Service i's slice; with {@code first}, its first endpoint moved to that address. */
    private static EndpointSlice slice(int i, int endpoints, String first) {
        EndpointSliceBuilder b = new EndpointSliceBuilder()
                .withNewMetadata().withName("scale-" + i + "-1").withNamespace("default")
                .withLabels(Map.of("kubernetes.io/service-name", "scale-" + i)).endMetadata()
                .withAddressType("IPv4")
                .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort();
        for (int e = 0; e < endpoints; e++) {
            String address = e == 0 && first != null ? first : "127.200." + e + "." + (i % 250 + 1);
            b.addNewEndpoint().withAddresses(address).withNewConditions().withReady(true).endConditions().endEndpoint();
        }
        return b.build();
    }

    private static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long rss() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        return 0;
    }

    private static void report(String format, Object... args) {
        System.out.println("scale: " + String.format(format, args));
    }
}
