package dev.portway.gateway.conformance;

import static dev.portway.gateway.conformance.Tables.INFRA;
import static dev.portway.gateway.conformance.Tables.V1;
import static dev.portway.gateway.conformance.Tables.accepted;
import static dev.portway.gateway.conformance.Tables.cond;
import static dev.portway.gateway.conformance.Tables.get;
import static dev.portway.gateway.conformance.Tables.group;
import static dev.portway.gateway.conformance.Tables.infra;
import static dev.portway.gateway.conformance.Tables.listener;
import static dev.portway.gateway.conformance.Tables.listeners;
import static dev.portway.gateway.conformance.Tables.namespacesReady;
import static dev.portway.gateway.conformance.Tables.requests;
import static dev.portway.gateway.conformance.Tables.resolvedRefs;
import static dev.portway.gateway.conformance.Tables.routeCondition;
import static dev.portway.gateway.conformance.Tables.test;

import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.AllowedRoutesBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerBuilder;
import java.util.List;

/**
 * The Gateway and GatewayClass tests: listener status (supported kinds, attached routes,
 * conditions and their reasons), invalid route kinds, protocols and parametersRef,
 * observedGeneration after a change, HTTP listener isolation, and HTTPS listeners: certificate
 * references (ReferenceGrants to Secrets, invalid ones), listeners added and removed.
 */
final class GatewayTests {

    private static final List<String> HTTP_ROUTE = List.of("HTTPRoute");

    private GatewayTests() {
    }

    static List<ConformanceTest> all() {
        return List.of(withAttachedRoutes(), withAttachedRoutesWithPort8080(), invalidRouteKind(), listenerUnsupportedProtocol(),
                invalidParametersRef(), observedGenerationBump(), gatewayClassObservedGenerationBump(), httpListenerIsolation(),
                secretReferenceGrantAllInNamespace(), secretReferenceGrantSpecific(), secretMissingReferenceGrant(),
                secretInvalidReferenceGrant(), invalidTlsConfiguration(), modifyListeners());
    }

    static ConformanceTest withAttachedRoutes() {
        var one = infra("gateway-with-one-attached-route");
        var two = infra("gateway-with-two-attached-routes");
        var unresolved = infra("unresolved-gateway-with-one-attached-unresolved-route");
        return test("GatewayWithAttachedRoutes")
                .description("A Gateway in the gateway-conformance-infra namespace should be attached to routes.")
                .manifests("tests/gateway-with-attached-routes.yaml")
                .steps(group("Gateway listener should have one valid http routes attached",
                                listeners(one, listener("http", HTTP_ROUTE, 1, cond("Accepted", "True"), cond("ResolvedRefs", "True")))),
                        group("Gateway listener should have two valid http routes attached",
                                listeners(two, listener("http", HTTP_ROUTE, 2, cond("Accepted", "True"), cond("ResolvedRefs", "True"))),
                                routeCondition(infra("http-route-not-accepted"), two, "Accepted", "False", "NoMatchingListenerHostname")),
                        group("Gateway listener should have AttachedRoutes set even when Gateway has unresolved refs",
                                listeners(unresolved, listener("tls", HTTP_ROUTE, 1, cond("Programmed", "False"), cond("ResolvedRefs", "False"))),
                                routeCondition(infra("http-route-4"), unresolved, "ResolvedRefs", "False", "")));
    }

    static ConformanceTest withAttachedRoutesWithPort8080() {
        var gw = infra("gateway-with-two-listeners-and-one-attached-route");
        return test("GatewayWithAttachedRoutesWithPort8080")
                .description("A Gateway in the gateway-conformance-infra namespace should be attached to routes.")
                .features(Feature.GATEWAY_PORT_8080)
                .manifests("tests/gateway-with-attached-routes-with-port-8080.yaml")
                .steps(group("Gateway listener should have attached route by specifying the sectionName",
                        listeners(gw,
                                listener("http-unattached", HTTP_ROUTE, 0, cond("Accepted", "True"), cond("ResolvedRefs", "True")),
                                listener("http", HTTP_ROUTE, 1, cond("Accepted", "True"), cond("ResolvedRefs", "True")))));
    }

    static ConformanceTest invalidRouteKind() {
        return test("GatewayInvalidRouteKind")
                .description("A Gateway in the gateway-conformance-infra namespace should fail to become ready an invalid Route kind is "
                        + "specified.")
                .onlyFeatures(Feature.GATEWAY)
                .manifests("tests/gateway-invalid-route-kind.yaml")
                .steps(group("Gateway listener should have a false ResolvedRefs condition with reason InvalidRouteKinds and no "
                                        + "supportedKinds",
                                listeners(infra("gateway-only-invalid-route-kind"),
                                        listener("http", List.of(), 0, cond("ResolvedRefs", "False", "InvalidRouteKinds")))),
                        group("Gateway listener should have a false ResolvedRefs condition with reason InvalidRouteKinds and HTTPRoute "
                                        + "must be put in the supportedKinds",
                                listeners(infra("gateway-supported-and-invalid-route-kind"),
                                        listener("http", HTTP_ROUTE, 0, cond("ResolvedRefs", "False", "InvalidRouteKinds")))));
    }

