package dev.portway.gateway.conformance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The vocabulary the ported tests are written in: upstream's namespaces and backends
 * ({@code conformance/utils/suite}), and one short function per upstream helper, so that a table
 * reads like the Go test it comes from.
 */
final class Tables {

    static final String INFRA = "gateway-conformance-infra";
    static final String APP_BACKEND = "gateway-conformance-app-backend";
    static final String WEB_BACKEND = "gateway-conformance-web-backend";
    static final String V1 = "infra-backend-v1";
    static final String V2 = "infra-backend-v2";
    static final String V3 = "infra-backend-v3";

    /** The base manifests' Gateways. */
    static final Step.Ref SAME_NAMESPACE = infra("same-namespace");
    static final Step.Ref ALL_NAMESPACES = infra("all-namespaces");
    static final Step.Ref BACKEND_NAMESPACES = infra("backend-namespaces");
    static final Step.Ref SAME_NAMESPACE_WITH_HTTPS = infra("same-namespace-with-https-listener");

    private Tables() {
    }

    static Step.Ref infra(String name) {
        return Step.Ref.of(INFRA, name);
    }

    static Step.Ref ref(String namespace, String name) {
        return Step.Ref.of(namespace, name);
    }

    /** A test, built up from its upstream declaration. */
    static Builder test(String shortName) {
        return new Builder(shortName);
    }

    static final class Builder {
        private final String shortName;
        private String description = "";
        private Set<Feature> features = Set.of(Feature.GATEWAY, Feature.HTTP_ROUTE);
        private boolean provisional;
        private List<String> manifests = List.of();
        private String partial;

        private Builder(String shortName) {
            this.shortName = shortName;
        }

        Builder description(String description) {
            this.description = description;
            return this;
        }

        /** The features beyond Gateway and HTTPRoute that the test lists. */
        Builder features(Feature... more) {
            List<Feature> all = new ArrayList<>(List.of(Feature.GATEWAY, Feature.HTTP_ROUTE));
            all.addAll(Arrays.asList(more));
            this.features = Set.copyOf(all);
            return this;
        }

        /** Exactly these features (for tests that do not list HTTPRoute). */
        Builder onlyFeatures(Feature... features) {
            this.features = Set.of(features);
            return this;
        }

        Builder provisional() {
            this.provisional = true;
            return this;
        }

        Builder manifests(String... paths) {
            this.manifests = List.of(paths);
            return this;
        }

        /** What of the upstream test is left out, and why. */
        Builder partial(String why) {
            this.partial = why;
            return this;
        }

        ConformanceTest steps(Step... steps) {
            return new ConformanceTest(shortName, description, features, provisional, manifests, List.of(steps), partial);
        }
    }

    // ---- steps, by upstream helper ----

    /** {@code t.Run(name, ...)}. */
    static Step group(String name, Step... steps) {
        return new Step.Group(name, List.of(steps));
    }

    /** {@code GatewayAndHTTPRoutesMustBeAccepted(gw, routes...)}. */
    static Step accepted(Step.Ref gateway, Step.Ref... routes) {
        return new Step.Accepted(gateway, List.of(), List.of(routes));
    }

    /** {@code GatewayAndHTTPRoutesMustBeAccepted(NewGatewayRef(gw, listeners...), routes...)}. */
    static Step acceptedOn(Step.Ref gateway, List<String> listeners, Step.Ref... routes) {
        return new Step.Accepted(gateway, listeners, List.of(routes));
    }

    /** {@code HTTPRouteMustHaveResolvedRefsConditionsTrue}. */
    static Step resolvedRefs(Step.Ref route, Step.Ref gateway) {
        return routeCondition(route, gateway, "ResolvedRefs", "True", "ResolvedRefs");
    }

    /** {@code HTTPRouteMustHaveCondition}. */
    static Step routeCondition(Step.Ref route, Step.Ref gateway, String type, String status, String reason) {
        return new Step.RouteCondition(route, gateway, Step.Cond.of(type, status, reason));
    }

    /** {@code HTTPRouteMustHaveNoAcceptedParents}. */
    static Step noAcceptedParents(Step.Ref route) {
        return new Step.RouteNoAcceptedParents(route);
    }

    /** {@code GatewayMustHaveZeroRoutes}. */
    static Step zeroRoutes(Step.Ref gateway) {
        return new Step.GatewayZeroRoutes(gateway);
    }

    /** {@code HTTPRouteMustHaveParents} with one parent, the Gateway, having these conditions. */
    static Step parents(Step.Ref route, Step.Ref gateway, boolean namespaceRequired, Step.Cond... conditions) {
        return new Step.RouteParents(route, List.of(new Step.ParentExpect(gateway, List.of(conditions))), namespaceRequired);
    }

    /** {@code GatewayStatusMustHaveListeners}. */
    static Step listeners(Step.Ref gateway, Step.ListenerExpect... listeners) {
        return new Step.GatewayListeners(gateway, List.of(listeners));
    }

    /** A listener status: supportedKinds (kinds of group gateway.networking.k8s.io), conditions, attachedRoutes. */
    static Step.ListenerExpect listener(String name, List<String> supportedKinds, int attachedRoutes, Step.Cond... conditions) {
        return new Step.ListenerExpect(name, supportedKinds, List.of(conditions), attachedRoutes);
    }

    static Step.Cond cond(String type, String status) {
        return Step.Cond.of(type, status);
    }

    static Step.Cond cond(String type, String status, String reason) {
        return Step.Cond.of(type, status, reason);
    }

    /** {@code MakeRequestAndExpectEventuallyConsistentResponse} for each case, to the Gateway's first listener. */
    static Step requests(Step.Ref gateway, Exchange... cases) {
        return new Step.Requests(gateway, null, false, List.of(cases));
    }

    /** The same, to the port of the named listener (as NewGatewayRef(gw, listener)). */
    static Step requestsOn(Step.Ref gateway, String listener, Exchange... cases) {
        return new Step.Requests(gateway, listener, false, List.of(cases));
    }

    /**
     * {@code MakeTLSRequestAndExpectEventuallyConsistentResponse} for each case (with the SNI name
     * each names, {@link Exchange#serverName}), to the Gateway's first listener.
     */
    static Step tlsRequests(Step.Ref gateway, Exchange... cases) {
        return new Step.Requests(gateway, null, true, List.of(cases));
    }

    static Exchange get(String path) {
        return Exchange.request(path);
    }

    /** {@code NamespacesMustBeReady}. */
    static Step namespacesReady(String... namespaces) {
        return new Step.NamespacesReady(List.of(namespaces));
    }
}
