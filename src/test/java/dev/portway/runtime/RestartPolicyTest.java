package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.cli.CliDriver;
import dev.portway.testing.TestCluster;
import dev.portway.testing.Timeline;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * restartPolicy and CrashLoopBackOff, with the kubelet's back-off scaled down (200 ms doubling
 * to 1.6 s instead of 10 s doubling to 5 min) so a test sees several steps.
 */
class RestartPolicyTest {

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster(TestCluster.options()
                .withKubelet(TestCluster.options().kubelet().withBackoff(Duration.ofMillis(200), Duration.ofMillis(1600))));
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }


    @Test
    void aCommandThatExits1GoesIntoCrashLoopBackOffWithAGrowingBackOff() {
        try (Timeline timeline = new Timeline(cluster.local().store(), "crash")) {
            cluster.apply(TestCluster.shellPod("crash", "Always", "echo starting; exit 1"));
            await().atMost(Duration.ofSeconds(20)).until(() -> restarts("crash") >= 5);

            List<String> backOffs = timeline.statuses().stream()
                    .filter(s -> "CrashLoopBackOff".equals(s.waitingReason()))
                    .map(s -> s.waitingMessage().replaceFirst(" restarting.*", ""))
                    .distinct().toList();
            assertThat(backOffs).startsWith("back-off 200ms", "back-off 400ms", "back-off 800ms", "back-off 1.6s");
            assertThat(timeline.statuses()).filteredOn(s -> "CrashLoopBackOff".equals(s.waitingReason())).first()
                    .satisfies(s -> assertThat(s.waitingMessage()).matches(
                            "back-off 200ms restarting failed container=app pod=crash_default\\([-0-9a-f]{36}\\)"));

            // the gaps between runs: the first restart is at once, then each waits its back-off, and they grow
            List<Long> runStarts = new ArrayList<>();
            for (Timeline.Status s : timeline.statuses()) {
                if (s.running() && (runStarts.isEmpty() || s.status().getRestartCount() != runStarts.size() - 1)) {
                    runStarts.add(s.nanos());
                }
            }
            List<Long> gaps = new ArrayList<>();
            for (int i = 1; i < runStarts.size(); i++) {
                gaps.add((runStarts.get(i) - runStarts.get(i - 1)) / 1_000_000);
            }
            assertThat(gaps).hasSizeGreaterThanOrEqualTo(4);
            assertThat(gaps.get(1)).isGreaterThanOrEqualTo(200);
            assertThat(gaps.get(2)).isGreaterThanOrEqualTo(400).isGreaterThan(gaps.get(1));
            assertThat(gaps.get(3)).isGreaterThanOrEqualTo(800).isGreaterThan(gaps.get(2));
        }
        Pod pod = cluster.pod("crash");
        var status = pod.getStatus().getContainerStatuses().getFirst();
        assertThat(status.getLastState().getTerminated().getExitCode()).isEqualTo(1);
        assertThat(status.getLastState().getTerminated().getReason()).isEqualTo("Error");
        assertThat(pod.getStatus().getPhase()).isEqualTo("Running");
        assertThat(dev.portway.control.EventRecorder.about(cluster.local().store(), pod))
                .anyMatch(e -> e.getReason().equals("BackOff") && e.getType().equals("Warning")
                        && e.getMessage().startsWith("Back-off restarting failed container app in pod crash_default("));
        await().atMost(Duration.ofSeconds(5)).until(() -> "CrashLoopBackOff".equals(waitingReason("crash")));
        assertThat(getPods()).containsPattern("crash +0/1 +CrashLoopBackOff +\\d+ \\(\\d+s ago\\)");
        String described = new CliDriver(java.time.Clock.systemUTC(), cluster.local()).run("describe", "pod", "crash").out();
        assertThat(described)
                .containsPattern("(?m)^    State: +Waiting\n      Reason: +CrashLoopBackOff$")
                .containsPattern("(?m)^    Last State: +Terminated\n      Reason: +Error\n      Exit Code: +1$")
                .containsPattern("(?m)^    Restart Count: +\\d+$")
                .containsPattern("(?m)^  Warning +BackOff .* kubelet +Back-off restarting failed container app in pod crash_default");
    }

    @Test
    void aProcessExitIsSeenWhileTheCommonPoolIsBusy() throws Exception {
        // whatever else the JVM runs may keep the common ForkJoinPool's threads blocked; pods must not care
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        int blockers = Math.max(4, java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() * 4);
        for (int i = 0; i < blockers; i++) {
            java.util.concurrent.ForkJoinPool.commonPool().execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        try {
            cluster.apply(TestCluster.shellPod("exits-busy", "Never", "exit 4"));
            await().atMost(Duration.ofSeconds(10)).until(() -> "Failed".equals(phase("exits-busy")));
        } finally {
            release.countDown();
        }
    }

    @Test
    void neverAndOnFailureEndPodsForGood() {
        cluster.apply(TestCluster.shellPod("fails", "Never", "exit 3") + "---\n" + TestCluster.shellPod("succeeds", "OnFailure", "echo done")
                + "---\n" + TestCluster.shellPod("completes", "Never", "true"));
        await().atMost(Duration.ofSeconds(10)).until(() -> "Failed".equals(phase("fails")) && "Succeeded".equals(phase("succeeds"))
                && "Succeeded".equals(phase("completes")));
        var failed = cluster.pod("fails").getStatus().getContainerStatuses().getFirst();
        assertThat(failed.getState().getTerminated().getExitCode()).isEqualTo(3);
        assertThat(failed.getRestartCount()).isZero();
        assertThat(cluster.pod("succeeds").getStatus().getContainerStatuses().getFirst().getState().getTerminated().getReason())
                .isEqualTo("Completed");
        String table = getPods();
        assertThat(table).containsPattern("fails +0/1 +Error +0 ");
        assertThat(table).containsPattern("succeeds +0/1 +Completed +0 ");
    }

    @Test
    void onFailureRestartsAFailedRunButNotASuccessfulOne() {
        // fails on its first run (no marker file yet), succeeds on the second
        cluster.apply(TestCluster.shellPod("retry", "OnFailure", "if [ -f marker ]; then echo second; exit 0; fi; touch marker; exit 2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(phase("retry")));
        var status = cluster.pod("retry").getStatus().getContainerStatuses().getFirst();
        assertThat(status.getRestartCount()).isEqualTo(1);
        assertThat(status.getLastState().getTerminated().getExitCode()).isEqualTo(2);
        assertThat(status.getState().getTerminated().getExitCode()).isZero();
    }

    @Test
    void aMissingExecutableIsAStartErrorThatIsRetried() {
        cluster.apply(TestCluster.shellPod("typo", "Always", "x").replace("command: [sh, -c, 'x']", "command: [no-such-program-here]"));
        await().atMost(Duration.ofSeconds(10)).until(() -> restarts("typo") >= 2);
        var status = cluster.pod("typo").getStatus().getContainerStatuses().getFirst();
        var last = status.getLastState().getTerminated();
        assertThat(last.getReason()).isEqualTo("StartError");
        assertThat(last.getExitCode()).isEqualTo(128);
        assertThat(last.getMessage()).isEqualTo("exec: \"no-such-program-here\": executable file not found in $PATH");
    }

    @Test
    void anImageWithoutACommandCannotRunAndSaysWhatToDo() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: nginx
                spec:
                  containers:
                  - name: web
                    image: nginx:1.27
                """);
        await().atMost(Duration.ofSeconds(5)).until(() -> "CreateContainerError".equals(waitingReason("nginx")));
        var waiting = cluster.pod("nginx").getStatus().getContainerStatuses().getFirst().getState().getWaiting();
        assertThat(waiting.getMessage()).isEqualTo("image \"nginx:1.27\" cannot run here: local mode has no container runtime; "
                + "give the container a command (and args) to run it as a process, or use image portway/echo");
        assertThat(getPods()).containsPattern("nginx +0/1 +CreateContainerError +0 ");
    }

    private static int restarts(String pod) {
        Pod p = cluster.local().store().get(Pod.class, "default", pod).orElse(null);
        if (p == null || p.getStatus() == null || p.getStatus().getContainerStatuses() == null) {
            return 0;
        }
        return p.getStatus().getContainerStatuses().getFirst().getRestartCount();
    }

    private static String waitingReason(String pod) {
        var s = cluster.pod(pod).getStatus().getContainerStatuses();
        return s == null || s.getFirst().getState().getWaiting() == null ? null : s.getFirst().getState().getWaiting().getReason();
    }

    private static String phase(String pod) {
        Pod p = cluster.pod(pod);
        return p.getStatus() == null ? null : p.getStatus().getPhase();
    }

    private static String getPods() {
        return new CliDriver(java.time.Clock.systemUTC(), cluster.local()).run("get", "pods").out();
    }
}
