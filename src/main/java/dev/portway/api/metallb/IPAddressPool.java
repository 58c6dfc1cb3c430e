package dev.portway.api.metallb;

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
 * MetalLB's {@code metallb.io/v1beta1 IPAddressPool}: where LoadBalancer addresses come from.
 * The same YAML a MetalLB user applies works here unchanged.
 */
@Group("metallb.io")
@Version("v1beta1")
@Kind("IPAddressPool")
@Plural("ipaddresspools")
// KubernetesResource's own deserializer would turn this into a GenericKubernetesResource.
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"apiVersion", "kind", "metadata", "spec", "status"})
public class IPAddressPool extends CustomResource implements Namespaced {

    @JsonProperty("spec")
    private IPAddressPoolSpec spec;
    @JsonProperty("status")
    private IPAddressPoolStatus status;

    public IPAddressPool() {
        super("metallb.io/v1beta1", "IPAddressPool");
    }

    public IPAddressPoolSpec getSpec() {
        return spec;
    }

    public void setSpec(IPAddressPoolSpec spec) {
        this.spec = spec;
    }

    public IPAddressPoolStatus getStatus() {
        return status;
    }

    public void setStatus(IPAddressPoolStatus status) {
        this.status = status;
    }
}
