package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import java.util.List;
import java.util.Optional;

/**
 * An HTTPRoute with at least one parentRef to a Portway Gateway.
 *
 * @param route        the route (with its CRD defaults: every rule has a match, every backendRef a weight)
 * @param parents      its references to Portway Gateways, in {@code spec.parentRefs} order
 * @param backends     every backend reference, rule by rule
 * @param resolvedRefs the route's {@code ResolvedRefs} condition
 */
public record RouteInfo(HTTPRoute route, List<RouteParentInfo> parents, List<BackendInfo> backends, StatusCondition resolvedRefs) {

    public String namespace() {
        return route.getMetadata().getNamespace();
    }

    public String name() {
        return route.getMetadata().getName();
    }

    /** {@code spec.rules[rule].backendRefs[backendRef]}. */
    public Optional<BackendInfo> backend(int rule, int backendRef) {
        return backends.stream().filter(b -> b.rule() == rule && b.backendRef() == backendRef && b.filter() < 0).findFirst();
    }

    /** The backend of the RequestMirror filter {@code filter} of a rule ({@code backendRef} -1) or of a backendRef. */
    public Optional<BackendInfo> mirror(int rule, int backendRef, int filter) {
        return backends.stream().filter(b -> b.rule() == rule && b.backendRef() == backendRef && b.filter() == filter).findFirst();
    }

    /** Accepted by at least one Portway Gateway. */
    public boolean accepted() {
        return parents.stream().anyMatch(RouteParentInfo::isAccepted);
    }
}
