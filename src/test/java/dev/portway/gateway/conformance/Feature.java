package dev.portway.gateway.conformance;

/**
 * The Gateway API conformance features the ported tests exercise, by their upstream names
 * ({@code sigs.k8s.io/gateway-api/pkg/features}): a test runs when the implementation claims
 * every feature it lists, and a report names them.
 */
enum Feature {
    GATEWAY("Gateway"),
    GATEWAY_PORT_8080("GatewayPort8080"),
    GATEWAY_HTTP_LISTENER_ISOLATION("GatewayHTTPListenerIsolation"),
    GATEWAY_HTTPS_LISTENER_DETECT_MISDIRECTED_REQUESTS("GatewayHTTPSListenerDetectMisdirectedRequests"),
    REFERENCE_GRANT("ReferenceGrant"),
    HTTP_ROUTE("HTTPRoute"),
    HTTP_ROUTE_QUERY_PARAM_MATCHING("HTTPRouteQueryParamMatching"),
    HTTP_ROUTE_METHOD_MATCHING("HTTPRouteMethodMatching"),
    HTTP_ROUTE_RESPONSE_HEADER_MODIFICATION("HTTPRouteResponseHeaderModification"),
    HTTP_ROUTE_BACKEND_REQUEST_HEADER_MODIFICATION("HTTPRouteBackendRequestHeaderModification"),
    HTTP_ROUTE_PATH_REWRITE("HTTPRoutePathRewrite"),
    HTTP_ROUTE_HOST_REWRITE("HTTPRouteHostRewrite"),
    HTTP_ROUTE_PATH_REDIRECT("HTTPRoutePathRedirect"),
    HTTP_ROUTE_PORT_REDIRECT("HTTPRoutePortRedirect"),
    HTTP_ROUTE_SCHEME_REDIRECT("HTTPRouteSchemeRedirect"),
    HTTP_ROUTE_303_REDIRECT_STATUS_CODE("HTTPRoute303RedirectStatusCode"),
    HTTP_ROUTE_307_REDIRECT_STATUS_CODE("HTTPRoute307RedirectStatusCode"),
    HTTP_ROUTE_308_REDIRECT_STATUS_CODE("HTTPRoute308RedirectStatusCode"),
    HTTP_ROUTE_REQUEST_MIRROR("HTTPRouteRequestMirror"),
    HTTP_ROUTE_REQUEST_MULTIPLE_MIRRORS("HTTPRouteRequestMultipleMirrors"),
    HTTP_ROUTE_REQUEST_TIMEOUT("HTTPRouteRequestTimeout"),
    HTTP_ROUTE_BACKEND_TIMEOUT("HTTPRouteBackendTimeout"),
    HTTP_ROUTE_PARENT_REF_PORT("HTTPRouteParentRefPort"),
    HTTP_ROUTE_DESTINATION_PORT_MATCHING("HTTPRouteDestinationPortMatching"),
    HTTP_ROUTE_NAMED_ROUTE_RULE("HTTPRouteNamedRouteRule");

    private final String upstreamName;

    Feature(String upstreamName) {
        this.upstreamName = upstreamName;
    }

    /** The name upstream gives it (without its {@code Support} prefix in Go). */
    String upstreamName() {
        return upstreamName;
    }

    @Override
    public String toString() {
        return upstreamName;
    }
}