    static ConformanceTest listenerUnsupportedProtocol() {
        var only = infra("gateway-only-unsupported-protocols");
        var mixed = infra("gateway-supported-and-unsupported-protocols");
        return test("GatewayListenerUnsupportedProtocol")
                .description("A Gateway should set the Accepted condition to False with reason UnsupportedProtocol on listeners whose "
                        + "protocol is not supported. The Gateway itself should only be Accepted if at least one of its listeners is "
                        + "accepted.")
                .onlyFeatures(Feature.GATEWAY)
                .manifests("tests/gateway-invalid-listeners-unsupported-protocol.yaml")
                .steps(group("Gateway with no accepted listeners should not be accepted and the listener should have the Accepted "
                                        + "condition set to False with reason UnsupportedProtocol",
                                new Step.GatewayLatestConditions(only),
                                new Step.GatewayCondition(only, cond("Accepted", "False", "ListenersNotValid")),
                                listeners(only, listener("invalid", List.of(), 0, cond("Accepted", "False", "UnsupportedProtocol")))),
                        group("Gateway with at least one accepted listeners should be accepted and the listeners should have the "
                                        + "Accepted condition set accordingly",
                                new Step.GatewayLatestConditions(mixed),
                                new Step.GatewayCondition(mixed, cond("Accepted", "True", "ListenersNotValid")),
                                listeners(mixed,
                                        listener("http", HTTP_ROUTE, 0, cond("Accepted", "True", "Accepted")),
                                        listener("invalid", List.of(), 0, cond("Accepted", "False", "UnsupportedProtocol")))));
    }

    static ConformanceTest invalidParametersRef() {
        var gw = infra("gateway-invalid-parameters-ref");
        return test("GatewayInvalidParametersRef")
                .description("A Gateway referencing an invalid or non-existent parametersRef should set the Accepted condition to False "
                        + "with reason InvalidParameters.")
                .onlyFeatures(Feature.GATEWAY)
                .manifests("tests/gateway-invalid-parameters-ref.yaml")
                .steps(new Step.GatewayLatestConditions(gw),
                        new Step.GatewayCondition(gw, cond("Accepted", "False", "InvalidParameters")));
    }

    static ConformanceTest observedGenerationBump() {
        var gw = infra("gateway-observed-generation-bump");
        return test("GatewayObservedGenerationBump")
                .description("A Gateway in the gateway-conformance-infra namespace should update the observedGeneration in all of its "
                        + "Status.Conditions after an update to the spec")
                .onlyFeatures(Feature.GATEWAY)
                .manifests("tests/gateway-observed-generation-bump.yaml")
                .steps(group("observedGeneration should increment",
                        namespacesReady(INFRA),
                        new Step.GatewayLatestConditions(gw),
                        new Step.Mutate(ResourceKind.GATEWAY, gw, o -> ((Gateway) o).getSpec().getListeners().add(new ListenerBuilder()
                                .withName("alternate").withHostname("foo.com").withPort(80).withProtocol("HTTP")
                                .withAllowedRoutes(new AllowedRoutesBuilder().withNewNamespaces().withFrom("All").endNamespaces().build())
                                .build())),
                        namespacesReady(INFRA),
                        new Step.GatewayLatestConditions(gw),
                        new Step.GenerationChanged(ResourceKind.GATEWAY, gw)));
    }

    static ConformanceTest gatewayClassObservedGenerationBump() {
        String name = "gatewayclass-observed-generation-bump";
        var gwc = new Step.Ref(null, name);
        return test("GatewayClassObservedGenerationBump")
                .description("A GatewayClass should update the observedGeneration in all of it's Status.Conditions after an update to "
                        + "the spec")
                .onlyFeatures(Feature.GATEWAY)
                .manifests("tests/gatewayclass-observed-generation-bump.yaml")
                .steps(group("observedGeneration should increment",
                        new Step.GatewayClassAccepted(name, true),
                        new Step.GatewayClassLatestConditions(name),
                        new Step.Mutate(ResourceKind.GATEWAY_CLASS, gwc, o -> ((GatewayClass) o).getSpec().setDescription("new")),
                        new Step.GatewayClassAccepted(name, true),
                        new Step.GatewayClassLatestConditions(name),
                        new Step.GenerationChanged(ResourceKind.GATEWAY_CLASS, gwc)));
    }

