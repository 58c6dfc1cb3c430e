package dev.portway.api.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.KubernetesResource;

/**
 * A Secret by name, in the namespace of the object that names it: a policy reads credentials of
 * its own namespace only, so that it cannot borrow another team's.
 */
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SecretReference implements KubernetesResource {

    private String name;

    public SecretReference() {
    }

    public SecretReference(String name) {
        this.name = name;
    }

    /** The Secret's name. */
    @JsonProperty("name")
    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }
}
