package dev.portway.api.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code AccessPolicy.spec}. Its getters' comments are the field descriptions {@code kubectl explain}
 * shows (the sources ship in the jar for that), so they speak to users.
 */
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"targetRefs", "basicAuth", "bearerTokens", "anonymousMethods", "allowedMethods", "deny", "rateLimit",
        "maxRequestBodySize"})
public class AccessPolicySpec implements KubernetesResource {

    private List<PolicyTargetReference> targetRefs = new ArrayList<>();
    private SecretSource basicAuth;
    private SecretSource bearerTokens;
    private List<String> anonymousMethods = new ArrayList<>();
    private List<String> allowedMethods = new ArrayList<>();
    private List<DenyRule> deny = new ArrayList<>();
    private RateLimit rateLimit;
    private Quantity maxRequestBodySize;

    /**
     * The HTTPRoutes (group gateway.networking.k8s.io) and Ingresses (group networking.k8s.io) of the
     * policy's namespace that it guards: every rule of each. A route that two policies name is guarded
     * by the older one.
     */
    @JsonProperty("targetRefs")
    public List<PolicyTargetReference> getTargetRefs() {
        return targetRefs;
    }

    public void setTargetRefs(List<PolicyTargetReference> targetRefs) {
        this.targetRefs = targetRefs;
    }

    /**
     * Basic authentication: a Secret of the policy's namespace whose key "auth" holds an htpasswd file
     * (lines user:hash, bcrypt hashes only, as htpasswd -B writes them).
     */
    @JsonProperty("basicAuth")
    public SecretSource getBasicAuth() {
        return basicAuth;
    }

    public void setBasicAuth(SecretSource basicAuth) {
        this.basicAuth = basicAuth;
    }

    /** Bearer tokens: a Secret of the policy's namespace whose key "tokens" holds one token per line. */
    @JsonProperty("bearerTokens")
    public SecretSource getBearerTokens() {
        return bearerTokens;
    }

    public void setBearerTokens(SecretSource bearerTokens) {
        this.bearerTokens = bearerTokens;
    }

    /** The methods that need no credentials when basicAuth or bearerTokens is set (default: none). */
    @JsonProperty("anonymousMethods")
    public List<String> getAnonymousMethods() {
        return anonymousMethods;
    }

    public void setAnonymousMethods(List<String> anonymousMethods) {
        this.anonymousMethods = anonymousMethods;
    }

    /** The methods allowed at all; others get 405 (default: any). */
    @JsonProperty("allowedMethods")
    public List<String> getAllowedMethods() {
        return allowedMethods;
    }

    public void setAllowedMethods(List<String> allowedMethods) {
        this.allowedMethods = allowedMethods;
    }

    /** Requests refused with 403 whoever sends them, checked before anything else. */
    @JsonProperty("deny")
    public List<DenyRule> getDeny() {
        return deny;
    }

    public void setDeny(List<DenyRule> deny) {
        this.deny = deny;
    }

    /** A token bucket per client address; requests over it get 429 with Retry-After. */
    @JsonProperty("rateLimit")
    public RateLimit getRateLimit() {
        return rateLimit;
    }

    public void setRateLimit(RateLimit rateLimit) {
        this.rateLimit = rateLimit;
    }

    /** The largest request body (a quantity: 10Mi, 64k); larger ones get 413. */
    @JsonProperty("maxRequestBodySize")
    public Quantity getMaxRequestBodySize() {
        return maxRequestBodySize;
    }

    public void setMaxRequestBodySize(Quantity maxRequestBodySize) {
        this.maxRequestBodySize = maxRequestBodySize;
    }
}
