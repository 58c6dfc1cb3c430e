package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.net.Cidr;
import org.junit.jupiter.api.Test;

class LocalNodeTest {

    @Test
    void byDefaultNodeNIs127_0_10_NWithPodsIn127_1_N() {
        LocalNode node = new LocalNode(2);
        assertThat(node.name()).isEqualTo("node2");
        assertThat(node.ip()).isEqualTo("127.0.10.2");
        assertThat(node.podCidr()).hasToString("127.1.2.0/24");
        assertThat(node.allocatePodIp()).isEqualTo("127.1.2.2");
    }

    @Test
    void theAddressesAreConfigurable() {
        LocalNode node = new LocalNode(3, new LocalNode.Addresses(Cidr.of("127.0.42.0/24"), Cidr.of("127.42.0.0/16")));
        assertThat(node.name()).isEqualTo("node3");
        assertThat(node.ip()).isEqualTo("127.0.42.3");
        assertThat(node.podCidr()).hasToString("127.42.3.0/24");
        assertThat(node.allocatePodIp()).isEqualTo("127.42.3.2");
    }

    @Test
    void theBlocksMustHoldEveryNodeAndNotOverlap() {
        assertThatThrownBy(() -> new LocalNode.Addresses(Cidr.of("127.0.42.0/25"), Cidr.of("127.42.0.0/16")))
                .hasMessageContaining("a /24 or larger");
        assertThatThrownBy(() -> new LocalNode.Addresses(Cidr.of("127.0.42.0/24"), Cidr.of("127.42.0.0/17")))
                .hasMessageContaining("a /16 or larger");
        assertThatThrownBy(() -> new LocalNode.Addresses(Cidr.of("127.0.42.0/24"), Cidr.of("127.0.0.0/16")))
                .hasMessageContaining("overlap");
    }
}
