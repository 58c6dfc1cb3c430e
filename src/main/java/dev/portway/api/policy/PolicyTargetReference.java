package dev.portway.api.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.KubernetesResource;

/**
 * A route the policy guards, in its own namespace: the Gateway API's
 * {@code LocalPolicyTargetReference}, so that a policy reads like the Gateway API's own policies.
 */
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"group", "kind", "name"})
public class PolicyTargetReference implements KubernetesResource {

    private String group;
    private String kind;
    private String name;

    public PolicyTargetReference() {
    }

    public PolicyTargetReference(String group, String kind, String name) {
        this.group = group;
        this.kind = kind;
        this.name = name;
    }

    /** The target's API group: gateway.networking.k8s.io for an HTTPRoute, networking.k8s.io for an Ingress. */
    @JsonProperty("group")
    public String getGroup() {
        return group;
    }

    public void setGroup(String group) {
        this.group = group;
    }

    /** HTTPRoute or Ingress. */
    @JsonProperty("kind")
    public String getKind() {
        return kind;
    }

    public void setKind(String kind) {
        this.kind = kind;
    }

    /** The target's name, in the policy's namespace. */
    @JsonProperty("name")
    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }
}
