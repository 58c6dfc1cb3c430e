package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.control.Pods;
import dev.portway.testing.Net;
import dev.portway.testing.Processes;
import dev.portway.testing.TestCluster;
import dev.portway.testing.Timeline;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pods whose containers are real processes (Python's http.server), behind a NodePort Service:
 * the process restarts when it dies, readiness decides who gets traffic.
 */
class ProcessPodsTest {

    /** A Python HTTP server per pod, serving a directory (an emptyDir) that holds a file with the pod's name. */
    private static String webServers(String app, int replicas, String readinessPath) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: %1$s
                spec:
                  replicas: %2$d
                  selector:
                    matchLabels: {app: %1$s}
                  template:
                    metadata:
                      labels: {app: %1$s}
                    spec:
                      containers:
                      - name: http
                        image: python:3.12-slim
                        command: [sh, -c]
                        args: ['echo "$(POD_NAME)" > /www/name && exec python3 -m http.server --bind "$(POD_IP)" --directory /www 8080']
                        env:
                        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                        - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                        ports:
                        - {name: http, containerPort: 8080}
                        readinessProbe:
                          httpGet: {path: %3$s, port: http}
                          periodSeconds: 1
                        volumeMounts:
                        - {name: www, mountPath: /www}
                      volumes:
                      - {name: www, emptyDir: {}}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: %1$s
                spec:
                  type: NodePort
                  selector: {app: %1$s}
                  ports:
                  - {port: 8000, targetPort: http}
                """.formatted(app, replicas, readinessPath);
    }

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    /** The pods that answer {@code GET /name} through the NodePort of the first node, over {@code n} requests. */
    private static Set<String> answering(String service, int n) throws Exception {
        Set<String> names = new HashSet<>();
        int port = cluster.nodePort(service);
        for (int i = 0; i < n; i++) {
            Net.Response r = Net.get(cluster.nodeIp(1), port, "/name");
            assertThat(r.status()).isEqualTo(200);
            names.add(r.body().strip());
        }
        return names;
    }

    @Test
    void aKilledProcessIsRestartedAndItsEndpointLeavesAndComesBack() throws Exception {
        cluster.apply(webServers("web", 3, "/name"));
        List<Pod> pods = cluster.awaitReady("web", 3, Duration.ofSeconds(30));
        Set<String> names = new HashSet<>(pods.stream().map(p -> p.getMetadata().getName()).toList());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(answering("web", 30)).isEqualTo(names));

        Pod victim = pods.getFirst();
        String name = victim.getMetadata().getName();
        long pid = Processes.pid(victim.getStatus().getContainerStatuses().getFirst().getContainerID());
        assertThat(Processes.alive(pid)).isTrue();
        try (Timeline timeline = new Timeline(cluster.local().store(), name)) {
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();

            await().atMost(Duration.ofSeconds(15)).until(() -> {
                Pod p = cluster.pod(name);
                return p.getStatus().getContainerStatuses().getFirst().getRestartCount() == 1 && Pods.isReady(p);
            });
            var status = cluster.pod(name).getStatus().getContainerStatuses().getFirst();
            assertThat(status.getLastState().getTerminated().getExitCode()).isEqualTo(137);
            assertThat(status.getLastState().getTerminated().getReason()).isEqualTo("Error");
            long newPid = Processes.pid(status.getContainerID());
            assertThat(newPid).isNotEqualTo(pid);
            assertThat(Processes.alive(newPid)).isTrue();
            // the endpoint left (not ready while the process was down and until its probe passed), then came back
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(String.join(",", timeline.endpointStates())).endsWith("not-ready,ready"));
        }
        // the same pod (same name, same IP) serves again, and the others never stopped
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(answering("web", 30)).isEqualTo(names));
    }

    @Test
    void aPodWhoseReadinessProbeFailsGetsNoTrafficUntilItPasses() throws Exception {
        // ready only once the file /www/ready exists: the test creates it in one pod's volume
        cluster.apply(webServers("gated", 2, "/ready"));
        await().atMost(Duration.ofSeconds(20)).until(() -> cluster.pods("gated").size() == 2
                && cluster.pods("gated").stream().allMatch(p -> p.getStatus() != null && p.getStatus().getContainerStatuses() != null
                && p.getStatus().getContainerStatuses().getFirst().getState().getRunning() != null));
        List<Pod> pods = cluster.pods("gated");
        Pod first = pods.get(0);
        Pod second = pods.get(1);
        assertThat(pods).noneMatch(Pods::isReady);

        Files.writeString(cluster.volumeDir(first, "www").resolve("ready"), "ok\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> Pods.isReady(cluster.pod(first.getMetadata().getName())));
        cluster.settle();
        assertThat(answering("gated", 20)).containsExactly(first.getMetadata().getName());
        assertThat(Pods.isReady(cluster.pod(second.getMetadata().getName()))).isFalse();
        assertThat(events(second)).anyMatch(e -> e.getReason().equals("Unhealthy")
                && e.getMessage().equals("Readiness probe failed: HTTP probe failed with statuscode: 404"));

        Files.writeString(cluster.volumeDir(second, "www").resolve("ready"), "ok\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> Pods.isReady(cluster.pod(second.getMetadata().getName())));
        cluster.settle();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(answering("gated", 30))
                .containsExactlyInAnyOrder(first.getMetadata().getName(), second.getMetadata().getName()));
    }


    @Test
    void theDefaultBackOffIsTheKubelets10SecondsAfterAnImmediateFirstRestart() {
        cluster.apply(TestCluster.shellPod("crashes", "Always", "exit 1"));
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            var s = cluster.pod("crashes").getStatus().getContainerStatuses();
            return s != null && s.getFirst().getState().getWaiting() != null
                    && "CrashLoopBackOff".equals(s.getFirst().getState().getWaiting().getReason());
        });
        var status = cluster.pod("crashes").getStatus().getContainerStatuses().getFirst();
        assertThat(status.getRestartCount()).isEqualTo(1);
        assertThat(status.getState().getWaiting().getMessage()).startsWith("back-off 10s restarting failed container=app pod=crashes_default(");
    }

    private static List<Event> events(Pod pod) {
        return dev.portway.control.EventRecorder.about(cluster.local().store(), pod);
    }

    /** Echo pods whose http port is also port 18080 of their node. */
    private static String edge(int replicas) {
        String manifest = TestCluster.echoDeployment("edge", replicas, null);
        assertThat(manifest).contains("containerPort: 8080}");
        return manifest.replace("containerPort: 8080}", "containerPort: 8080, hostPort: 18080}");
    }

    /**
     * A container's {@code hostPort} opens that port on its node's address, to the pod, as the CNI
     * portmap plugin maps it, and the scheduler puts a second pod wanting it on the other node.
     */
    @Test
    void aHostPortReachesThePodOnItsNodeOnly() {
        cluster.apply(edge(2));
        var pods = cluster.awaitReady("edge", 2);
        assertThat(pods).extracting(p -> p.getSpec().getNodeName()).as("one a node: the port is taken on the other").doesNotHaveDuplicates();
        for (int n = 1; n <= 2; n++) {
            String nodeIp = cluster.nodeIp(n);
            String expected = pods.stream().filter(p -> p.getStatus().getHostIP().equals(nodeIp)).findFirst().orElseThrow()
                    .getMetadata().getName();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(Net.get(nodeIp, 18080, "/").body()).as("node " + nodeIp).startsWith("pod: " + expected + "\n"));
        }
        cluster.apply(edge(3));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(cluster.pods("edge")).anySatisfy(p ->
                assertThat(p.getStatus().getConditions()).anySatisfy(c -> assertThat(c.getMessage())
                        .startsWith("0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports."))));
    }
}
