package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.Json;
import org.junit.jupiter.api.Test;

/** The OpenAPI v3 documents of a kind served at two versions: one document each, each naming its own version. */
class OpenApiTest {

    private static final String SCHEMA = "/components/schemas/io.k8s.sigs.gateway-api.apis.v1beta1.ReferenceGrant";

    private final OpenApi openApi = new OpenApi();

    private JsonNode serve(String path) {
        return Json.readTree(openApi.serve(path).body());
    }

    @Test
    void eachServedGroupVersionHasItsDocument() {
        JsonNode paths = serve("/openapi/v3").path("paths");
        assertThat(paths.path("apis/gateway.networking.k8s.io/v1").path("serverRelativeURL").asText())
                .startsWith("/openapi/v3/apis/gateway.networking.k8s.io/v1?hash=");
        assertThat(paths.path("apis/gateway.networking.k8s.io/v1beta1").path("serverRelativeURL").asText())
                .startsWith("/openapi/v3/apis/gateway.networking.k8s.io/v1beta1?hash=");
    }

    @Test
    void aReferenceGrantIsDescribedAtV1AndAtV1beta1() {
        for (String version : new String[] {"v1", "v1beta1"}) {
            JsonNode doc = serve("/openapi/v3/apis/gateway.networking.k8s.io/" + version);
            JsonNode gvk = doc.at(SCHEMA + "/x-kubernetes-group-version-kind/0");
            assertThat(gvk.path("group").asText()).isEqualTo("gateway.networking.k8s.io");
            assertThat(gvk.path("kind").asText()).isEqualTo("ReferenceGrant");
            assertThat(gvk.path("version").asText()).isEqualTo(version);
            String item = "/paths/~1apis~1gateway.networking.k8s.io~1" + version + "~1namespaces~1{namespace}~1referencegrants~1{name}";
            assertThat(doc.at(item + "/get/x-kubernetes-group-version-kind/version").asText()).isEqualTo(version);
            assertThat(doc.at(SCHEMA + "/properties/spec").isMissingNode()).isFalse();
        }
        JsonNode v1beta1 = serve("/openapi/v3/apis/gateway.networking.k8s.io/v1beta1");
        assertThat(v1beta1.at("/components/schemas/io.k8s.sigs.gateway-api.apis.v1.Gateway").isMissingNode())
                .as("Gateway is not served at v1beta1").isTrue();
    }
}
