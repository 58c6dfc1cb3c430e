package dev.portway.api.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import java.util.ArrayList;
import java.util.List;

/**
 * Requests refused with 403 whoever sends them: the endpoints of a backend that must not be
 * reachable through the gateway at all ({@code /-/quit}), whatever credentials come along.
 */
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"path", "methods"})
public class DenyRule implements KubernetesResource {

    private PathMatch path;
    private List<String> methods = new ArrayList<>();

    public DenyRule() {
    }

    public DenyRule(PathMatch path, List<String> methods) {
        this.path = path;
        this.methods = methods;
    }

    /**
     * The paths refused, compared with the request's normalized path without regard to case or a
     * trailing slash (default: PathPrefix /).
     */
    @JsonProperty("path")
    public PathMatch getPath() {
        return path;
    }

    public void setPath(PathMatch path) {
        this.path = path;
    }

    /** The methods refused (default: every method). */
    @JsonProperty("methods")
    public List<String> getMethods() {
        return methods;
    }

    public void setMethods(List<String> methods) {
        this.methods = methods;
    }
}
