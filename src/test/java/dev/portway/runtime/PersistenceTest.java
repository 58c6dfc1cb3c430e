package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portway.store.StoreJournal;
import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local cluster with a data directory comes back after a stop, or a crash, with every applied
 * object and allocation: the same ClusterIPs, NodePorts, external IPs and uids; its pods run
 * again (a node's reboot: the restart counts go on). A data directory that cannot be read stops
 * the start, naming the file, and is left as it was.
 */
class PersistenceTest {

    private static final String APP = TestCluster.keptApp(2);

    /** What must come back: addresses, ports, uids. */
    private record Allocations(String clusterIp, int nodePort, String lbClusterIp, String lbIp, int lbNodePort, String uid) {
        static Allocations of(TestCluster c) {
            return new Allocations(c.clusterIp("kept"), c.nodePort("kept"), c.clusterIp("kept-lb"), c.loadBalancerIp("kept-lb"),
                    c.nodePort("kept-lb"), c.service("kept").getMetadata().getUid());
        }
    }

    private static Map<String, Integer> restarts(TestCluster c) {
        return c.pods("kept").stream().collect(Collectors.toMap(p -> p.getMetadata().getName(),
                p -> p.getStatus().getContainerStatuses().getFirst().getRestartCount()));
    }

    @Test
    void aStoppedClusterComesBackWithItsObjectsAllocationsAndRunningPods(@TempDir Path data) throws Exception {
        var options = TestCluster.options().withDataDir(data);
        Allocations before;
        Map<String, Integer> restartsBefore;
        try (TestCluster c = new TestCluster(options)) {
            c.apply(APP);
            c.awaitReady("kept", 2);
            before = Allocations.of(c);
            restartsBefore = restarts(c);
        }
        try (TestCluster c = new TestCluster(options)) {
            assertThat(c.local().restoredObjects()).isPositive();
            assertThat(Allocations.of(c)).isEqualTo(before);
            c.awaitReady("kept", 2);
            // the same pods, started again: each start counts as a restart
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                Map<String, Integer> now = restarts(c);
                assertThat(now.keySet()).isEqualTo(restartsBefore.keySet());
                now.forEach((pod, count) -> assertThat(count).as(pod).isEqualTo(restartsBefore.get(pod) + 1));
            });
            c.settle();
            assertThat(Net.get(c.nodeIp(1), before.nodePort(), "/").status()).isEqualTo(200);
            assertThat(Net.get(before.lbIp(), 8001, "/").status()).isEqualTo(200);
        }
    }

    /**
     * The Services' controller runs first after a restart, when the allocator holds no address:
     * a pending Service that asked for the address a Gateway holds was given it, and the Gateway
     * moved to another. Every user of the pools takes its addresses again before any is handed out.
     */
    @Test
    void aRestartGivesNoOneTheAddressAGatewayHolds(@TempDir Path data) throws Exception {
        var options = TestCluster.options().withDataDir(data);
        String held;
        try (TestCluster c = new TestCluster(options)) {
            c.apply(TestCluster.httpGateway("front", 8080));
            held = c.gatewayAddress("front", 8080).getAddress().getHostAddress();
            c.apply("""
                    apiVersion: v1
                    kind: Service
                    metadata:
                      name: wants
                      annotations: {metallb.io/loadBalancerIPs: "%s"}
                    spec:
                      type: LoadBalancer
                      selector: {app: wants}
                      ports: [{port: 9090}]
                    """.formatted(held));
            c.local().control().awaitIdle();
            assertThat(ingressOf(c, "wants")).as("the Gateway's, which it does not share").isNull();
        }
        try (TestCluster c = new TestCluster(options)) {
            c.local().control().awaitIdle();
            assertThat(c.gatewayAddress("front", 8080).getAddress().getHostAddress()).isEqualTo(held);
            assertThat(ingressOf(c, "wants")).isNull();
        }
    }

    private static String ingressOf(TestCluster c, String service) {
        var status = c.service(service).getStatus();
        var ingress = status == null || status.getLoadBalancer() == null ? null : status.getLoadBalancer().getIngress();
        return ingress == null || ingress.isEmpty() ? null : ingress.getFirst().getIp();
    }

    @Test
    void whatACrashLeavesBringsBackEveryAcknowledgedChange(@TempDir Path data, @TempDir Path crashed) throws Exception {
        var options = TestCluster.options().withDataDir(data);
        Allocations before;
        try (TestCluster c = new TestCluster(options)) {
            c.apply(APP);
            before = Allocations.of(c);
            c.apply("""
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: last-write}
                    data: {acknowledged: "yes"}
                    """);
            // the files as kill -9 would leave them now: every acknowledged change was fsynced before the answer
            try (var files = Files.list(data)) {
                for (Path f : files.toList()) {
                    Files.copy(f, crashed.resolve(f.getFileName()));
                }
            }
            assertThat(crashed.resolve(StoreJournal.JOURNAL)).exists();
        }
        try (TestCluster c = new TestCluster(options.withDataDir(crashed))) {
            assertThat(Allocations.of(c)).isEqualTo(before);
            assertThat(c.local().store().get(io.fabric8.kubernetes.api.model.ConfigMap.class, "default", "last-write")).isPresent();
            c.awaitReady("kept", 2);
        }
    }

    @Test
    void aDataDirectoryThatCannotBeReadStopsTheStartAndIsKept(@TempDir Path data) throws Exception {
        Path snapshot = data.resolve(StoreJournal.SNAPSHOT);
        Files.writeString(snapshot, "{\"revision\": 12, \"objects\": [ {\"kind\": \"SERVICE\", \"object\": {\"metadata\": ");
        assertThatThrownBy(() -> new LocalCluster(TestCluster.options().withDataDir(data)))
                .hasMessageContaining("cannot restore the cluster").hasMessageContaining(snapshot.toString());
        assertThat(Files.readString(snapshot)).startsWith("{\"revision\": 12");
        assertThat(List.of(data.toFile().list())).containsExactlyInAnyOrder(StoreJournal.SNAPSHOT, "lock");
    }

    /** A start that fails after it took the data directory (its credentials cannot be read) gives it back. */
    @Test
    void aStartThatFailsGivesTheDataDirectoryBack(@TempDir Path data, @TempDir Path state) throws Exception {
        Files.setPosixFilePermissions(state, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Files.writeString(state.resolve("token"), "short\n");
        Files.setPosixFilePermissions(state.resolve("token"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        var options = TestCluster.options().withDataDir(data).withStateDir(state);
        assertThatThrownBy(() -> new LocalCluster(options)).hasMessageContaining("shorter than 32 characters");
        Files.delete(state.resolve("token"));
        try (TestCluster c = new TestCluster(options)) {
            assertThat(c.local().store().revision()).isPositive();
        }
    }

    @Test
    void aDataDirectoryOthersMayWriteIsRefusedAndANewOneIsThisUsersAlone(@TempDir Path tmp) throws Exception {
        // it holds every object, Secrets too, and a planted snapshot's pods would run as this user
        Path shared = Files.createDirectory(tmp.resolve("shared"));
        Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Path open = Files.createDirectory(shared.resolve("open"));
        Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> new LocalCluster(TestCluster.options().withDataDir(open)))
                .hasMessageContaining("is writable by others").hasMessageContaining("--data-dir");
        // one an older Portway made with the umask's mode inside a directory only this user can enter (the
        // default, STATE_DIR/data): made private, not refused
        Path older = Files.createDirectory(tmp.resolve("older"));
        Files.setPosixFilePermissions(older, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxr-x"));
        new LocalCluster(TestCluster.options().withDataDir(older)).close();
        assertThat(mode(older)).isEqualTo("rwx------");
        Path fresh = tmp.resolve("fresh");
        try (TestCluster c = new TestCluster(TestCluster.options().withDataDir(fresh))) {
            c.apply("""
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: key}
                    stringData: {key: s3cret}
                    """);
            assertThat(mode(fresh)).isEqualTo("rwx------");
            assertThat(mode(fresh.resolve(StoreJournal.JOURNAL))).isEqualTo("rw-------");
            assertThat(mode(fresh.resolve("lock"))).isEqualTo("rw-------");
        }
        assertThat(mode(fresh.resolve(StoreJournal.SNAPSHOT))).as("written at the stop").isEqualTo("rw-------");
    }

    private static String mode(Path p) throws java.io.IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aDataDirectoryInUseIsNotTakenByASecondPortway(@TempDir Path data) throws Exception {
        var options = TestCluster.options().withDataDir(data);
        try (TestCluster first = new TestCluster(options)) {
            first.apply("""
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: mine}
                    data: {owner: first}
                    """);
            byte[] snapshot = Files.readAllBytes(data.resolve(StoreJournal.SNAPSHOT));
            assertThatThrownBy(() -> new LocalCluster(options)).hasMessageContaining("is in use by another Portway");
            // the second one touched nothing: the first goes on journaling into files that are still there
            assertThat(Files.readAllBytes(data.resolve(StoreJournal.SNAPSHOT))).isEqualTo(snapshot);
            assertThat(data.resolve(StoreJournal.JOURNAL)).exists();
        }
        try (TestCluster again = new TestCluster(options)) {
            assertThat(again.local().store().get(io.fabric8.kubernetes.api.model.ConfigMap.class, "default", "mine")).isPresent();
        }
    }
}
