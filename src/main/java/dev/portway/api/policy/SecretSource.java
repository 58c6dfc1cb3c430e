package dev.portway.api.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.KubernetesResource;

/**
 * Where credentials come from: a Secret, so that passwords and tokens stay out of the policy (and
 * out of what {@code get accesspolicy -o yaml} shows), and change without touching it.
 */
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"secretRef"})
public class SecretSource implements KubernetesResource {

    private SecretReference secretRef;

    public SecretSource() {
    }

    public SecretSource(String secretName) {
        this.secretRef = new SecretReference(secretName);
    }

    /** The Secret, in the policy's namespace. */
    @JsonProperty("secretRef")
    public SecretReference getSecretRef() {
        return secretRef;
    }

    public void setSecretRef(SecretReference secretRef) {
        this.secretRef = secretRef;
    }
}
