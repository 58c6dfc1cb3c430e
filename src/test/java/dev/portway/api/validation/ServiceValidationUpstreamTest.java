package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.FieldError;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Service;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * More Service cases, after the upstream tables {@code TestValidateServiceCreate} and
 * {@code TestValidateServiceUpdate} ({@code pkg/apis/core/validation/validation_test.go}), with
 * the messages of Kubernetes 1.34.
 */
class ServiceValidationUpstreamTest {

    private static final String INVALID = "The Service \"web\" is invalid: ";

    static String svc(String spec) {
        return ServiceValidationTest.svc(spec);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("invalid ipFamilyPolicy", svc("""
                        ipFamilyPolicy: Foo
                        ports:
                        - port: 80
                        """), INVALID + "spec.ipFamilyPolicy: Unsupported value: \"Foo\": supported values: \"PreferDualStack\", "
                        + "\"RequireDualStack\", \"SingleStack\""),
                Arguments.of("invalid ipFamily", svc("""
                        ipFamilies: [IPv5]
                        ports:
                        - port: 80
                        """), INVALID + "spec.ipFamilies[0]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\""),
                Arguments.of("duplicate ipFamilies", svc("""
                        ipFamilyPolicy: RequireDualStack
                        ipFamilies: [IPv4, IPv4]
                        ports:
                        - port: 80
                        """), INVALID + "spec.ipFamilies[1]: Duplicate value: \"IPv4\""),
                Arguments.of("trafficDistribution unknown (1.34 values, unsorted)", svc("""
                        trafficDistribution: PreferFar
                        ports:
                        - port: 80
                        """), INVALID + "spec.trafficDistribution: Unsupported value: \"PreferFar\": supported values: \"PreferClose\", "
                        + "\"PreferSameZone\", \"PreferSameNode\""),
                Arguments.of("topology annotations that disagree", """
                        apiVersion: v1
                        kind: Service
                        metadata:
                          name: web
                          annotations:
                            service.kubernetes.io/topology-mode: Auto
                            service.kubernetes.io/topology-aware-hints: Disabled
                        spec:
                          ports:
                          - port: 80
                        """, INVALID + "metadata.annotations[service.kubernetes.io/topology-mode]: Invalid value: \"Auto\": must match "
                        + "annotations[service.kubernetes.io/topology-aware-hints] when both are specified"),
                Arguments.of("externalIP link-local", svc("""
                        externalIPs: [169.254.169.254]
                        ports:
                        - port: 80
                        """), INVALID + "spec.externalIPs[0]: Invalid value: \"169.254.169.254\": may not be in the link-local range "
                        + "(169.254.0.0/16, fe80::/10)"),
                Arguments.of("externalIP link-local multicast", svc("""
                        externalIPs: [224.0.0.10]
                        ports:
                        - port: 80
                        """), INVALID + "spec.externalIPs[0]: Invalid value: \"224.0.0.10\": may not be in the link-local multicast range "
                        + "(224.0.0.0/24, ff02::/10)"),
                Arguments.of("externalName not a subdomain", svc("""
                        type: ExternalName
                        externalName: -foo.example.com
                        """), INVALID + "spec.externalName: Invalid value: \"-foo.example.com\": a lowercase RFC 1123 subdomain must consist "
                        + "of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
                        + "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
                Arguments.of("sessionAffinity ClientIP with negative timeout", svc("""
                        sessionAffinity: ClientIP
                        sessionAffinityConfig: {clientIP: {timeoutSeconds: -1}}
                        ports:
                        - port: 80
                        """), INVALID + "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: -1: must be greater than 0 "
                        + "and less than 86400"),
                Arguments.of("duplicate UDP ports", svc("""
                        ports:
                        - {name: a, port: 53, protocol: UDP}
                        - {name: b, port: 53, protocol: UDP}
                        """), INVALID + "spec.ports[1]: Duplicate value: {\"Name\":\"\",\"Protocol\":\"UDP\",\"AppProtocol\":null,"
                        + "\"Port\":53,\"TargetPort\":0,\"NodePort\":0}"),
                Arguments.of("annotation too long (1.32+ wording)", """
                        apiVersion: v1
                        kind: Service
                        metadata:
                          name: web
                          annotations:
                            big: "%s"
                        spec:
                          ports:
                          - port: 80
                        """.formatted("x".repeat(256 * 1024)),
                        INVALID + "metadata.annotations: Too long: may not be more than 262144 bytes"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidServicesGetTheApiServersMessage(String name, String yaml, String expected) {
        assertThat(new TestApi().applyError(yaml)).isEqualTo(expected);
    }

    static Stream<Arguments> valid() {
        return Stream.of(
                // The issue asked for "may not expose port 10250 externally since it is used by kubelet":
                // that rule is gone from ValidateService; 1.34 accepts it.
                Arguments.of("LoadBalancer on port 10250", svc("""
                        type: LoadBalancer
                        ports:
                        - port: 10250
                        """)),
                Arguments.of("same port, different protocols", svc("""
                        ports:
                        - {name: dns-tcp, port: 53, protocol: TCP}
                        - {name: dns-udp, port: 53, protocol: UDP}
                        """)),
                Arguments.of("trafficDistribution PreferSameNode", svc("""
                        trafficDistribution: PreferSameNode
                        ports:
                        - port: 80
                        """)),
                Arguments.of("agreeing topology annotations", """
                        apiVersion: v1
                        kind: Service
                        metadata:
                          name: web
                          annotations:
                            service.kubernetes.io/topology-mode: Auto
                            service.kubernetes.io/topology-aware-hints: Auto
                        spec:
                          ports:
                          - port: 80
                        """),
                Arguments.of("ExternalName with a trailing dot", svc("""
                        type: ExternalName
                        externalName: db.example.com.
                        """)),
                Arguments.of("headless without ports", svc("""
                        clusterIP: None
                        """)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void validServicesAreAccepted(String name, String yaml) {
        assertThat(new TestApi().apply(yaml)).hasSize(1);
    }

    @Test
    void loadBalancerClassMayNotChange() {
        TestApi api = new TestApi();
        api.apply(svc("""
                type: LoadBalancer
                loadBalancerClass: example.com/a
                ports:
                - port: 80
                """));
        assertThat(api.applyError(svc("""
                type: LoadBalancer
                loadBalancerClass: example.com/b
                ports:
                - port: 80
                """))).isEqualTo(INVALID + "spec.loadBalancerClass: Invalid value: \"example.com/b\": may not change once set");
    }

    @Test
    void loopbackExternalIpsAreInvalidOutsideLocalMode() {
        Service s = (Service) TestApi.decode(svc("""
                externalIPs: [127.0.0.1, "::1"]
                ports:
                - port: 80
                """)).getFirst();
        s.getMetadata().setNamespace("default");
        dev.portway.api.Defaults.apply(s);
        List<FieldError> errs = new Validator(ValidationOptions.CLUSTER).validateCreate(s);
        assertThat(errs).extracting(FieldError::toString).containsExactly(
                "spec.externalIPs[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
                "spec.externalIPs[1]: Invalid value: \"::1\": may not be in the loopback range (127.0.0.0/8, ::1/128)");
    }
}
