package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.store.Store;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Pods go to nodes with room, as kube-scheduler places them, and stay Pending in its words when none has. */
class SchedulerTest {

    private final ControlPlane control = new ControlPlane(new Store(), ClusterConfig.local(), new Random(3));

    @AfterEach
    void close() {
        control.close();
    }

    private void apply(List<HasMetadata> objects) {
        TestApi.apply(control, objects);
    }

    private static HasMetadata node(String name, String pods, boolean ready, Map<String, String> labels) {
        return new NodeBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata()
                .withNewStatus().addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
                .withAllocatable(Map.of("pods", new Quantity(pods))).withCapacity(Map.of("pods", new Quantity(pods))).endStatus().build();
    }

    private static String pod(String name, String nodeSelector) {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                spec:
                  %s
                  containers:
                  - {name: main, image: busybox, command: [sleep, '600']}
                """.formatted(name, nodeSelector);
    }

    private PodCondition scheduled(String name) {
        Pod p = control.store().get(Pod.class, "default", name).orElseThrow();
        return p.getStatus().getConditions().stream().filter(c -> c.getType().equals("PodScheduled")).findFirst().orElseThrow();
    }

    @Test
    void aNodeTakesNoMorePodsThanItsAllocatablePodsAndThePodsLeftSayWhy() {
        apply(new ArrayList<>(List.of(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build(),
                node("a", "2", true, Map.of()), node("b", "1", true, Map.of()), node("down", "10", false, Map.of()))));
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            yaml.append(pod("p" + i, "")).append("---\n");
        }
        yaml.append(pod("picky", "nodeSelector: {disk: ssd}"));
        apply(TestApi.decode(yaml.toString()));
        Scheduler scheduler = control.call(() -> new Scheduler(control));
        control.call(() -> {
            scheduler.reconcile();
            return null;
        });
        control.awaitIdle();
        long placed = control.store().list(Pod.class).stream().filter(p -> p.getSpec().getNodeName() != null).count();
        assertThat(placed).isEqualTo(3);
        List<String> pending = control.store().list(Pod.class).stream().filter(p -> p.getSpec().getNodeName() == null)
                .map(p -> p.getMetadata().getName()).sorted().toList();
        assertThat(pending).hasSize(3).contains("picky");
        String full = pending.stream().filter(n -> !n.equals("picky")).findFirst().orElseThrow();
        assertThat(scheduled(full).getReason()).isEqualTo("Unschedulable");
        assertThat(scheduled(full).getMessage()).isEqualTo("0/3 nodes are available: 1 node(s) had untolerated taint(s), "
                + "2 Too many pods. preemption: 0/3 nodes are available: "
                + "1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.");
        long revision = control.store().revision();
        control.call(() -> {
            scheduler.reconcile();
            return null;
        });
        assertThat(control.store().revision()).as("a pass that changes nothing writes nothing").isEqualTo(revision);
        assertThat(scheduled("picky").getMessage()).startsWith("0/3 nodes are available: 1 node(s) had untolerated taint(s), "
                + "2 node(s) didn't match Pod's node affinity/selector.");
    }

    /**
     * A pod that waits is tried again every 5 minutes, and its FailedScheduling event recorded
     * again (its count, and its hour to live, renewed), as kube-scheduler flushes its unschedulable
     * pods; in between, passes write nothing for it.
     */
    @Test
    void aWaitingPodsEventIsRecordedAgainEveryFiveMinutes() {
        dev.portway.testing.StepClock clock = new dev.portway.testing.StepClock(java.time.Instant.parse("2026-11-30T09:00:00Z"));
        ControlPlane timed = new ControlPlane(new Store(), ClusterConfig.local().withClock(clock), new Random(4));
        try {
            TestApi.apply(timed, new ArrayList<>(List.of(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build(),
                    node("full", "0", true, Map.of()))));
            TestApi.apply(timed, TestApi.decode(pod("waiting", "")));
            Scheduler scheduler = timed.call(() -> new Scheduler(timed));
            java.util.function.IntSupplier count = () -> timed.store().list(io.fabric8.kubernetes.api.model.Event.class).stream()
                    .filter(e -> "FailedScheduling".equals(e.getReason())).mapToInt(e -> e.getCount() == null ? 1 : e.getCount()).sum();
            Runnable pass = () -> timed.call(() -> {
                scheduler.reconcile();
                return null;
            });
            pass.run();
            assertThat(count.getAsInt()).isEqualTo(1);
            clock.advance(java.time.Duration.ofMinutes(4));
            pass.run();
            assertThat(count.getAsInt()).as("within the period: nothing written").isEqualTo(1);
            clock.advance(java.time.Duration.ofMinutes(2));
            pass.run();
            assertThat(count.getAsInt()).isEqualTo(2);
        } finally {
            timed.close();
        }
    }
}
