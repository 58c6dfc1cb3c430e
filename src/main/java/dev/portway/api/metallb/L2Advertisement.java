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
public class L2Advertisement extends CustomResource implements Namespaced {

    @JsonProperty("spec")
    private L2AdvertisementSpec spec;

    public L2Advertisement() {
        super("metallb.io/v1beta1", "L2Advertisement");
    }

    public L2AdvertisementSpec getSpec() {
        return spec;
    }

    public void setSpec(L2AdvertisementSpec spec) {
        this.spec = spec;
    }
}
