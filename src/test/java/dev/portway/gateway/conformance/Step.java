package dev.portway.gateway.conformance;

import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One check of a conformance test, each named after the upstream helper it ports
 * ({@code conformance/utils/kubernetes/helpers.go}, {@code conformance/utils/http/http.go}), with
 * that helper's semantics; {@link ConformanceRunner} runs them in order.
 */
sealed interface Step {

    /** A namespaced name. */
    record Ref(String namespace, String name) {
        static Ref of(String namespace, String name) {
            return new Ref(namespace, name);
        }

        @Override
        public String toString() {
            return namespace == null || namespace.isEmpty() ? name : namespace + "/" + name;
        }
    }

    /** A status condition to find: an empty status or reason matches any. */
    record Cond(String type, String status, String reason) {
        static Cond of(String type, String status, String reason) {
            return new Cond(type, status, reason);
        }

        static Cond of(String type, String status) {
            return new Cond(type, status, "");
        }

        @Override
        public String toString() {
            return type + "=" + (status.isEmpty() ? "*" : status) + (reason.isEmpty() ? "" : " (" + reason + ")");
        }
    }

    /** Upstream's {@code ListenerStatus} expectation: supportedKinds (HTTPRoute kinds, by kind), conditions, attachedRoutes. */
    record ListenerExpect(String name, List<String> supportedKinds, List<Cond> conditions, int attachedRoutes) {
    }

    /** Upstream's {@code RouteParentStatus} expectation (Group and Kind are the Gateway's). */
    record ParentExpect(Ref gateway, List<Cond> conditions) {
    }

    /**
     * {@code GatewayAndHTTPRoutesMustBeAccepted}: the Gateway has an address (and conditions of its
     * generation), each route has an Accepted=True (Accepted) parent for it, once per listener
     * named (or once when none is), and every listener is ResolvedRefs, Accepted and Programmed.
     */
    record Accepted(Ref gateway, List<String> listeners, List<Ref> routes) implements Step {
    }

    /** {@code HTTPRouteMustHaveCondition}. */
    record RouteCondition(Ref route, Ref gateway, Cond condition) implements Step {
    }

    /** {@code HTTPRouteMustHaveNoAcceptedParents}. */
    record RouteNoAcceptedParents(Ref route) implements Step {
    }

    /** {@code HTTPRouteMustHaveParents}. */
    record RouteParents(Ref route, List<ParentExpect> parents, boolean namespaceRequired) implements Step {
    }

    /** {@code HTTPRouteMustHaveLatestConditions}. */
    record RouteLatestConditions(Ref route) implements Step {
    }

    /** {@code GatewayMustHaveZeroRoutes}. */
    record GatewayZeroRoutes(Ref gateway) implements Step {
    }

    /** {@code GatewayStatusMustHaveListeners}. */
    record GatewayListeners(Ref gateway, List<ListenerExpect> listeners) implements Step {
    }

    /** {@code GatewayMustHaveCondition}. */
    record GatewayCondition(Ref gateway, Cond condition) implements Step {
    }

    /** {@code GatewayMustHaveLatestConditions}. */
    record GatewayLatestConditions(Ref gateway) implements Step {
    }

    /** {@code GWCMustHaveAcceptedConditionAny} (any status) or {@code ...True}. */
    record GatewayClassAccepted(String name, boolean anyStatus) implements Step {
    }

    /** {@code GatewayClassMustHaveLatestConditions}. */
    record GatewayClassLatestConditions(String name) implements Step {
    }

    /** {@code NamespacesMustBeReady}, over what the harness applied (see {@link ConformanceRunner}). */
    record NamespacesReady(List<String> namespaces) implements Step {
    }

    /**
     * {@code MakeRequestAndExpectEventuallyConsistentResponse} for each exchange, to the Gateway's
     * address and the port of {@code listener} (the first listener when null), or of the
     * exchange's own listener port; with {@code tls}, upstream's
     * {@code MakeTLSRequestAndExpectEventuallyConsistentResponse} (each exchange names its SNI name).
     */
    record Requests(Ref gateway, String listener, boolean tls, List<Exchange> exchanges) implements Step {
    }

    /** HTTPRouteWeight: 500 requests (10 at a time) must split by these weights, within 5 points, up to 10 tries. */
    record Weights(Ref gateway, Exchange exchange, Map<String, Double> weights) implements Step {
    }

    /** HTTPRouteRequestHeaderModifierBackendWeights: the {@code Backend} header each backendRef sets names the pod that got it. */
    record BackendHeaderNamesPod(Ref gateway, Exchange exchange, int requests) implements Step {
    }

    /** Deletes an object through the API. */
    record Delete(ResourceKind kind, Ref object) implements Step {
    }

    /**
     * Changes an object through the API (upstream patches it; the harness applies the changed
     * object whole, port mapping and all) and remembers its generation, for {@link GenerationChanged}.
     */
    record Mutate(ResourceKind kind, Ref object, Consumer<HasMetadata> change) implements Step {
    }

    /** The object's generation is not the one it had before the last {@link Mutate} of it. */
    record GenerationChanged(ResourceKind kind, Ref object) implements Step {
    }

    /** HTTPRouteServiceTypes: fills the named EndpointSlices with the ready pods of {@code app} (upstream's setupEndpointSlices). */
    record FillEndpointSlices(String namespace, String app, List<String> slices) implements Step {
    }

    /** Upstream's {@code t.Run(name, ...)}: steps that a failure names. */
    record Group(String name, List<Step> steps) implements Step {
    }
}
