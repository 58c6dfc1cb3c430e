package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.plan.Plan;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which address Portway's connection (or UDP flow) to an endpoint comes from. A client from outside
 * the machine (a LoadBalancer address or an external IP on a real interface) must never reach a
 * loopback endpoint from 127.0.0.1, the system's choice, which an endpoint takes for a process of
 * its own machine (Redis' protected mode, an admin port open to localhost only). The decision is
 * tested here, not end to end: a client from outside the machine needs an address off loopback.
 */
class SourceAddressTest {

    private static final InetSocketAddress POD = new InetSocketAddress("127.1.0.5", 8080);
    private static final InetSocketAddress LOCAL_CLIENT = new InetSocketAddress("127.0.0.9", 40000);
    private static final InetSocketAddress REMOTE_CLIENT = new InetSocketAddress("192.0.2.7", 40000);

    private static Plan.Listener listener(Plan.Role role, String address, String nodeIp, Plan.Source source) {
        return new Plan.Listener(new Plan.ListenerKey(Plan.Protocol.TCP, new InetSocketAddress(address, 80)), role, "default/web",
                "web", nodeIp == null ? null : "node1", nodeIp, source == Plan.Source.CLIENT && nodeIp != null, source, List.of(), true);
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void aNodePortWithTheClusterPolicyComesFromTheNodeWhoeverTheClientIs() throws Exception {
        Plan.Listener nodePort = listener(Plan.Role.NODE_PORT, "127.0.10.1", "127.0.10.1", Plan.Source.NODE);
        assertThat(FrontendHandler.sourceAddress(nodePort, LOCAL_CLIENT, POD, true)).isEqualTo(ip("127.0.10.1"));
        assertThat(FrontendHandler.sourceAddress(nodePort, REMOTE_CLIENT, POD, true)).isEqualTo(ip("127.0.10.1"));
    }

    @Test
    void theLocalPolicyKeepsALoopbackClientsAddressAndGivesAClientFromOutsideTheNodes() throws Exception {
        Plan.Listener nodePort = listener(Plan.Role.NODE_PORT, "127.0.10.1", "127.0.10.1", Plan.Source.CLIENT);
        assertThat(FrontendHandler.sourceAddress(nodePort, LOCAL_CLIENT, POD, true)).isEqualTo(ip("127.0.0.9"));
        assertThat(FrontendHandler.sourceAddress(nodePort, REMOTE_CLIENT, POD, true)).isEqualTo(ip("127.0.10.1"));
    }

    @Test
    void aClientFromOutsideAListenerOfNoNodeComesFromTheListenersOwnAddressNeverLocalhost() throws Exception {
        Plan.Listener loadBalancer = listener(Plan.Role.LOAD_BALANCER, "127.3.0.1", null, Plan.Source.CLIENT);
        assertThat(FrontendHandler.sourceAddress(loadBalancer, REMOTE_CLIENT, POD, true)).isEqualTo(ip("127.3.0.1"));
        Plan.Listener externalIp = listener(Plan.Role.EXTERNAL_IP, "192.0.2.2", null, Plan.Source.CLIENT);
        assertThat(FrontendHandler.sourceAddress(externalIp, REMOTE_CLIENT, POD, true)).isEqualTo(ip("192.0.2.2"));
        assertThat(FrontendHandler.sourceAddress(externalIp, LOCAL_CLIENT, POD, true)).isEqualTo(ip("127.0.0.9"));
    }

    /** portway controller: the nodes are on a real network, where a loopback source cannot go; the system chooses. */
    @Test
    void towardsEndpointsElsewhereTheSystemChooses() {
        InetSocketAddress realNode = new InetSocketAddress("192.0.2.20", 30080);
        Plan.Listener loadBalancer = listener(Plan.Role.LOAD_BALANCER, "192.0.2.10", null, Plan.Source.CLIENT);
        assertThat(FrontendHandler.sourceAddress(loadBalancer, LOCAL_CLIENT, realNode, false)).isNull();
        assertThat(FrontendHandler.sourceAddress(loadBalancer, REMOTE_CLIENT, realNode, false)).isNull();
    }

    /** Pods on addresses of this machine off loopback (--pod-addresses): the same choices as on loopback. */
    @Test
    void podsOffLoopbackOnThisMachineGetTheSameSources() throws Exception {
        InetSocketAddress pod = new InetSocketAddress("10.244.1.5", 8080);
        Plan.Listener nodePort = listener(Plan.Role.NODE_PORT, "127.0.10.1", "127.0.10.1", Plan.Source.NODE);
        assertThat(FrontendHandler.sourceAddress(nodePort, LOCAL_CLIENT, pod, true)).isEqualTo(ip("127.0.10.1"));
    }

    /** A source must be of the endpoint's family: an IPv6 external IP's clients towards IPv4 pods. */
    @Test
    void aSourceOfAnotherFamilyThanTheEndpointsIsLeftToTheSystem() throws Exception {
        Plan.Listener externalIp = listener(Plan.Role.EXTERNAL_IP, "::1", null, Plan.Source.CLIENT);
        InetSocketAddress v6Local = new InetSocketAddress("::1", 40000);
        InetSocketAddress v6Remote = new InetSocketAddress("2001:db8::7", 40000);
        assertThat(FrontendHandler.sourceAddress(externalIp, v6Local, POD, true)).as("::1 is local: 127.0.0.1 is true").isNull();
        assertThat(FrontendHandler.sourceAddress(externalIp, v6Remote, POD, true)).isNull();
        Plan.Listener nodePort = listener(Plan.Role.NODE_PORT, "127.0.10.1", "127.0.10.1", Plan.Source.CLIENT);
        assertThat(FrontendHandler.sourceAddress(nodePort, v6Remote, POD, true)).isEqualTo(ip("127.0.10.1"));
    }
}
