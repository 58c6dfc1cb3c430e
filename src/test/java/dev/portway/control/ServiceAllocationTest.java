package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.ResourceKind;
import dev.portway.control.alloc.PortRange;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Service;
import org.junit.jupiter.api.Test;

/**
 * NodePort, healthCheckNodePort and ClusterIP allocation through the API server: one allocator
 * for the whole cluster, released exactly once, and nothing left behind by a failed apply.
 */
class ServiceAllocationTest {

    static String nodePort(String namespace, String name, String protocol, int nodePort) {
        return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  type: NodePort
                  ports:
                  - port: 80
                    protocol: %s
                    nodePort: %d
                """.formatted(name, namespace, protocol, nodePort);
    }

    @Test
    void aNodePortIsUniqueAcrossNamespaces() {
        TestApi api = new TestApi();
        api.apply(nodePort("team-a", "web", "TCP", 30080));
        assertThat(api.applyError(nodePort("team-b", "web", "TCP", 30080))).isEqualTo(
                "The Service \"web\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated");
    }

    @Test
    void aNodePortIsUniqueAcrossProtocols() {
        TestApi api = new TestApi();
        api.apply(nodePort("default", "dns-tcp", "TCP", 30053));
        assertThat(api.applyError(nodePort("default", "dns-udp", "UDP", 30053))).isEqualTo(
                "The Service \"dns-udp\" is invalid: spec.ports[0].nodePort: Invalid value: 30053: provided port is already allocated");
    }

    @Test
    void anExhaustedRangeIsAnInternalError() {
        TestApi api = new TestApi(ClusterConfig.local().withNodePortRange(PortRange.parse("30000-30002")));
        for (int i = 0; i < 3; i++) {
            api.apply(nodePort("default", "s" + i, "TCP", 0).replace("    nodePort: 0\n", ""));
        }
        assertThat(api.api().nodePorts().free()).isZero();
        assertThat(api.applyError(nodePort("default", "s3", "TCP", 0).replace("    nodePort: 0\n", ""))).isEqualTo(
                "Error from server (InternalError): Internal error occurred: failed to allocate a nodePort: range is full");
    }

    @Test
    void deletingAServiceReleasesItsNodePortAndClusterIp() {
        TestApi api = new TestApi();
        Service svc = (Service) api.apply(nodePort("default", "web", "TCP", 30080)).getFirst();
        String clusterIp = svc.getSpec().getClusterIP();
        assertThat(api.api().clusterIps().isAllocated(clusterIp)).isTrue();

        api.api().delete(ResourceKind.SERVICE, "default", "web", DeleteOptions.DEFAULT);

        assertThat(api.api().nodePorts().isAllocated(30080)).isFalse();
        assertThat(api.api().clusterIps().isAllocated(clusterIp)).isFalse();
        api.apply(nodePort("team-a", "other", "TCP", 30080));
    }

    @Test
    void changingTheTypeToClusterIpReleasesTheNodePort() {
        TestApi api = new TestApi();
        api.apply(nodePort("default", "web", "TCP", 30080));
        Service updated = (Service) api.apply("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  ports:
                  - port: 80
                """).getFirst();
        assertThat(updated.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(updated.getSpec().getPorts().getFirst().getNodePort()).isNull();
        assertThat(api.api().nodePorts().isAllocated(30080)).isFalse();
        assertThat(api.api().nodePorts().used()).isZero();
    }

    @Test
    void removingAPortReleasesItsNodePort() {
        TestApi api = new TestApi();
        api.apply("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  type: NodePort
                  ports:
                  - {name: http, port: 80, nodePort: 30080}
                  - {name: https, port: 443, nodePort: 30443}
                """);
        api.apply("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  type: NodePort
                  ports:
                  - {name: http, port: 80, nodePort: 30080}
                """);
        assertThat(api.api().nodePorts().isAllocated(30080)).isTrue();
        assertThat(api.api().nodePorts().isAllocated(30443)).isFalse();
    }

