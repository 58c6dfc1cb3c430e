package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Cascading deletion with each propagation policy, and finalizers, through the API server. */
class GarbageCollectorTest {

    private TestApi test;
    private ApiServer api;

    @BeforeEach
    void setUp() {
        test = new TestApi();
        api = test.api();
    }

    private HasMetadata owner() {
        return test.apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: owner
                """).getFirst();
    }

    /** A dependent whose reference blocks its owner's foreground deletion, as the controllers' references do. */
    private void dependent(String name, HasMetadata owner) {
        dependent(name, owner, true);
    }

    private void dependent(String name, HasMetadata owner, boolean blocks) {
        ConfigMap cm = (ConfigMap) test.apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: %s
                """.formatted(name)).getFirst();
        ConfigMap owned = Json.copy(cm);
        owned.getMetadata().setOwnerReferences(List.of(new OwnerReferenceBuilder().withApiVersion("v1").withKind("ConfigMap")
                .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).withBlockOwnerDeletion(blocks ? true : null)
                .build()));
        api.update(owned, "default");
    }

    private boolean exists(String name) {
        return api.store().get(ResourceKind.CONFIG_MAP, "default", name).isPresent();
    }

    @Test
    void backgroundDeletesTheOwnerAndItsDependents() {
        HasMetadata owner = owner();
        dependent("d1", owner);
        dependent("d2", owner);
        api.delete(ResourceKind.CONFIG_MAP, "default", "owner", DeleteOptions.DEFAULT);
        assertThat(exists("owner")).isFalse();
        assertThat(exists("d1")).isFalse();
        assertThat(exists("d2")).isFalse();
    }

    /** The deletion walks the chain from a queue: recursion ran off the stack some thousands deep. */
    @Test
    void aDeletionFollowsAnOwnerChainThousandsDeep() {
        HasMetadata previous = owner();
        int depth = 20_000;
        java.util.List<HasMetadata> chain = new java.util.ArrayList<>();
        for (int i = 0; i < depth; i++) {
            chain.add(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withName("c" + i)
                    .withNamespace("default").withUid(java.util.UUID.randomUUID().toString()).endMetadata().build());
        }
        for (int i = 0; i < depth; i++) {
            HasMetadata o = i == 0 ? previous : chain.get(i - 1);
            chain.get(i).getMetadata().setOwnerReferences(List.of(new OwnerReferenceBuilder().withApiVersion("v1")
                    .withKind("ConfigMap").withName(o.getMetadata().getName()).withUid(o.getMetadata().getUid()).build()));
        }
        var batch = api.store().begin();
        chain.forEach(batch::put);
        batch.commit();
        api.delete(ResourceKind.CONFIG_MAP, "default", "owner", DeleteOptions.DEFAULT);
        assertThat(exists("owner")).isFalse();
        assertThat(exists("c0")).isFalse();
        assertThat(exists("c" + (depth - 1))).isFalse();
    }

    @Test
    void orphanKeepsTheDependentsWithoutTheOwnerReference() {
        HasMetadata owner = owner();
        dependent("d1", owner);
        api.delete(ResourceKind.CONFIG_MAP, "default", "owner",
                new DeleteOptions(null, DeleteOptions.Propagation.ORPHAN, null, null, false));
        assertThat(exists("owner")).isFalse();
        assertThat(api.store().get(ResourceKind.CONFIG_MAP, "default", "d1").orElseThrow().getMetadata().getOwnerReferences())
                .isNullOrEmpty();
    }

    @Test
    void aFinalizerHoldsTheObjectUntilItIsRemoved() {
        ConfigMap cm = (ConfigMap) test.apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: held
                  finalizers: [example.com/cleanup]
                """).getFirst();
        HasMetadata marked = api.delete(ResourceKind.CONFIG_MAP, "default", "held", DeleteOptions.DEFAULT);
        assertThat(marked.getMetadata().getDeletionTimestamp()).isNotNull();
        assertThat(exists("held")).isTrue();
        ConfigMap current = (ConfigMap) api.store().get(ResourceKind.CONFIG_MAP, "default", "held").orElseThrow();
        ConfigMap released = Json.copy(current);
        released.getMetadata().setFinalizers(List.of());
        // nothing may hold back an object already on its way out (ValidateNoNewFinalizers)
        ConfigMap more = Json.copy(current);
        more.getMetadata().setFinalizers(List.of("example.com/cleanup", "example.com/z", "example.com/a"));
        assertThatThrownBy(() -> api.update(more, "default")).isInstanceOf(dev.portway.api.ApiException.class)
                .hasMessageContaining("metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, "
                        + "found new finalizers []string{\"example.com/a\", \"example.com/z\"}");
        api.update(released, "default");
        api.finishDeletions();
        assertThat(exists("held")).isFalse();
        assertThat(cm.getMetadata().getUid()).isNotNull();
    }

    @Test
    void foregroundRemovesTheOwnerOnlyAfterItsDependents() {
        HasMetadata owner = owner();
        dependent("d1", owner);
        ConfigMap d1 = (ConfigMap) api.store().get(ResourceKind.CONFIG_MAP, "default", "d1").orElseThrow();
        ConfigMap held = Json.copy(d1);
        held.getMetadata().setFinalizers(List.of("example.com/slow"));
        api.update(held, "default");
        api.delete(ResourceKind.CONFIG_MAP, "default", "owner", new DeleteOptions(null, DeleteOptions.Propagation.FOREGROUND, null, null, false));
        HasMetadata waiting = api.store().get(ResourceKind.CONFIG_MAP, "default", "owner").orElseThrow();
        assertThat(waiting.getMetadata().getFinalizers()).contains("foregroundDeletion");
        api.finishDeletions();
        assertThat(exists("owner")).as("its dependent is still there").isTrue();
        ConfigMap dependentNow = Json.copy((ConfigMap) api.store().get(ResourceKind.CONFIG_MAP, "default", "d1").orElseThrow());
        dependentNow.getMetadata().setFinalizers(List.of());
        api.update(dependentNow, "default");
        api.finishDeletions();
        api.finishDeletions();
        assertThat(exists("d1")).isFalse();
        assertThat(exists("owner")).isFalse();
    }

    /**
     * Only a dependent whose reference has {@code blockOwnerDeletion: true} holds back its owner's
     * foreground deletion, as in Kubernetes: one without it is deleted in the background (it stays
     * here while its own finalizer does), and the owner goes without waiting for it.
     */
    @Test
    void foregroundWaitsOnlyForDependentsThatBlockIt() {
        HasMetadata owner = owner();
        dependent("loose", owner, false);
        ConfigMap held = Json.copy((ConfigMap) api.store().get(ResourceKind.CONFIG_MAP, "default", "loose").orElseThrow());
        held.getMetadata().setFinalizers(List.of("example.com/slow"));
        api.update(held, "default");
        api.delete(ResourceKind.CONFIG_MAP, "default", "owner", new DeleteOptions(null, DeleteOptions.Propagation.FOREGROUND, null, null, false));
        api.finishDeletions();
        assertThat(exists("owner")).as("nothing that blocks it is left").isFalse();
        assertThat(exists("loose")).as("its finalizer holds it").isTrue();
        assertThat(api.store().get(ResourceKind.CONFIG_MAP, "default", "loose").orElseThrow().getMetadata().getDeletionTimestamp()).isNotNull();
    }

    /**
     * The orphan finalizer orphans the dependents, as the Orphan policy does, and goes with the
     * deletion: it stayed, and held the object Terminating for good. A foreground delete of an
     * object without dependents that carries it is not held either.
     */
    @Test
    void theOrphanFinalizerOrphansTheDependentsAndDoesNotHoldTheObject() {
        HasMetadata owner = owner();
        dependent("d1", owner);
        ConfigMap marked = Json.copy((ConfigMap) api.store().get(ResourceKind.CONFIG_MAP, "default", "owner").orElseThrow());
        marked.getMetadata().setFinalizers(List.of("orphan"));
        api.update(marked, "default");
        api.delete(ResourceKind.CONFIG_MAP, "default", "owner", DeleteOptions.DEFAULT);
        api.finishDeletions();
        assertThat(exists("owner")).isFalse();
        assertThat(api.store().get(ResourceKind.CONFIG_MAP, "default", "d1").orElseThrow().getMetadata().getOwnerReferences())
                .as("orphaned").isNullOrEmpty();

        ConfigMap alone = (ConfigMap) test.apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: alone, finalizers: [orphan]}
                """).getFirst();
        api.delete(ResourceKind.CONFIG_MAP, "default", alone.getMetadata().getName(),
                new DeleteOptions(null, DeleteOptions.Propagation.FOREGROUND, null, null, false));
        api.finishDeletions();
        assertThat(exists("alone")).isFalse();
    }

    /**
     * A foreground delete of an object that carries the orphan finalizer swaps it for
     * foregroundDeletion, as kube-apiserver does: both together are invalid, and an update that
     * kept them (its other finalizer's owner taking that one off) was refused.
     */
    @Test
    void aForegroundDeleteTakesTheOrphanFinalizersPlace() {
        HasMetadata owner = owner();
        dependent("d1", owner);
        ConfigMap marked = Json.copy((ConfigMap) api.store().get(ResourceKind.CONFIG_MAP, "default", "owner").orElseThrow());
        marked.getMetadata().setFinalizers(List.of("orphan", "example.com/keep"));
        api.update(marked, "default");
        api.delete(ResourceKind.CONFIG_MAP, "default", "owner", new DeleteOptions(null, DeleteOptions.Propagation.FOREGROUND, null, null, false));
        ConfigMap waiting = Json.copy((ConfigMap) api.store().get(ResourceKind.CONFIG_MAP, "default", "owner").orElseThrow());
        assertThat(waiting.getMetadata().getFinalizers()).containsExactly("example.com/keep", "foregroundDeletion");
        waiting.getMetadata().setFinalizers(List.of("foregroundDeletion"));
        api.update(waiting, "default");
    }

    @Test
    void aPreconditionThatNoLongerHoldsIsAConflict() {
        HasMetadata owner = owner();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> api.delete(ResourceKind.CONFIG_MAP, "default", "owner",
                        new DeleteOptions(null, DeleteOptions.Propagation.BACKGROUND, "not-the-uid", null, false)))
                .hasMessage("Operation cannot be fulfilled on ConfigMap \"owner\": the UID in the precondition (not-the-uid) does not match the"
                        + " UID in record (" + owner.getMetadata().getUid() + "). The object might have been deleted and then recreated");
        assertThat(exists("owner")).isTrue();
    }

    private HasMetadata configMap(String name, String ns, String finalizer, HasMetadata owner) {
        ConfigMap cm = new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withName(name).withNamespace(ns)
                .endMetadata().build();
        if (finalizer != null) {
            cm.getMetadata().setFinalizers(List.of(finalizer));
        }
        if (owner != null) {
            cm.getMetadata().setOwnerReferences(List.of(new OwnerReferenceBuilder().withApiVersion("v1").withKind("ConfigMap")
                    .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).withBlockOwnerDeletion(true).build()));
        }
        return api.create(cm, ns);
    }

    private void removeFinalizers(ResourceKind kind, String ns, String name) {
        HasMetadata o = Json.copy(api.store().get(kind, ns, name).orElseThrow());
        o.getMetadata().setFinalizers(List.of());
        api.update(o, ns);
        api.finishDeletions();
    }

    @Test
    void foregroundGoesDownTheTreeAndEachOwnerWaitsForItsDependents() {
        HasMetadata top = configMap("top", "default", null, null);
        HasMetadata mid = configMap("mid", "default", null, top);
        configMap("leaf", "default", "example.com/slow", mid);
        api.delete(ResourceKind.CONFIG_MAP, "default", "top", new DeleteOptions(null, DeleteOptions.Propagation.FOREGROUND, null, null, false));
        api.finishDeletions();
        HasMetadata midNow = api.store().get(ResourceKind.CONFIG_MAP, "default", "mid").orElseThrow();
        assertThat(midNow.getMetadata().getFinalizers()).as("mid was deleted in foreground too").contains("foregroundDeletion");
        assertThat(exists("top")).isTrue();
        removeFinalizers(ResourceKind.CONFIG_MAP, "default", "leaf");
        api.finishDeletions();
        api.finishDeletions();
        assertThat(exists("leaf")).isFalse();
        assertThat(exists("mid")).isFalse();
        assertThat(exists("top")).isFalse();
    }

    @Test
    void everyNamespaceIsLabelledWithItsName() {
        test.apply("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: labelled
                  labels: {team: blue, kubernetes.io/metadata.name: wrong}
                """);
        var ns = (io.fabric8.kubernetes.api.model.Namespace) api.store().get(ResourceKind.NAMESPACE, null, "labelled").orElseThrow();
        assertThat(ns.getMetadata().getLabels()).containsEntry("kubernetes.io/metadata.name", "labelled").containsEntry("team", "blue");
    }

    @Test
    void aNamespaceStaysTerminatingUntilEverythingInItIsGone() {
        test.apply("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: doomed
                """);
        configMap("held", "doomed", "example.com/cleanup", null);
        configMap("free", "doomed", null, null);
        api.delete(ResourceKind.NAMESPACE, null, "doomed", DeleteOptions.DEFAULT);
        api.finishDeletions();
        var ns = (io.fabric8.kubernetes.api.model.Namespace) api.store().get(ResourceKind.NAMESPACE, null, "doomed").orElseThrow();
        assertThat(ns.getStatus().getPhase()).isEqualTo("Terminating");
        assertThat(api.store().get(ResourceKind.CONFIG_MAP, "doomed", "free")).isEmpty();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> configMap("late", "doomed", null, null))
                .hasMessageContaining("because it is being terminated");
        removeFinalizers(ResourceKind.CONFIG_MAP, "doomed", "held");
        api.finishDeletions();
        assertThat(api.store().get(ResourceKind.NAMESPACE, null, "doomed")).isEmpty();
    }

    @Test
    void anUnscheduledPodWithAFinalizerGoesOnceItIsRemoved() {
        test.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: waiting
                  finalizers: [example.com/keep]
                spec:
                  containers:
                  - {name: c, image: busybox}
                """);
        api.delete(ResourceKind.POD, "default", "waiting", DeleteOptions.DEFAULT);
        assertThat(api.store().get(ResourceKind.POD, "default", "waiting")).isPresent();
        removeFinalizers(ResourceKind.POD, "default", "waiting");
        assertThat(api.store().get(ResourceKind.POD, "default", "waiting")).isEmpty();
    }

    @Test
    void aPodItsNodeHasStoppedStaysWhileAFinalizerHoldsIt() {
        test.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: held
                  finalizers: [example.com/keep]
                spec:
                  nodeName: node1
                  containers:
                  - {name: c, image: busybox}
                """);
        api.delete(ResourceKind.POD, "default", "held", DeleteOptions.DEFAULT);
        api.finalizePodDeletion("default", "held"); // the kubelet's last word once the processes are gone
        api.finishDeletions();
        HasMetadata pod = api.store().get(ResourceKind.POD, "default", "held").orElseThrow();
        assertThat(pod.getMetadata().getDeletionGracePeriodSeconds()).isZero();
        removeFinalizers(ResourceKind.POD, "default", "held");
        assertThat(api.store().get(ResourceKind.POD, "default", "held")).isEmpty();
    }
}
