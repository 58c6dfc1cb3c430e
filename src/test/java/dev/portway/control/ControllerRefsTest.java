package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.ResourceKind;
import dev.portway.store.Store;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which ReplicaSets a Deployment controls, and which pods a ReplicaSet does, as
 * kube-controller-manager claims them: orphans that match are adopted, not made again beside
 * the ones left; a pod relabelled out of the selector is let go and replaced.
 */
class ControllerRefsTest {

    private static final DeleteOptions ORPHAN = new DeleteOptions(null, DeleteOptions.Propagation.ORPHAN, null, null, false);

    private final ControlPlane control = new ControlPlane(new Store(), ClusterConfig.local(), new Random(5));

    @BeforeEach
    void namespace() {
        control.addController(new DeploymentController(control));
        control.addController(new ReplicaSetController(control));
        TestApi.apply(control, List.of(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build()));
    }

    @AfterEach
    void close() {
        control.close();
    }

    private void apply(String yaml) {
        TestApi.apply(control, TestApi.decode(yaml));
        control.awaitIdle();
    }

    private void delete(ResourceKind kind, String name) {
        control.call(() -> {
            control.api().delete(kind, "default", name, ORPHAN);
            return null;
        });
        control.awaitIdle();
    }

    private List<Pod> pods() {
        return control.store().list(Pod.class, "default");
    }

    private static final String DEPLOYMENT = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - {name: main, image: busybox, command: [sleep, '600']}
            """;

    /**
     * {@code kubectl delete deployment web --cascade=orphan}, then the same manifest applied
     * again: the new Deployment's ReplicaSet has the old one's name. It was created over it (a new
     * uid), the two pods that named the old uid were never collected, and two more were made.
     */
    @Test
    void aDeploymentAppliedAgainAdoptsTheReplicaSetItsPredecessorLeft() {
        apply(DEPLOYMENT);
        ReplicaSet rs = control.store().list(ReplicaSet.class, "default").getFirst();
        List<String> before = pods().stream().map(p -> p.getMetadata().getName()).toList();
        assertThat(before).hasSize(2);

        delete(ResourceKind.DEPLOYMENT, "web");
        assertThat(control.store().get(ReplicaSet.class, "default", rs.getMetadata().getName()).orElseThrow()
                .getMetadata().getOwnerReferences()).isNullOrEmpty();
        apply(DEPLOYMENT);

        ReplicaSet after = control.store().get(ReplicaSet.class, "default", rs.getMetadata().getName()).orElseThrow();
        assertThat(after.getMetadata().getUid()).isEqualTo(rs.getMetadata().getUid());
        assertThat(after.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(r -> assertThat(r.getName()).isEqualTo("web"));
        assertThat(pods()).extracting(p -> p.getMetadata().getName()).containsExactlyInAnyOrderElementsOf(before);
    }

    /**
     * A ReplicaSet made again after it was deleted with its pods orphaned takes them back; a pod
     * relabelled out of its selector (to keep it aside for debugging) is let go and replaced.
     */
    @Test
    void aReplicaSetAdoptsOrphansThatMatchAndLetsGoOfAPodRelabelledOut() {
        String replicaSet = DEPLOYMENT.replace("kind: Deployment", "kind: ReplicaSet").replace("web", "api");
        apply(replicaSet);
        List<String> before = pods().stream().map(p -> p.getMetadata().getName()).toList();
        delete(ResourceKind.REPLICA_SET, "api");
        apply(replicaSet);
        ReplicaSet rs = control.store().get(ReplicaSet.class, "default", "api").orElseThrow();
        assertThat(pods()).extracting(p -> p.getMetadata().getName()).containsExactlyInAnyOrderElementsOf(before);
        assertThat(pods()).allSatisfy(p -> assertThat(Pods.isControlledBy(p, rs)).isTrue());

        String quarantined = before.getFirst();
        control.call(() -> control.api().mutate(Pod.class, "default", quarantined, p -> {
            p.getMetadata().getLabels().put("app", "debug");
            return p;
        }));
        control.awaitIdle();
        Pod kept = control.store().get(Pod.class, "default", quarantined).orElseThrow();
        assertThat(kept.getMetadata().getOwnerReferences()).isNullOrEmpty();
        assertThat(pods()).hasSize(3);
        assertThat(pods().stream().filter(p -> Pods.isControlledBy(p, rs))).hasSize(2);
    }
    /**
     * {@code kubectl rollout undo} applies the previous template again: its ReplicaSet is taken
     * back at the next revision (the one it had goes to its history), so a second undo returns to
     * the template just left. It kept its old revision, and the second undo did nothing.
     */
    @Test
    void aRollbackTakesTheOldReplicaSetBackAtTheNextRevision() {
        apply(DEPLOYMENT);
        String first = control.store().list(ReplicaSet.class, "default").getFirst().getMetadata().getName();
        apply(DEPLOYMENT.replace("sleep, '600'", "sleep, '601'"));
        apply(DEPLOYMENT);

        ReplicaSet back = control.store().get(ReplicaSet.class, "default", first).orElseThrow();
        assertThat(back.getMetadata().getAnnotations()).containsEntry("deployment.kubernetes.io/revision", "3")
                .containsEntry("deployment.kubernetes.io/revision-history", "1");
        assertThat(control.store().get(io.fabric8.kubernetes.api.model.apps.Deployment.class, "default", "web").orElseThrow()
                .getMetadata().getAnnotations()).containsEntry("deployment.kubernetes.io/revision", "3");
    }
}
