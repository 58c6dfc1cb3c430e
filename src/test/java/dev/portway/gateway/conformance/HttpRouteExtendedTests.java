package dev.portway.gateway.conformance;

import static dev.portway.gateway.conformance.Tables.INFRA;
import static dev.portway.gateway.conformance.Tables.SAME_NAMESPACE;
import static dev.portway.gateway.conformance.Tables.SAME_NAMESPACE_WITH_HTTPS;
import static dev.portway.gateway.conformance.Tables.V1;
import static dev.portway.gateway.conformance.Tables.V2;
import static dev.portway.gateway.conformance.Tables.V3;
import static dev.portway.gateway.conformance.Tables.accepted;
import static dev.portway.gateway.conformance.Tables.acceptedOn;
import static dev.portway.gateway.conformance.Tables.get;
import static dev.portway.gateway.conformance.Tables.group;
import static dev.portway.gateway.conformance.Tables.infra;
import static dev.portway.gateway.conformance.Tables.namespacesReady;
import static dev.portway.gateway.conformance.Tables.noAcceptedParents;
import static dev.portway.gateway.conformance.Tables.requests;
import static dev.portway.gateway.conformance.Tables.resolvedRefs;
import static dev.portway.gateway.conformance.Tables.routeCondition;
import static dev.portway.gateway.conformance.Tables.test;
import static dev.portway.gateway.conformance.Tables.tlsRequests;
import static dev.portway.gateway.conformance.Tables.zeroRoutes;

import java.util.List;

/**
 * The extended HTTPRoute tests Portway's gateway means to support: query-parameter and method
 * matching, response (and per-backend request) header modification, path and host rewrites,
 * redirects of path, port, scheme and status (301/302/303/307/308), request mirroring, request
 * and backend-request timeouts, parentRef ports, named rules, and 421 for a request on an HTTPS
 * connection its SNI name set up for another listener.
 */
final class HttpRouteExtendedTests {

    private HttpRouteExtendedTests() {
    }

    static List<ConformanceTest> all() {
        return List.of(queryParamMatching(), methodMatching(), responseHeaderModifier(), backendRequestHeaderModifier(),
                requestHeaderModifierBackendWeights(), rewritePath(), rewriteHost(), redirectPath(), redirectPort(), redirectScheme(),
                redirectPortAndScheme(), redirect303(), redirect307(), redirect308(), requestMirror(), requestMultipleMirrors(),
                timeoutRequest(), timeoutBackendRequest(), listenerPortMatching(), invalidParentRefNotMatchingListenerPort(),
                invalidParentRefSectionNameNotMatchingPort(), namedRule(), httpsListenerDetectMisdirectedRequests());
    }