    /** The cases both Gateways of GatewayHTTPListenerIsolation must pass. */
    private static Exchange[] isolationCases() {
        return new Exchange[] {
                get("/empty-hostname").host("bar.com").backend(V1).namespace(INFRA),
                get("/wildcard-example-com").host("bar.com").status(404),
                get("/wildcard-foo-example-com").host("bar.com").status(404),
                get("/abc-foo-example-com").host("bar.com").status(404),
                get("/empty-hostname").host("bar.example.com").status(404),
                get("/wildcard-example-com").host("bar.example.com").backend(V1).namespace(INFRA),
                get("/wildcard-foo-example-com").host("bar.example.com").status(404),
                get("/abc-foo-example-com").host("bar.example.com").status(404),
                get("/empty-hostname").host("bar.foo.example.com").status(404),
                get("/wildcard-example-com").host("bar.foo.example.com").status(404),
                get("/wildcard-foo-example-com").host("bar.foo.example.com").backend(V1).namespace(INFRA),
                get("/abc-foo-example-com").host("bar.foo.example.com").status(404),
                get("/empty-hostname").host("abc.foo.example.com").status(404),
                get("/wildcard-example-com").host("abc.foo.example.com").status(404),
                get("/wildcard-foo-example-com").host("abc.foo.example.com").status(404).namespace(INFRA),
                get("/abc-foo-example-com").host("abc.foo.example.com").backend(V1).namespace(INFRA)};
    }

    static ConformanceTest httpListenerIsolation() {
        var gw = infra("http-listener-isolation");
        var gwIntersection = infra("http-listener-isolation-with-hostname-intersection");
        var routes = new Step.Ref[] {
                infra("attaches-to-empty-hostname"), infra("attaches-to-wildcard-example-com"),
                infra("attaches-to-wildcard-foo-example-com"), infra("attaches-to-abc-foo-example-com")};
        var intersectionRoutes = new Step.Ref[] {
                infra("attaches-to-empty-hostname-with-hostname-intersection"),
                infra("attaches-to-wildcard-example-com-with-hostname-intersection"),
                infra("attaches-to-wildcard-foo-example-com-with-hostname-intersection"),
                infra("attaches-to-abc-foo-example-com-with-hostname-intersection")};
        return test("GatewayHTTPListenerIsolation")
                .description("Listener isolation for HTTP listeners with multiple listeners and HTTPRoutes")
                .features(Feature.GATEWAY_HTTP_LISTENER_ISOLATION)
                .manifests("tests/gateway-http-listener-isolation.yaml", "tests/gateway-http-listener-isolation-with-hostname-intersection.yaml")
                .steps(namespacesReady(INFRA),
                        group("hostnames are configured only in listeners",
                                accepted(gw, routes),
                                resolvedRefs(routes[0], gw), resolvedRefs(routes[1], gw), resolvedRefs(routes[2], gw), resolvedRefs(routes[3], gw),
                                requests(gw, isolationCases())),
                        group("intersecting hostnames are configured in listeners and HTTPRoutes",
                                accepted(gwIntersection, intersectionRoutes),
                                resolvedRefs(intersectionRoutes[0], gwIntersection), resolvedRefs(intersectionRoutes[1], gwIntersection),
                                resolvedRefs(intersectionRoutes[2], gwIntersection), resolvedRefs(intersectionRoutes[3], gwIntersection),
                                requests(gwIntersection, isolationCases())));
    }

    /** The listener status the HTTPS listener tests expect of listener https: these conditions, no routes. */
    private static Step httpsListener(Step.Ref gateway, Step.Cond... conditions) {
        return listeners(gateway, listener("https", HTTP_ROUTE, 0, conditions));
    }

    /**
     * A GatewaySecret*ReferenceGrant* test: its manifest {@code tests/<gateway>.yaml} holds the
     * Gateway {@code gateway}, whose listener https refers to a Secret in another namespace, which
     * a ReferenceGrant there does or does not {@code permit}.
     */
    private static ConformanceTest secretReferenceTest(String shortName, String description, String gateway, boolean permit) {
        return test(shortName)
                .description(description)
                .onlyFeatures(Feature.GATEWAY, Feature.REFERENCE_GRANT)
                .manifests("tests/" + gateway + ".yaml")
                .steps(permit
                        ? group("Gateway listener should have a true ResolvedRefs condition and a true Programmed condition",
                                httpsListener(infra(gateway), cond("Programmed", "True", "Programmed"), cond("ResolvedRefs", "True")))
                        : group("Gateway listener should have a false ResolvedRefs condition with reason RefNotPermitted",
                                httpsListener(infra(gateway), cond("ResolvedRefs", "False", "RefNotPermitted"))));
    }

    static ConformanceTest secretReferenceGrantAllInNamespace() {
        return secretReferenceTest("GatewaySecretReferenceGrantAllInNamespace", "A Gateway in the gateway-conformance-infra namespace "
                + "should become programmed if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend "
                + "namespace and a ReferenceGrant granting permission to all Secrets in the namespace exists",
                "gateway-secret-reference-grant-all-in-namespace", true);
    }

