package dev.portway.api.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.portway.api.CustomResource;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * AccessPolicy guards HTTPRoutes and Ingresses of its namespace: credentials for every method that
 * is not anonymous, the methods allowed at all, paths refused to everyone, a request rate per client
 * and a largest request body. Kubernetes has no standard for this, so Portway defines it in the
 * Gateway API's policy attachment style: the policy names its targets, and the routes need not know of it.
 */
@Group("policy.portway.dev")
@Version("v1alpha1")
@Kind("AccessPolicy")
@Plural("accesspolicies")
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"apiVersion", "kind", "metadata", "spec", "status"})
public class AccessPolicy extends CustomResource implements Namespaced {

    private AccessPolicySpec spec;
    private AccessPolicyStatus status;

    public AccessPolicy() {
        super("policy.portway.dev/v1alpha1", "AccessPolicy");
    }

    /** What the policy guards and how. */
    @JsonProperty("spec")
    public AccessPolicySpec getSpec() {
        return spec;
    }

    public void setSpec(AccessPolicySpec spec) {
        this.spec = spec;
    }

    /** What Portway made of the policy: whether it applies, and whether its Secrets resolve. */
    @JsonProperty("status")
    public AccessPolicyStatus getStatus() {
        return status;
    }

    public void setStatus(AccessPolicyStatus status) {
        this.status = status;
    }
}
