package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.decode.Manifests;
import dev.portway.control.ApiServer;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Manifests with missing or null parts: the API server answers each with 422 and field errors,
 * never with 500. Portway must not throw on them either.
 */
class MalformedInputTest {

    static Stream<Arguments> manifests() {
        return Stream.of(
                Arguments.of("service without metadata.name", """
                        apiVersion: v1
                        kind: Service
                        spec:
                          ports:
                          - port: 80
                        """, "The Service \"\" is invalid: metadata.name: Required value: name or generateName is required"),
                Arguments.of("service with null metadata", """
                        apiVersion: v1
                        kind: Service
                        metadata:
                        spec:
                          ports:
                          - port: 80
                        """, "The Service \"\" is invalid: metadata.name: Required value: name or generateName is required"),
                Arguments.of("service with null spec", """
                        apiVersion: v1
                        kind: Service
                        metadata: {name: s}
                        spec:
                        """, "The Service \"s\" is invalid: spec.ports: Required value"),
                Arguments.of("service without spec", """
                        apiVersion: v1
                        kind: Service
                        metadata: {name: s}
                        """, "The Service \"s\" is invalid: spec.ports: Required value"),
                Arguments.of("service with a null port", """
                        apiVersion: v1
                        kind: Service
                        metadata: {name: s}
                        spec:
                          ports:
                          - null
                        """, null),
                Arguments.of("service with an empty port", """
                        apiVersion: v1
                        kind: Service
                        metadata: {name: s}
                        spec:
                          ports:
                          - {}
                        """, null),
                Arguments.of("LoadBalancer with null lists", """
                        apiVersion: v1
                        kind: Service
                        metadata: {name: s}
                        spec:
                          type: LoadBalancer
                          externalIPs: [null]
                          loadBalancerSourceRanges: [null]
                          clusterIPs: [null]
                          ipFamilies: [null]
                          ports:
                          - port: 80
                        """, null),
                Arguments.of("pod with a null container", """
                        apiVersion: v1
                        kind: Pod
                        metadata: {name: p}
                        spec:
                          containers:
                          - null
                        """, null),
                Arguments.of("pod with null lists", """
                        apiVersion: v1
                        kind: Pod
                        metadata: {name: p}
                        spec:
                          volumes: [null, {}]
                          initContainers: [null]
                          containers:
                          - name: c
                            image: i
                            ports: [null, {}]
                            env: [null, {}]
                            envFrom: [null, {}]
                            volumeMounts: [null, {}]
                            command: [null]
                            resources: {limits: {cpu: null}, requests: {cpu: "2"}}
                            readinessProbe: {}
                            livenessProbe: {httpGet: {}}
                            startupProbe: {tcpSocket: {}}
                        """, null),
                Arguments.of("pod without spec", """
                        apiVersion: v1
                        kind: Pod
                        metadata: {name: p}
                        """, "The Pod \"p\" is invalid: spec.containers: Required value"),
                Arguments.of("deployment without spec", """
                        apiVersion: apps/v1
                        kind: Deployment
                        metadata: {name: d}
                        """, null),
                Arguments.of("deployment with null template parts", """
                        apiVersion: apps/v1
                        kind: Deployment
                        metadata: {name: d}
                        spec:
                          selector:
                            matchLabels: {app: null}
                            matchExpressions: [null, {}]
                          strategy: {rollingUpdate: {}}
                          template:
                            metadata:
                            spec:
                        """, null),
                Arguments.of("replicaset without spec", """
                        apiVersion: apps/v1
                        kind: ReplicaSet
                        metadata: {name: r}
                        """, null),
                Arguments.of("endpointslice with nulls", """
                        apiVersion: discovery.k8s.io/v1
                        kind: EndpointSlice
                        metadata: {name: e}
                        addressType: IPv4
                        endpoints: [null, {}, {addresses: [null]}]
                        ports: [null, {}]
                        """, null),
                Arguments.of("empty endpointslice", """
                        apiVersion: discovery.k8s.io/v1
                        kind: EndpointSlice
                        metadata: {name: e}
                        """, "The EndpointSlice \"e\" is invalid: addressType: Required value"),
                Arguments.of("configmap with null data values", """
                        apiVersion: v1
                        kind: ConfigMap
                        metadata: {name: c, labels: {a: null}, annotations: {b: null}, ownerReferences: [null, {}]}
                        data: {k: null}
                        """, null),
                Arguments.of("secret with nulls", """
                        apiVersion: v1
                        kind: Secret
                        metadata: {name: s}
                        data: {k: null}
                        stringData: {j: null}
                        """, null),
                Arguments.of("namespace without metadata", """
                        apiVersion: v1
                        kind: Namespace
                        """, "The Namespace \"\" is invalid: metadata.name: Required value: name or generateName is required"),
                Arguments.of("node with null podCIDRs", """
                        apiVersion: v1
                        kind: Node
                        metadata: {name: n}
                        spec: {podCIDRs: [null]}
                        """, null),
                Arguments.of("pool with nulls", """
                        apiVersion: metallb.io/v1beta1
                        kind: IPAddressPool
                        metadata: {name: p, namespace: metallb-system}
                        spec: {addresses: [null]}
                        """, null),
                Arguments.of("pool without spec", """
                        apiVersion: metallb.io/v1beta1
                        kind: IPAddressPool
                        metadata: {name: p, namespace: metallb-system}
                        """, null),
                Arguments.of("l2 advertisement with nulls", """
                        apiVersion: metallb.io/v1beta1
                        kind: L2Advertisement
                        metadata: {name: l, namespace: metallb-system}
                        spec: {ipAddressPools: [null], interfaces: [null]}
                        """, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("manifests")
    void malformedManifestsGetFieldErrorsNotExceptions(String name, String yaml, String expected) {
        TestApi api = new TestApi();
        Manifests.Loaded loaded = Manifests.loadText("test.yaml", yaml);
        List<HasMetadata> objects = loaded.objects().stream().map(d -> d.object()).toList();
        String message;
        try {
            api.api().apply(objects, "default", true);
            message = "";
        } catch (ApiServer.ApplyException e) {
            message = String.join("\n", e.failures().stream().map(f -> f.error().kubectlMessage()).toList());
            assertThat(e.failures()).allSatisfy(f -> assertThat(f.error().code()).isEqualTo(422));
        }
        if (expected != null) {
            assertThat(message).isEqualTo(expected);
        }
    }
}
