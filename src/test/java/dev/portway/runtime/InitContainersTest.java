package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.cli.CliDriver;
import dev.portway.testing.TestCluster;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Init containers run one after the other, to completion (a sidecar: until it has started), before the pod's containers. */
class InitContainersTest {

    private static TestCluster cluster;
    private static CliDriver cli;
    @org.junit.jupiter.api.io.TempDir
    static java.nio.file.Path tmp;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster();
        cli = new CliDriver(Clock.systemUTC(), cluster.local());
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void initContainersRunInOrderBeforeTheApp() {
        Set<String> seen = new LinkedHashSet<>();
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: staged
                spec:
                  initContainers:
                  - name: fetch
                    image: busybox
                    command: [sh, -c, 'sleep 0.5; echo fetched > /work/data']
                    volumeMounts: [{name: work, mountPath: /work}]
                  - name: check
                    image: busybox
                    command: [sh, -c, 'sleep 0.5; grep -q fetched /work/data && echo checked >> /work/data']
                    volumeMounts: [{name: work, mountPath: /work}]
                  containers:
                  - name: app
                    image: busybox
                    command: [sh, -c, 'cat /work/data; exec sleep 600']
                    volumeMounts: [{name: work, mountPath: /work}]
                  volumes:
                  - {name: work, emptyDir: {}}
                """);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            String table = cli.run("get", "pod", "staged").out();
            seen.add(table.lines().skip(1).findFirst().orElse("").split(" +")[2]);
            return table.contains("Running") && table.contains("1/1");
        });
        assertThat(seen).contains("Init:0/2", "Init:1/2").last().isEqualTo("Running");
        // Running says the app's process started, not that its command has written anything yet
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(cli.run("logs", "staged").out()).isEqualTo("fetched\nchecked\n"));
        assertThat(cli.run("logs", "staged", "-c", "fetch").out()).isEmpty();
        var status = cluster.pod("staged").getStatus();
        assertThat(status.getInitContainerStatuses()).allSatisfy(s -> {
            assertThat(s.getState().getTerminated().getReason()).isEqualTo("Completed");
            assertThat(s.getReady()).isFalse();
        });
        assertThat(status.getConditions()).anyMatch(c -> c.getType().equals("Initialized") && c.getStatus().equals("True"));
    }

    @Test
    void aFailedInitContainerFailsAPodThatNeverRestarts() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: bad-init
                spec:
                  restartPolicy: Never
                  initContainers:
                  - name: migrate
                    image: busybox
                    command: [sh, -c, 'echo "migration failed" >&2; exit 4']
                  containers:
                  - name: app
                    image: busybox
                    command: [sleep, '600']
                """);
        await().atMost(Duration.ofSeconds(10)).until(() -> "Failed".equals(cluster.pod("bad-init").getStatus().getPhase()));
        assertThat(cli.run("get", "pod", "bad-init").out()).containsPattern("bad-init +0/1 +Init:Error +0 ");
        assertThat(cli.run("logs", "bad-init", "-c", "migrate").out()).isEqualTo("migration failed\n");
        assertThat(cluster.pod("bad-init").getStatus().getContainerStatuses().getFirst().getState().getWaiting().getReason())
                .isEqualTo("PodInitializing");
    }

    /**
     * Native sidecars (init containers with restartPolicy Always): the next init container and the
     * app wait until the sidecar has started (its startup probe passed), it runs beside the app and
     * is restarted whenever it exits, it counts in READY, and it is stopped after the app, the last
     * sidecar first.
     */
    @Test
    void aSidecarStartsFirstRunsBesideTheAppAndStopsAfterIt() throws Exception {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: with-sidecar
                spec:
                  terminationGracePeriodSeconds: 5
                  initContainers:
                  - name: proxy
                    image: busybox
                    restartPolicy: Always
                    command: [sh, -c, 'trap "echo proxy-stopped >> /work/order; exit 0" TERM; sleep 0.5; touch /work/proxy-up; echo proxy >> /work/order; while :; do sleep 0.1; done']
                    startupProbe:
                      exec: {command: [test, -e, /work/proxy-up]}
                      periodSeconds: 1
                    volumeMounts: [{name: work, mountPath: /work}]
                  - name: logger
                    image: busybox
                    restartPolicy: Always
                    command: [sh, -c, 'trap "echo logger-stopped >> /work/order; exit 0" TERM; echo logger >> /work/order; while :; do sleep 0.1; done']
                    volumeMounts: [{name: work, mountPath: /work}]
                  - name: migrate
                    image: busybox
                    command: [sh, -c, 'sleep 0.3; echo migrate >> /work/order']
                    volumeMounts: [{name: work, mountPath: /work}]
                  containers:
                  - name: app
                    image: busybox
                    command: [sh, -c, 'trap "echo app-stopped >> /work/order; exit 0" TERM; echo app >> /work/order; while :; do sleep 0.1; done']
                    volumeMounts: [{name: work, mountPath: /work}]
                  volumes:
                  - {name: work, hostPath: {path: %s, type: Directory}}
                """.formatted(tmp));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(cli.run("get", "pod", "with-sidecar").out()).containsPattern("with-sidecar +3/3 +Running +0 "));
        java.nio.file.Path work = tmp;
        // Running says the app's process started, not that its first command has run yet
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(java.nio.file.Files.readAllLines(work.resolve("order"))).containsExactly("proxy", "logger", "migrate", "app"));
        var status = cluster.pod("with-sidecar").getStatus();
        assertThat(status.getConditions()).anyMatch(c -> c.getType().equals("Initialized") && c.getStatus().equals("True"))
                .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
        assertThat(status.getInitContainerStatuses()).filteredOn(s -> !s.getName().equals("migrate"))
                .allSatisfy(s -> assertThat(s.getStarted()).isTrue());
        cluster.delete(dev.portway.api.ResourceKind.POD, "with-sidecar");
        await().atMost(Duration.ofSeconds(20)).until(() -> cluster.local().store().get(dev.portway.api.ResourceKind.POD, "default", "with-sidecar").isEmpty());
        assertThat(java.nio.file.Files.readAllLines(work.resolve("order")).subList(4, 7))
                .containsExactly("app-stopped", "logger-stopped", "proxy-stopped");
    }

    /** A sidecar that exits is started again even in a pod that never restarts; the pod succeeds when its app does, the sidecar stopped. */
    @Test
    void aJobLikePodSucceedsWhenItsAppDoesThoughItsSidecarRunsOn() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: batch
                spec:
                  restartPolicy: Never
                  initContainers:
                  - name: flaky
                    image: busybox
                    restartPolicy: Always
                    command: [sh, -c, 'test -e /work/ran || { touch /work/ran; exit 3; }; exec sleep 600']
                    volumeMounts: [{name: work, mountPath: /work}]
                  containers:
                  - name: app
                    image: busybox
                    command: [sh, -c, 'sleep 3']
                    volumeMounts: [{name: work, mountPath: /work}]
                  volumes:
                  - {name: work, emptyDir: {}}
                """);
        await().atMost(Duration.ofSeconds(30)).until(() -> "Succeeded".equals(cluster.pod("batch").getStatus().getPhase()));
        var sidecar = cluster.pod("batch").getStatus().getInitContainerStatuses().getFirst();
        assertThat(sidecar.getRestartCount()).isEqualTo(1);
        assertThat(sidecar.getState().getTerminated()).as("stopped once the app was done").isNotNull();
        assertThat(cli.run("get", "pod", "batch").out()).containsPattern("batch +0/2 +Completed +1 ");
    }

    /** An init container that fails for good fails the pod, and its sidecar is stopped with it (its address then goes back). */
    @Test
    void aSidecarIsStoppedWhenAnInitContainerAfterItFailsThePod() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: failed-init
                spec:
                  restartPolicy: Never
                  terminationGracePeriodSeconds: 2
                  initContainers:
                  - name: proxy
                    image: busybox
                    restartPolicy: Always
                    command: [sleep, '600']
                  - name: migrate
                    image: busybox
                    command: [sh, -c, 'exit 4']
                  containers:
                  - name: app
                    image: busybox
                    command: [sleep, '600']
                """);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            var status = cluster.pod("failed-init").getStatus();
            assertThat(status.getPhase()).isEqualTo("Failed");
            assertThat(status.getInitContainerStatuses().getFirst().getState().getTerminated()).as("the sidecar, stopped").isNotNull();
        });
        assertThat(cluster.pod("failed-init").getStatus().getInitContainerStatuses().getFirst().getRestartCount()).isZero();
    }
}
