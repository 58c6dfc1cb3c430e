package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.ResourceKind;
import org.junit.jupiter.api.Test;

/** REST paths: a kind is reachable at every version it is served at, and only there. */
class ApiPathTest {

    private static final String GATEWAY_API = "/apis/gateway.networking.k8s.io/";

    @Test
    void corePathsParseWithNamespaceNameAndSubresource() {
        assertThat(ApiPath.parse("/api/v1/namespaces/default/services/web/status"))
                .contains(new ApiPath("", "v1", ResourceKind.SERVICE, "default", "web", "status"));
        assertThat(ApiPath.parse("/api/v1/nodes/node1")).contains(new ApiPath("", "v1", ResourceKind.NODE, null, "node1", null));
        assertThat(ApiPath.parse("/apis/apps/v1/deployments")).contains(new ApiPath("apps", "v1", ResourceKind.DEPLOYMENT, null, null, null));
        assertThat(ApiPath.parse("/api/v1/services/web")).as("a namespaced object needs its namespace").isEmpty();
        assertThat(ApiPath.parse("/apis/apps/v1beta1/deployments")).isEmpty();
    }

    @Test
    void aReferenceGrantIsReachableAtV1AndV1beta1() {
        for (String version : new String[] {"v1", "v1beta1"}) {
            ApiPath path = ApiPath.parse(GATEWAY_API + version + "/namespaces/apps/referencegrants/g").orElseThrow();
            assertThat(path).isEqualTo(new ApiPath("gateway.networking.k8s.io", version, ResourceKind.REFERENCE_GRANT, "apps", "g", null));
            assertThat(path.apiVersion()).isEqualTo("gateway.networking.k8s.io/" + version);
            assertThat(ApiPath.parse(GATEWAY_API + version + "/referencegrants")).map(ApiPath::kind).contains(ResourceKind.REFERENCE_GRANT);
        }
        assertThat(ApiPath.parse(GATEWAY_API + "v1alpha2/namespaces/apps/referencegrants/g")).isEmpty();
        assertThat(ApiPath.parse(GATEWAY_API + "v1beta1/namespaces/apps/gateways/g")).as("Gateway is served at v1 only").isEmpty();
    }

    @Test
    void aGroupVersionWithoutAResourceIsItsDiscoveryDocument() {
        assertThat(ApiPath.parse(GATEWAY_API + "v1beta1")).contains(new ApiPath("gateway.networking.k8s.io", "v1beta1", null, null, null, null));
        assertThat(ApiPath.parse("/api/v1").map(ApiPath::apiVersion)).contains("v1");
    }
}
