package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import java.util.Optional;

/**
 * One of a route's {@code spec.parentRefs} that names a Gateway, with its defaults filled in.
 *
 * @param index       its position in {@code spec.parentRefs}
 * @param namespace   the Gateway's namespace (the route's when the reference names none)
 * @param name        the Gateway's name
 * @param sectionName the listener it names, if any
 * @param port        the listener port it names, if any
 * @param spec        the reference as written (what {@code status.parents[].parentRef} echoes)
 */
public record ParentRefInfo(int index, String namespace, String name, Optional<String> sectionName, Optional<Integer> port,
                            ParentReference spec) {
}
