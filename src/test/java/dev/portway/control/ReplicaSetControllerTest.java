package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.store.Store;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What one pass of the ReplicaSet controller may do, as kube-controller-manager bounds it. */
class ReplicaSetControllerTest {

    private final ControlPlane control = new ControlPlane(new Store(), ClusterConfig.local(), new Random(5));

    @AfterEach
    void close() {
        control.close();
    }

    private void apply(List<HasMetadata> objects) {
        TestApi.apply(control, objects);
    }

    private static String replicaSet(String name, int replicas) {
        return """
                apiVersion: apps/v1
                kind: ReplicaSet
                metadata:
                  name: %s
                spec:
                  replicas: %d
                  selector: {matchLabels: {app: many}}
                  template:
                    metadata: {labels: {app: many}}
                    spec:
                      containers:
                      - {name: main, image: busybox, command: [sleep, '600']}
                """.formatted(name, replicas);
    }

    /**
     * A pass creates at most burstReplicas (500) pods of a ReplicaSet: ten thousand replicas held
     * the control thread, and every API write behind it, for one pass of ten thousand creates.
     * A long name makes pods whose names are cut to fit, as kube's name generator cuts them.
     */
    @Test
    void aPassCreatesAtMostBurstReplicasPodsWithNamesThatFit() {
        apply(List.of(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build()));
        String name = "r".repeat(250);
        apply(TestApi.decode(replicaSet(name, 1200)));
        int created = control.call(() -> {
            new ReplicaSetController(control).reconcile();
            return control.store().list(Pod.class).size();
        });
        assertThat(created).isEqualTo(ReplicaSetController.BURST_REPLICAS);
        assertThat(control.store().list(Pod.class)).allSatisfy(p ->
                assertThat(p.getMetadata().getName()).hasSize(ApiServer.MAX_GENERATED_NAME_BASE + 5).startsWith("r".repeat(58)));
    }

    /** No controller acts on Events: a controller recording one each pass made the next pass, for good. */
    @Test
    void recordingEventsQueuesNoPass() {
        apply(List.of(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build()));
        HasMetadata ns = control.store().list(io.fabric8.kubernetes.api.model.Namespace.class).getFirst();
        long before = control.passes();
        control.call(() -> {
            for (int i = 0; i < 20; i++) {
                control.events().warning(ns, "Failed", "attempt " + i, "test");
            }
            return null;
        });
        control.awaitIdle();
        assertThat(control.passes()).isEqualTo(before);
    }
}
