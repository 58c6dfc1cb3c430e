package dev.portway.gateway.conformance;

import static dev.portway.gateway.conformance.Tables.APP_BACKEND;
import static dev.portway.gateway.conformance.Tables.SAME_NAMESPACE;
import static dev.portway.gateway.conformance.Tables.WEB_BACKEND;
import static dev.portway.gateway.conformance.Tables.accepted;
import static dev.portway.gateway.conformance.Tables.get;
import static dev.portway.gateway.conformance.Tables.group;
import static dev.portway.gateway.conformance.Tables.infra;
import static dev.portway.gateway.conformance.Tables.noAcceptedParents;
import static dev.portway.gateway.conformance.Tables.ref;
import static dev.portway.gateway.conformance.Tables.requests;
import static dev.portway.gateway.conformance.Tables.resolvedRefs;
import static dev.portway.gateway.conformance.Tables.routeCondition;
import static dev.portway.gateway.conformance.Tables.test;
import static dev.portway.gateway.conformance.Tables.zeroRoutes;

import dev.portway.api.ResourceKind;
import java.util.List;

/**
 * The HTTPRoute tests of references and route status: parentRefs that do not attach (section
 * name, namespace), backendRefs that do not resolve (missing, unknown kind, another namespace with
 * and without a ReferenceGrant), each with the condition and reason upstream requires and the 500
 * a request to an unresolved backend must get.
 */
final class HttpRouteStatusTests {

    private HttpRouteStatusTests() {
    }

    static List<ConformanceTest> all() {
        return List.of(invalidCrossNamespaceParentRef(), invalidNonExistentBackendRef(), invalidBackendRefUnknownKind(),
                invalidParentRefNotMatchingSectionName(), invalidCrossNamespaceBackendRef(), referenceGrant(), invalidReferenceGrant(),
                partiallyInvalidViaInvalidReferenceGrant());
    }

    static ConformanceTest invalidCrossNamespaceParentRef() {
        var route = ref(WEB_BACKEND, "invalid-cross-namespace-parent-ref");
        return test("HTTPRouteInvalidCrossNamespaceParentRef")
                .description("A single HTTPRoute in the gateway-conformance-web-backend namespace should fail to attach to a Gateway in "
                        + "another namespace that it is not allowed to")
                .manifests("tests/httproute-invalid-cross-namespace-parent-ref.yaml")
                .steps(resolvedRefs(route, SAME_NAMESPACE),
                        group("HTTPRoute should have an Accepted: false condition with reason NotAllowedByListeners",
                                routeCondition(route, SAME_NAMESPACE, "Accepted", "False", "NotAllowedByListeners")),
                        group("Route should not have Parents set in status", noAcceptedParents(route)),
                        group("Gateway should have 0 Routes attached", zeroRoutes(SAME_NAMESPACE)));
    }

