package dev.portway.api.metallb;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.ArrayList;
import java.util.List;

/** {@code L2Advertisement.spec}, MetalLB's schema. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({"ipAddressPools", "ipAddressPoolSelectors", "nodeSelectors", "interfaces"})
public class L2AdvertisementSpec {

    @JsonProperty("ipAddressPools")
    private List<String> ipAddressPools = new ArrayList<>();
    @JsonProperty("ipAddressPoolSelectors")
    private List<LabelSelector> ipAddressPoolSelectors = new ArrayList<>();
    @JsonProperty("nodeSelectors")
    private List<LabelSelector> nodeSelectors = new ArrayList<>();
    @JsonProperty("interfaces")
    private List<String> interfaces = new ArrayList<>();

    public List<String> getIpAddressPools() {
        return ipAddressPools;
    }

    public void setIpAddressPools(List<String> ipAddressPools) {
        this.ipAddressPools = ipAddressPools;
    }

    public List<LabelSelector> getIpAddressPoolSelectors() {
        return ipAddressPoolSelectors;
    }

    public void setIpAddressPoolSelectors(List<LabelSelector> ipAddressPoolSelectors) {
        this.ipAddressPoolSelectors = ipAddressPoolSelectors;
    }

    public List<LabelSelector> getNodeSelectors() {
        return nodeSelectors;
    }

    public void setNodeSelectors(List<LabelSelector> nodeSelectors) {
        this.nodeSelectors = nodeSelectors;
    }

    public List<String> getInterfaces() {
        return interfaces;
    }

    public void setInterfaces(List<String> interfaces) {
        this.interfaces = interfaces;
    }
}
