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

/** Init containers run one after the other, to completion, before the pod's containers. */
class InitContainersTest {

    private static TestCluster cluster;
    private static CliDriver cli;

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
}