    @Test
    void reapplyingKeepsWhatTheServerAllocated() {
        TestApi api = new TestApi();
        String yaml = """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  type: LoadBalancer
                  externalTrafficPolicy: Local
                  ports:
                  - {name: http, port: 80}
                """;
        Service first = (Service) api.apply(yaml).getFirst();
        var again = api.api().apply(TestApi.decode(yaml), "default", false).getFirst();
        assertThat(again.action()).isEqualTo(ApiServer.Action.UNCHANGED);
        Service second = (Service) again.object();
        assertThat(second.getSpec().getClusterIP()).isEqualTo(first.getSpec().getClusterIP());
        assertThat(second.getSpec().getPorts().getFirst().getNodePort()).isEqualTo(first.getSpec().getPorts().getFirst().getNodePort());
        assertThat(second.getSpec().getHealthCheckNodePort()).isEqualTo(first.getSpec().getHealthCheckNodePort());
        assertThat(api.api().nodePorts().used()).isEqualTo(2);
    }

    @Test
    void theHealthCheckNodePortIsReleasedWhenThePolicyBecomesCluster() {
        TestApi api = new TestApi();
        String local = """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  type: LoadBalancer
                  externalTrafficPolicy: %s
                  ports:
                  - {name: http, port: 80, nodePort: 30080}
                """;
        Service svc = (Service) api.apply(local.formatted("Local")).getFirst();
        int hcnp = svc.getSpec().getHealthCheckNodePort();
        assertThat(api.api().nodePorts().isAllocated(hcnp)).isTrue();
        Service cluster = (Service) api.apply(local.formatted("Cluster")).getFirst();
        assertThat(cluster.getSpec().getHealthCheckNodePort()).isNull();
        assertThat(api.api().nodePorts().isAllocated(hcnp)).isFalse();
    }

    @Test
    void aFailedApplyLeavesNoAllocationBehind() {
        TestApi api = new TestApi();
        int before = api.api().clusterIps().used();
        String batch = nodePort("default", "good", "TCP", 30090) + "---\n" + nodePort("default", "bad", "ICMP", 30091);
        assertThat(api.applyError(batch)).startsWith("The Service \"bad\" is invalid: spec.ports[0].protocol: Unsupported value");
        assertThat(api.api().nodePorts().isAllocated(30090)).isFalse();
        assertThat(api.api().nodePorts().isAllocated(30091)).isFalse();
        assertThat(api.api().clusterIps().used()).isEqualTo(before);
        assertThat(api.api().store().get(ResourceKind.SERVICE, "default", "good")).isEmpty();
    }

    @Test
    void aDryRunAllocatesNothing() {
        TestApi api = new TestApi();
        api.api().apply(TestApi.decode(nodePort("default", "web", "TCP", 30080)), "default", true);
        assertThat(api.api().nodePorts().isAllocated(30080)).isFalse();
        assertThat(api.api().store().get(ResourceKind.SERVICE, "default", "web")).isEmpty();
    }

    @Test
    void aRequestedClusterIpThatIsTakenIsRefused() {
        TestApi api = new TestApi();
        String svc = """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %s
                spec:
                  clusterIP: 127.2.0.10
                  ports:
                  - port: 80
                """;
        api.apply(svc.formatted("a"));
        assertThat(api.applyError(svc.formatted("b"))).isEqualTo("The Service \"b\" is invalid: spec.clusterIPs: Invalid value: "
                + "[\"127.2.0.10\"]: failed to allocate IP 127.2.0.10: provided IP is already allocated");
    }

    @Test
    void aClusterIpCannotChange() {
        TestApi api = new TestApi();
        String svc = """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  clusterIP: %s
                  ports:
                  - port: 80
                """;
        api.apply(svc.formatted("127.2.0.10"));
        assertThat(api.applyError(svc.formatted("127.2.0.11"))).isEqualTo("The Service \"web\" is invalid: spec.clusterIPs[0]: "
                + "Invalid value: [\"127.2.0.11\"]: may not change once set");
        assertThat(api.api().clusterIps().isAllocated("127.2.0.11")).isFalse();
    }
}
