package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;

/**
 * One backend reference of an HTTPRoute: a {@code rules[].backendRefs[]} entry, or the
 * {@code backendRef} of a {@code RequestMirror} filter (of a rule or of a backendRef).
 *
 * @param rule        index in {@code spec.rules}
 * @param backendRef  index in the rule's {@code backendRefs}; -1 for a rule-level mirror filter
 * @param filter      index of the RequestMirror filter (in the rule's or the backendRef's filters); -1
 *                    for a backendRef itself
 * @param group       as written (defaulted {@code ""})
 * @param kind        as written (defaulted {@code Service})
 * @param namespace   the target's namespace (the route's unless the reference names another)
 * @param name        the target's name
 * @param port        the Service port number the reference names ({@code spec.ports[].port}), or null
 * @param weight      the weight (defaulted 1; 0 for mirrors)
 * @param resolved    whether it resolves to a Service port Portway can send HTTP to
 * @param reason      {@code ResolvedRefs}, {@code BackendNotFound}, {@code RefNotPermitted},
 *                    {@code InvalidKind} or {@code UnsupportedProtocol}
 * @param message     why not, for people
 * @param service     the Service when resolved, else null
 * @param servicePort the Service's port when resolved, else null
 */
public record BackendInfo(int rule, int backendRef, int filter, String group, String kind, String namespace, String name, Integer port,
                          int weight, boolean resolved, String reason, String message, Service service, ServicePort servicePort) {

    /** Whether this is a RequestMirror filter's backend. */
    public boolean mirror() {
        return filter >= 0;
    }
}
