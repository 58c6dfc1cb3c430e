package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Deployment, Pod, EndpointSlice and IPAddressPool validation, with the API server's (and MetalLB's) messages. */
class OtherKindsValidationTest {

    static String deployment(String spec) {
        return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n" + spec.stripIndent().indent(2);
    }

    static String pod(String spec) {
        return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n" + spec.stripIndent().indent(2);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("deployment selector does not match the template", deployment("""
                        selector:
                          matchLabels: {app: web}
                        template:
                          metadata:
                            labels: {app: api}
                          spec:
                            containers:
                            - name: c
                              image: portway/echo
                        """), "The Deployment \"web\" is invalid: spec.template.metadata.labels: Invalid value: "
                        + "{\"app\":\"api\"}: `selector` does not match template `labels`"),
                Arguments.of("deployment without selector", deployment("""
                        template:
                          metadata:
                            labels: {app: web}
                          spec:
                            containers:
                            - name: c
                              image: portway/echo
                        """), "The Deployment \"web\" is invalid: [spec.selector: Required value, "
                        // a missing selector is labels.Nothing(): no template matches it
                        + "spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`]"),
                Arguments.of("deployment with an empty selector", deployment("""
                        selector: {}
                        template:
                          metadata:
                            labels: {app: web}
                          spec:
                            containers:
                            - name: c
                              image: portway/echo
                        """), "The Deployment \"web\" is invalid: spec.selector: Invalid value: {}: empty selector is invalid for deployment"),
                Arguments.of("negative replicas", deployment("""
                        replicas: -1
                        selector:
                          matchLabels: {app: web}
                        template:
                          metadata:
                            labels: {app: web}
                          spec:
                            containers:
                            - name: c
                              image: portway/echo
                        """), "The Deployment \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
                Arguments.of("rolling update that can never progress", deployment("""
                        selector:
                          matchLabels: {app: web}
                        strategy:
                          rollingUpdate: {maxSurge: 0, maxUnavailable: 0}
                        template:
                          metadata:
                            labels: {app: web}
                          spec:
                            containers:
                            - name: c
                              image: portway/echo
                        """), "The Deployment \"web\" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: "
                        + "may not be 0 when `maxSurge` is 0"),
                Arguments.of("deployment template restartPolicy Never", deployment("""
                        selector:
                          matchLabels: {app: web}
                        template:
                          metadata:
                            labels: {app: web}
                          spec:
                            restartPolicy: Never
                            containers:
                            - name: c
                              image: portway/echo
                        """), "The Deployment \"web\" is invalid: spec.template.spec.restartPolicy: Unsupported value: \"Never\": "
                        + "supported values: \"Always\""),
                Arguments.of("pod without containers", pod("""
                        containers: []
                        """), "The Pod \"p\" is invalid: spec.containers: Required value"),
                Arguments.of("container without name and image", pod("""
                        containers:
                        - command: [sleep, "1"]
                        """), "The Pod \"p\" is invalid: [spec.containers[0].name: Required value, spec.containers[0].image: Required value]"),
                Arguments.of("containerPort 0", pod("""
                        containers:
                        - name: c
                          image: portway/echo
                          ports:
                          - containerPort: 0
                        """), "The Pod \"p\" is invalid: spec.containers[0].ports[0].containerPort: Required value"),
                Arguments.of("duplicate container port names", pod("""
                        containers:
                        - name: c
                          image: portway/echo
                          ports:
                          - name: http
                            containerPort: 80
                          - name: http
                            containerPort: 81
                        """), "The Pod \"p\" is invalid: spec.containers[0].ports[1].name: Duplicate value: \"http\""),
                Arguments.of("container port name too long", pod("""
                        containers:
                        - name: c
                          image: portway/echo
                          ports:
                          - name: metrics-endpoint-port
                            containerPort: 9090
                        """), "The Pod \"p\" is invalid: spec.containers[0].ports[0].name: Invalid value: \"metrics-endpoint-port\": "
                        + "must be no more than 15 characters"),
                Arguments.of("unknown restartPolicy", pod("""
                        restartPolicy: Sometimes
                        containers:
                        - name: c
                          image: portway/echo
                        """), "The Pod \"p\" is invalid: spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: "
                        + "\"Always\", \"OnFailure\", \"Never\""),
                Arguments.of("probe with two handlers", pod("""
                        containers:
                        - name: c
                          image: portway/echo
                          readinessProbe:
                            exec: {command: ["true"]}
                            tcpSocket: {port: 80}
                        """), "The Pod \"p\" is invalid: spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"),
                Arguments.of("volume mount of an unknown volume", pod("""
                        containers:
                        - name: c
                          image: portway/echo
                          volumeMounts:
                          - name: config
                            mountPath: /etc/app
                        """), "The Pod \"p\" is invalid: spec.containers[0].volumeMounts[0].name: Not found: \"config\""),
                Arguments.of("configMap item path outside the volume", pod("""
                        containers:
                        - name: c
                          image: portway/echo
                        volumes:
                        - name: config
                          configMap:
                            name: app
                            items:
                            - {key: a, path: ../../etc/passwd}
                            - {key: b, path: /abs}
                        """), "The Pod \"p\" is invalid: [spec.volumes[0].configMap.items[0].path: Invalid value: \"../../etc/passwd\": "
                        + "must not contain '..', spec.volumes[0].configMap.items[1].path: Invalid value: \"/abs\": must be a relative path]"),
                // ValidateVolumeMounts reports subPath on the list's path, without the index.
                Arguments.of("subPath that climbs out of the volume", pod("""
                        containers:
                        - name: c
                          image: portway/echo
                          volumeMounts:
                          - {name: data, mountPath: /data, subPath: a/../../b}
                        volumes:
                        - {name: data, emptyDir: {}}
                        """), "The Pod \"p\" is invalid: spec.containers[0].volumeMounts.subPath: Invalid value: \"a/../../b\": must not contain '..'"),
                // RelaxedEnvironmentVariableValidation is GA in 1.34: "1PORT" is a valid name now;
                // only non-printable characters and '=' are not.
                Arguments.of("env var with a bad name", pod("""
                        containers:
                        - name: c
                          image: portway/echo
                          env:
                          - name: A=B
                            value: "80"
                        """), "The Pod \"p\" is invalid: spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment "
                        + "variable name must consist only of printable ASCII characters other than '='"),
                Arguments.of("endpoint slice with a bad address", """
                        apiVersion: discovery.k8s.io/v1
                        kind: EndpointSlice
                        metadata:
                          name: ext-1
                        addressType: IPv4
                        endpoints:
                        - addresses: ["300.1.2.3"]
                        ports:
                        - port: 8080
                        """, "The EndpointSlice \"ext-1\" is invalid: endpoints[0].addresses[0]: Invalid value: \"300.1.2.3\": "
                        + "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
                Arguments.of("endpoint slice with an unknown address type", """
                        apiVersion: discovery.k8s.io/v1
                        kind: EndpointSlice
                        metadata:
                          name: ext-1
                        addressType: IPv5
                        endpoints: []
                        """, "The EndpointSlice \"ext-1\" is invalid: addressType: Unsupported value: \"IPv5\": supported values: "
                        + "\"FQDN\", \"IPv4\", \"IPv6\""),
                Arguments.of("pool with a bad CIDR", """
                        apiVersion: metallb.io/v1beta1
                        kind: IPAddressPool
                        metadata:
                          name: p
                          namespace: metallb-system
                        spec:
                          addresses: [10.0.0.300/24]
                        """, "The IPAddressPool \"p\" is invalid: spec.addresses[0]: Invalid value: \"10.0.0.300/24\": invalid CIDR "
                        + "\"10.0.0.300/24\" in pool \"p\": invalid CIDR \"10.0.0.300/24\""),
                Arguments.of("pool range ending before it starts", """
                        apiVersion: metallb.io/v1beta1
                        kind: IPAddressPool
                        metadata:
                          name: p
                          namespace: metallb-system
                        spec:
                          addresses: [127.3.1.9-127.3.1.1]
                        """, "The IPAddressPool \"p\" is invalid: spec.addresses[0]: Invalid value: \"127.3.1.9-127.3.1.1\": invalid CIDR "
                        + "\"127.3.1.9-127.3.1.1\" in pool \"p\": invalid IP range \"127.3.1.9-127.3.1.1\": start IP \"127.3.1.9\" is after "
                        + "the end IP \"127.3.1.1\""),
                Arguments.of("pool without addresses", """
                        apiVersion: metallb.io/v1beta1
                        kind: IPAddressPool
                        metadata:
                          name: p
                          namespace: metallb-system
                        spec:
                          addresses: []
                        """, "The IPAddressPool \"p\" is invalid: spec.addresses: Required value: pool has no prefixes defined"),
                Arguments.of("pool outside MetalLB's namespace", """
                        apiVersion: metallb.io/v1beta1
                        kind: IPAddressPool
                        metadata:
                          name: p
                        spec:
                          addresses: [127.3.1.0/24]
                        """, "The IPAddressPool \"p\" is invalid: metadata.namespace: Invalid value: \"default\": resource must be "
                        + "created in metallb-system namespace"),
                Arguments.of("pools that overlap", """
                        apiVersion: metallb.io/v1beta1
                        kind: IPAddressPool
                        metadata:
                          name: a
                          namespace: metallb-system
                        spec:
                          addresses: [127.3.1.0/24]
                        ---
                        apiVersion: metallb.io/v1beta1
                        kind: IPAddressPool
                        metadata:
                          name: b
                          namespace: metallb-system
                        spec:
                          addresses: [127.3.1.100-127.3.2.10]
                        """, "The IPAddressPool \"b\" is invalid: spec.addresses[0]: Invalid value: \"127.3.1.100-127.3.2.10\": CIDR "
                        + "\"127.3.1.100-127.3.2.10\" in pool \"b\" overlaps with already defined CIDR \"127.3.1.0/24\" (pool \"a\")"),
                Arguments.of("a namespace that does not exist", """
                        apiVersion: v1
                        kind: ConfigMap
                        metadata:
                          name: c
                          namespace: nowhere
                        """, "Error from server (NotFound): namespaces \"nowhere\" not found"),
                Arguments.of("configmap key with a slash", """
                        apiVersion: v1
                        kind: ConfigMap
                        metadata:
                          name: c
                        data:
                          a/b: x
                        """, "The ConfigMap \"c\" is invalid: data[a/b]: Invalid value: \"a/b\": a valid config key must consist of "
                        + "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                        + "validation is '[-._a-zA-Z0-9]+')"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidObjectsAreRejectedWithTheApiServersMessage(String name, String yaml, String expected) {
        assertThat(new TestApi().applyError(yaml)).isEqualTo(expected);
    }

    @Test
    void deploymentsAndPodsGetTheApiServersDefaults() {
        TestApi api = new TestApi();
        Deployment d = (Deployment) api.apply(deployment("""
                selector:
                  matchLabels: {app: web}
                template:
                  metadata:
                    labels: {app: web}
                  spec:
                    containers:
                    - name: c
                      image: portway/echo
                      ports:
                      - containerPort: 8080
                      readinessProbe:
                        httpGet: {port: 8080}
                """)).getFirst();
        assertThat(d.getSpec().getReplicas()).isEqualTo(1);
        assertThat(d.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
        assertThat(d.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getStrVal()).isEqualTo("25%");
        assertThat(d.getSpec().getRevisionHistoryLimit()).isEqualTo(10);
        assertThat(d.getSpec().getProgressDeadlineSeconds()).isEqualTo(600);
        assertThat(d.getMetadata().getGeneration()).isEqualTo(1);
        var spec = d.getSpec().getTemplate().getSpec();
        assertThat(spec.getRestartPolicy()).isEqualTo("Always");
        assertThat(spec.getTerminationGracePeriodSeconds()).isEqualTo(30);
        assertThat(spec.getDnsPolicy()).isEqualTo("ClusterFirst");
        var c = spec.getContainers().getFirst();
        assertThat(c.getImagePullPolicy()).isEqualTo("Always");
        assertThat(c.getPorts().getFirst().getProtocol()).isEqualTo("TCP");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/");
        assertThat(c.getReadinessProbe().getHttpGet().getScheme()).isEqualTo("HTTP");
        assertThat(c.getReadinessProbe().getPeriodSeconds()).isEqualTo(10);
        assertThat(c.getReadinessProbe().getFailureThreshold()).isEqualTo(3);

        Pod p = (Pod) api.apply(pod("""
                containers:
                - name: c
                  image: nginx:1.25
                """)).getFirst();
        assertThat(p.getStatus().getPhase()).isEqualTo("Pending");
        assertThat(p.getSpec().getContainers().getFirst().getImagePullPolicy()).isEqualTo("IfNotPresent");
    }

    @Test
    void secretStringDataIsFoldedIntoData() {
        Secret s = (Secret) new TestApi().apply("""
                apiVersion: v1
                kind: Secret
                metadata:
                  name: s
                stringData:
                  password: hunter2
                """).getFirst();
        assertThat(s.getType()).isEqualTo("Opaque");
        assertThat(s.getStringData()).isNullOrEmpty();
        assertThat(s.getData()).containsEntry("password", "aHVudGVyMg==");
    }

    /** apps/v1 lets neither a Deployment's nor a ReplicaSet's selector change (a ReplicaSet's could: it then let go of every pod). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"Deployment", "ReplicaSet"})
    void aSelectorCannotChange(String kind) {
        TestApi api = new TestApi();
        String template = """
                selector:
                  matchLabels: {app: %s}
                template:
                  metadata:
                    labels: {app: %s}
                  spec:
                    containers:
                    - name: c
                      image: portway/echo
                """;
        api.apply(deployment(template.formatted("web", "web")).replace("kind: Deployment", "kind: " + kind));
        assertThat(api.applyError(deployment(template.formatted("api", "api")).replace("kind: Deployment", "kind: " + kind))).isEqualTo(
                "The " + kind + " \"web\" is invalid: spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"api\"}}: field is immutable");
    }
}
