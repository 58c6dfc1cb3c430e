package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.TestCluster;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A container whose process is slow to start does not hold the control thread: every API write
 * goes on meanwhile. The process used to be forked on the control thread, so a slow fork (or a
 * slow disk under the pod's volumes) stalled every write until it was done.
 */
class KubeletControlThreadTest {

    @Test
    void aSlowProcessStartDoesNotStallApiWrites() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            cluster.local().kubelet().launcher((command, env, workingDir, guard, log) -> {
                entered.countDown();
                try {
                    release.await(15, TimeUnit.SECONDS); // a fork that takes its time
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return OsProcess.start(command, env, workingDir, guard, log);
            });
            cluster.apply(TestCluster.shellPod("slow-start", "Never", "echo started; sleep 600"));
            assertThat(entered.await(20, TimeUnit.SECONDS)).as("the process is being started").isTrue();

            long start = System.nanoTime();
            cluster.apply("""
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: meanwhile}
                    data: {written: "while a process was starting"}
                    """);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the write did not wait for the start").isLessThan(Duration.ofSeconds(5));

            release.countDown();
            await().atMost(Duration.ofSeconds(20)).until(() -> "Running".equals(cluster.pod("slow-start").getStatus().getPhase()));
            await().atMost(Duration.ofSeconds(10)).until(() -> cluster.log("slow-start").contains("started"));
        }
    }

    /** A pod deleted while its process is being started: the deletion waits for that process, which is ended, not left running. */
    @Test
    void aPodDeletedWhileItsProcessStartsLeavesNoProcessBehind() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicReference<ContainerProcess> started = new java.util.concurrent.atomic.AtomicReference<>();
            cluster.local().kubelet().launcher((command, env, workingDir, guard, log) -> {
                entered.countDown();
                try {
                    release.await(15, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ContainerProcess p = OsProcess.start(command, env, workingDir, guard, log);
                started.set(p);
                return p;
            });
            cluster.apply(TestCluster.shellPod("doomed", "Never", "sleep 600"));
            assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();
            cluster.local().control().call(() -> cluster.local().control().api().delete(dev.portway.api.ResourceKind.POD, "default", "doomed",
                    dev.portway.control.DeleteOptions.NOW));
            release.countDown();
            await().atMost(Duration.ofSeconds(20)).until(() -> started.get() != null);
            assertThat(started.get().exit().get(20, TimeUnit.SECONDS)).as("the process was ended").isNotNull();
            await().atMost(Duration.ofSeconds(20)).until(() -> cluster.local().store().get(io.fabric8.kubernetes.api.model.Pod.class,
                    "default", "doomed").isEmpty());
        }
    }
}
