package dev.portway.control.alloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.net.Cidr;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The NodePort and ClusterIP bitmap allocators: bands (KEP-3668), conflicts, exhaustion, release. */
class PortAllocatorTest {

    @Test
    void theDefaultRangeSplitsIntoAStaticAndADynamicBand() {
        PortAllocator ports = new PortAllocator(PortRange.DEFAULT_NODE_PORTS, new Random(1));
        assertThat(ports.staticBand()).hasToString("30000-30085");
        for (int i = 0; i < 500; i++) {
            int port;
            try {
                port = ports.allocateNext();
            } catch (AllocationException e) {
                throw new AssertionError(e);
            }
            assertThat(port).as("automatic allocations come from the dynamic band").isBetween(30086, 32767);
        }
    }

    @Test
    void theStaticBandIsUsedOnlyWhenTheDynamicBandIsFull() throws AllocationException {
        PortAllocator ports = new PortAllocator(PortRange.parse("30000-30099"), new Random(2));
        assertThat(ports.staticBand()).hasToString("30000-30015"); // max(16, 100/32) = 16
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 84; i++) {
            seen.add(ports.allocateNext());
        }
        assertThat(seen).allSatisfy(p -> assertThat(p).isBetween(30016, 30099)).hasSize(84);
        for (int i = 0; i < 16; i++) {
            assertThat(ports.allocateNext()).isBetween(30000, 30015);
        }
        assertThatThrownBy(ports::allocateNext).isInstanceOf(AllocationException.class).hasMessage("range is full");
        assertThat(ports.free()).isZero();
    }

    @Test
    void smallRangesHaveNoStaticBand() {
        assertThat(PortAllocator.bandOffset(16)).isZero();
        assertThat(PortAllocator.bandOffset(17)).isEqualTo(16);
        assertThat(PortAllocator.bandOffset(100_000)).isEqualTo(128);
    }

    @Test
    void requestedPortsAreCheckedAgainstTheRangeAndEachOther() throws AllocationException {
        PortAllocator ports = new PortAllocator(PortRange.DEFAULT_NODE_PORTS, new Random(3));
        ports.allocate(30007);
        assertThatThrownBy(() -> ports.allocate(30007)).hasMessage("provided port is already allocated");
        assertThatThrownBy(() -> ports.allocate(29999))
                .hasMessage("provided port is not in the valid range. The range of valid ports is 30000-32767");
        ports.release(30007);
        ports.allocate(30007);
        assertThat(ports.isAllocated(30007)).isTrue();
        ports.release(12345); // out of range: ignored, as in Kubernetes
    }

    @Test
    void clusterIpsSkipNetworkAndBroadcastAndPreferTheUpperBand() throws AllocationException {
        IpAllocator ips = new IpAllocator(Cidr.of("127.2.0.0/16"), new Random(4));
        for (int i = 0; i < 200; i++) {
            String ip = ips.allocateNext();
            long last = dev.portway.net.Ipv4.parse(ip).orElseThrow() - dev.portway.net.Ipv4.parse("127.2.0.0").orElseThrow();
            assertThat(last).as(ip).isGreaterThan(256).isLessThan(65535);
        }
        assertThatThrownBy(() -> ips.allocate("127.2.0.0"))
                .hasMessage("the provided IP (127.2.0.0) is not in the valid range. The range of valid IPs is 127.2.0.0/16");
        assertThatThrownBy(() -> ips.allocate("127.2.255.255")).hasMessageContaining("is not in the valid range");
        ips.allocate("127.2.0.1");
        assertThatThrownBy(() -> ips.allocate("127.2.0.1")).hasMessage("provided IP is already allocated");
    }

    @Test
    void aTinyServiceRangeFillsUp() throws AllocationException {
        IpAllocator ips = new IpAllocator(Cidr.of("127.2.9.0/29"), new Random(5)); // 6 usable
        for (int i = 0; i < 6; i++) {
            ips.allocateNext();
        }
        assertThatThrownBy(ips::allocateNext).hasMessage("range is full");
    }
}
