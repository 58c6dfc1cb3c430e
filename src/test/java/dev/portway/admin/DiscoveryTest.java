package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Discovery of a group whose kinds are served at several versions: {@code gateway.networking.k8s.io}
 * with GatewayClass, Gateway and HTTPRoute at v1 and ReferenceGrant at v1 and v1beta1, as a cluster
 * with the Gateway API v1.6 CRDs lists it. kubectl maps a resource name only through these
 * documents, so each version must be listed with its kinds.
 */
class DiscoveryTest {

    private static final String GATEWAY_API = "gateway.networking.k8s.io";

    private static JsonNode body(HttpResponses.Response r) {
        return Json.readTree(r.body());
    }

    private static JsonNode group(JsonNode list, String field, String name) {
        return list.path(field).valueStream().filter(g -> g.at(field.equals("groups") ? "/name" : "/metadata/name").asText().equals(name))
                .findFirst().orElseThrow();
    }

    @Test
    void aGroupListsEveryVersionItsKindsAreServedAtThePreferredFirst() {
        assertThat(Discovery.groups().get(GATEWAY_API)).containsExactly("v1", "v1beta1");
        assertThat(Discovery.groups().get("apps")).containsExactly("v1");
        assertThat(Discovery.kinds(GATEWAY_API, "v1")).extracting(k -> k.plural())
                .containsExactly("gatewayclasses", "gateways", "httproutes", "referencegrants");
        assertThat(Discovery.kinds(GATEWAY_API, "v1beta1")).extracting(k -> k.plural()).containsExactly("referencegrants");
    }

    @Test
    void theLegacyGroupListNamesAllVersionsAndV1AsPreferred() {
        JsonNode gateway = group(body(Discovery.root(true, "application/json")), "groups", GATEWAY_API);
        assertThat(gateway.path("versions").findValuesAsText("groupVersion"))
                .containsExactly(GATEWAY_API + "/v1", GATEWAY_API + "/v1beta1");
        assertThat(gateway.path("versions").findValuesAsText("version")).containsExactly("v1", "v1beta1");
        assertThat(gateway.at("/preferredVersion/groupVersion").asText()).isEqualTo(GATEWAY_API + "/v1");
        assertThat(gateway.at("/preferredVersion/version").asText()).isEqualTo("v1");
        JsonNode metallb = group(body(Discovery.root(true, null)), "groups", "metallb.io");
        assertThat(metallb.at("/preferredVersion/version").asText()).isEqualTo("v1beta1");
    }

    @Test
    void eachGroupVersionsResourceListHasTheKindsServedThere() {
        JsonNode v1beta1 = body(Discovery.groupVersion(GATEWAY_API, "v1beta1"));
        assertThat(v1beta1.path("groupVersion").asText()).isEqualTo(GATEWAY_API + "/v1beta1");
        assertThat(v1beta1.path("resources").findValuesAsText("name")).containsExactly("referencegrants");
        assertThat(v1beta1.at("/resources/0/shortNames/0").asText()).isEqualTo("refgrant");
        JsonNode v1 = body(Discovery.groupVersion(GATEWAY_API, "v1"));
        assertThat(v1.path("resources").findValuesAsText("name")).contains("gateways", "gateways/status", "referencegrants");
        assertThatThrownBy(() -> Discovery.groupVersion(GATEWAY_API, "v1alpha2")).isInstanceOf(ApiException.class);
        // as kube-apiserver: namespaces have no collection delete
        JsonNode core = body(Discovery.groupVersion("", "v1"));
        for (JsonNode r : core.path("resources")) {
            if (r.path("name").asText().equals("namespaces")) {
                assertThat(r.path("verbs").valueStream().map(JsonNode::asText)).doesNotContain("deletecollection").contains("delete");
            } else if (r.path("name").asText().equals("services")) {
                assertThat(r.path("verbs").valueStream().map(JsonNode::asText)).contains("deletecollection");
            }
        }
    }

    @ParameterizedTest(name = "apidiscovery.k8s.io/{0}")
    @ValueSource(strings = {"v2", "v2beta1"})
    void aggregatedDiscoveryListsEachVersionWithItsKindsAtThatVersion(String discoveryVersion) {
        String accept = "application/json;g=apidiscovery.k8s.io;v=" + discoveryVersion + ";as=APIGroupDiscoveryList,application/json";
        HttpResponses.Response r = Discovery.root(true, accept);
        assertThat(r.contentType()).contains("v=" + discoveryVersion);
        JsonNode gateway = group(body(r), "items", GATEWAY_API);
        assertThat(gateway.path("versions").valueStream().map(v -> v.path("version").asText())).containsExactly("v1", "v1beta1");
        JsonNode v1 = gateway.path("versions").get(0);
        assertThat(v1.path("resources").findValuesAsText("resource"))
                .containsExactly("gatewayclasses", "gateways", "httproutes", "referencegrants");
        assertThat(v1.at("/resources/3/responseKind/version").asText()).isEqualTo("v1");
        assertThat(v1.at("/resources/1/subresources/0/responseKind/version").asText()).as("gateways/status").isEqualTo("v1");
        JsonNode v1beta1 = gateway.path("versions").get(1);
        assertThat(v1beta1.path("resources").findValuesAsText("resource")).containsExactly("referencegrants");
        assertThat(v1beta1.at("/resources/0/responseKind/version").asText()).isEqualTo("v1beta1");
        assertThat(v1beta1.at("/resources/0/categories/0").asText()).isEqualTo("gateway-api");
        assertThat(v1beta1.path("freshness").asText()).isEqualTo("Current");
        JsonNode core = body(Discovery.root(false, accept)).at("/items/0/versions");
        assertThat(core.valueStream().map(v -> v.path("version").asText())).containsExactly("v1");
    }
}
