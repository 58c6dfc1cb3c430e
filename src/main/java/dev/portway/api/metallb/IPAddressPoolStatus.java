package dev.portway.api.metallb;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code IPAddressPool.status}: how many addresses are handed out and how many are left. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"assignedIPv4", "assignedIPv6", "availableIPv4", "availableIPv6"})
public class IPAddressPoolStatus {

    @JsonProperty("assignedIPv4")
    private Long assignedIPv4;
    @JsonProperty("assignedIPv6")
    private Long assignedIPv6;
    @JsonProperty("availableIPv4")
    private Long availableIPv4;
    @JsonProperty("availableIPv6")
    private Long availableIPv6;

    public IPAddressPoolStatus() {
    }

    public IPAddressPoolStatus(long assignedIPv4, long availableIPv4) {
        this.assignedIPv4 = assignedIPv4;
        this.assignedIPv6 = 0L;
        this.availableIPv4 = availableIPv4;
        this.availableIPv6 = 0L;
    }

    public Long getAssignedIPv4() {
        return assignedIPv4;
    }

    public void setAssignedIPv4(Long assignedIPv4) {
        this.assignedIPv4 = assignedIPv4;
    }

    public Long getAssignedIPv6() {
        return assignedIPv6;
    }

    public void setAssignedIPv6(Long assignedIPv6) {
        this.assignedIPv6 = assignedIPv6;
    }

    public Long getAvailableIPv4() {
        return availableIPv4;
    }

    public void setAvailableIPv4(Long availableIPv4) {
        this.availableIPv4 = availableIPv4;
    }

    public Long getAvailableIPv6() {
        return availableIPv6;
    }

    public void setAvailableIPv6(Long availableIPv6) {
        this.availableIPv6 = availableIPv6;
    }
}
