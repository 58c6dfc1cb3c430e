package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Deployments judged as Kubernetes 1.34 judges them: cases after the upstream table
 * {@code TestValidateDeployment} ({@code pkg/apis/apps/validation/validation_test.go}), with the
 * messages {@code ValidateDeploymentSpec}, {@code ValidateDeploymentStrategy} and
 * {@code ValidateRollingUpdateDeployment} produce after v1 defaulting.
 */
class DeploymentValidationTest {

    private static final String INVALID = "The Deployment \"abc\" is invalid: ";
    private static final String PERCENT = "a valid percent string must be a numeric string followed by an ending '%' "
            + "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

    /** A Deployment "abc" with a valid template labelled app: web, and this spec (YAML under spec:). */
    static String deployment(String spec) {
        return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: abc\nspec:\n" + spec.stripIndent().indent(2);
    }

    private static final String TEMPLATE = """
            template:
              metadata:
                labels: {app: web}
              spec:
                containers:
                - name: c
                  image: portway/echo
            """;

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("missing selector: it selects nothing, so the template never matches", deployment(TEMPLATE),
                        INVALID + "[spec.selector: Required value, spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: "
                                + "`selector` does not match template `labels`]"),
                Arguments.of("selector does not match template labels", deployment("""
                        selector:
                          matchLabels: {app: api}
                        """ + TEMPLATE), INVALID + "spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: "
                        + "`selector` does not match template `labels`"),
                Arguments.of("template without labels", deployment("""
                        selector:
                          matchLabels: {app: web}
                        template:
                          spec:
                            containers:
                            - {name: c, image: portway/echo}
                        """), INVALID + "spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`"),
                Arguments.of("bad operator: invalid label selector, and the template is not checked", deployment("""
                        selector:
                          matchExpressions:
                          - {key: app, operator: Foo, values: [web]}
                        template:
                          metadata:
                            labels: {app: other}
                          spec:
                            containers: []
                        """), INVALID + "[spec.selector.matchExpressions[0].operator: Invalid value: \"Foo\": not a valid selector operator, "
                        + "spec.selector: Invalid value: {\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Foo\",\"values\":[\"web\"]}]}: "
                        + "invalid label selector]"),
                Arguments.of("In without values: invalid label selector", deployment("""
                        selector:
                          matchExpressions:
                          - {key: app, operator: In}
                        """ + TEMPLATE), INVALID + "[spec.selector.matchExpressions[0].values: Required value: must be specified when "
                        + "`operator` is 'In' or 'NotIn', spec.selector: Invalid value: {\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\"}]}: "
                        + "invalid label selector]"),
                Arguments.of("Exists with values: invalid label selector", deployment("""
                        selector:
                          matchExpressions:
                          - {key: app, operator: Exists, values: [web]}
                        """ + TEMPLATE), INVALID + "[spec.selector.matchExpressions[0].values: Forbidden: may not be specified when "
                        + "`operator` is 'Exists' or 'DoesNotExist', spec.selector: Invalid value: "
                        + "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Exists\",\"values\":[\"web\"]}]}: invalid label selector]"),
                Arguments.of("selector expression that matches the template", deployment("""
                        selector:
                          matchExpressions:
                          - {key: app, operator: NotIn, values: [web]}
                        """ + TEMPLATE), INVALID + "spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: "
                        + "`selector` does not match template `labels`"),
                Arguments.of("negative replicas", deployment("""
                        replicas: -1
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
                Arguments.of("negative minReadySeconds", deployment("""
                        minReadySeconds: -1
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"),
                Arguments.of("negative revisionHistoryLimit", deployment("""
                        revisionHistoryLimit: -2
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0"),
                Arguments.of("progressDeadlineSeconds not above minReadySeconds", deployment("""
                        minReadySeconds: 10
                        progressDeadlineSeconds: 10
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds"),
                Arguments.of("unknown strategy type", deployment("""
                        strategy: {type: Foo}
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.strategy: Unsupported value: {\"Type\":\"Foo\",\"RollingUpdate\":null}: "
                        + "supported values: \"Recreate\", \"RollingUpdate\""),
                Arguments.of("Recreate with rollingUpdate", deployment("""
                        strategy:
                          type: Recreate
                          rollingUpdate: {maxSurge: 1}
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"),
                Arguments.of("maxUnavailable over 100%", deployment("""
                        strategy:
                          rollingUpdate: {maxUnavailable: 110%}
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"110%\": must not be greater than 100%"),
                Arguments.of("maxSurge not a percentage", deployment("""
                        strategy:
                          rollingUpdate: {maxSurge: 20Percent}
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"20Percent\": " + PERCENT),
                Arguments.of("negative maxSurge", deployment("""
                        strategy:
                          rollingUpdate: {maxSurge: -1}
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0"),
                Arguments.of("maxSurge and maxUnavailable both zero percent", deployment("""
                        strategy:
                          rollingUpdate: {maxSurge: 0%, maxUnavailable: 0%}
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE), INVALID + "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": may not be 0 when `maxSurge` is 0"),
                Arguments.of("template restartPolicy OnFailure", deployment("""
                        selector: {matchLabels: {app: web}}
                        template:
                          metadata:
                            labels: {app: web}
                          spec:
                            restartPolicy: OnFailure
                            containers:
                            - {name: c, image: portway/echo}
                        """), INVALID + "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\""),
                Arguments.of("template activeDeadlineSeconds", deployment("""
                        selector: {matchLabels: {app: web}}
                        template:
                          metadata:
                            labels: {app: web}
                          spec:
                            activeDeadlineSeconds: 30
                            containers:
                            - {name: c, image: portway/echo}
                        """), INVALID + "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"),
                Arguments.of("template label value invalid", deployment("""
                        selector: {matchLabels: {app: web}}
                        template:
                          metadata:
                            labels: {app: web, tier: "-x"}
                          spec:
                            containers:
                            - {name: c, image: portway/echo}
                        """), INVALID + "spec.template.labels: Invalid value: \"-x\": a valid label must be an empty string or consist of "
                        + "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
                        + "or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
                Arguments.of("Deployment name not a DNS subdomain", """
                        apiVersion: apps/v1
                        kind: Deployment
                        metadata:
                          name: Abc
                        spec:
                          selector: {matchLabels: {app: web}}
                          template:
                            metadata:
                              labels: {app: web}
                            spec:
                              containers:
                              - {name: c, image: portway/echo}
                        """, "The Deployment \"Abc\" is invalid: metadata.name: Invalid value: \"Abc\": a lowercase RFC 1123 subdomain must "
                        + "consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
                        + "(e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidDeploymentsGetTheApiServersMessage(String name, String yaml, String expected) {
        assertThat(new TestApi().applyError(yaml)).isEqualTo(expected);
    }

    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of("matchLabels", deployment("selector: {matchLabels: {app: web}}\n" + TEMPLATE)),
                Arguments.of("matchExpressions In", deployment("""
                        selector:
                          matchExpressions:
                          - {key: app, operator: In, values: [web, api]}
                        """ + TEMPLATE)),
                Arguments.of("matchExpressions Exists", deployment("""
                        selector:
                          matchExpressions:
                          - {key: app, operator: Exists}
                        """ + TEMPLATE)),
                Arguments.of("Recreate", deployment("strategy: {type: Recreate}\nselector: {matchLabels: {app: web}}\n" + TEMPLATE)),
                Arguments.of("maxSurge 0 with maxUnavailable 1", deployment("""
                        strategy:
                          rollingUpdate: {maxSurge: 0, maxUnavailable: 1}
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE)),
                Arguments.of("maxUnavailable 100%", deployment("""
                        strategy:
                          rollingUpdate: {maxUnavailable: 100%}
                        selector: {matchLabels: {app: web}}
                        """ + TEMPLATE)),
                Arguments.of("revisionHistoryLimit 0", deployment("revisionHistoryLimit: 0\nselector: {matchLabels: {app: web}}\n" + TEMPLATE)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void validDeploymentsAreAccepted(String name, String yaml) {
        assertThat(new TestApi().apply(yaml)).hasSize(1);
    }

    @Test
    void theSelectorIsImmutableAndPrintsAsJson() {
        TestApi api = new TestApi();
        api.apply(deployment("selector: {matchLabels: {app: web}}\n" + TEMPLATE));
        assertThat(api.applyError(deployment("""
                selector:
                  matchLabels: {app: web}
                  matchExpressions:
                  - {key: tier, operator: DoesNotExist}
                """ + TEMPLATE))).isEqualTo(INVALID + "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\"},"
                + "\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\"}]}: field is immutable");
    }
}
