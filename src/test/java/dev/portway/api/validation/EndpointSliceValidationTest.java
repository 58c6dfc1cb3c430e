package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.FieldError;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * EndpointSlices judged as Kubernetes 1.34 judges them: cases after the upstream table
 * {@code TestValidateEndpointSlice} ({@code pkg/apis/discovery/validation/validation_test.go}).
 */
class EndpointSliceValidationTest {

    private static final String INVALID = "The EndpointSlice \"hello\" is invalid: ";
    private static final String SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            + "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
            + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    /** An EndpointSlice "hello" with this body after metadata (YAML). */
    static String slice(String body) {
        return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: hello\n" + body.stripIndent();
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("FQDN address with one segment", slice("""
                        addressType: FQDN
                        endpoints:
                        - addresses: [foo]
                        """), INVALID + "endpoints[0].addresses[0]: Invalid value: \"foo\": should be a domain with at least two segments "
                        + "separated by dots"),
                Arguments.of("FQDN address not a subdomain", slice("""
                        addressType: FQDN
                        endpoints:
                        - addresses: [foo_bar.example.com]
                        """), INVALID + "endpoints[0].addresses[0]: Invalid value: \"foo_bar.example.com\": " + SUBDOMAIN),
                Arguments.of("FQDN address with an empty segment", slice("""
                        addressType: FQDN
                        endpoints:
                        - addresses: ["foo..com"]
                        """), INVALID + "endpoints[0].addresses[0]: Invalid value: \"foo..com\": " + SUBDOMAIN),
                Arguments.of("IPv4 slice with an IPv6 address", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: ["2001:db8::1"]
                        """), INVALID + "endpoints[0].addresses[0]: Invalid value: \"2001:db8::1\": must be an IPv4 address"),
                Arguments.of("IPv6 slice with an IPv4 address", slice("""
                        addressType: IPv6
                        endpoints:
                        - addresses: ["10.1.2.3"]
                        """), INVALID + "endpoints[0].addresses[0]: Invalid value: \"10.1.2.3\": must be an IPv6 address"),
                Arguments.of("not an IP", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [foo]
                        """), INVALID + "endpoints[0].addresses[0]: Invalid value: \"foo\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
                Arguments.of("link-local address", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [169.254.169.254]
                        """), INVALID + "endpoints[0].addresses[0]: Invalid value: \"169.254.169.254\": may not be in the link-local range "
                        + "(169.254.0.0/16, fe80::/10)"),
                Arguments.of("IPv6 link-local address", slice("""
                        addressType: IPv6
                        endpoints:
                        - addresses: ["fe80::1"]
                        """), INVALID + "endpoints[0].addresses[0]: Invalid value: \"fe80::1\": may not be in the link-local range "
                        + "(169.254.0.0/16, fe80::/10)"),
                Arguments.of("unspecified address", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [0.0.0.0]
                        """), INVALID + "endpoints[0].addresses[0]: Invalid value: \"0.0.0.0\": may not be unspecified (0.0.0.0)"),
                Arguments.of("endpoint without addresses", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: []
                        """), INVALID + "endpoints[0].addresses: Required value: must contain at least 1 address"),
                Arguments.of("bad hostname", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [10.1.2.3]
                          hostname: --x
                        """), INVALID + "endpoints[0].hostname: Invalid value: \"--x\": a lowercase RFC 1123 label must consist of lower case "
                        + "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
                        + "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"),
                Arguments.of("bad nodeName", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [10.1.2.3]
                          nodeName: Node_1
                        """), INVALID + "endpoints[0].nodeName: Invalid value: \"Node_1\": " + SUBDOMAIN),
                Arguments.of("duplicate zone hints", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [10.1.2.3]
                          hints:
                            forZones: [{name: zone-a}, {name: zone-a}]
                        """), INVALID + "endpoints[0].hints.forZones[1].name: Duplicate value: \"zone-a\""),
                Arguments.of("too many zone hints", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [10.1.2.3]
                          hints:
                            forZones: [{name: a}, {name: b}, {name: c}, {name: d}, {name: e}, {name: f}, {name: g}, {name: h}, {name: i}]
                        """), INVALID + "endpoints[0].hints.forZones: Too many: 9: must have at most 8 items"),
                Arguments.of("bad node hint", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [10.1.2.3]
                          hints:
                            forNodes: [{name: Node_1}]
                        """), INVALID + "endpoints[0].hints.forNodes[0].name: Invalid value: \"Node_1\": " + SUBDOMAIN),
                Arguments.of("duplicate port names", slice("""
                        addressType: IPv4
                        ports:
                        - {name: http, port: 80}
                        - {name: http, port: 81}
                        """), INVALID + "ports[1].name: Duplicate value: \"http\""),
                Arguments.of("two unnamed ports", slice("""
                        addressType: IPv4
                        ports:
                        - port: 80
                        - port: 81
                        """), INVALID + "ports[1].name: Duplicate value: \"\""),
                Arguments.of("bad protocol", slice("""
                        addressType: IPv4
                        ports:
                        - {name: http, port: 80, protocol: foo}
                        """), INVALID + "ports[0].protocol: Unsupported value: \"foo\": supported values: \"SCTP\", \"TCP\", \"UDP\""),
                Arguments.of("bad port name", slice("""
                        addressType: IPv4
                        ports:
                        - {name: Http, port: 80}
                        """), INVALID + "ports[0].name: Invalid value: \"Http\": a lowercase RFC 1123 label must consist of lower case "
                        + "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
                        + "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"),
                Arguments.of("bad appProtocol", slice("""
                        addressType: IPv4
                        ports:
                        - {name: http, port: 80, appProtocol: "lots-of[invalid]-{chars}"}
                        """), INVALID + "ports[0].appProtocol: Invalid value: \"lots-of[invalid]-{chars}\": name part must consist of "
                        + "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  "
                        + "or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"),
                Arguments.of("unsupported addressType", slice("""
                        addressType: IP
                        """), INVALID + "addressType: Unsupported value: \"IP\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""),
                Arguments.of("missing addressType", slice("""
                        endpoints: []
                        """), INVALID + "addressType: Required value"),
                Arguments.of("bad name", """
                        apiVersion: discovery.k8s.io/v1
                        kind: EndpointSlice
                        metadata:
                          name: Hello
                        addressType: IPv4
                        """, "The EndpointSlice \"Hello\" is invalid: metadata.name: Invalid value: \"Hello\": " + SUBDOMAIN));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidSlicesGetTheApiServersMessage(String name, String yaml, String expected) {
        assertThat(new TestApi().applyError(yaml)).isEqualTo(expected);
    }

    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of("IPv4 with ports", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [10.1.2.3]
                          conditions: {ready: true}
                          hostname: web-0
                          nodeName: node-1
                          zone: zone-a
                          hints:
                            forZones: [{name: zone-a}]
                            forNodes: [{name: node-1}]
                        ports:
                        - {name: http, port: 80, protocol: TCP, appProtocol: kubernetes.io/h2c}
                        """)),
                Arguments.of("FQDN with two segments", slice("""
                        addressType: FQDN
                        endpoints:
                        - addresses: [foo.example]
                        """)),
                Arguments.of("FQDN with a trailing dot", slice("""
                        addressType: FQDN
                        endpoints:
                        - addresses: [foo.example.com.]
                        """)),
                Arguments.of("IPv6", slice("""
                        addressType: IPv6
                        endpoints:
                        - addresses: ["2001:db8::1"]
                        """)),
                Arguments.of("loopback in local mode (a deliberate difference)", slice("""
                        addressType: IPv4
                        endpoints:
                        - addresses: [127.1.1.2]
                        """)),
                Arguments.of("no endpoints, no ports", slice("""
                        addressType: IPv4
                        """)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void validSlicesAreAccepted(String name, String yaml) {
        assertThat(new TestApi().apply(yaml)).hasSize(1);
    }

    @Test
    void loopbackIsInvalidOutsideLocalMode() {
        EndpointSlice slice = (EndpointSlice) TestApi.decode(slice("""
                addressType: IPv4
                endpoints:
                - addresses: [127.0.0.1]
                """)).getFirst();
        slice.getMetadata().setNamespace("default");
        List<FieldError> errs = new Validator(ValidationOptions.CLUSTER).validateCreate(slice);
        assertThat(errs).extracting(FieldError::toString).containsExactly(
                "endpoints[0].addresses[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)");
    }

    @Test
    void atMostHundredAddressesPerEndpoint() {
        String addresses = IntStream.range(0, 101).mapToObj(i -> "10.0." + (i / 250) + "." + (i % 250 + 1))
                .collect(Collectors.joining(", ", "[", "]"));
        assertThat(new TestApi().applyError(slice("addressType: IPv4\nendpoints:\n- addresses: " + addresses + "\n")))
                .isEqualTo(INVALID + "endpoints[0].addresses: Too many: 101: must have at most 100 items");
    }
}
