package dev.portway.gateway.conformance;

import static dev.portway.gateway.conformance.Tables.ALL_NAMESPACES;
import static dev.portway.gateway.conformance.Tables.BACKEND_NAMESPACES;
import static dev.portway.gateway.conformance.Tables.INFRA;
import static dev.portway.gateway.conformance.Tables.SAME_NAMESPACE;
import static dev.portway.gateway.conformance.Tables.SAME_NAMESPACE_WITH_HTTPS;
import static dev.portway.gateway.conformance.Tables.V1;
import static dev.portway.gateway.conformance.Tables.V2;
import static dev.portway.gateway.conformance.Tables.V3;
import static dev.portway.gateway.conformance.Tables.WEB_BACKEND;
import static dev.portway.gateway.conformance.Tables.accepted;
import static dev.portway.gateway.conformance.Tables.acceptedOn;
import static dev.portway.gateway.conformance.Tables.cond;
import static dev.portway.gateway.conformance.Tables.get;
import static dev.portway.gateway.conformance.Tables.group;
import static dev.portway.gateway.conformance.Tables.infra;
import static dev.portway.gateway.conformance.Tables.listener;
import static dev.portway.gateway.conformance.Tables.listeners;
import static dev.portway.gateway.conformance.Tables.namespacesReady;
import static dev.portway.gateway.conformance.Tables.parents;
import static dev.portway.gateway.conformance.Tables.ref;
import static dev.portway.gateway.conformance.Tables.requests;
import static dev.portway.gateway.conformance.Tables.resolvedRefs;
import static dev.portway.gateway.conformance.Tables.routeCondition;
import static dev.portway.gateway.conformance.Tables.test;
import static dev.portway.gateway.conformance.Tables.tlsRequests;

import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The core HTTPRoute tests (features Gateway and HTTPRoute only): matching, hostnames, listeners,
 * multiple routes and Gateways, request header modification, weights, host redirects, rules
 * without backends, observedGeneration, Service types, an HTTPS listener. Each is upstream's test of the same name,
 * {@code conformance/tests/<manifest name>.go}, case for case.
 */
final class HttpRouteCoreTests {

    private HttpRouteCoreTests() {
    }

    static List<ConformanceTest> all() {
        return List.of(simpleSameNamespace(), crossNamespace(), exactPathMatching(), headerMatching(), matching(),
                matchingAcrossRoutes(), pathMatchOrder(), hostnameIntersection(), listenerHostnameMatching(), multipleGateways(),
                requestHeaderModifier(), weight(), redirectHostAndStatus(), noBackendRefs(), observedGenerationBump(), serviceTypes(),
                httpsListener());
    }

