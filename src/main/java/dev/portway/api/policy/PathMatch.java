package dev.portway.api.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.KubernetesResource;

/**
 * A path match written as an HTTPRoute's ({@code type} and {@code value}, the same defaults and
 * rules), so that a deny rule reads like the route it fences.
 */
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"type", "value"})
public class PathMatch implements KubernetesResource {

    private String type;
    private String value;

    public PathMatch() {
    }

    public PathMatch(String type, String value) {
        this.type = type;
        this.value = value;
    }

    /**
     * Exact, PathPrefix (whole segments: /admin matches /admin/x, not /administrator) or
     * RegularExpression (RE2 syntax, matching the whole path, case-insensitive). Default: PathPrefix.
     */
    @JsonProperty("type")
    public String getType() {
        return type;
    }

    public void setType(String type) {
        this.type = type;
    }

    /** The path, or the regular expression (default: /). */
    @JsonProperty("value")
    public String getValue() {
        return value;
    }

    public void setValue(String value) {
        this.value = value;
    }
}
