package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

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

    private void dependent(String name, HasMetadata owner) {
        ConfigMap cm = (ConfigMap) test.apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: %s
                """.formatted(name)).getFirst();
        ConfigMap owned = Json.copy(cm);
        owned.getMetadata().setOwnerReferences(List.of(new OwnerReferenceBuilder().withApiVersion("v1").withKind("ConfigMap")
                .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid()).build()));
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

    @Test
    void aPreconditionThatNoLongerHoldsIsAConflict() {
        HasMetadata owner = owner();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> api.delete(ResourceKind.CONFIG_MAP, "default", "owner",
                        new DeleteOptions(null, DeleteOptions.Propagation.BACKGROUND, "not-the-uid", null, false)))
                .hasMessageContaining("Precondition failed: UID in precondition: not-the-uid, UID in object meta: " + owner.getMetadata().getUid());
        assertThat(exists("owner")).isTrue();
    }
}
