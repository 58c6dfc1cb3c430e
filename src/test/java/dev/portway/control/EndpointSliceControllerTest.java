package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * EndpointSlices from selectors: a named targetPort resolves per pod through the container port of
 * that name and protocol, pods are grouped into slices by resolved ports, and a pod without the
 * named port is left out. Bare pods are scheduled and served like any other.
 */
class EndpointSliceControllerTest {

    static String pod(String name, String portName, int port) {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  labels: {tier: mixed}
                spec:
                  containers:
                  - name: echo
                    image: portway/echo
                    ports:
                    - {name: %s, containerPort: %d}
                """.formatted(name, portName, port);
    }

    @Test
    void aNamedTargetPortResolvesPerPodAndPodsWithoutItAreLeftOut() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            cluster.apply(pod("a", "http", 8080) + "---\n" + pod("b", "web", 9090) + "---\n" + pod("c", "http", 7070) + """
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata:
                      name: mixed
                    spec:
                      selector: {tier: mixed}
                      ports:
                      - {port: 8000, targetPort: http}
                    """);
            org.awaitility.Awaitility.await().until(() -> cluster.local().store().list(Pod.class).stream().allMatch(Pods::isReady));
            cluster.settle();
            Map<Integer, Set<String>> byPort = new TreeMap<>();
            for (EndpointSlice s : cluster.local().store().list(EndpointSlice.class, "default")) {
                assertThat(s.getMetadata().getLabels()).containsEntry("kubernetes.io/service-name", "mixed")
                        .containsEntry("endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io");
                assertThat(s.getMetadata().getName()).startsWith("mixed-");
                assertThat(s.getPorts()).hasSize(1);
                Set<String> targets = new HashSet<>();
                for (Endpoint e : s.getEndpoints()) {
                    targets.add(e.getTargetRef().getName());
                    assertThat(e.getConditions().getReady()).isTrue();
                    assertThat(e.getNodeName()).startsWith("node");
                }
                byPort.put(s.getPorts().getFirst().getPort(), targets);
            }
            assertThat(byPort).isEqualTo(Map.of(7070, Set.of("c"), 8080, Set.of("a")));

            Set<String> answered = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                answered.add(Net.get(cluster.clusterIp("mixed"), 8000, "/").pod());
            }
            assertThat(answered).containsExactlyInAnyOrder("a", "c");
            List<Pod> pods = cluster.local().store().list(Pod.class, "default");
            assertThat(pods).extracting(p -> p.getSpec().getNodeName()).as("bare pods are scheduled over both nodes")
                    .contains("node1", "node2");
        }
    }
}
