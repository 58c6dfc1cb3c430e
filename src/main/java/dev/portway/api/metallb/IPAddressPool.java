package dev.portway.api.metallb;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.ObjectMeta;
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
public class IPAddressPool implements HasMetadata, Namespaced {

    @JsonProperty("apiVersion")
    private String apiVersion = "metallb.io/v1beta1";
    @JsonProperty("kind")
    private String kind = "IPAddressPool";
    @JsonProperty("metadata")
    private ObjectMeta metadata;
    @JsonProperty("spec")
    private IPAddressPoolSpec spec;
    @JsonProperty("status")
    private IPAddressPoolStatus status;

    @Override
    public String getApiVersion() {
        return apiVersion;
    }

    @Override
    public void setApiVersion(String apiVersion) {
        this.apiVersion = apiVersion;
    }

    @Override
    public String getKind() {
        return kind;
    }

    public void setKind(String kind) {
        this.kind = kind;
    }

    @Override
    public ObjectMeta getMetadata() {
        return metadata;
    }

    @Override
    public void setMetadata(ObjectMeta metadata) {
        this.metadata = metadata;
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
