package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.List;
import java.util.Optional;

/**
 * One listener of a Portway Gateway.
 *
 * @param name              {@code spec.listeners[].name}
 * @param port              the port it listens on (on the Gateway's address)
 * @param protocol          {@code HTTP}, {@code HTTPS} (the ones Portway serves) or another, which is not accepted
 * @param hostname          the listener's hostname, if any
 * @param tlsMode           {@code Terminate} for HTTPS listeners with TLS configuration, else empty
 * @param certificateRefs   the TLS certificates, each resolved or not
 * @param allowedNamespaces {@code allowedRoutes.namespaces.from}: {@code Same}, {@code All} or {@code Selector}
 * @param namespaceSelector the selector when {@code allowedNamespaces} is {@code Selector}, else null
 * @param supportedKinds    the route kinds it takes, as {@code status.listeners[].supportedKinds} lists them
 * @param conditions        {@code Accepted}, {@code ResolvedRefs}, {@code Conflicted} and, when true,
 *                          {@code OverlappingTLSConfig}; {@code Programmed} is the controller's, which
 *                          knows whether the Gateway has an address
 * @param routes            the accepted routes attached to it, oldest first (then by namespace/name),
 *                          as the spec orders them for precedence
 */
public record ListenerInfo(String name, int port, String protocol, Optional<String> hostname, Optional<String> tlsMode,
                           List<CertificateRefInfo> certificateRefs, String allowedNamespaces, LabelSelector namespaceSelector,
                           List<RouteKind> supportedKinds, List<StatusCondition> conditions, List<AttachedRoute> routes) {

    /** A route group and kind: {@code gateway.networking.k8s.io/HTTPRoute}. */
    public record RouteKind(String group, String kind) {
    }

    public Optional<StatusCondition> condition(String type) {
        return conditions.stream().filter(c -> c.type().equals(type)).findFirst();
    }

    /** Accepted, not conflicted, every reference resolved: the data plane may serve it. */
    public boolean ready() {
        return condition("Accepted").map(StatusCondition::holds).orElse(false)
                && !condition("Conflicted").map(StatusCondition::holds).orElse(false)
                && condition("ResolvedRefs").map(StatusCondition::holds).orElse(false);
    }
}
