package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.Quantities;
import dev.portway.api.decode.Manifests;
import dev.portway.api.policy.AccessPolicy;
import dev.portway.testing.TestApi;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * AccessPolicy's schema, defaults and rules, with the messages the API server gives for a CRD's
 * (OpenAPI errors as apiextensions-apiserver reports them, rules as {@code Invalid value: "<type>": <message>}).
 */
class AccessPolicyValidationTest {

    static String policy(String spec) {
        return "apiVersion: policy.portway.dev/v1alpha1\nkind: AccessPolicy\nmetadata:\n  name: p\nspec:\n" + spec.stripIndent().indent(2);
    }

    private static final String TARGET = "targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]\n";
    private static final String NOT_CHECKED = "<nil>: Invalid value: null: some validation rules were not checked because the "
            + "object was invalid; correct the existing errors to complete validation";
    private static final String INVALID = "The AccessPolicy \"p\" is invalid: ";

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("a Service as target", policy("""
                        targetRefs: [{group: "", kind: Service, name: web}]
                        allowedMethods: [GET]
                        """), INVALID + "[spec.targetRefs[0].group: Unsupported value: \"\": supported values: \"gateway.networking.k8s.io\", "
                        + "\"networking.k8s.io\", spec.targetRefs[0].kind: Unsupported value: \"Service\": supported values: \"HTTPRoute\", "
                        + "\"Ingress\", " + NOT_CHECKED + "]"),
                Arguments.of("a Service in the Gateway API's group", policy("""
                        targetRefs: [{group: gateway.networking.k8s.io, kind: Service, name: web}]
                        allowedMethods: [GET]
                        """), INVALID + "[spec.targetRefs[0].kind: Unsupported value: \"Service\": supported values: \"HTTPRoute\", "
                        + "\"Ingress\", " + NOT_CHECKED + "]"),
                Arguments.of("no targets", policy("""
                        allowedMethods: [GET]
                        """), INVALID + "[spec.targetRefs: Required value, " + NOT_CHECKED + "]"),
                Arguments.of("a target without its group", policy("""
                        targetRefs: [{kind: HTTPRoute, name: web}]
                        allowedMethods: [GET]
                        """), INVALID + "[spec.targetRefs[0].group: Required value, " + NOT_CHECKED + "]"),
                Arguments.of("an Ingress in the Gateway API's group", policy("""
                        targetRefs: [{group: gateway.networking.k8s.io, kind: Ingress, name: web}]
                        allowedMethods: [GET]
                        """), INVALID + "spec.targetRefs[0]: Invalid value: \"object\": group must be gateway.networking.k8s.io for kind "
                        + "HTTPRoute and networking.k8s.io for kind Ingress"),
                Arguments.of("the same target twice", policy("""
                        targetRefs:
                        - {group: networking.k8s.io, kind: Ingress, name: web}
                        - {group: networking.k8s.io, kind: Ingress, name: web}
                        allowedMethods: [GET]
                        """), INVALID + "spec.targetRefs: Invalid value: \"array\": targetRefs must be unique"),
                Arguments.of("17 targets", policy("targetRefs:\n" + IntStream.range(0, 17)
                        .mapToObj(i -> "- {group: networking.k8s.io, kind: Ingress, name: web" + i + "}\n").collect(Collectors.joining())
                        + "allowedMethods: [GET]\n"), INVALID + "[spec.targetRefs: Too many: 17: must have at most 16 items, " + NOT_CHECKED + "]"),
                Arguments.of("nothing but targets", policy(TARGET), INVALID + "spec: Invalid value: \"object\": at least one of basicAuth, "
                        + "bearerTokens, allowedMethods, deny, rateLimit or maxRequestBodySize must be set"),
                Arguments.of("anonymous methods without credentials", policy(TARGET + """
                        anonymousMethods: [GET]
                        allowedMethods: [GET, POST]
                        """), INVALID + "spec: Invalid value: \"object\": anonymousMethods needs basicAuth or bearerTokens: without "
                        + "credentials every method is anonymous"),
                Arguments.of("a method in lower case", policy(TARGET + """
                        allowedMethods: [get]
                        """), INVALID + "spec.allowedMethods[0]: Invalid value: \"get\": spec.allowedMethods[0] in body should match "
                        + "'^[-A-Z0-9!#$%&'*+.^_`|~]+$'"),
                Arguments.of("a method that is not a token", policy(TARGET + """
                        basicAuth: {secretRef: {name: users}}
                        anonymousMethods: ["GET HEAD"]
                        """), INVALID + "spec.anonymousMethods[0]: Invalid value: \"GET HEAD\": spec.anonymousMethods[0] in body should "
                        + "match '^[-A-Z0-9!#$%&'*+.^_`|~]+$'"),
                Arguments.of("a method twice", policy(TARGET + """
                        allowedMethods: [GET, POST, GET]
                        """), INVALID + "spec.allowedMethods[2]: Duplicate value: \"GET\""),
                Arguments.of("a Secret without a name", policy(TARGET + """
                        bearerTokens: {secretRef: {}}
                        """), INVALID + "[spec.bearerTokens.secretRef.name: Required value, " + NOT_CHECKED + "]"),
                Arguments.of("a regular expression that does not compile", policy(TARGET + """
                        deny:
                        - path: {type: RegularExpression, value: "/admin/[a-z"}
                        """), INVALID + "spec.deny[0].path.value: Invalid value: \"/admin/[a-z\": must be a valid regular expression: "
                        + "missing closing ]: `[a-z`"),
                Arguments.of("a range past U+00FF, which deny rules fold (re2j never returns from folding U+1C80)", policy(TARGET + """
                        deny:
                        - path: {type: RegularExpression, value: '/admin/[a-\\x{2000}]'}
                        """), INVALID + "spec.deny[0].path.value: Invalid value: \"/admin/[a-\\\\x{2000}]\": must be a valid regular "
                        + "expression: case-insensitive matching of \\x{2000} is not supported (at most \\x{FF})"),
                Arguments.of("a regular expression RE2 does not run (a look-ahead: no linear-time match)", policy(TARGET + """
                        deny:
                        - path: {type: RegularExpression, value: "/admin/(?!public)"}
                        """), INVALID + "spec.deny[0].path.value: Invalid value: \"/admin/(?!public)\": must be a valid regular expression: "
                        + "invalid or unsupported Perl syntax: `(?!`"),
                Arguments.of("a deny path that no normalized path can be", policy(TARGET + """
                        deny:
                        - path: {type: Exact, value: "/admin//quit"}
                        """), INVALID + "spec.deny[0].path: Invalid value: \"object\": must not contain '//' when type one of "
                        + "['Exact', 'PathPrefix']"),
                Arguments.of("a deny path of an unknown type", policy(TARGET + """
                        deny:
                        - path: {type: Glob, value: "/admin/*"}
                        """), INVALID + "[spec.deny[0].path.type: Unsupported value: \"Glob\": supported values: \"Exact\", \"PathPrefix\", "
                        + "\"RegularExpression\", " + NOT_CHECKED + "]"),
                Arguments.of("no requests", policy(TARGET + """
                        rateLimit: {requests: 0, per: 1s}
                        """), INVALID + "spec.rateLimit.requests: Invalid value: 0: spec.rateLimit.requests in body should be greater than "
                        + "or equal to 1"),
                Arguments.of("a burst of none", policy(TARGET + """
                        rateLimit: {requests: 10, per: 1s, burst: 0}
                        """), INVALID + "spec.rateLimit.burst: Invalid value: 0: spec.rateLimit.burst in body should be greater than or "
                        + "equal to 1"),
                Arguments.of("a period of zero", policy(TARGET + """
                        rateLimit: {requests: 10, per: 0s}
                        """), INVALID + "spec.rateLimit.per: Invalid value: \"string\": must be greater than zero"),
                Arguments.of("a period that is not a duration", policy(TARGET + """
                        rateLimit: {requests: 10, per: 1 second}
                        """), INVALID + "spec.rateLimit.per: Invalid value: \"1 second\": spec.rateLimit.per in body should match "
                        + "'^([0-9]{1,5}(h|m|s|ms)){1,4}$'"),
                Arguments.of("a rate limit without its period", policy(TARGET + """
                        rateLimit: {requests: 10}
                        """), INVALID + "[spec.rateLimit.per: Required value, " + NOT_CHECKED + "]"),
                Arguments.of("a body limit of nothing", policy(TARGET + """
                        maxRequestBodySize: "0"
                        """), INVALID + "spec.maxRequestBodySize: Invalid value: \"0\": must be greater than zero"),
                Arguments.of("a name that is not a DNS subdomain", """
                        apiVersion: policy.portway.dev/v1alpha1
                        kind: AccessPolicy
                        metadata: {name: Stack_Writes}
                        spec:
                          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]
                          allowedMethods: [GET]
                        """, "The AccessPolicy \"Stack_Writes\" is invalid: metadata.name: Invalid value: \"Stack_Writes\": a lowercase "
                        + "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with "
                        + "an alphanumeric character (e.g. 'example.com', regex used for validation is "
                        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidPoliciesAreRefused(String what, String yaml, String message) {
        assertThat(new TestApi().applyError(yaml)).isEqualTo(message);
    }

    @Test
    void aBodyLimitThatIsNotAQuantityIsADecodingError() {
        Manifests.Loaded loaded = Manifests.loadText("p.yaml", policy(TARGET + "maxRequestBodySize: ten megabytes\n"));
        assertThat(loaded.problems()).singleElement().satisfies(p -> assertThat(p.toString()).contains(Quantities.SYNTAX_ERROR));
    }

    /** The full example of docs/access-policy.md applies too: AccessPolicyDocTest. */
    @Test
    void denyPathsAreDefaultedAndSpecChangesAreGenerations() {
        TestApi api = new TestApi();
        AccessPolicy stored = (AccessPolicy) api.apply(policy(TARGET + """
                deny:
                - methods: [DELETE]
                - path: {value: /-/quit}
                - path: {type: Exact}
                """)).getFirst();
        assertThat(stored.getMetadata().getGeneration()).isEqualTo(1L);
        assertThat(stored.getStatus()).as("create cannot set status").isNull();
        assertThat(stored.getSpec().getDeny()).extracting(d -> d.getPath().getType() + " " + d.getPath().getValue())
                .containsExactly("PathPrefix /", "PathPrefix /-/quit", "Exact /");
        AccessPolicy updated = (AccessPolicy) api.apply(policy(TARGET + "deny: [{path: {type: Exact, value: /-/quit}}]\n")).getFirst();
        assertThat(updated.getMetadata().getGeneration()).as("a new spec is a new generation").isEqualTo(2L);
        assertThat(api.applyError(policy(TARGET + "deny: [{path: {value: /-/quit}, methods: [post]}]\n")))
                .as("an update is judged as a create").startsWith(INVALID + "spec.deny[0].methods[0]: Invalid value: \"post\"");
    }
}
