package dev.portway.control;

import dev.portway.api.Times;
import dev.portway.api.gateway.GatewayStatuses;
import dev.portway.api.policy.AccessPolicy;
import dev.portway.api.policy.AccessPolicyModel;
import dev.portway.api.policy.AccessPolicyStatus;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.util.List;

/**
 * Writes each AccessPolicy's status from {@link AccessPolicyModel}, the same model the plan guards
 * routes with: {@code Accepted} (does it guard anything, or is every target missing or held by an
 * older policy) and {@code ResolvedRefs} (do its Secrets hold credentials, or does it fail closed),
 * with {@code observedGeneration}, merged as the Gateway API's conditions are
 * ({@link GatewayStatuses#merge}). Level-triggered: a Secret or route that appears or changes is
 * seen on the next pass, as the plan sees it.
 */
public final class AccessPolicyController implements Controller {

    private final ApiServer api;
    private final Store store;

    public AccessPolicyController(ControlPlane control) {
        this(control.api());
    }

    AccessPolicyController(ApiServer api) {
        this.api = api;
        this.store = api.store();
    }

    @Override
    public void reconcile() {
        List<AccessPolicy> policies = store.list(AccessPolicy.class);
        if (policies.isEmpty()) {
            return;
        }
        AccessPolicyModel model = AccessPolicyModel.build(policies, store.list(HTTPRoute.class), store.list(Ingress.class),
                store.list(Secret.class));
        String now = Times.format(api.config().clock().instant());
        for (AccessPolicyModel.PolicyInfo p : model.policies()) {
            Long generation = p.policy().getMetadata().getGeneration();
            api.mutate(AccessPolicy.class, p.namespace(), p.name(), policy -> {
                AccessPolicyStatus status = policy.getStatus() == null ? new AccessPolicyStatus() : policy.getStatus();
                status.setConditions(GatewayStatuses.merge(status.getConditions(), List.of(p.accepted(), p.resolvedRefs()),
                        generation == null ? 0 : generation, now));
                policy.setStatus(status);
                return policy;
            });
        }
    }
}
