package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import java.util.List;
import java.util.Optional;

/**
 * A Gateway of a class Portway owns.
 *
 * @param gateway          the object
 * @param className        {@code spec.gatewayClassName}
 * @param accepted         its {@code Accepted} condition ({@code Accepted}, {@code ListenersNotValid},
 *                         {@code InvalidParameters}, {@code UnsupportedAddress} or {@code Invalid})
 * @param requestedAddress the IPv4 address {@code spec.addresses} asks for, if any
 * @param listeners        in {@code spec.listeners} order
 */
public record GatewayInfo(Gateway gateway, String className, StatusCondition accepted, Optional<String> requestedAddress,
                          List<ListenerInfo> listeners) {

    public String namespace() {
        return gateway.getMetadata().getNamespace();
    }

    public String name() {
        return gateway.getMetadata().getName();
    }

    public Optional<ListenerInfo> listener(String name) {
        return listeners.stream().filter(l -> l.name().equals(name)).findFirst();
    }
}
