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
    void aNamedTargetPortResolvesPerPodAndPodsWithoutItHaveNoPorts() throws Exception {
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
                Set<String> targets = new HashSet<>();
                for (Endpoint e : s.getEndpoints()) {
                    targets.add(e.getTargetRef().getName());
                    assertThat(e.getConditions().getReady()).isTrue();
                    assertThat(e.getNodeName()).startsWith("node");
                }
                // b has no port named http: kube's reconciler puts it in a slice of no ports, which no listener uses
                byPort.put(s.getPorts().isEmpty() ? 0 : s.getPorts().getFirst().getPort(), targets);
            }
            assertThat(byPort).isEqualTo(Map.of(0, Set.of("b"), 7070, Set.of("c"), 8080, Set.of("a")));

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

    /**
     * A slice written by hand keeps its place even with the controller's managed-by label (one
     * copied from a real cluster's {@code kubectl get endpointslice -o yaml}, its owner taken
     * off): the controller's slices are the ones a Service owns, as kube's ownedBy has it. Both
     * were deleted within a pass: the one of a Service with no selector, and the one whose Service
     * was not made yet.
     */
    @Test
    void aSliceWrittenByHandWithTheManagedByLabelIsLeftAlone() {
        try (ControlPlane control = new ControlPlane(new dev.portway.store.Store(), ClusterConfig.local(), new java.util.Random(7))) {
            control.addController(new EndpointSliceController(control));
            String slice = """
                    ---
                    apiVersion: discovery.k8s.io/v1
                    kind: EndpointSlice
                    metadata:
                      name: %1$s-copied
                      labels:
                        kubernetes.io/service-name: %1$s
                        endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
                    addressType: IPv4
                    ports: [{name: "", port: 8080, protocol: TCP}]
                    endpoints: [{addresses: [10.9.0.1]}]
                    """;
            apply(control, """
                    apiVersion: v1
                    kind: Namespace
                    metadata: {name: default}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: external}
                    spec:
                      ports: [{port: 80, targetPort: 8080}]
                    """ + slice.formatted("external") + slice.formatted("later"));
            control.awaitIdle();
            assertThat(control.store().list(EndpointSlice.class, "default")).extracting(s -> s.getMetadata().getName())
                    .containsExactlyInAnyOrder("external-copied", "later-copied");
        }
    }

    /**
     * The controller syncs only the Services something happened to. After every kind of change
     * it must leave the slices exactly as a pass over every Service would: here, after each step,
     * such a pass ({@link EndpointSliceController#resyncAll}) finds nothing to write.
     */
    @Test
    void syncingOnlyWhatChangedLeavesWhatAFullPassWould() {
        try (ControlPlane control = new ControlPlane(new dev.portway.store.Store(), ClusterConfig.local(), new java.util.Random(7))) {
            EndpointSliceController slices = new EndpointSliceController(control);
            control.addController(slices);
            Runnable agreesWithAFullPass = () -> {
                control.awaitIdle();
                long revision = control.store().revision();
                control.call(() -> {
                    slices.resyncAll();
                    return null;
                });
                control.awaitIdle();
                assertThat(control.store().revision()).as("a full pass finds nothing to change").isEqualTo(revision);
            };
            apply(control, """
                    apiVersion: v1
                    kind: Namespace
                    metadata: {name: default}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: a}
                    spec:
                      selector: {app: a}
                      ports: [{port: 80, targetPort: 8080}]
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: b}
                    spec:
                      selector: {app: b}
                      ports: [{port: 80, targetPort: http}]
                    """);
            for (int i = 1; i <= 4; i++) {
                apply(control, pod("p" + i, "http", 9000 + i).replace("tier: mixed", "app: " + (i <= 2 ? "a" : "b")));
                running(control, "p" + i, "10.0.0." + i);
            }
            agreesWithAFullPass.run();
            assertThat(targets(control, "a")).containsExactlyInAnyOrder("p1", "p2");
            assertThat(targets(control, "b")).containsExactlyInAnyOrder("p3", "p4");

            // a pod's labels move it from one Service to the other: both Services are synced
            control.call(() -> control.api().mutate(Pod.class, "default", "p1", p -> {
                p.getMetadata().getLabels().put("app", "b");
                return p;
            }));
            agreesWithAFullPass.run();
            assertThat(targets(control, "a")).containsExactly("p2");
            assertThat(targets(control, "b")).containsExactlyInAnyOrder("p1", "p3", "p4");

            // someone edits a managed slice: the controller puts it back
            String sliceOfA = control.store().list(EndpointSlice.class, "default").stream()
                    .filter(s -> "a".equals(s.getMetadata().getLabels().get(EndpointSliceController.LABEL_SERVICE_NAME)))
                    .findFirst().orElseThrow().getMetadata().getName();
            control.call(() -> control.api().mutate(EndpointSlice.class, "default", sliceOfA, s -> {
                s.setEndpoints(new java.util.ArrayList<>());
                return s;
            }));
            agreesWithAFullPass.run();
            assertThat(targets(control, "a")).containsExactly("p2");

            // a managed slice that loses its Service's name belongs to no Service: it goes, and its Service gets another
            control.call(() -> control.api().mutate(EndpointSlice.class, "default", sliceOfA, s -> {
                s.getMetadata().getLabels().remove(EndpointSliceController.LABEL_SERVICE_NAME);
                return s;
            }));
            agreesWithAFullPass.run();
            assertThat(control.store().get(EndpointSlice.class, "default", sliceOfA)).isEmpty();
            assertThat(targets(control, "a")).containsExactly("p2");

            // a Service's selector changes; a pod stops being ready; a pod goes away
            apply(control, """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: a}
                    spec:
                      selector: {app: b}
                      ports: [{port: 80, targetPort: 8080}]
                    """);
            control.call(() -> control.api().mutate(Pod.class, "default", "p3", p -> {
                p.getStatus().getConditions().getFirst().setStatus("False");
                return p;
            }));
            control.call(() -> {
                control.api().deleteInternal(dev.portway.api.ResourceKind.POD, "default", "p4");
                return null;
            });
            agreesWithAFullPass.run();
            assertThat(targets(control, "a")).containsExactlyInAnyOrder("p1", "p3");
            assertThat(ready(control, "a")).containsExactly("p1");

            // a Service loses its selector, another goes away: their managed slices go with them
            apply(control, """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: a}
                    spec:
                      ports: [{port: 80, targetPort: 8080}]
                    """);
            control.call(() -> {
                control.api().deleteInternal(dev.portway.api.ResourceKind.SERVICE, "default", "b");
                return null;
            });
            agreesWithAFullPass.run();
            assertThat(control.store().list(EndpointSlice.class)).isEmpty();
        }
    }

    private static void apply(ControlPlane control, String yaml) {
        control.call(() -> control.api().apply(dev.portway.testing.TestApi.decode(yaml), "default", false));
        control.awaitIdle();
    }

    /** What a kubelet would report for a running, ready pod. */
    private static void running(ControlPlane control, String pod, String ip) {
        control.call(() -> control.api().mutate(Pod.class, "default", pod, p -> {
            p.getSpec().setNodeName("node1");
            p.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running").withPodIP(ip)
                    .addNewCondition().withType("Ready").withStatus("True").endCondition().build());
            return p;
        }));
    }

    private static List<String> targets(ControlPlane control, String service) {
        return endpoints(control, service).map(e -> e.getTargetRef().getName()).toList();
    }

    private static List<String> ready(ControlPlane control, String service) {
        return endpoints(control, service).filter(e -> e.getConditions().getReady()).map(e -> e.getTargetRef().getName()).toList();
    }

    private static java.util.stream.Stream<Endpoint> endpoints(ControlPlane control, String service) {
        return control.store().list(EndpointSlice.class, "default").stream()
                .filter(s -> service.equals(s.getMetadata().getLabels().get(EndpointSliceController.LABEL_SERVICE_NAME)))
                .flatMap(s -> s.getEndpoints().stream());
    }
}