    static ConformanceTest queryParamMatching() {
        var route = infra("query-param-matching");
        return test("HTTPRouteQueryParamMatching")
                .description("A single HTTPRoute with query param matching for different backends")
                .features(Feature.HTTP_ROUTE_QUERY_PARAM_MATCHING)
                .manifests("tests/httproute-query-param-matching.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/?animal=whale").backend(V1).namespace(INFRA),
                                get("/?animal=dolphin").backend(V2).namespace(INFRA),
                                get("/?animal=dolphin&color=blue").backend(V3).namespace(INFRA),
                                get("/?ANIMAL=Whale").backend(V3).namespace(INFRA),
                                get("/?animal=whale&otherparam=irrelevant").backend(V1).namespace(INFRA),
                                get("/?animal=dolphin&color=yellow").backend(V2).namespace(INFRA),
                                get("/?color=blue").status(404),
                                get("/?animal=dog").status(404),
                                get("/?animal=whaledolphin").status(404),
                                get("/").status(404),
                                // combinations with path and header matches
                                get("/path1?animal=whale").backend(V1).namespace(INFRA),
                                get("/?animal=whale").header("version", "one").backend(V2).namespace(INFRA),
                                get("/path2?animal=whale").header("version", "two").backend(V3).namespace(INFRA),
                                // one rule, two matches (OR)
                                get("/path3?animal=shark").backend(V1).namespace(INFRA),
                                get("/path4?animal=kraken").header("version", "three").backend(V1).namespace(INFRA),
                                // a match's conditions all hold (AND)
                                get("/?animal=shark").status(404),
                                get("/path4?animal=kraken").status(404),
                                // precedence: path before method, header and query
                                get("/path5?animal=hydra").backend(V1).namespace(INFRA),
                                get("/?animal=hydra").header("version", "four").backend(V3).namespace(INFRA)));
    }

    static ConformanceTest methodMatching() {
        var route = infra("method-matching");
        return test("HTTPRouteMethodMatching")
                .description("A single HTTPRoute with method matching for different backends")
                .features(Feature.HTTP_ROUTE_METHOD_MATCHING)
                .manifests("tests/httproute-method-matching.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/").method("POST").backend(V1).namespace(INFRA),
                                get("/").method("GET").backend(V2).namespace(INFRA),
                                get("/").method("HEAD").status(404),
                                // combinations with path and header matches
                                get("/path1").method("GET").backend(V1).namespace(INFRA),
                                get("/").method("PUT").header("version", "one").backend(V2).namespace(INFRA),
                                get("/path2").method("POST").header("version", "two").backend(V3).namespace(INFRA),
                                // one rule, two matches (OR)
                                get("/path3").method("PATCH").backend(V1).namespace(INFRA),
                                get("/path4").method("DELETE").header("version", "three").backend(V1).namespace(INFRA),
                                // a match's conditions all hold (AND)
                                get("/").method("PUT").status(404),
                                get("/path4").method("DELETE").status(404),
                                // precedence: path before method, method before header
                                get("/path5").method("PATCH").backend(V1).namespace(INFRA),
                                get("/").method("PATCH").header("version", "four").backend(V2).namespace(INFRA)));
    }

    static ConformanceTest responseHeaderModifier() {
        var route = infra("response-header-modifier");
        return test("HTTPRouteResponseHeaderModifier")
                .description("An HTTPRoute has response header modifier filters applied correctly")
                .features(Feature.HTTP_ROUTE_RESPONSE_HEADER_MODIFICATION)
                .manifests("tests/httproute-response-header-modifier.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/set").backendSets("Some-Other-Header", "val")
                                        .responseHeader("Some-Other-Header", "val").responseHeader("X-Header-Set", "set-overwrites-values")
                                        .backend(V1).namespace(INFRA),
                                get("/set").backendSets("Some-Other-Header", "val").backendSets("X-Header-Set", "some-other-value")
                                        .responseHeader("Some-Other-Header", "val").responseHeader("X-Header-Set", "set-overwrites-values")
                                        .backend(V1).namespace(INFRA),
                                get("/add").backendSets("Some-Other-Header", "val")
                                        .responseHeader("Some-Other-Header", "val").responseHeader("X-Header-Add", "add-appends-values")
                                        .backend(V1).namespace(INFRA),
                                get("/add").backendSets("Some-Other-Header", "val").backendSets("X-Header-Add", "some-other-value")
                                        .responseHeader("Some-Other-Header", "val")
                                        .responseHeader("X-Header-Add", "some-other-value,add-appends-values")
                                        .backend(V1).namespace(INFRA),
                                get("/remove").backendSets("X-Header-Remove", "val")
                                        .responseAbsent("X-Header-Remove")
                                        .backend(V1).namespace(INFRA),
                                get("/multiple").backendSets("X-Header-Set-2", "set-val-2").backendSets("X-Header-Add-2", "add-val-2")
                                        .backendSets("X-Header-Remove-2", "remove-val-2").backendSets("Another-Header", "another-header-val")
                                        .backendSets("X-Header-Remove-1", "val")
                                        .responseHeader("X-Header-Set-1", "header-set-1").responseHeader("X-Header-Set-2", "header-set-2")
                                        .responseHeader("X-Header-Add-1", "header-add-1").responseHeader("X-Header-Add-2", "add-val-2,header-add-2")
                                        .responseHeader("X-Header-Add-3", "header-add-3").responseHeader("Another-Header", "another-header-val")
                                        .responseAbsent("X-Header-Remove-1", "X-Header-Remove-2")
                                        .backend(V1).namespace(INFRA),
                                get("/case-insensitivity").backendSets("x-header-set", "original-val-set")
                                        .backendSets("x-header-add", "original-val-add").backendSets("x-header-remove", "original-val-remove")
                                        .backendSets("Another-Header", "another-header-val")
                                        .responseHeader("X-Header-Set", "header-set").responseHeader("X-Header-Add", "original-val-add,header-add")
                                        .responseHeader("X-Lowercase-Add", "lowercase-add").responseHeader("X-Mixedcase-Add-1", "mixedcase-add-1")
                                        .responseHeader("X-Mixedcase-Add-2", "mixedcase-add-2").responseHeader("X-Uppercase-Add", "uppercase-add")
                                        .responseHeader("Another-Header", "another-header-val")
                                        .responseAbsent("x-header-remove", "X-Header-Remove")
                                        .backend(V1).namespace(INFRA),
                                get("/response-and-request-header-modifiers").header("X-Header-Remove", "remove-val")
                                        .header("X-Header-Add-Append", "append-val-1").header("X-Header-Echo", "echo")
                                        .backendSets("X-Header-Set-2", "set-val-2").backendSets("X-Header-Add-2", "add-val-2")
                                        .backendSets("X-Header-Remove-2", "remove-val-2").backendSets("Another-Header", "another-header-val")
                                        .backendSets("X-Header-Remove-1", "remove-val-1").backendSets("X-Header-Echo", "echo")
                                        .expectPath("/response-and-request-header-modifiers").expectHeader("X-Header-Add", "header-val-1")
                                        .expectHeader("X-Header-Set", "set-overwrites-values")
                                        .expectHeader("X-Header-Add-Append", "append-val-1,header-val-2").expectHeader("X-Header-Echo", "echo")
                                        .expectAbsent("X-Header-Remove")
                                        .responseHeader("X-Header-Set-1", "header-set-1").responseHeader("X-Header-Set-2", "header-set-2")
                                        .responseHeader("X-Header-Add-1", "header-add-1").responseHeader("X-Header-Add-2", "add-val-2,header-add-2")
                                        .responseHeader("Another-Header", "another-header-val").responseHeader("X-Header-Echo", "echo")
                                        .responseAbsent("X-Header-Remove-1", "X-Header-Remove-2")
                                        .backend(V1).namespace(INFRA)));
    }

    static ConformanceTest backendRequestHeaderModifier() {
        var route = infra("request-header-modifier");
        return test("HTTPRouteBackendRequestHeaderModifier")
                .description("An HTTPRoute backend has request header modifier filters applied correctly")
                .features(Feature.HTTP_ROUTE_BACKEND_REQUEST_HEADER_MODIFICATION)
                .manifests("tests/httproute-request-header-modifier-backend.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE, HttpRouteCoreTests.requestHeaderModifierCases()));
    }

    static ConformanceTest requestHeaderModifierBackendWeights() {
        var route = infra("request-header-modifier-backend-weights");
        return test("HTTPRouteRequestHeaderModifierBackendWeights")
                .description("An HTTPRoute with backend request header modifier filter sends traffic to the correct backends")
                .features(Feature.HTTP_ROUTE_BACKEND_REQUEST_HEADER_MODIFICATION)
                .manifests("tests/httproute-request-header-modifier-backend-weights.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        new Step.BackendHeaderNamesPod(SAME_NAMESPACE, get("/").status(200).namespace(INFRA), 100));
    }

    static ConformanceTest rewritePath() {
        var route = infra("rewrite-path");
        return test("HTTPRouteRewritePath")
                .description("An HTTPRoute with path rewrite filter")
                .features(Feature.HTTP_ROUTE_PATH_REWRITE)
                .manifests("tests/httproute-rewrite-path.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/prefix/one/two").expectPath("/one/two").backend(V1).namespace(INFRA),
                                get("/strip-prefix/three").expectPath("/three").backend(V1).namespace(INFRA),
                                get("/strip-prefix").expectPath("/").backend(V1).namespace(INFRA),
                                get("/full/one/two").expectPath("/one").backend(V1).namespace(INFRA),
                                get("/full/rewrite-path-and-modify-headers/test").header("X-Header-Remove", "remove-val")
                                        .header("X-Header-Add-Append", "append-val-1").header("X-Header-Set", "set-val")
                                        .expectPath("/test").expectHeader("X-Header-Add", "header-val-1")
                                        .expectHeader("X-Header-Add-Append", "append-val-1,header-val-2")
                                        .expectHeader("X-Header-Set", "set-overwrites-values").expectAbsent("X-Header-Remove")
                                        .backend(V1).namespace(INFRA),
                                get("/prefix/rewrite-path-and-modify-headers/one").header("X-Header-Remove", "remove-val")
                                        .header("X-Header-Add-Append", "append-val-1").header("X-Header-Set", "set-val")
                                        .expectPath("/prefix/one").expectHeader("X-Header-Add", "header-val-1")
                                        .expectHeader("X-Header-Add-Append", "append-val-1,header-val-2")
                                        .expectHeader("X-Header-Set", "set-overwrites-values").expectAbsent("X-Header-Remove")
                                        .backend(V1).namespace(INFRA)));
    }

    static ConformanceTest rewriteHost() {
        var route = infra("rewrite-host");
        return test("HTTPRouteRewriteHost")
                .description("An HTTPRoute with hostname rewrite filter")
                .features(Feature.HTTP_ROUTE_HOST_REWRITE)
                .manifests("tests/httproute-rewrite-host.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/one").host("rewrite.example").expectPath("/one").expectHost("one.example.org")
                                        .backend(V1).namespace(INFRA),
                                get("/two").host("rewrite.example").expectPath("/two").expectHost("example.org")
                                        .backend(V2).namespace(INFRA),
                                get("/rewrite-host-and-modify-headers").host("rewrite.example").header("X-Header-Remove", "remove-val")
                                        .header("X-Header-Add-Append", "append-val-1")
                                        .expectPath("/rewrite-host-and-modify-headers").expectHost("test.example.org")
                                        .expectHeader("X-Header-Add", "header-val-1").expectHeader("X-Header-Add-Append", "append-val-1,header-val-2")
                                        .expectHeader("X-Header-Set", "set-overwrites-values").expectAbsent("X-Header-Remove")
                                        .backend(V2).namespace(INFRA)));
    }

    static ConformanceTest redirectPath() {
        var route = infra("redirect-path");
        return test("HTTPRouteRedirectPath")
                .description("An HTTPRoute with scheme redirect filter")
                .features(Feature.HTTP_ROUTE_PATH_REDIRECT)
                .manifests("tests/httproute-redirect-path.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/original-prefix/lemon").unfollowRedirect().status(302)
                                        .redirect(null, null, null, "/replacement-prefix/lemon").namespace(INFRA),
                                get("/full/path/original").unfollowRedirect().status(302)
                                        .redirect(null, null, null, "/full-path-replacement").namespace(INFRA),
                                get("/path-and-host").unfollowRedirect().status(302)
                                        .redirect(null, "example.org", null, "/replacement-prefix").namespace(INFRA),
                                get("/path-and-status").unfollowRedirect().status(301)
                                        .redirect(null, null, null, "/replacement-prefix").namespace(INFRA),
                                get("/full-path-and-host").unfollowRedirect().status(302)
                                        .redirect(null, "example.org", null, "/replacement-full").namespace(INFRA),
                                get("/full-path-and-status").unfollowRedirect().status(301)
                                        .redirect(null, null, null, "/replacement-full").namespace(INFRA)));
    }

    static ConformanceTest redirectPort() {
        var route = infra("redirect-port");
        return test("HTTPRouteRedirectPort")
                .description("An HTTPRoute with a port redirect filter")
                .features(Feature.HTTP_ROUTE_PORT_REDIRECT)
                .manifests("tests/httproute-redirect-port.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/port").unfollowRedirect().status(302).redirect(null, null, "8083", null).namespace(INFRA),
                                get("/port-and-host").unfollowRedirect().status(302).redirect(null, "example.org", "8083", null).namespace(INFRA),
                                get("/port-and-status").unfollowRedirect().status(301).redirect(null, null, "8083", null).namespace(INFRA),
                                get("/port-and-host-and-status").unfollowRedirect().status(302)
                                        .redirect(null, "example.org", "8083", null).namespace(INFRA)));
    }

    static ConformanceTest redirectScheme() {
        var route = infra("redirect-scheme");
        return test("HTTPRouteRedirectScheme")
                .description("An HTTPRoute with a scheme redirect filter")
                .features(Feature.HTTP_ROUTE_SCHEME_REDIRECT)
                .manifests("tests/httproute-redirect-scheme.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/scheme").unfollowRedirect().status(302).redirect("https", null, null, null).namespace(INFRA),
                                get("/scheme-and-host").unfollowRedirect().status(302).redirect("https", "example.org", null, null).namespace(INFRA),
                                get("/scheme-and-status").unfollowRedirect().status(301).redirect("https", null, null, null).namespace(INFRA),
                                get("/scheme-and-host-and-status").unfollowRedirect().status(302)
                                        .redirect("https", "example.org", null, null).namespace(INFRA)));
    }

    static ConformanceTest redirectPortAndScheme() {
        var route80 = infra("http-route-for-listener-on-port-80");
        var gw8080 = infra("same-namespace-with-http-listener-on-8080");
        var route8080 = infra("http-route-for-listener-on-port-8080");
        var route443 = infra("http-route-for-listener-on-port-443");
        return test("HTTPRouteRedirectPortAndScheme")
                .description("An HTTPRoute with port and scheme redirect filter")
                .features(Feature.HTTP_ROUTE_PORT_REDIRECT, Feature.GATEWAY_PORT_8080)
                .manifests("tests/httproute-redirect-port-and-scheme.yaml")
                .steps(accepted(SAME_NAMESPACE, route80),
                        resolvedRefs(route80, SAME_NAMESPACE),
                        accepted(gw8080, route8080),
                        resolvedRefs(route8080, gw8080),
                        accepted(SAME_NAMESPACE_WITH_HTTPS, route443),
                        resolvedRefs(route443, SAME_NAMESPACE_WITH_HTTPS),
                        group("http-listener-on-80", requests(SAME_NAMESPACE,
                                get("/scheme-nil-and-port-nil").unfollowRedirect().status(302)
                                        .redirect("http", "example.org", null, null).namespace(INFRA),
                                get("/scheme-nil-and-port-80").unfollowRedirect().status(302)
                                        .redirect("http", "example.org", null, null).namespace(INFRA),
                                get("/scheme-nil-and-port-8080").unfollowRedirect().status(302)
                                        .redirect("http", "example.org", "8080", null).namespace(INFRA),
                                get("/scheme-https-and-port-nil").unfollowRedirect().status(302)
                                        .redirect("https", "example.org", null, null).namespace(INFRA),
                                get("/scheme-https-and-port-443").unfollowRedirect().status(302)
                                        .redirect("https", "example.org", null, null).namespace(INFRA),
                                get("/scheme-https-and-port-8443").unfollowRedirect().status(302)
                                        .redirect("https", "example.org", "8443", null).namespace(INFRA))),
                        group("http-listener-on-8080", requests(gw8080,
                                get("/scheme-nil-and-port-nil").unfollowRedirect().status(302)
                                        .redirect("http", "example.org", "8080", null).namespace(INFRA),
                                get("/scheme-nil-and-port-80").unfollowRedirect().status(302)
                                        .redirect("http", "example.org", null, null).namespace(INFRA),
                                get("/scheme-https-and-port-nil").unfollowRedirect().status(302)
                                        .redirect("https", "example.org", null, null).namespace(INFRA))),
                        group("https-listener-on-443", tlsRequests(SAME_NAMESPACE_WITH_HTTPS,
                                get("/scheme-nil-and-port-nil").host("example.org").serverName("example.org").unfollowRedirect().status(302)
                                        .redirect("https", "example.org", null, null).namespace(INFRA),
                                get("/scheme-nil-and-port-443").host("example.org").serverName("example.org").unfollowRedirect().status(302)
                                        .redirect("https", "example.org", null, null).namespace(INFRA),
                                get("/scheme-nil-and-port-8443").host("example.org").serverName("example.org").unfollowRedirect().status(302)
                                        .redirect("https", "example.org", "8443", null).namespace(INFRA),
                                get("/scheme-http-and-port-nil").host("example.org").serverName("example.org").unfollowRedirect().status(302)
                                        .redirect("http", "example.org", null, null).namespace(INFRA),
                                get("/scheme-http-and-port-80").host("example.org").serverName("example.org").unfollowRedirect().status(302)
                                        .redirect("http", "example.org", null, null).namespace(INFRA),
                                get("/scheme-http-and-port-8080").host("example.org").serverName("example.org").unfollowRedirect().status(302)
                                        .redirect("http", "example.org", "8080", null).namespace(INFRA))));
    }

    static ConformanceTest redirect303() {
        var route = infra("303-redirect");
        return test("HTTPRoute303Redirect")
                .description("An HTTPRoute with a 303 redirect filter")
                .features(Feature.HTTP_ROUTE_303_REDIRECT_STATUS_CODE)
                .provisional()
                .manifests("tests/httproute-303-redirect.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE, get("/see-other").method("POST").unfollowRedirect().status(303)
                                .redirect(null, null, null, "/see-other").namespace(INFRA)));
    }

    static ConformanceTest redirect307() {
        var route = infra("307-redirect");
        return test("HTTPRoute307Redirect")
                .description("An HTTPRoute with a 307 path redirect filter")
                .features(Feature.HTTP_ROUTE_307_REDIRECT_STATUS_CODE)
                .provisional()
                .manifests("tests/httproute-307-redirect.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE, get("/temporary").unfollowRedirect().status(307)
                                .redirect(null, null, null, "/temporary").namespace(INFRA)));
    }

    static ConformanceTest redirect308() {
        var route = infra("308-redirect");
        return test("HTTPRoute308Redirect")
                .description("An HTTPRoute with a 308 path redirect filter")
                .features(Feature.HTTP_ROUTE_308_REDIRECT_STATUS_CODE)
                .provisional()
                .manifests("tests/httproute-308-redirect.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE, get("/permanent").unfollowRedirect().status(308)
                                .redirect(null, null, null, "/permanent").namespace(INFRA)));
    }

    static ConformanceTest requestMirror() {
        var route = infra("request-mirror");
        return test("HTTPRouteRequestMirror")
                .description("An HTTPRoute with request mirror filter")
                .features(Feature.HTTP_ROUTE_REQUEST_MIRROR)
                .manifests("tests/httproute-request-mirror.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/mirror").expectPath("/mirror").backend(V1).namespace(INFRA).mirroredTo(INFRA, V2),
                                get("/mirror-and-modify-headers").header("X-Header-Remove", "remove-val")
                                        .header("X-Header-Add-Append", "append-val-1")
                                        .expectPath("/mirror-and-modify-headers").expectHeader("X-Header-Add", "header-val-1")
                                        .expectHeader("X-Header-Add-Append", "append-val-1,header-val-2")
                                        .expectHeader("X-Header-Set", "set-overwrites-values").expectAbsent("X-Header-Remove")
                                        .backend(V1).namespace(INFRA).mirroredTo(INFRA, V2)));
    }

    static ConformanceTest requestMultipleMirrors() {
        var route = infra("request-multiple-mirrors");
        return test("HTTPRouteRequestMultipleMirrors")
                .description("An HTTPRoute with multiple request mirror filters")
                .features(Feature.HTTP_ROUTE_REQUEST_MIRROR, Feature.HTTP_ROUTE_REQUEST_MULTIPLE_MIRRORS)
                .manifests("tests/httproute-request-multiple-mirrors.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/multi-mirror").expectPath("/multi-mirror").backend(V1).namespace(INFRA).mirroredTo(INFRA, V2, V3),
                                get("/multi-mirror-and-modify-request-headers").header("X-Header-Remove", "remove-val")
                                        .header("X-Header-Add-Append", "append-val-1")
                                        .expectPath("/multi-mirror-and-modify-request-headers").expectHeader("X-Header-Add", "header-val-1")
                                        .expectHeader("X-Header-Add-Append", "append-val-1,header-val-2")
                                        .expectHeader("X-Header-Set", "set-overwrites-values").expectAbsent("X-Header-Remove")
                                        .backend(V1).namespace(INFRA).mirroredTo(INFRA, V2, V3)));
    }

    static ConformanceTest timeoutRequest() {
        var route = infra("request-timeout");
        return test("HTTPRouteTimeoutRequest")
                .description("An HTTPRoute with request timeout")
                .features(Feature.HTTP_ROUTE_REQUEST_TIMEOUT)
                .manifests("tests/httproute-timeout-request.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/request-timeout").status(200).namespace(INFRA),
                                get("/request-timeout?delay=1s").status(504).namespace(INFRA),
                                get("/disable-request-timeout?delay=1s").status(200).namespace(INFRA)));
    }

    static ConformanceTest timeoutBackendRequest() {
        var route = infra("backend-request-timeout");
        return test("HTTPRouteTimeoutBackendRequest")
                .description("An HTTPRoute with backend request timeout")
                .features(Feature.HTTP_ROUTE_BACKEND_TIMEOUT)
                .manifests("tests/httproute-timeout-backend-request.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/backend-timeout").status(200).namespace(INFRA),
                                get("/backend-timeout?delay=1s").status(504).namespace(INFRA),
                                get("/disable-backend-timeout?delay=1s").status(200).namespace(INFRA)));
    }

    static ConformanceTest listenerPortMatching() {
        var gw = infra("httproute-listener-port-matching");
        var v1 = infra("backend-v1");
        var v2 = infra("backend-v2");
        var v3 = infra("backend-v3");
        return test("HTTPRouteListenerPortMatching")
                .description("Multiple HTTP listeners with different ports, each with a different HTTPRoute")
                .features(Feature.HTTP_ROUTE_PARENT_REF_PORT)
                .manifests("tests/httproute-listener-port-matching.yaml")
                .steps(namespacesReady(INFRA),
                        acceptedOn(gw, List.of("listener-1"), v1),
                        resolvedRefs(v1, gw),
                        acceptedOn(gw, List.of("listener-2"), v2),
                        resolvedRefs(v2, gw),
                        acceptedOn(gw, List.of("listener-4"), v3),
                        resolvedRefs(v3, gw),
                        // upstream sends each case to the listener port its Host names (80 when none)
                        requests(gw,
                                get("/").host("foo.com").port(80).backend(V1).namespace(INFRA),
                                get("/").host("foo.com:8080").port(8080).backend(V2).namespace(INFRA),
                                get("/").host("bar.com:8080").port(8080).backend(V2).namespace(INFRA),
                                get("/").host("foo.com:8090").port(8090).backend(V3).namespace(INFRA),
                                get("/").host("bar.com:8090").port(8090).status(404)));
    }

    static ConformanceTest invalidParentRefNotMatchingListenerPort() {
        var route = infra("httproute-listener-not-matching-route-port");
        return test("HTTPRouteInvalidParentRefNotMatchingListenerPort")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace should set the Accepted status to False with "
                        + "reason NoMatchingParent when attempting to bind to a Gateway that does not have a matching ListenerPort.")
                .features(Feature.HTTP_ROUTE_DESTINATION_PORT_MATCHING)
                .manifests("tests/httproute-invalid-parentref-not-matching-listener-port.yaml")
                .steps(resolvedRefs(route, SAME_NAMESPACE),
                        group("HTTPRoute with no matching port in ParentRef has an Accepted Condition with status False and Reason "
                                        + "NoMatchingParent",
                                routeCondition(route, SAME_NAMESPACE, "Accepted", "False", "NoMatchingParent")),
                        group("Route should not have Parents accepted in status", noAcceptedParents(route)),
                        group("Gateway should have 0 Routes attached", zeroRoutes(SAME_NAMESPACE)));
    }

    static ConformanceTest invalidParentRefSectionNameNotMatchingPort() {
        var route = infra("httproute-listener-section-name-not-matching-port");
        var gw = infra("gateway-with-one-not-matching-port-and-section-name-route");
        return test("HTTPRouteInvalidParentRefSectionNameNotMatchingPort")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace should set the Accepted status to False with "
                        + "reason NoMatchingParent when attempting to bind to a Gateway that SectionName does not match Port value.")
                .features(Feature.HTTP_ROUTE_PARENT_REF_PORT)
                .manifests("tests/httproute-invalid-parentref-section-name-not-matching-port.yaml")
                .steps(group("HTTPRoute with sectionName does not match Port in ParentRef has an Accepted Condition with status False "
                                        + "and Reason NoMatchingParent",
                                routeCondition(route, gw, "Accepted", "False", "NoMatchingParent")),
                        group("Route should not have Parents accepted in status", noAcceptedParents(route)),
                        group("Gateway should have 0 Routes attached", zeroRoutes(gw)));
    }

    static ConformanceTest namedRule() {
        var route = infra("http-named-rules");
        return test("HTTPRouteNamedRule")
                .description("An HTTPRoute with a named HTTPRouteRule")
                .features(Feature.HTTP_ROUTE_NAMED_ROUTE_RULE)
                .provisional()
                .manifests("tests/httproute-named-rule.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/named").status(200).namespace(INFRA),
                                get("/unnamed").status(200).namespace(INFRA)));
    }

    /** One case of HTTPRouteHTTPSListenerDetectMisdirectedRequests: HTTP/2, SNI {@code serverName}, Host {@code host}. */
    private static Exchange misdirected(String serverName, String host, int status, String backend) {
        return get("/detect-misdirected-requests").h2().serverName(serverName).host(host).status(status).backend(backend).namespace(INFRA);
    }

    static ConformanceTest httpsListenerDetectMisdirectedRequests() {
        var routes = new Step.Ref[] {
                infra("https-listener-detect-misdirected-requests-test-1"), infra("https-listener-detect-misdirected-requests-test-2"),
                infra("https-listener-detect-misdirected-requests-test-3"), infra("https-listener-detect-misdirected-requests-test-4")};
        var gw = SAME_NAMESPACE_WITH_HTTPS;
        return test("HTTPRouteHTTPSListenerDetectMisdirectedRequests")
                .description("HTTPS listeners on the same port detect misdirected requests and return HTTP 421 when appropriate")
                .features(Feature.GATEWAY_HTTPS_LISTENER_DETECT_MISDIRECTED_REQUESTS)
                .manifests("tests/httproute-https-listener-detect-misdirected-requests.yaml")
                .steps(accepted(gw, routes),
                        resolvedRefs(routes[0], gw), resolvedRefs(routes[1], gw), resolvedRefs(routes[2], gw), resolvedRefs(routes[3], gw),
                        tlsRequests(gw,
                                misdirected("example.org", "example.org", 200, V1),
                                misdirected("example.org", "second-example.org", 421, ""),
                                misdirected("example.org", "unknown-example.org", 404, ""),

                                misdirected("second-example.org", "second-example.org", 200, V2),
                                misdirected("second-example.org", "example.org", 421, ""),
                                misdirected("second-example.org", "unknown-example.org", 421, ""),

                                misdirected("third-example.wildcard.org", "third-example.wildcard.org", 200, V3),
                                misdirected("third-example.wildcard.org", "fith-example.wildcard.org", 200, V3),
                                misdirected("third-example.wildcard.org", "fourth-example.wildcard.org", 421, ""),
                                misdirected("third-example.wildcard.org", "second-example.org", 421, ""),
                                misdirected("third-example.wildcard.org", "unknown-example.org", 421, ""),

                                // upstream: since infra-backend-v4 does not exist, infra-backend-v1 is reused for the fourth HTTPRoute
                                misdirected("fourth-example.wildcard.org", "fourth-example.wildcard.org", 200, V1),
                                misdirected("fourth-example.wildcard.org", "fith-example.wildcard.org", 421, ""),

                                misdirected("unknown-example.org", "example.org", 200, V1),
                                misdirected("unknown-example.org", "unknown-example.org", 404, "")));
    }
}
