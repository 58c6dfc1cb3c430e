package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import java.util.List;

/**
 * A GatewayClass whose {@code controllerName} is the model's.
 *
 * @param gatewayClass the object
 * @param conditions   {@code Accepted} ({@code Accepted}, or {@code InvalidParameters} when it has a
 *                     {@code parametersRef}, which Portway does not support) and {@code SupportedVersion}
 */
public record ClassInfo(GatewayClass gatewayClass, List<StatusCondition> conditions) {

    public String name() {
        return gatewayClass.getMetadata().getName();
    }

    public boolean accepted() {
        return conditions.stream().anyMatch(c -> c.type().equals("Accepted") && c.holds());
    }
}
