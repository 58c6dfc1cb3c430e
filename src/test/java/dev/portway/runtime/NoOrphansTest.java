package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.Processes;
import dev.portway.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code portway up} in a process of its own, killed with SIGKILL: it runs no code at the end,
 * and still none of its pods' processes (nor what they started) survives it.
 */
class NoOrphansTest {

    @Test
    void noChildProcessOutlivesAPortwayKilledWithSigkill(@TempDir Path dir) throws Exception {
        String token = UUID.randomUUID().toString();
        // each pod: a shell that starts a background sleep (a grandchild) and waits; every process inherits ORPHAN_TOKEN
        Path manifest = dir.resolve("sleepers.yaml");
        Files.writeString(manifest, """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: sleepers
                spec:
                  replicas: 2
                  selector:
                    matchLabels: {app: sleepers}
                  template:
                    metadata:
                      labels: {app: sleepers}
                    spec:
                      containers:
                      - name: sleeper
                        image: busybox
                        command: [sh, -c, 'sleep 600 & sleep 600 & wait']
                        env:
                        - {name: ORPHAN_TOKEN, value: "%s"}
                """.formatted(token));
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                "dev.portway.cli.Main", "up", "-f", manifest.toString(), "--admin-address", "127.0.0.1:0",
                "--state-dir", dir.resolve("state").toString()));
        Process portway = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("portway.log").toFile())
                .start();
        try {
            // 2 pods x (sh + 2 sleeps)
            await().atMost(Duration.ofSeconds(60)).until(() -> Processes.withEnvironment("ORPHAN_TOKEN", token).size() >= 6);
            List<Long> children = Processes.withEnvironment("ORPHAN_TOKEN", token);

            portway.destroyForcibly();
            assertThat(portway.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(portway.exitValue()).isEqualTo(137);

            await().atMost(Duration.ofSeconds(10)).until(() -> Processes.withEnvironment("ORPHAN_TOKEN", token).isEmpty());
            assertThat(children).noneMatch(Processes::alive);
        } finally {
            portway.destroyForcibly();
            for (long pid : Processes.withEnvironment("ORPHAN_TOKEN", token)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void aClusterThatShutsDownStopsEveryProcessEvenOneThatIgnoresSigterm(@TempDir Path dir) throws Exception {
        String token = UUID.randomUUID().toString();
        Path mark = dir.resolve("sigterm");
        LocalCluster cluster = new LocalCluster(TestCluster.options()).start();
        try {
            cluster.apply(dev.portway.testing.TestApi.decode("""
                    apiVersion: v1
                    kind: Pod
                    metadata:
                      name: stubborn
                    spec:
                      containers:
                      - name: app
                        image: busybox
                        command: [sh, -c, 'trap "echo ignoring SIGTERM >> $MARK" TERM; sleep 600 & while true; do sleep 0.1; done']
                        env:
                        - {name: ORPHAN_TOKEN, value: "%s"}
                        - {name: MARK, value: "%s"}
                    ---
                    apiVersion: v1
                    kind: Pod
                    metadata:
                      name: done
                    spec:
                      restartPolicy: Never
                      containers:
                      - {name: app, image: busybox, command: ['true']}
                    """.formatted(token, mark)));
            // a finished pod stops at once when the cluster does; the other must still get its turn
            await().atMost(Duration.ofSeconds(10)).until(() -> Processes.withEnvironment("ORPHAN_TOKEN", token).size() >= 2
                    && cluster.store().get(io.fabric8.kubernetes.api.model.Pod.class, "default", "done")
                    .map(p -> "Succeeded".equals(p.getStatus().getPhase())).orElse(false));
        } finally {
            long began = System.nanoTime();
            cluster.shutdown(Duration.ofSeconds(1));
            assertThat((System.nanoTime() - began) / 1_000_000).isLessThan(5000);
        }
        await().atMost(Duration.ofSeconds(3)).until(() -> Processes.withEnvironment("ORPHAN_TOKEN", token).isEmpty());
        assertThat(cluster.kubelet().stateDir()).doesNotExist();
        // it was asked first (SIGTERM), then killed
        assertThat(mark).content().contains("ignoring SIGTERM");
    }
}
