package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.control.Pods;
import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Deployment's template changes while clients keep asking: the rollout replaces every pod,
 * and no request reaches a pod that is not ready, nor fails.
 */
class RollingUpdateTest {

    /**
     * Each pod's server is up at once but says "warming" for its first second, and only its
     * readiness probe (the file says "ready") decides when it gets traffic. The second counts from
     * the server's listening socket: counted from the shell's start, a python slow to start (a
     * loaded machine: more than a second) was still binding when its pod turned ready, and every
     * pod refused the first requests. preStop waits a second so that it leaves the endpoints
     * before it stops.
     */
    private static String deployment(String version) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: roll
                spec:
                  replicas: 3
                  selector:
                    matchLabels: {app: roll}
                  template:
                    metadata:
                      labels: {app: roll}
                    spec:
                      terminationGracePeriodSeconds: 5
                      containers:
                      - name: http
                        image: python:3.12-slim
                        command: [sh, -c]
                        args:
                        - >-
                          echo warming > /www/state; echo $(VERSION) > /www/version;
                          exec python3 -c 'import functools, http.server, threading;
                          s = http.server.ThreadingHTTPServer(("$(POD_IP)", 8080),
                          functools.partial(http.server.SimpleHTTPRequestHandler, directory="/www"));
                          threading.Timer(1, lambda: open("/www/state", "w").write("ready")).start();
                          s.serve_forever()'
                        env:
                        - {name: VERSION, value: %s}
                        - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                        ports:
                        - {name: http, containerPort: 8080}
                        readinessProbe:
                          exec: {command: [grep, -q, ready, /www/state]}
                          periodSeconds: 1
                        lifecycle:
                          preStop:
                            sleep: {seconds: 1}
                        volumeMounts:
                        - {name: www, mountPath: /www}
                      volumes:
                      - {name: www, emptyDir: {}}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: roll
                spec:
                  type: NodePort
                  selector: {app: roll}
                  ports:
                  - {port: 8000, targetPort: http}
                """.formatted(version);
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

    @Test
    void trafficNeverReachesANotReadyPodDuringARollout() throws Exception {
        cluster.apply(deployment("v1"));
        List<Pod> before = cluster.awaitReady("roll", 3, Duration.ofSeconds(30));
        cluster.settle();
        int port = cluster.nodePort("roll");

        Map<String, Integer> answers = new ConcurrentHashMap<>();
        AtomicInteger failures = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Thread client = Thread.ofPlatform().name("rollout-client").start(() -> {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            for (int i = 0; !stop.get() && System.nanoTime() < deadline && i < 20_000; i++) {
                try {
                    String state = Net.get(cluster.nodeIp(1), port, "/state").body().strip();
                    String version = Net.get(cluster.nodeIp(2), port, "/version").body().strip();
                    answers.merge(state + " " + version, 1, Integer::sum);
                } catch (Exception e) {
                    failures.incrementAndGet();
                }
            }
        });
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> answers.containsKey("ready v1"));
            cluster.apply(deployment("v2"));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                List<Pod> pods = cluster.pods("roll");
                Deployment d = cluster.local().store().get(Deployment.class, "default", "roll").orElseThrow();
                return pods.size() == 3 && pods.stream().allMatch(p -> Pods.isReady(p) && !Pods.isTerminating(p))
                        && pods.stream().noneMatch(p -> before.stream().anyMatch(b -> b.getMetadata().getUid().equals(p.getMetadata().getUid())))
                        && d.getStatus() != null && Integer.valueOf(3).equals(d.getStatus().getUpdatedReplicas());
            });
            // and the new pods serve
            await().atMost(Duration.ofSeconds(10)).until(() -> answers.getOrDefault("ready v2", 0) >= 10);
        } finally {
            stop.set(true);
            client.join();
        }
        assertThat(failures.get()).as("failed requests; answers: %s", answers).isZero();
        assertThat(answers.keySet()).as("every answer came from a ready pod").allMatch(a -> a.startsWith("ready "));
        assertThat(answers.keySet()).contains("ready v1", "ready v2");
    }
}
