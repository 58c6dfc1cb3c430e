package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.Json;
import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pods of the Gateway API conformance suite's backend image, as its manifests declare them (no
 * command, no container ports, who they are from the downward API): the built-in server answers
 * on port 3000 as echo-basic does, and logs what echo-basic logs.
 */
class EchoBasicPodsTest {

    private static final String MANIFESTS = """
            apiVersion: v1
            kind: Service
            metadata:
              name: infra-backend-v1
            spec:
              selector:
                app: infra-backend-v1
              ports:
              - protocol: TCP
                port: 8080
                targetPort: 3000
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: infra-backend-v1
              labels:
                app: infra-backend-v1
            spec:
              replicas: 2
              selector:
                matchLabels:
                  app: infra-backend-v1
              template:
                metadata:
                  labels:
                    app: infra-backend-v1
                spec:
                  containers:
                  - name: infra-backend-v1
                    image: registry.k8s.io/gateway-api/echo-basic:v1.5.1
                    env:
                    - name: POD_NAME
                      valueFrom:
                        fieldRef:
                          fieldPath: metadata.name
                    - name: NAMESPACE
                      valueFrom:
                        fieldRef:
                          fieldPath: metadata.namespace
                    resources:
                      requests:
                        cpu: 10m
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: tcp-backend
              labels:
                app: tcp-backend
            spec:
              containers:
              - name: tcp-backend
                image: registry.k8s.io/gateway-api/echo-basic:v1.5.1
                env:
                - name: TCP_ECHO_SERVER
                  value: "1"
            """;

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster();
        cluster.apply(MANIFESTS);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void answersAsEchoBasicOnPort3000WithItsPodAndNamespace() throws Exception {
        List<Pod> pods = cluster.awaitReady("infra-backend-v1", 2);
        for (Pod pod : pods) {
            String ip = pod.getStatus().getPodIP();
            Net.Response r = Net.get(ip, 3000, "/hello?x=1");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers().get("content-type")).isEqualTo("application/json");
            JsonNode json = Json.mapper().readTree(r.body());
            assertThat(json.get("path").asText()).isEqualTo("/hello?x=1");
            assertThat(json.get("host").asText()).isEqualTo(ip + ":3000");
            assertThat(json.get("method").asText()).isEqualTo("GET");
            assertThat(json.get("proto").asText()).isEqualTo("HTTP/1.1");
            assertThat(json.get("pod").asText()).isEqualTo(pod.getMetadata().getName());
            assertThat(json.get("namespace").asText()).isEqualTo("default");
            assertThat(json.get("httpPort").asText()).isEqualTo("3000");
            assertThat(json.get("headers").has("Connection")).isTrue();
            // as sent: the GET had no Content-Length (Netty's aggregator adds one; echo-basic reports what came)
            assertThat(json.get("headers").has("Content-Length")).isFalse();
            assertThat(json.get("headers").has("Host")).isFalse();
            String log = cluster.log(pod.getMetadata().getName());
            assertThat(log).contains("Starting server, listening on port 3000 (http)\n")
                    .containsPattern("Echoing back request made to /hello\\?x=1 to client \\(127\\.[0-9.]+:[0-9]+\\)\n");
        }
        cluster.settle();
        Net.Response viaService = Net.get(cluster.clusterIp("infra-backend-v1"), 8080, "/");
        assertThat(Json.mapper().readTree(viaService.body()).get("pod").asText()).startsWith("infra-backend-v1-");
    }

    @Test
    void modesThatAreNotBuiltInSaySo() {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            var waiting = cluster.pod("tcp-backend").getStatus().getContainerStatuses().getFirst().getState().getWaiting();
            assertThat(waiting).isNotNull();
            assertThat(waiting.getReason()).isEqualTo("CreateContainerError");
            assertThat(waiting.getMessage()).contains("TCP_ECHO_SERVER");
        });
    }
}
