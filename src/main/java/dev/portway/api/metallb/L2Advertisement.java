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
 * MetalLB's {@code metallb.io/v1beta1 L2Advertisement}. Accepted so MetalLB manifests apply
 * unchanged; in local mode every address is on loopback and needs no announcement.
 */
@Group("metallb.io")
@Version("v1beta1")
@Kind("L2Advertisement")
@Plural("l2advertisements")
// KubernetesResource's own deserializer would turn this into a GenericKubernetesResource.
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"apiVersion", "kind", "metadata", "spec"})
public class L2Advertisement implements HasMetadata, Namespaced {

    @JsonProperty("apiVersion")
    private String apiVersion = "metallb.io/v1beta1";
    @JsonProperty("kind")
    private String kind = "L2Advertisement";
    @JsonProperty("metadata")
    private ObjectMeta metadata;
    @JsonProperty("spec")
    private L2AdvertisementSpec spec;

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

    public L2AdvertisementSpec getSpec() {
        return spec;
    }

    public void setSpec(L2AdvertisementSpec spec) {
        this.spec = spec;
    }
}
