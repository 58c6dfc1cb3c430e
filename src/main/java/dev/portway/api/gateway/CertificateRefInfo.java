package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.Secret;

/**
 * One {@code tls.certificateRefs} entry of a listener, resolved or not.
 *
 * @param group     as written (defaulted {@code ""})
 * @param kind      as written (defaulted {@code Secret})
 * @param namespace the Secret's namespace (the Gateway's unless the reference names another)
 * @param name      the Secret's name
 * @param resolved  true when the Secret exists, may be referenced, and holds a PEM certificate and key
 * @param reason    {@code ResolvedRefs}, {@code InvalidCertificateRef} or {@code RefNotPermitted}
 * @param message   why not, for people
 * @param secret    the {@code kubernetes.io/tls} Secret when resolved, else null
 */
public record CertificateRefInfo(String group, String kind, String namespace, String name, boolean resolved, String reason,
                                 String message, Secret secret) {
}
