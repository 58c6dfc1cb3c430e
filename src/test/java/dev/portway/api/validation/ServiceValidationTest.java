package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Service manifests judged as the API server judges them: each invalid one with the exact
 * message {@code kubectl apply} prints, each valid one with the defaults the server fills in.
 * The messages are the API server's ({@code pkg/apis/core/validation}, {@code pkg/registry/core/service}).
 */
class ServiceValidationTest {

    private static final String DNS_LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
            + "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation "
            + "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    private static final String PORT_RANGE = "must be between 1 and 65535, inclusive";
    private static final String INVALID = "The Service \"web\" is invalid: ";

    /** A Service named web with this spec (YAML, two-space indented under spec:). */
    static String svc(String spec) {
        return "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n" + spec.stripIndent().indent(2);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("no ports", svc("""
                        selector: {app: web}
                        """), INVALID + "spec.ports: Required value"),
                Arguments.of("port 0", svc("""
                        ports:
                        - port: 0
                        """), INVALID + "[spec.ports[0].port: Invalid value: 0: " + PORT_RANGE
                        // targetPort defaults to port, so it is invalid too, as in Kubernetes
                        + ", spec.ports[0].targetPort: Invalid value: 0: " + PORT_RANGE + "]"),
                Arguments.of("port 70000", svc("""
                        ports:
                        - port: 70000
                        """), INVALID + "[spec.ports[0].port: Invalid value: 70000: " + PORT_RANGE
                        + ", spec.ports[0].targetPort: Invalid value: 70000: " + PORT_RANGE + "]"),
                Arguments.of("two ports need names", svc("""
                        ports:
                        - port: 80
                        - port: 81
                        """), INVALID + "[spec.ports[0].name: Required value, spec.ports[1].name: Required value]"),
                Arguments.of("port name not a DNS label", svc("""
                        ports:
                        - name: HTTP
                          port: 80
                        """), INVALID + "spec.ports[0].name: Invalid value: \"HTTP\": " + DNS_LABEL),
                Arguments.of("port name with dots", svc("""
                        ports:
                        - name: web.http
                          port: 80
                        """), INVALID + "spec.ports[0].name: Invalid value: \"web.http\": must not contain dots"),
                Arguments.of("duplicate port names", svc("""
                        ports:
                        - name: http
                          port: 80
                        - name: http
                          port: 81
                        """), INVALID + "spec.ports[1].name: Duplicate value: \"http\""),
                Arguments.of("protocol ICMP", svc("""
                        ports:
                        - port: 80
                          protocol: ICMP
                        """), INVALID + "spec.ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\""),
                Arguments.of("duplicate port and protocol", svc("""
                        ports:
                        - name: a
                          port: 80
                        - name: b
                          port: 80
                        """), INVALID + "spec.ports[1]: Duplicate value: {\"Name\":\"\",\"Protocol\":\"TCP\",\"AppProtocol\":null,"
                        + "\"Port\":80,\"TargetPort\":0,\"NodePort\":0}"),
                Arguments.of("targetPort name too long", svc("""
                        ports:
                        - port: 80
                          targetPort: a-very-long-port-name
                        """), INVALID + "spec.ports[0].targetPort: Invalid value: \"a-very-long-port-name\": must be no more than 15 characters"),
                Arguments.of("targetPort name with underscore", svc("""
                        ports:
                        - port: 80
                          targetPort: my_port
                        """), INVALID + "spec.ports[0].targetPort: Invalid value: \"my_port\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
                Arguments.of("targetPort name without letters", svc("""
                        ports:
                        - port: 80
                          targetPort: "8080"
                        """), INVALID + "spec.ports[0].targetPort: Invalid value: \"8080\": must contain at least one letter (a-z)"),
                Arguments.of("targetPort name with consecutive hyphens", svc("""
                        ports:
                        - port: 80
                          targetPort: my--port
                        """), INVALID + "spec.ports[0].targetPort: Invalid value: \"my--port\": must not contain consecutive hyphens"),
                Arguments.of("targetPort name ending in a hyphen", svc("""
                        ports:
                        - port: 80
                          targetPort: web-
                        """), INVALID + "spec.ports[0].targetPort: Invalid value: \"web-\": must not begin or end with a hyphen"),
                Arguments.of("targetPort number out of range", svc("""
                        ports:
                        - port: 80
                          targetPort: 65536
                        """), INVALID + "spec.ports[0].targetPort: Invalid value: 65536: " + PORT_RANGE),
                Arguments.of("unknown type", svc("""
                        type: Foo
                        ports:
                        - port: 80
                        """), INVALID + "spec.type: Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""),
                Arguments.of("nodePort on a ClusterIP Service", svc("""
                        ports:
                        - port: 80
                          nodePort: 30080
                        """), INVALID + "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"),
                Arguments.of("nodePort below the range", svc("""
                        type: NodePort
                        ports:
                        - port: 80
                          nodePort: 29999
                        """), INVALID + "spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. "
                        + "The range of valid ports is 30000-32767"),
                Arguments.of("nodePort above the range", svc("""
                        type: NodePort
                        ports:
                        - port: 80
                          nodePort: 40000
                        """), INVALID + "spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. "
                        + "The range of valid ports is 30000-32767"),
                Arguments.of("the same nodePort twice in one Service", svc("""
                        type: NodePort
                        ports:
                        - name: a
                          port: 80
                          nodePort: 30080
                        - name: b
                          port: 81
                          nodePort: 30080
                        """), INVALID + "spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated"),
                Arguments.of("headless NodePort", svc("""
                        type: NodePort
                        clusterIP: None
                        ports:
                        - port: 80
                        """), INVALID + "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"),
                Arguments.of("headless LoadBalancer", svc("""
                        type: LoadBalancer
                        clusterIP: None
                        ports:
                        - port: 80
                        """), INVALID + "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services"),
                Arguments.of("clusterIPs not starting with clusterIP", svc("""
                        clusterIP: 127.2.0.8
                        clusterIPs: [127.2.0.9]
                        ports:
                        - port: 80
                        """), INVALID + "spec.clusterIPs: Invalid value: [\"127.2.0.9\"]: first value must match `clusterIP`"),
                Arguments.of("clusterIPs without clusterIP", svc("""
                        clusterIPs: [127.2.0.9]
                        ports:
                        - port: 80
                        """), INVALID + "spec.clusterIPs: Invalid value: [\"127.2.0.9\"]: must be empty when `clusterIP` is not specified"),
                Arguments.of("clusterIP not an IP", svc("""
                        clusterIP: not-an-ip
                        ports:
                        - port: 80
                        """), INVALID + "spec.clusterIPs[0]: Invalid value: \"not-an-ip\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
                Arguments.of("three clusterIPs", svc("""
                        clusterIP: 127.2.0.1
                        clusterIPs: [127.2.0.1, 127.2.0.2, 127.2.0.3]
                        ports:
                        - port: 80
                        """), INVALID + "[spec.clusterIPs: Invalid value: [\"127.2.0.1\",\"127.2.0.2\",\"127.2.0.3\"]: may only hold up to 2 values, "
                        + "spec.clusterIPs: Invalid value: [\"127.2.0.1\",\"127.2.0.2\",\"127.2.0.3\"]: may specify no more than one IP for each IP family]"),
                Arguments.of("clusterIP outside the service range", svc("""
                        clusterIP: 10.96.0.10
                        ports:
                        - port: 80
                        """), INVALID + "spec.clusterIPs: Invalid value: [\"10.96.0.10\"]: failed to allocate IP 10.96.0.10: "
                        + "the provided IP (10.96.0.10) is not in the valid range. The range of valid IPs is 127.2.0.0/16"),
                Arguments.of("externalTrafficPolicy on a ClusterIP Service", svc("""
                        externalTrafficPolicy: Local
                        ports:
                        - port: 80
                        """), INVALID + "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services"),
                Arguments.of("unknown externalTrafficPolicy", svc("""
                        type: NodePort
                        externalTrafficPolicy: Nearby
                        ports:
                        - port: 80
                        """), INVALID + "spec.externalTrafficPolicy: Unsupported value: \"Nearby\": supported values: \"Cluster\", \"Local\""),
                Arguments.of("healthCheckNodePort on a NodePort Service", svc("""
                        type: NodePort
                        externalTrafficPolicy: Local
                        healthCheckNodePort: 30100
                        ports:
                        - port: 80
                        """), INVALID + "spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is 'LoadBalancer' "
                        + "and `externalTrafficPolicy` is 'Local'"),
                Arguments.of("healthCheckNodePort with Cluster policy", svc("""
                        type: LoadBalancer
                        healthCheckNodePort: 30100
                        ports:
                        - port: 80
                        """), INVALID + "spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is 'LoadBalancer' "
                        + "and `externalTrafficPolicy` is 'Local'"),
                Arguments.of("unknown sessionAffinity", svc("""
                        sessionAffinity: Sticky
                        ports:
                        - port: 80
                        """), INVALID + "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\""),
                Arguments.of("affinity timeout 0", svc("""
                        sessionAffinity: ClientIP
                        sessionAffinityConfig:
                          clientIP:
                            timeoutSeconds: 0
                        ports:
                        - port: 80
                        """), INVALID + "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400"),
                Arguments.of("affinity timeout over a day", svc("""
                        sessionAffinity: ClientIP
                        sessionAffinityConfig:
                          clientIP:
                            timeoutSeconds: 86401
                        ports:
                        - port: 80
                        """), INVALID + "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400"),
                Arguments.of("loadBalancerSourceRanges on a NodePort Service", svc("""
                        type: NodePort
                        loadBalancerSourceRanges: [10.0.0.0/8]
                        ports:
                        - port: 80
                        """), INVALID + "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"),
                Arguments.of("loadBalancerSourceRanges not a CIDR", svc("""
                        type: LoadBalancer
                        loadBalancerSourceRanges: [10.0.0.0/33]
                        ports:
                        - port: 80
                        """), INVALID + "spec.LoadBalancerSourceRanges[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"),
                Arguments.of("loadBalancerClass on a NodePort Service", svc("""
                        type: NodePort
                        loadBalancerClass: example.com/lb
                        ports:
                        - port: 80
                        """), INVALID + "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"),
                Arguments.of("loadBalancerClass not a qualified name", svc("""
                        type: LoadBalancer
                        loadBalancerClass: example.com/lb/v2
                        ports:
                        - port: 80
                        """), INVALID + "spec.loadBalancerClass: Invalid value: \"example.com/lb/v2\": a valid label key must consist of "
                        + "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  "
                        + "or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an "
                        + "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"),
                Arguments.of("allocateLoadBalancerNodePorts on a NodePort Service", svc("""
                        type: NodePort
                        allocateLoadBalancerNodePorts: false
                        ports:
                        - port: 80
                        """), INVALID + "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"),
                Arguments.of("unknown internalTrafficPolicy", svc("""
                        internalTrafficPolicy: Nearby
                        ports:
                        - port: 80
                        """), INVALID + "spec.internalTrafficPolicy: Unsupported value: \"Nearby\": supported values: \"Cluster\", \"Local\""),
                Arguments.of("externalIP not an IP", svc("""
                        externalIPs: [abc]
                        ports:
                        - port: 80
                        """), INVALID + "spec.externalIPs[0]: Invalid value: \"abc\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
                Arguments.of("externalIP unspecified", svc("""
                        externalIPs: [0.0.0.0]
                        ports:
                        - port: 80
                        """), INVALID + "spec.externalIPs[0]: Invalid value: \"0.0.0.0\": may not be unspecified (0.0.0.0)"),
                Arguments.of("selector value not a label value", svc("""
                        selector:
                          app: bad value!
                        ports:
                        - port: 80
                        """), INVALID + "spec.selector: Invalid value: \"bad value!\": a valid label must be an empty string or consist of "
                        + "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
                        + "or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
                Arguments.of("appProtocol not a qualified name", svc("""
                        ports:
                        - port: 80
                          appProtocol: "http 2"
                        """), INVALID + "spec.ports[0].appProtocol: Invalid value: \"http 2\": name part must consist of alphanumeric "
                        + "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                        + "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"),
                Arguments.of("ExternalName without a name", svc("""
                        type: ExternalName
                        """), INVALID + "spec.externalName: Required value"),
                Arguments.of("Service name not a DNS-1035 label", """
                        apiVersion: v1
                        kind: Service
                        metadata:
                          name: 1web
                        spec:
                          ports:
                          - port: 80
                        """, "The Service \"1web\" is invalid: metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist "
                        + "of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric "
                        + "character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"),
                Arguments.of("several errors at once", svc("""
                        type: Foo
                        ports:
                        - port: 0
                          targetPort: 8080
                          protocol: ICMP
                        """), INVALID + "[spec.ports[0].port: Invalid value: 0: " + PORT_RANGE + ", spec.ports[0].protocol: Unsupported value: "
                        + "\"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\", spec.type: Unsupported value: \"Foo\": supported values: "
                        + "\"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidServicesAreRejectedWithTheApiServersMessage(String name, String yaml, String expected) {
        assertThat(new TestApi().applyError(yaml)).isEqualTo(expected);
    }

    static Stream<Arguments> valid() {
        return Stream.<Arguments>of(
                Arguments.of("minimal ClusterIP", svc("""
                        selector: {app: web}
                        ports:
                        - port: 80
                        """), check(s -> {
                    assertThat(s.getType()).isEqualTo("ClusterIP");
                    assertThat(s.getPorts().getFirst().getProtocol()).isEqualTo("TCP");
                    assertThat(s.getPorts().getFirst().getTargetPort().getIntVal()).isEqualTo(80);
                    assertThat(s.getSessionAffinity()).isEqualTo("None");
                    assertThat(s.getSessionAffinityConfig()).isNull();
                    assertThat(s.getInternalTrafficPolicy()).isEqualTo("Cluster");
                    assertThat(s.getExternalTrafficPolicy()).isNull();
                    assertThat(s.getClusterIP()).startsWith("127.2.");
                    assertThat(s.getClusterIPs()).containsExactly(s.getClusterIP());
                    assertThat(s.getIpFamilies()).containsExactly("IPv4");
                    assertThat(s.getIpFamilyPolicy()).isEqualTo("SingleStack");
                })),
                Arguments.of("NodePort gets a port from the dynamic band", svc("""
                        type: NodePort
                        ports:
                        - port: 80
                        """), check(s -> {
                    assertThat(s.getExternalTrafficPolicy()).isEqualTo("Cluster");
                    assertThat(s.getPorts().getFirst().getNodePort()).isBetween(30086, 32767);
                })),
                Arguments.of("NodePort with a requested port", svc("""
                        type: NodePort
                        ports:
                        - port: 80
                          targetPort: 8080
                          nodePort: 30007
                        """), check(s -> {
                    assertThat(s.getPorts().getFirst().getNodePort()).isEqualTo(30007);
                    assertThat(s.getPorts().getFirst().getTargetPort().getIntVal()).isEqualTo(8080);
                })),
                Arguments.of("LoadBalancer", svc("""
                        type: LoadBalancer
                        ports:
                        - port: 80
                        """), check(s -> {
                    assertThat(s.getAllocateLoadBalancerNodePorts()).isTrue();
                    assertThat(s.getExternalTrafficPolicy()).isEqualTo("Cluster");
                    assertThat(s.getPorts().getFirst().getNodePort()).isBetween(30000, 32767);
                    assertThat(s.getHealthCheckNodePort()).isNull();
                })),
                Arguments.of("LoadBalancer with Local policy gets a healthCheckNodePort", svc("""
                        type: LoadBalancer
                        externalTrafficPolicy: Local
                        ports:
                        - port: 80
                        """), check(s -> {
                    assertThat(s.getHealthCheckNodePort()).isBetween(30000, 32767);
                    assertThat(s.getHealthCheckNodePort()).isNotEqualTo(s.getPorts().getFirst().getNodePort());
                })),
                Arguments.of("LoadBalancer without nodePorts", svc("""
                        type: LoadBalancer
                        allocateLoadBalancerNodePorts: false
                        ports:
                        - port: 80
                        """), check(s -> assertThat(s.getPorts().getFirst().getNodePort()).isNull())),
                Arguments.of("ClientIP affinity defaults to 10800 s", svc("""
                        sessionAffinity: ClientIP
                        ports:
                        - port: 80
                        """), check(s -> assertThat(s.getSessionAffinityConfig().getClientIP().getTimeoutSeconds()).isEqualTo(10800))),
                Arguments.of("ClientIP affinity of a day is allowed", svc("""
                        sessionAffinity: ClientIP
                        sessionAffinityConfig: {clientIP: {timeoutSeconds: 86400}}
                        ports:
                        - port: 80
                        """), check(s -> assertThat(s.getSessionAffinityConfig().getClientIP().getTimeoutSeconds()).isEqualTo(86400))),
                Arguments.of("affinity config dropped when affinity is None", svc("""
                        sessionAffinity: None
                        sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
                        ports:
                        - port: 80
                        """), check(s -> assertThat(s.getSessionAffinityConfig()).isNull())),
                Arguments.of("named targetPort", svc("""
                        ports:
                        - port: 80
                          targetPort: http
                        """), check(s -> assertThat(s.getPorts().getFirst().getTargetPort().getStrVal()).isEqualTo("http"))),
                Arguments.of("53/TCP and 53/UDP share one nodePort", svc("""
                        type: NodePort
                        ports:
                        - name: dns-tcp
                          port: 53
                          protocol: TCP
                        - name: dns-udp
                          port: 53
                          protocol: UDP
                        """), check(s -> {
                    assertThat(s.getPorts().get(0).getNodePort()).isNotNull();
                    assertThat(s.getPorts().get(1).getNodePort()).isEqualTo(s.getPorts().get(0).getNodePort());
                })),
                Arguments.of("headless", svc("""
                        clusterIP: None
                        selector: {app: db}
                        ports:
                        - port: 5432
                        """), check(s -> assertThat(s.getClusterIPs()).containsExactly("None"))),
                Arguments.of("requested clusterIP", svc("""
                        clusterIP: 127.2.0.10
                        ports:
                        - port: 80
                        """), check(s -> assertThat(s.getClusterIP()).isEqualTo("127.2.0.10"))),
                Arguments.of("ExternalName", svc("""
                        type: ExternalName
                        externalName: db.example.com
                        """), check(s -> {
                    assertThat(s.getClusterIP()).isNull();
                    assertThat(s.getInternalTrafficPolicy()).isNull();
                })),
                Arguments.of("loopback externalIPs in local mode", svc("""
                        externalIPs: [127.4.0.1]
                        ports:
                        - port: 80
                        """), check(s -> assertThat(s.getExternalTrafficPolicy()).isEqualTo("Cluster"))));
    }

    private static Consumer<ServiceSpec> check(Consumer<ServiceSpec> c) {
        return c;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void validServicesGetTheApiServersDefaults(String name, String yaml, Consumer<ServiceSpec> expectations) {
        List<?> stored = new TestApi().apply(yaml);
        expectations.accept(((Service) stored.getFirst()).getSpec());
    }
}
