package dev.portway.api.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.KubernetesResource;

/**
 * A token bucket per client address: {@code requests} per {@code per} on average, up to
 * {@code burst} at once. Per client, so that one busy client cannot use up everyone's share.
 */
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"requests", "per", "burst"})
public class RateLimit implements KubernetesResource {

    private Integer requests;
    private String per;
    private Integer burst;

    public RateLimit() {
    }

    public RateLimit(Integer requests, String per, Integer burst) {
        this.requests = requests;
        this.per = per;
        this.burst = burst;
    }

    /** How many requests a client may make per period, on average (at least 1). */
    @JsonProperty("requests")
    public Integer getRequests() {
        return requests;
    }

    public void setRequests(Integer requests) {
        this.requests = requests;
    }

    /** The period, a Gateway API duration: 1h, 10s, 500ms, 1m30s. */
    @JsonProperty("per")
    public String getPer() {
        return per;
    }

    public void setPer(String per) {
        this.per = per;
    }

    /** How many requests a client may make at once after being idle (default: requests). */
    @JsonProperty("burst")
    public Integer getBurst() {
        return burst;
    }

    public void setBurst(Integer burst) {
        this.burst = burst;
    }
}
