package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.control.EventRecorder;
import dev.portway.control.Pods;
import dev.portway.testing.TestCluster;
import dev.portway.testing.Timeline;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Liveness, startup and readiness probes of process containers: httpGet, tcpSocket and exec. */
class ProbesTest {

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster(TestCluster.options()
                .withKubelet(TestCluster.options().kubelet().withBackoff(Duration.ofMillis(200), Duration.ofSeconds(1))));
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void aFailingLivenessProbeRestartsTheContainer() throws Exception {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: lively
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: http
                    image: python:3.12-slim
                    command: [sh, -c, 'touch /www/alive && exec python3 -m http.server --bind "$(IP)" --directory /www 8080']
                    env:
                    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                    ports:
                    - {name: http, containerPort: 8080}
                    livenessProbe:
                      httpGet: {path: /alive, port: http}
                      periodSeconds: 1
                      failureThreshold: 2
                    volumeMounts:
                    - {name: www, mountPath: /www}
                  volumes:
                  - {name: www, emptyDir: {}}
                """);
        await().atMost(Duration.ofSeconds(10)).until(() -> running("lively"));
        // alive: probes pass and nothing restarts
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> restarts("lively") == 0);

        Files.delete(cluster.volumeDir(cluster.pod("lively"), "www").resolve("alive"));
        await().atMost(Duration.ofSeconds(10)).until(() -> restarts("lively") == 1 && running("lively"));
        List<Event> events = events("lively");
        assertThat(events).anyMatch(e -> e.getReason().equals("Unhealthy")
                && e.getMessage().equals("Liveness probe failed: HTTP probe failed with statuscode: 404"));
        assertThat(events).anyMatch(e -> e.getReason().equals("Killing")
                && e.getMessage().equals("Container http failed liveness probe, will be restarted"));
        // the new run made the file again: it stays alive
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(4)).until(() -> restarts("lively") == 1);
    }

    @Test
    void readinessWaitsForTheStartupProbe() {
        try (Timeline timeline = new Timeline(cluster.local().store(), "slow-start")) {
            cluster.apply("""
                    apiVersion: v1
                    kind: Pod
                    metadata:
                      name: slow-start
                    spec:
                      containers:
                      - name: app
                        image: busybox
                        command: [sh, -c, 'sleep 1.5; touch started; exec sleep 600']
                        startupProbe:
                          exec: {command: [test, -f, started]}
                          periodSeconds: 1
                          failureThreshold: 10
                        readinessProbe:
                          exec: {command: ['true']}
                          periodSeconds: 1
                    """);
            await().atMost(Duration.ofSeconds(10)).until(() -> Pods.isReady(cluster.pod("slow-start")));
            List<Timeline.Status> statuses = timeline.statuses();
            assertThat(statuses).anyMatch(s -> s.running() && !s.status().getStarted() && !s.status().getReady());
            assertThat(statuses).noneMatch(s -> s.status().getReady() && !s.status().getStarted());
            assertThat(restarts("slow-start")).isZero();
        }
    }

    @Test
    void aStartupProbeThatNeverPassesRestartsTheContainer() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: never-starts
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: app
                    image: busybox
                    command: [sleep, '600']
                    startupProbe:
                      tcpSocket: {port: 7777}
                      periodSeconds: 1
                      failureThreshold: 2
                """);
        await().atMost(Duration.ofSeconds(15)).until(() -> restarts("never-starts") >= 1);
        String ip = cluster.pod("never-starts").getStatus().getPodIP();
        assertThat(events("never-starts")).anyMatch(e -> e.getReason().equals("Unhealthy")
                && e.getMessage().equals("Startup probe failed: dial tcp " + ip + ":7777: connect: connection refused"));
        assertThat(events("never-starts")).anyMatch(e -> e.getMessage().equals("Container app failed startup probe, will be restarted"));
        assertThat(Pods.isReady(cluster.pod("never-starts"))).isFalse();
    }

    @Test
    void anExecProbeReportsWhatTheCommandPrinted() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: exec-probe
                spec:
                  containers:
                  - name: app
                    image: busybox
                    command: [sleep, '600']
                    readinessProbe:
                      exec: {command: [sh, -c, 'echo "not yet: $STAGE"; exit 1']}
                      periodSeconds: 1
                    env:
                    - {name: STAGE, value: warming}
                """);
        await().atMost(Duration.ofSeconds(10)).until(() -> events("exec-probe").stream()
                .anyMatch(e -> e.getMessage().equals("Readiness probe failed: not yet: warming")));
        assertThat(Pods.isReady(cluster.pod("exec-probe"))).isFalse();
    }

    @Test
    void aProbeThatGetsNoAnswerWithinTimeoutSecondsFails() {
        // a socket that accepts connections (the kernel does) but never answers
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: mute
                spec:
                  containers:
                  - name: app
                    image: python:3.12-slim
                    command: [python3, -c, 'import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("$(IP)", 8080)); s.listen(); time.sleep(600)']
                    env:
                    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                    readinessProbe:
                      httpGet: {path: /ready, port: 8080}
                      timeoutSeconds: 1
                      periodSeconds: 2
                """);
        await().atMost(Duration.ofSeconds(10)).until(() -> running("mute"));
        String ip = cluster.pod("mute").getStatus().getPodIP();
        await().atMost(Duration.ofSeconds(10)).until(() -> events("mute").stream().anyMatch(e -> e.getMessage().equals(
                "Readiness probe failed: Get \"http://" + ip + ":8080/ready\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")));
        assertThat(Pods.isReady(cluster.pod("mute"))).isFalse();
    }

    @Test
    void noProbeRunsBeforeInitialDelaySeconds() {
        try (Timeline timeline = new Timeline(cluster.local().store(), "delayed")) {
            cluster.apply("""
                    apiVersion: v1
                    kind: Pod
                    metadata:
                      name: delayed
                    spec:
                      containers:
                      - name: app
                        image: busybox
                        command: [sleep, '600']
                        readinessProbe:
                          exec: {command: ['true']}
                          initialDelaySeconds: 2
                          periodSeconds: 1
                    """);
            // the timeline, not the store: the store shows a change before it tells the watchers that record it
            await().atMost(Duration.ofSeconds(10)).until(() -> timeline.statuses().stream().anyMatch(s -> s.status().getReady()));
            long started = timeline.statuses().stream().filter(Timeline.Status::running).findFirst().orElseThrow().nanos();
            long ready = timeline.statuses().stream().filter(s -> s.status().getReady()).findFirst().orElseThrow().nanos();
            assertThat((ready - started) / 1_000_000).isBetween(1900L, 4000L);
        }
    }

    private static boolean running(String pod) {
        var s = cluster.pod(pod).getStatus().getContainerStatuses();
        return s != null && s.getFirst().getState().getRunning() != null;
    }

    private static int restarts(String pod) {
        var s = cluster.pod(pod).getStatus().getContainerStatuses();
        return s == null ? 0 : s.getFirst().getRestartCount();
    }

    private static List<Event> events(String pod) {
        return EventRecorder.about(cluster.local().store(), cluster.pod(pod));
    }

}