    static ConformanceTest simpleSameNamespace() {
        var route = infra("gateway-conformance-infra-test");
        return test("HTTPRouteSimpleSameNamespace")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace attaches to a Gateway in the same namespace")
                .manifests("tests/httproute-simple-same-namespace.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        group("Simple HTTP request should reach infra-backend", requests(SAME_NAMESPACE,
                                get("/").status(200).backend(V1).namespace(INFRA))));
    }

    static ConformanceTest crossNamespace() {
        var route = ref(WEB_BACKEND, "cross-namespace");
        return test("HTTPRouteCrossNamespace")
                .description("A single HTTPRoute in the gateway-conformance-web-backend namespace should attach to Gateway in another namespace")
                .manifests("tests/httproute-cross-namespace.yaml")
                .steps(accepted(BACKEND_NAMESPACES, route),
                        resolvedRefs(route, BACKEND_NAMESPACES),
                        group("Simple HTTP request should reach web-backend", requests(BACKEND_NAMESPACES,
                                get("/").status(200).backend("web-backend").namespace(WEB_BACKEND))));
    }

    static ConformanceTest exactPathMatching() {
        var route = infra("exact-matching");
        return test("HTTPRouteExactPathMatching")
                .description("A single HTTPRoute with exact path matching for different backends")
                .manifests("tests/httproute-exact-path-matching.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/one").backend(V1).namespace(INFRA),
                                get("/two").backend(V2).namespace(INFRA),
                                get("/").status(404),
                                get("/one/example").status(404),
                                get("/two/").status(404),
                                get("/Two").status(404)));
    }

    static ConformanceTest headerMatching() {
        var route = infra("header-matching");
        return test("HTTPRouteHeaderMatching")
                .description("A single HTTPRoute with header matching for different backends")
                .manifests("tests/httproute-header-matching.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/").header("Version", "one").backend(V1).namespace(INFRA),
                                get("/").header("Version", "two").backend(V2).namespace(INFRA),
                                get("/").header("Version", "two").header("Color", "orange").backend(V1).namespace(INFRA),
                                get("/").header("Version", "two").header("Color", "blue").backend(V2).namespace(INFRA),
                                get("/").header("Color", "orange").status(404),
                                get("/").header("Some-Other-Header", "one").status(404),
                                get("/").header("Color", "blue").backend(V1).namespace(INFRA),
                                get("/").header("Color", "green").backend(V1).namespace(INFRA),
                                get("/").header("Color", "red").backend(V2).namespace(INFRA),
                                get("/").header("Color", "yellow").backend(V2).namespace(INFRA),
                                get("/").header("Color", "purple").status(404)));
    }

    static ConformanceTest matching() {
        var route = infra("matching");
        return test("HTTPRouteMatching")
                .description("A single HTTPRoute with path and header matching for different backends")
                .manifests("tests/httproute-matching.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/").backend(V1).namespace(INFRA),
                                get("/example").backend(V1).namespace(INFRA),
                                get("/").header("Version", "one").backend(V1).namespace(INFRA),
                                get("/v2").backend(V2).namespace(INFRA),
                                get("/v2/example").backend(V2).namespace(INFRA),
                                get("/").header("Version", "two").backend(V2).namespace(INFRA),
                                get("/v2/").backend(V2).namespace(INFRA),
                                get("/v2example").backend(V1).namespace(INFRA),
                                get("/foo/v2/example").backend(V1).namespace(INFRA)));
    }

    static ConformanceTest matchingAcrossRoutes() {
        var route1 = infra("matching-part1");
        var route2 = infra("matching-part2");
        return test("HTTPRouteMatchingAcrossRoutes")
                .description("Two HTTPRoutes with path matching for different backends")
                .manifests("tests/httproute-matching-across-routes.yaml")
                .steps(accepted(SAME_NAMESPACE, route1, route2),
                        resolvedRefs(route1, SAME_NAMESPACE),
                        resolvedRefs(route2, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/").host("example.com").backend(V1).namespace(INFRA),
                                get("/example").host("example.com").backend(V1).namespace(INFRA),
                                get("/example").host("example.net").backend(V1).namespace(INFRA),
                                get("/example").host("example.com").header("Version", "one").backend(V1).namespace(INFRA),
                                get("/v2").host("example.com").backend(V2).namespace(INFRA),
                                get("/v2").host("example.net").backend(V1).namespace(INFRA),
                                get("/v2/example").host("example.com").backend(V2).namespace(INFRA),
                                get("/").host("example.com").header("Version", "two").backend(V2).namespace(INFRA)));
    }

    static ConformanceTest pathMatchOrder() {
        var route = infra("path-matching-order");
        return test("HTTPRoutePathMatchOrder")
                .description("An HTTPRoute where there are multiple matches routing to any given backend follows match order precedence")
                .manifests("tests/httproute-path-match-order.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/match/exact/one").backend(V3).namespace(INFRA),
                                get("/match/exact").backend(V2).namespace(INFRA),
                                get("/match").backend(V1).namespace(INFRA),
                                get("/match/prefix/one/any").backend(V2).namespace(INFRA),
                                get("/match/prefix/any").backend(V1).namespace(INFRA),
                                get("/match/any").backend(V3).namespace(INFRA)));
    }

    static ConformanceTest hostnameIntersection() {
        var gw = infra("httproute-hostname-intersection");
        var gwAll = infra("httproute-hostname-intersection-all");
        var routes = new Step.Ref[] {
                infra("specific-host-matches-listener-specific-host"),
                infra("specific-host-matches-listener-wildcard-host"),
                infra("wildcard-host-matches-listener-specific-host"),
                infra("wildcard-host-matches-listener-wildcard-host")};
        List<String> httpRoute = List.of("HTTPRoute");
        return test("HTTPRouteHostnameIntersection")
                .description("HTTPRoutes should attach to listeners only if they have intersecting hostnames, and should accept "
                        + "requests only for the intersecting hostnames")
                .manifests("tests/httproute-hostname-intersection.yaml")
                .steps(namespacesReady(INFRA),
                        group("HTTPRoutes that do intersect with listener hostnames",
                                accepted(gw, routes),
                                resolvedRefs(routes[0], gw), resolvedRefs(routes[1], gw), resolvedRefs(routes[2], gw), resolvedRefs(routes[3], gw),
                                requests(gw,
                                        get("/s1").host("very.specific.com").backend(V1).namespace(INFRA),
                                        get("/s1").host("very.specific.com:1234").backend(V1).namespace(INFRA),
                                        get("/s1").host("non.matching.com").status(404),
                                        get("/s1").host("foo.nonmatchingwildcard.io").status(404),
                                        get("/s1").host("foo.wildcard.io").status(404),
                                        get("/non-matching-prefix").host("very.specific.com").status(404),
                                        get("/s2").host("foo.wildcard.io").backend(V2).namespace(INFRA),
                                        get("/s2").host("bar.wildcard.io").backend(V2).namespace(INFRA),
                                        get("/s2").host("foo.bar.wildcard.io").backend(V2).namespace(INFRA),
                                        get("/s2").host("non.matching.com").status(404),
                                        get("/s2").host("wildcard.io").status(404),
                                        get("/s2").host("very.specific.com").status(404),
                                        get("/non-matching-prefix").host("foo.wildcard.io").status(404),
                                        get("/s3").host("very.specific.com").backend(V3).namespace(INFRA),
                                        get("/s3").host("non.matching.com").status(404),
                                        get("/s3").host("foo.specific.com").status(404),
                                        get("/s3").host("foo.wildcard.io").status(404),
                                        get("/non-matching-prefix").host("very.specific.com").status(404),
                                        get("/s4").host("foo.anotherwildcard.io").backend(V1).namespace(INFRA),
                                        get("/s4").host("bar.anotherwildcard.io").backend(V1).namespace(INFRA),
                                        get("/s4").host("foo.bar.anotherwildcard.io").backend(V1).namespace(INFRA),
                                        get("/s4").host("anotherwildcard.io").status(404),
                                        get("/s4").host("foo.wildcard.io").status(404),
                                        get("/s4").host("very.specific.com").status(404),
                                        get("/non-matching-prefix").host("foo.anotherwildcard.io").status(404))),
                        group("HTTPRoutes that do not intersect with listener hostnames",
                                accepted(gw),
                                parents(infra("no-intersecting-hosts"), gw, true, cond("Accepted", "False", "NoMatchingListenerHostname")),
                                requests(gw,
                                        get("/s5").host("specific.but.wrong.com").status(404),
                                        get("/s5").host("wildcard.io").status(404))),
                        group("HTTPRoutes have to be counted in AttachedRoutes only if they are Accepted",
                                listeners(gw,
                                        // specific-host-matches-listener-specific-host and wildcard-host-matches-listener-specific-host
                                        listener("listener-1", httpRoute, 2, cond("Accepted", "True"), cond("ResolvedRefs", "True")),
                                        // specific-host-matches-listener-wildcard-host
                                        listener("listener-2", httpRoute, 1, cond("Accepted", "True"), cond("ResolvedRefs", "True")),
                                        // wildcard-host-matches-listener-wildcard-host
                                        listener("listener-3", httpRoute, 1, cond("Accepted", "True"), cond("ResolvedRefs", "True")))),
                        group("HTTPRoutes intersects with an unspecified hostname listener",
                                accepted(gwAll, infra("httproute-hostname-intersection-all")),
                                resolvedRefs(infra("httproute-hostname-intersection-all"), gwAll),
                                requests(gwAll,
                                        get("/").host("first.com").backend(V2).namespace(INFRA),
                                        get("/").host("sub.first.com").backend(V2).namespace(INFRA),
                                        get("/").host("second.com").backend(V2).namespace(INFRA),
                                        get("/").host("sub.second.com").backend(V2).namespace(INFRA),
                                        get("/").host("third.com").namespace(INFRA).status(404),
                                        get("/").host("sub.third.com").namespace(INFRA).status(404))));
    }

    static ConformanceTest listenerHostnameMatching() {
        var gw = infra("httproute-listener-hostname-matching");
        var v1 = infra("backend-v1");
        var v2 = infra("backend-v2");
        var v3 = infra("backend-v3");
        return test("HTTPRouteListenerHostnameMatching")
                .description("Multiple HTTP listeners with the same port and different hostnames, each with a different HTTPRoute")
                .manifests("tests/httproute-listener-hostname-matching.yaml")
                .steps(namespacesReady(INFRA),
                        acceptedOn(gw, List.of("listener-1"), v1),
                        resolvedRefs(v1, gw),
                        acceptedOn(gw, List.of("listener-2"), v2),
                        resolvedRefs(v2, gw),
                        acceptedOn(gw, List.of("listener-3", "listener-4"), v3),
                        resolvedRefs(v3, gw),
                        Tables.requestsOn(gw, "listener-3",
                                get("/").host("bar.com").backend(V1).namespace(INFRA),
                                get("/").host("foo.bar.com").backend(V2).namespace(INFRA),
                                get("/").host("baz.bar.com").backend(V3).namespace(INFRA),
                                get("/").host("boo.bar.com").backend(V3).namespace(INFRA),
                                get("/").host("multiple.prefixes.bar.com").backend(V3).namespace(INFRA),
                                get("/").host("multiple.prefixes.foo.com").backend(V3).namespace(INFRA),
                                get("/").host("foo.com").status(404),
                                get("/").host("no.matching.host").status(404)));
    }

    static ConformanceTest multipleGateways() {
        var shared = infra("multiple-gateways-shared-route");
        return test("HTTPRouteMultipleGateways")
                .description("An HTTPRoute that is attached to multiple Gateways receives traffic from each Gateway independently, and "
                        + "shared routes are accessible via all parent Gateways while dedicated routes are only accessible via their "
                        + "respective parent.")
                .manifests("tests/httproute-multiple-gateways.yaml")
                .steps(group("Gateway same-namespace",
                                accepted(SAME_NAMESPACE, shared, infra("same-namespace-dedicated-route")),
                                group("shared route is accessible and routed to infra-backend-v1",
                                        requests(SAME_NAMESPACE, get("/shared").status(200).backend(V1).namespace(INFRA))),
                                group("dedicated route is accessible and routed to infra-backend-v2",
                                        requests(SAME_NAMESPACE, get("/").status(200).backend(V2).namespace(INFRA)))),
                        group("Gateway all-namespaces",
                                accepted(ALL_NAMESPACES, shared, infra("all-namespaces-dedicated-route")),
                                group("shared route is accessible and routed to infra-backend-v1",
                                        requests(ALL_NAMESPACES, get("/shared").status(200).backend(V1).namespace(INFRA))),
                                group("dedicated route is accessible and routed to infra-backend-v3",
                                        requests(ALL_NAMESPACES, get("/").status(200).backend(V3).namespace(INFRA)))));
    }

    /** The cases of HTTPRouteRequestHeaderModifier, which HTTPRouteBackendRequestHeaderModifier runs too. */
    static Exchange[] requestHeaderModifierCases() {
        return new Exchange[] {
                get("/set").header("Some-Other-Header", "val")
                        .expectPath("/set").expectHeader("Some-Other-Header", "val").expectHeader("X-Header-Set", "set-overwrites-values")
                        .backend(V1).namespace(INFRA),
                get("/set").header("Some-Other-Header", "val").header("X-Header-Set", "some-other-value")
                        .expectPath("/set").expectHeader("Some-Other-Header", "val").expectHeader("X-Header-Set", "set-overwrites-values")
                        .backend(V1).namespace(INFRA),
                get("/add").header("Some-Other-Header", "val")
                        .expectPath("/add").expectHeader("Some-Other-Header", "val").expectHeader("X-Header-Add", "add-appends-values")
                        .backend(V1).namespace(INFRA),
                get("/add").header("Some-Other-Header", "val").header("X-Header-Add", "some-other-value")
                        .expectPath("/add").expectHeader("Some-Other-Header", "val")
                        .expectHeader("X-Header-Add", "some-other-value,add-appends-values")
                        .backend(V1).namespace(INFRA),
                get("/remove").header("X-Header-Remove", "val")
                        .expectPath("/remove").expectAbsent("X-Header-Remove")
                        .backend(V1).namespace(INFRA),
                get("/multiple").header("X-Header-Set-2", "set-val-2").header("X-Header-Add-2", "add-val-2")
                        .header("X-Header-Remove-2", "remove-val-2").header("Another-Header", "another-header-val")
                        .expectPath("/multiple").expectHeader("X-Header-Set-1", "header-set-1").expectHeader("X-Header-Set-2", "header-set-2")
                        .expectHeader("X-Header-Add-1", "header-add-1").expectHeader("X-Header-Add-2", "add-val-2,header-add-2")
                        .expectHeader("X-Header-Add-3", "header-add-3").expectHeader("Another-Header", "another-header-val")
                        .expectAbsent("X-Header-Remove-1", "X-Header-Remove-2")
                        .backend(V1).namespace(INFRA),
                get("/case-insensitivity").header("x-header-set", "original-val-set").header("x-header-add", "original-val-add")
                        .header("x-header-remove", "original-val-remove").header("Another-Header", "another-header-val")
                        .expectPath("/case-insensitivity").expectHeader("X-Header-Set", "header-set")
                        .expectHeader("X-Header-Add", "original-val-add,header-add").expectHeader("Another-Header", "another-header-val")
                        .expectAbsent("x-header-remove", "X-Header-Remove")
                        .backend(V1).namespace(INFRA)};
    }

    static ConformanceTest requestHeaderModifier() {
        var route = infra("request-header-modifier");
        return test("HTTPRouteRequestHeaderModifier")
                .description("An HTTPRoute has request header modifier filters applied correctly")
                .manifests("tests/httproute-request-header-modifier.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE, requestHeaderModifierCases()));
    }

    static ConformanceTest weight() {
        var route = infra("weighted-backends");
        Map<String, Double> weights = new LinkedHashMap<>();
        weights.put(V1, 0.7);
        weights.put(V2, 0.3);
        weights.put(V3, 0.0);
        return test("HTTPRouteWeight")
                .description("An HTTPRoute with weighted backends")
                .manifests("tests/httproute-weight.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        group("Requests should have a distribution that matches the weight",
                                new Step.Weights(SAME_NAMESPACE, get("/").status(200).namespace(INFRA), weights)));
    }

    static ConformanceTest redirectHostAndStatus() {
        var route = infra("redirect-host-and-status");
        return test("HTTPRouteRedirectHostAndStatus")
                .description("An HTTPRoute with hostname and statusCode redirect filters")
                .manifests("tests/httproute-redirect-host-and-status.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/hostname-redirect").unfollowRedirect().status(302).redirect(null, "example.org", null, null)
                                        .namespace(INFRA),
                                get("/host-and-status").unfollowRedirect().status(301).redirect(null, "example.org", null, null)
                                        .namespace(INFRA)));
    }

    static ConformanceTest noBackendRefs() {
        var route = infra("omitted-backendrefs");
        return test("HTTPRouteNoBackendRefs")
                .description("HTTPRoute rules with omitted or empty backendRefs explicitly respond with 500")
                .manifests("tests/httproute-omitted-backendrefs.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        requests(SAME_NAMESPACE,
                                get("/forward").backend(V1).namespace(INFRA),
                                get("/omitted-no-forward").status(500),
                                get("/empty-no-forward").status(500)));
    }

    static ConformanceTest observedGenerationBump() {
        var route = infra("observed-generation-bump");
        return test("HTTPRouteObservedGenerationBump")
                .description("A HTTPRoute in the gateway-conformance-infra namespace should update the observedGeneration in all of "
                        + "it's Status.Conditions after an update to the spec")
                .manifests("tests/httproute-observed-generation-bump.yaml")
                .steps(group("observedGeneration should increment",
                        namespacesReady(INFRA),
                        new Step.RouteLatestConditions(route),
                        new Step.Mutate(ResourceKind.HTTP_ROUTE, route,
                                o -> ((HTTPRoute) o).getSpec().getRules().getFirst().getBackendRefs().getFirst().setName(V2)),
                        routeCondition(route, SAME_NAMESPACE, "Accepted", "True", ""),
                        resolvedRefs(route, SAME_NAMESPACE),
                        new Step.RouteLatestConditions(route),
                        new Step.GenerationChanged(ResourceKind.HTTP_ROUTE, route)));
    }

    static ConformanceTest serviceTypes() {
        var route = infra("service-types");
        return test("HTTPRouteServiceTypes")
                .description("A single HTTPRoute should be able to route traffic to various service type backends")
                .manifests("tests/httproute-service-types.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        new Step.FillEndpointSlices(INFRA, V1, List.of("manual-endpointslices", "headless-manual-endpointslices")),
                        requests(SAME_NAMESPACE,
                                get("/manual-endpointslices").status(200).backend(V1).namespace(INFRA),
                                get("/headless-manual-endpointslices").status(200).backend(V1).namespace(INFRA),
                                get("/headless").status(200).backend(V1).namespace(INFRA)));
    }

    static ConformanceTest httpsListener() {
        var route = infra("httproute-https-test");
        var routeNoHost = infra("httproute-https-test-no-hostname");
        return test("HTTPRouteHTTPSListener")
                .description("HTTPRoute attaches to a Gateway's HTTPS listener in the same namespace")
                .manifests("tests/httproute-https-listener.yaml")
                .steps(accepted(SAME_NAMESPACE_WITH_HTTPS, route, routeNoHost),
                        resolvedRefs(route, SAME_NAMESPACE_WITH_HTTPS),
                        resolvedRefs(routeNoHost, SAME_NAMESPACE_WITH_HTTPS),
                        tlsRequests(SAME_NAMESPACE_WITH_HTTPS,
                                get("/").host("example.org").serverName("example.org").status(200).backend(V1).namespace(INFRA),
                                get("/").host("unknown-example.org").serverName("unknown-example.org").status(404).namespace(INFRA),
                                get("/").host("second-example.org").serverName("second-example.org").status(200).backend(V2).namespace(INFRA)));
    }
}
