package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** loadBalancerSourceRanges (and trusted proxies) read as IPv4 and IPv6 CIDRs, and failing closed. */
class SourceRangesTest {

    private static boolean allows(List<String> ranges, String client) throws Exception {
        var rules = Listener.sourceRules("loadBalancerSourceRanges", ranges);
        return rules == null || Listener.inAny(rules, InetAddress.getByName(client));
    }

    @Test
    void noRangesAllowEveryone() throws Exception {
        assertThat(allows(List.of(), "192.0.2.1")).isTrue();
        assertThat(allows(List.of(), "2001:db8::1")).isTrue();
    }

    @Test
    void anIpv6RangeLetsNoIpv4ClientIn() throws Exception {
        // it used to: the IPv4-only parser dropped "::1/128", and an empty list meant everyone
        assertThat(allows(List.of("::1/128"), "127.0.0.1")).isFalse();
        assertThat(allows(List.of("::1/128"), "::1")).isTrue();
        assertThat(allows(List.of("2001:db8::/32"), "2001:db8:5::1")).isTrue();
        assertThat(allows(List.of("2001:db8::/32"), "2001:db9::1")).isFalse();
    }

    @Test
    void ipv4RangesMatchAsBefore() throws Exception {
        assertThat(allows(List.of("127.0.0.0/26"), "127.0.0.63")).isTrue();
        assertThat(allows(List.of("127.0.0.0/26"), "127.0.0.64")).isFalse();
        assertThat(allows(List.of("10.0.0.0/8", "::/0"), "10.1.2.3")).isTrue();
        assertThat(allows(List.of("0.0.0.0/0"), "192.0.2.1")).isTrue();
    }

    @Test
    void aRangeThatCannotBeReadAllowsNoOne() throws Exception {
        assertThat(allows(List.of("not-a-cidr"), "127.0.0.1")).isFalse();
        assertThat(allows(List.of("10.0.0.0/33"), "10.0.0.1")).isFalse();
        assertThat(allows(List.of("10.0.0.1"), "10.0.0.1")).as("no prefix length").isFalse();
        assertThat(allows(List.of("bogus", "127.0.0.0/8"), "127.0.0.1")).as("the readable ones still apply").isTrue();
    }
}
