package dev.portway.api.metallb;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code IPAddressPool.spec.serviceAllocation}: which Services may take addresses from the pool,
 * and in which order pools are tried (lower priority first; unset comes last).
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"priority", "namespaces", "namespaceSelectors", "serviceSelectors"})
public class ServiceAllocation {

    @JsonProperty("priority")
    private Integer priority;
    @JsonProperty("namespaces")
    private List<String> namespaces = new ArrayList<>();
    @JsonProperty("namespaceSelectors")
    private List<LabelSelector> namespaceSelectors = new ArrayList<>();
    @JsonProperty("serviceSelectors")
    private List<LabelSelector> serviceSelectors = new ArrayList<>();

    public Integer getPriority() {
        return priority;
    }

    public void setPriority(Integer priority) {
        this.priority = priority;
    }

    public List<String> getNamespaces() {
        return namespaces;
    }

    public void setNamespaces(List<String> namespaces) {
        this.namespaces = namespaces;
    }

    public List<LabelSelector> getNamespaceSelectors() {
        return namespaceSelectors;
    }

    public void setNamespaceSelectors(List<LabelSelector> namespaceSelectors) {
        this.namespaceSelectors = namespaceSelectors;
    }

    public List<LabelSelector> getServiceSelectors() {
        return serviceSelectors;
    }

    public void setServiceSelectors(List<LabelSelector> serviceSelectors) {
        this.serviceSelectors = serviceSelectors;
    }
}
