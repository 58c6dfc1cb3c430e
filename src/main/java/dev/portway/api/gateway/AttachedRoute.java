package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import java.util.List;

/**
 * An accepted HTTPRoute attached to a listener.
 *
 * @param route     the route
 * @param parentRef the reference through which it attached
 * @param hostnames its effective hostnames on this listener (see {@link Hostnames#effective}); empty
 *                  means any hostname
 */
public record AttachedRoute(HTTPRoute route, ParentRefInfo parentRef, List<String> hostnames) {
}