    static ConformanceTest secretReferenceGrantSpecific() {
        return secretReferenceTest("GatewaySecretReferenceGrantSpecific", "A Gateway in the gateway-conformance-infra namespace should "
                + "become programmed if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend namespace "
                + "and a ReferenceGrant granting permission to the specific Secret exists",
                "gateway-secret-reference-grant-specific", true);
    }

    static ConformanceTest secretMissingReferenceGrant() {
        return secretReferenceTest("GatewaySecretMissingReferenceGrant", "A Gateway in the gateway-conformance-infra namespace should "
                + "fail to become programmed if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend "
                + "namespace and a ReferenceGrant granting permission to the Secret does not exist",
                "gateway-secret-missing-reference-grant", false);
    }

    static ConformanceTest secretInvalidReferenceGrant() {
        return secretReferenceTest("GatewaySecretInvalidReferenceGrant", "A Gateway in the gateway-conformance-infra namespace should "
                + "fail to become ready if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend "
                + "namespace and a ReferenceGrant exists but does not grant permission to that specific Secret",
                "gateway-secret-invalid-reference-grant", false);
    }

    static ConformanceTest invalidTlsConfiguration() {
        // upstream runs the four in parallel (t.Parallel); here one after the other, each with its own wait
        Step.Cond invalid = cond("ResolvedRefs", "False", "InvalidCertificateRef");
        return test("GatewayInvalidTLSConfiguration")
                .description("A Gateway should fail to become ready if the Gateway has an invalid TLS configuration")
                .onlyFeatures(Feature.GATEWAY)
                .manifests("tests/gateway-invalid-tls-configuration.yaml")
                .steps(group("Nonexistent secret referenced as CertificateRef in a Gateway listener",
                                httpsListener(infra("gateway-certificate-nonexistent-secret"), invalid)),
                        group("Unsupported group resource referenced as CertificateRef in a Gateway listener",
                                httpsListener(infra("gateway-certificate-unsupported-group"), invalid)),
                        group("Unsupported kind resource referenced as CertificateRef in a Gateway listener",
                                httpsListener(infra("gateway-certificate-unsupported-kind"), invalid)),
                        group("Malformed secret referenced as CertificateRef in a Gateway listener",
                                httpsListener(infra("gateway-certificate-malformed-secret"), invalid)));
    }

    static ConformanceTest modifyListeners() {
        var add = infra("gateway-add-listener");
        var remove = infra("gateway-remove-listener");
        return test("GatewayModifyListeners")
                .description("A Gateway in the gateway-conformance-infra namespace should handle adding and removing listeners.")
                .onlyFeatures(Feature.GATEWAY)
                .manifests("tests/gateway-modify-listeners.yaml")
                .steps(group("should be able to add a listener that then becomes available for routing traffic",
                                namespacesReady(INFRA),
                                new Step.GatewayLatestConditions(add),
                                new Step.Mutate(ResourceKind.GATEWAY, add, o -> ((Gateway) o).getSpec().getListeners().add(new ListenerBuilder()
                                        .withName("http").withPort(80).withProtocol("HTTP").withHostname("data.test.com")
                                        .withAllowedRoutes(new AllowedRoutesBuilder().withNewNamespaces().withFrom("All").endNamespaces().build())
                                        .build())),
                                namespacesReady(INFRA),
                                listeners(add,
                                        listener("https", HTTP_ROUTE, 1, cond("Accepted", "True"), cond("ResolvedRefs", "True")),
                                        listener("http", HTTP_ROUTE, 1, cond("Accepted", "True"), cond("ResolvedRefs", "True"))),
                                new Step.GatewayLatestConditions(add),
                                new Step.GenerationChanged(ResourceKind.GATEWAY, add)),
                        group("should be able to remove listeners, which would then stop routing the relevant traffic",
                                namespacesReady(INFRA),
                                new Step.GatewayLatestConditions(remove),
                                new Step.Mutate(ResourceKind.GATEWAY, remove, o -> {
                                    List<Listener> listeners = ((Gateway) o).getSpec().getListeners();
                                    if (listeners.size() != 2) {
                                        throw new AssertionError("the gateway must have 2 listeners, has " + listeners.size());
                                    }
                                    listeners.removeIf(l -> !"http".equals(l.getName()));
                                }),
                                namespacesReady(INFRA),
                                listeners(remove, listener("http", HTTP_ROUTE, 1, cond("Accepted", "True"), cond("ResolvedRefs", "True"))),
                                new Step.GatewayLatestConditions(remove),
                                new Step.GenerationChanged(ResourceKind.GATEWAY, remove)));
    }
}
