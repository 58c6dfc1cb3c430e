package dev.portway.api.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code AccessPolicy.status}: conditions in the Gateway API's manner, because a policy that does not
 * apply, or applies with credentials missing, must say so where its author looks.
 */
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class AccessPolicyStatus implements KubernetesResource {

    private List<Condition> conditions = new ArrayList<>();

    public AccessPolicyStatus() {
    }

    public AccessPolicyStatus(List<Condition> conditions) {
        this.conditions = conditions;
    }

    /**
     * Accepted (True: it guards at least one target; False: TargetNotFound, Conflicted, Invalid) and
     * ResolvedRefs (False: SecretNotFound, InvalidSecret; the credentials of that Secret then pass no one).
     */
    @JsonProperty("conditions")
    public List<Condition> getConditions() {
        return conditions;
    }

    public void setConditions(List<Condition> conditions) {
        this.conditions = conditions;
    }
}
