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
 * The Deployment and ReplicaSet controllers as kube-controller-manager runs them: which
 * ReplicaSets a Deployment controls and which pods a ReplicaSet does (orphans that match are
 * adopted, not made again beside the ones left; a pod relabelled out of the selector is let go
 * and replaced), rollbacks, a paused rollout, and minReadySeconds.
 */
class WorkloadControllersTest {

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
    private static String paused(String yaml) {
        return yaml.replace("  replicas: 2\n", "  replicas: 2\n  paused: true\n");
    }

    /**
     * {@code kubectl rollout pause}: a new template makes no ReplicaSet until the rollout is
     * resumed, and the Deployment says it is paused; a change of replicas still reaches the one
     * ReplicaSet. Both were ignored: the rollout went on at once.
     */
    @Test
    void aPausedDeploymentRollsNothingOutUntilResumed() {
        apply(DEPLOYMENT);
        String first = control.store().list(ReplicaSet.class, "default").getFirst().getMetadata().getName();
        String changed = DEPLOYMENT.replace("sleep, '600'", "sleep, '601'");
        apply(paused(changed).replace("replicas: 2", "replicas: 3"));

        assertThat(control.store().list(ReplicaSet.class, "default")).extracting(rs -> rs.getMetadata().getName()).containsExactly(first);
        assertThat(control.store().get(ReplicaSet.class, "default", first).orElseThrow().getSpec().getReplicas()).isEqualTo(3);
        assertThat(pods()).hasSize(3);
        var progressing = control.store().get(io.fabric8.kubernetes.api.model.apps.Deployment.class, "default", "web").orElseThrow()
                .getStatus().getConditions().stream().filter(c -> "Progressing".equals(c.getType())).findFirst().orElseThrow();
        assertThat(progressing.getStatus()).isEqualTo("Unknown");
        assertThat(progressing.getReason()).isEqualTo("DeploymentPaused");

        apply(changed.replace("replicas: 2", "replicas: 3"));
        assertThat(control.store().list(ReplicaSet.class, "default")).hasSize(2);
    }

    /**
     * minReadySeconds: a pod counts as available once it has been Ready that long, and no sooner
     * (kube's IsPodAvailable); a rollout waits for it. Pods counted as available the moment they
     * were Ready.
     */
    @Test
    void aPodIsAvailableOnlyOnceItHasBeenReadyForMinReadySeconds() {
        apply(DEPLOYMENT.replace("kind: Deployment", "kind: ReplicaSet").replace("replicas: 2", "replicas: 1\n  minReadySeconds: 2"));
        Pod pod = pods().getFirst();
        java.time.Instant readyAt = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS); // as the condition holds it
        control.call(() -> control.api().mutate(Pod.class, "default", pod.getMetadata().getName(), p -> {
            p.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running")
                    .addNewCondition().withType("Ready").withStatus("True")
                    .withLastTransitionTime(dev.portway.api.Times.format(readyAt)).endCondition().build());
            return p;
        }));
        control.awaitIdle();
        ReplicaSet rs = control.store().get(ReplicaSet.class, "default", "web").orElseThrow();
        assertThat(rs.getStatus().getReadyReplicas()).isEqualTo(1);
        assertThat(rs.getStatus().getAvailableReplicas()).isZero();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(6)).until(() ->
                control.store().get(ReplicaSet.class, "default", "web").orElseThrow().getStatus().getAvailableReplicas() == 1);
        assertThat(java.time.Duration.between(readyAt, java.time.Instant.now())).isGreaterThanOrEqualTo(java.time.Duration.ofSeconds(2));
    }
    /**
     * A ReplicaSet relabelled out of the Deployment's selector is let go, and the Deployment's
     * template needs one again under the same name: as kube, status.collisionCount goes into the
     * hash and the next ReplicaSet gets another name. With the create that refuses to replace, the
     * Deployment was stuck for good on AlreadyExists.
     */
    @Test
    void aReplicaSetRelabelledOutOfTheSelectorIsReplacedUnderAnotherName() {
        apply(DEPLOYMENT);
        String first = control.store().list(ReplicaSet.class, "default").getFirst().getMetadata().getName();
        control.call(() -> control.api().mutate(ReplicaSet.class, "default", first, rs -> {
            rs.getMetadata().getLabels().put("app", "quarantine");
            return rs;
        }));
        control.awaitIdle();

        var deployment = control.store().get(io.fabric8.kubernetes.api.model.apps.Deployment.class, "default", "web").orElseThrow();
        assertThat(deployment.getStatus().getCollisionCount()).isEqualTo(1);
        assertThat(control.store().get(ReplicaSet.class, "default", first).orElseThrow().getMetadata().getOwnerReferences()).isNullOrEmpty();
        assertThat(control.store().list(ReplicaSet.class, "default")).filteredOn(rs -> Pods.isControlledBy(rs, deployment))
                .singleElement().satisfies(rs -> {
                    assertThat(rs.getMetadata().getName()).isNotEqualTo(first).startsWith("web-");
                    assertThat(rs.getSpec().getReplicas()).isEqualTo(2);
                });
    }

    /** minReadySeconds is not in the template: a change of it reaches the ReplicaSet without a rollout, as in kube. */
    @Test
    void minReadySecondsFollowsTheDeploymentWithoutARollout() {
        apply(DEPLOYMENT);
        apply(DEPLOYMENT.replace("  replicas: 2\n", "  replicas: 2\n  minReadySeconds: 5\n"));
        assertThat(control.store().list(ReplicaSet.class, "default")).singleElement()
                .satisfies(rs -> assertThat(rs.getSpec().getMinReadySeconds()).isEqualTo(5));
    }

    /** The revision history is kept under 2,000 characters (kube's maxRevHistoryLengthInChars), the oldest entries going first. */
    @Test
    void theRevisionHistoryDropsItsOldestEntriesPastTwoThousandCharacters() {
        assertThat(DeploymentController.withRevision(null, "3")).isEqualTo("3");
        assertThat(DeploymentController.withRevision("1,3", "5")).isEqualTo("1,3,5");
        String full = String.join(",", java.util.stream.IntStream.range(1000, 1400).mapToObj(Integer::toString).toList()); // 1,999 characters
        assertThat(full).hasSize(1999);
        assertThat(DeploymentController.withRevision(full, "2000")).startsWith("1001,").endsWith(",1399,2000").hasSize(1999);
    }
}
