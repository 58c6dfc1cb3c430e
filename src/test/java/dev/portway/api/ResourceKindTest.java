package dev.portway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrantBuilder;
import org.junit.jupiter.api.Test;

/** A kind's versions: the one it is stored at, the others it is served at, and the conversion between them. */
class ResourceKindTest {

    private static final String GROUP = "gateway.networking.k8s.io";

    @Test
    void aReferenceGrantIsStoredAtV1beta1AndServedAtV1First() {
        assertThat(ResourceKind.REFERENCE_GRANT.version()).isEqualTo("v1beta1");
        assertThat(ResourceKind.REFERENCE_GRANT.apiVersion()).isEqualTo(GROUP + "/v1beta1");
        assertThat(ResourceKind.REFERENCE_GRANT.servedVersions()).containsExactly("v1", "v1beta1");
        assertThat(ResourceKind.REFERENCE_GRANT.servedAt("v1alpha2")).isFalse();
        assertThat(ResourceKind.GATEWAY.servedVersions()).containsExactly("v1");
        assertThat(ResourceKind.SERVICE.servedVersions()).containsExactly("v1");
    }

    @Test
    void aManifestNamesTheKindAtAnyVersionItIsServedAt() {
        assertThat(ResourceKind.byApiVersionAndKind(GROUP + "/v1", "ReferenceGrant")).contains(ResourceKind.REFERENCE_GRANT);
        assertThat(ResourceKind.byApiVersionAndKind(GROUP + "/v1beta1", "ReferenceGrant")).contains(ResourceKind.REFERENCE_GRANT);
        assertThat(ResourceKind.byApiVersionAndKind(GROUP + "/v1alpha2", "ReferenceGrant")).isEmpty();
        assertThat(ResourceKind.byApiVersionAndKind(GROUP + "/v1beta1", "Gateway")).isEmpty();
    }

    @Test
    void aStoredObjectIsServedAtTheVersionAskedForAndLeftAsItIs() {
        ReferenceGrant stored = new ReferenceGrantBuilder().withNewMetadata().withName("g").withNamespace("ns").endMetadata()
                .withNewSpec().addNewFrom().withGroup(GROUP).withKind("HTTPRoute").withNamespace("a").endFrom()
                .addNewTo().withGroup("").withKind("Service").endTo().endSpec().build();
        stored.setApiVersion(ResourceKind.REFERENCE_GRANT.apiVersion());
        HasMetadata v1 = ResourceKind.REFERENCE_GRANT.toVersion(stored, "v1");
        assertThat(v1.getApiVersion()).isEqualTo(GROUP + "/v1");
        assertThat(((ReferenceGrant) v1).getSpec()).isEqualTo(stored.getSpec());
        assertThat(stored.getApiVersion()).as("the stored object is not changed").isEqualTo(GROUP + "/v1beta1");
        assertThat(ResourceKind.REFERENCE_GRANT.toVersion(stored, "v1beta1")).isSameAs(stored);
        assertThatThrownBy(() -> ResourceKind.REFERENCE_GRANT.toVersion(stored, "v1alpha2"))
                .hasMessage("version: v1alpha2 (expected: one of [v1, v1beta1])");
    }
}
