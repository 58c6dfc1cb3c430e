package dev.portway.api.metallb;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.ArrayList;
import java.util.List;

/** {@code IPAddressPool.spec}, MetalLB's schema. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"addresses", "autoAssign", "avoidBuggyIPs", "serviceAllocation"})
public class IPAddressPoolSpec {

    /** CIDRs ({@code 192.168.10.0/24}) or ranges ({@code 192.168.9.1-192.168.9.5}). */
    @JsonProperty("addresses")
    private List<String> addresses = new ArrayList<>();
    /** When false, addresses are only handed out to Services that ask for this pool or address. */
    @JsonProperty("autoAssign")
    private Boolean autoAssign;
    /** When true, addresses ending in .0 or .255 are never handed out. */
    @JsonProperty("avoidBuggyIPs")
    private Boolean avoidBuggyIPs;
    @JsonProperty("serviceAllocation")
    private ServiceAllocation serviceAllocation;

    public List<String> getAddresses() {
        return addresses;
    }

    public void setAddresses(List<String> addresses) {
        this.addresses = addresses;
    }

    public Boolean getAutoAssign() {
        return autoAssign;
    }

    public void setAutoAssign(Boolean autoAssign) {
        this.autoAssign = autoAssign;
    }

    public Boolean getAvoidBuggyIPs() {
        return avoidBuggyIPs;
    }

    public void setAvoidBuggyIPs(Boolean avoidBuggyIPs) {
        this.avoidBuggyIPs = avoidBuggyIPs;
    }

    public ServiceAllocation getServiceAllocation() {
        return serviceAllocation;
    }

    public void setServiceAllocation(ServiceAllocation serviceAllocation) {
        this.serviceAllocation = serviceAllocation;
    }
}