    static ConformanceTest invalidNonExistentBackendRef() {
        var route = infra("invalid-nonexistent-backend-ref");
        return test("HTTPRouteInvalidNonExistentBackendRef")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status False with "
                        + "reason BackendNotFound and return 500 when binding to a Gateway in the same namespace if the route has a "
                        + "BackendRef Service that does not exist")
                .manifests("tests/httproute-invalid-nonexistent-backendref.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        group("HTTPRoute with only a nonexistent BackendRef has a ResolvedRefs Condition with status False and Reason "
                                        + "BackendNotFound",
                                routeCondition(route, SAME_NAMESPACE, "ResolvedRefs", "False", "BackendNotFound")),
                        group("HTTP Request to invalid nonexistent backend receive a 500",
                                requests(SAME_NAMESPACE, get("/").method("GET").status(500))));
    }

    static ConformanceTest invalidBackendRefUnknownKind() {
        var route = infra("invalid-backend-ref-unknown-kind");
        return test("HTTPRouteInvalidBackendRefUnknownKind")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status False with "
                        + "reason InvalidKind when attempting to bind to a Gateway in the same namespace if the route has a BackendRef "
                        + "that points to an unknown Kind.")
                .manifests("tests/httproute-invalid-backendref-unknown-kind.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        group("HTTPRoute with Invalid Kind has a ResolvedRefs Condition with status False and Reason InvalidKind",
                                routeCondition(route, SAME_NAMESPACE, "ResolvedRefs", "False", "InvalidKind")),
                        group("HTTP Request to invalid backend with invalid Kind receives a 500",
                                requests(SAME_NAMESPACE, get("/v2").method("GET").status(500))));
    }

    static ConformanceTest invalidParentRefNotMatchingSectionName() {
        var route = infra("httproute-listener-not-matching-section-name");
        return test("HTTPRouteInvalidParentRefNotMatchingSectionName")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace should set the Accepted status to False with "
                        + "reason NoMatchingParent when attempting to bind to a Gateway that does not have a matching SectionName.")
                .manifests("tests/httproute-invalid-parentref-not-matching-section-name.yaml")
                .steps(group("HTTPRoute with no matching sectionName in ParentRef has an Accepted Condition with status False and Reason "
                                        + "NoMatchingParent",
                                routeCondition(route, SAME_NAMESPACE, "Accepted", "False", "NoMatchingParent")),
                        group("Route should not have Parents accepted in status", noAcceptedParents(route)),
                        group("Gateway should have 0 Routes attached", zeroRoutes(SAME_NAMESPACE)));
    }

    static ConformanceTest invalidCrossNamespaceBackendRef() {
        var route = infra("invalid-cross-namespace-backend-ref");
        return test("HTTPRouteInvalidCrossNamespaceBackendRef")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status False with "
                        + "reason RefNotPermitted when attempting to bind to a Gateway in the same namespace if the route has a "
                        + "BackendRef Service in the gateway-conformance-web-backend namespace and a ReferenceGrant granting permission "
                        + "to route to that Service does not exist")
                .features(Feature.REFERENCE_GRANT)
                .manifests("tests/httproute-invalid-cross-namespace-backend-ref.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        group("HTTPRoute with a cross-namespace BackendRef and no ReferenceGrant has a ResolvedRefs Condition with status "
                                        + "False and Reason RefNotPermitted",
                                routeCondition(route, SAME_NAMESPACE, "ResolvedRefs", "False", "RefNotPermitted")),
                        group("HTTP Request to invalid cross-namespace backend must receive a 500",
                                requests(SAME_NAMESPACE, get("/").method("GET").status(500))));
    }

    static ConformanceTest referenceGrant() {
        var route = infra("reference-grant");
        return test("HTTPRouteReferenceGrant")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace, with a backendRef in the "
                        + "gateway-conformance-web-backend namespace, should attach to Gateway in the gateway-conformance-infra namespace")
                .features(Feature.REFERENCE_GRANT)
                .manifests("tests/httproute-reference-grant.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        resolvedRefs(route, SAME_NAMESPACE),
                        group("Simple HTTP request should reach web-backend",
                                requests(SAME_NAMESPACE, get("/").method("GET").status(200).backend("web-backend").namespace(WEB_BACKEND))),
                        new Step.Delete(ResourceKind.REFERENCE_GRANT, ref(WEB_BACKEND, "reference-grant")),
                        group("Simple HTTP request should return 500 after deleting the relevant reference grant",
                                requests(SAME_NAMESPACE, get("/").method("GET").status(500))));
    }

    static ConformanceTest invalidReferenceGrant() {
        var route = infra("reference-grant");
        return test("HTTPRouteInvalidReferenceGrant")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace, with a backendRef in another namespace "
                        + "without valid ReferenceGrant, should have the ResolvedRefs condition set to False and not forward HTTP "
                        + "requests to any backend")
                .features(Feature.REFERENCE_GRANT)
                .manifests("tests/httproute-invalid-reference-grant.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        group("HTTPRoute with BackendRef in another namespace and no ReferenceGrant covering the Service has a "
                                        + "ResolvedRefs Condition with status False and Reason RefNotPermitted",
                                routeCondition(route, SAME_NAMESPACE, "ResolvedRefs", "False", "RefNotPermitted")),
                        group("Simple HTTP request not should reach web-backend",
                                requests(SAME_NAMESPACE, get("/").method("GET").status(500).backend("web-backend").namespace(WEB_BACKEND))));
    }

    static ConformanceTest partiallyInvalidViaInvalidReferenceGrant() {
        var route = infra("invalid-reference-grant");
        return test("HTTPRoutePartiallyInvalidViaInvalidReferenceGrant")
                .description("A single HTTPRoute in the gateway-conformance-infra namespace should attach to a Gateway in the same "
                        + "namespace if the route has a backendRef Service in the gateway-conformance-app-backend namespace and a "
                        + "ReferenceGrant exists but does not grant permission to route to that specific Service")
                .features(Feature.REFERENCE_GRANT)
                .manifests("tests/httproute-partially-invalid-via-invalid-reference-grant.yaml")
                .steps(accepted(SAME_NAMESPACE, route),
                        group("HTTPRoute with BackendRef in another namespace and no ReferenceGrant covering the Service has a "
                                        + "ResolvedRefs Condition with status False and Reason RefNotPermitted",
                                routeCondition(route, SAME_NAMESPACE, "ResolvedRefs", "False", "RefNotPermitted")),
                        group("HTTP Request to invalid backend with missing referenceGrant should receive a 500",
                                requests(SAME_NAMESPACE, get("/v2").method("GET").status(500))),
                        group("HTTP Request to valid sibling backend should succeed",
                                requests(SAME_NAMESPACE, get("/").method("GET").status(200).backend("app-backend-v1").namespace(APP_BACKEND))));
    }
}
