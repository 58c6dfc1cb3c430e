package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.admin.PodLogs;
import dev.portway.api.ResourceKind;
import dev.portway.control.Pods;
import dev.portway.testing.Processes;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Deleting a pod whose process handles SIGTERM by carrying on: it gets SIGTERM, its open
 * connection keeps working while new ones go elsewhere, and SIGKILL ends it when the grace
 * period is over.
 */
class GracefulDeleteTest {

    /** A line server in Python (from a ConfigMap volume) that answers "<pod> <line>" and only logs SIGTERM. */
    private static final String MANIFEST = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: lines
            data:
              server.py: |
                import os, signal, socketserver
                name, ip = os.environ["POD_NAME"], os.environ["POD_IP"]
                def on_term(signum, frame):
                    print("SIGTERM received, draining", flush=True)
                signal.signal(signal.SIGTERM, on_term)
                class Lines(socketserver.StreamRequestHandler):
                    def handle(self):
                        for line in self.rfile:
                            self.wfile.write(name.encode() + b" " + line)
                socketserver.ThreadingTCPServer.allow_reuse_address = True
                socketserver.ThreadingTCPServer.daemon_threads = True
                server = socketserver.ThreadingTCPServer((ip, 9000), Lines)
                print("serving on", ip, flush=True)
                server.serve_forever(poll_interval=0.1)
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: lines
            spec:
              replicas: 2
              selector:
                matchLabels: {app: lines}
              template:
                metadata:
                  labels: {app: lines}
                spec:
                  terminationGracePeriodSeconds: 2
                  containers:
                  - name: server
                    image: python:3.12-slim
                    command: [python3, -u, /app/server.py]
                    env:
                    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                    ports:
                    - {containerPort: 9000}
                    readinessProbe:
                      tcpSocket: {port: 9000}
                      periodSeconds: 1
                    volumeMounts:
                    - {name: app, mountPath: /app}
                  volumes:
                  - name: app
                    configMap: {name: lines}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: lines
            spec:
              type: NodePort
              selector: {app: lines}
              ports:
              - {port: 9000}
            """;

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
    void sigtermThenDrainThenSigkillAfterTheGracePeriod() throws Exception {
        cluster.apply(MANIFEST);
        cluster.awaitReady("lines", 2, Duration.ofSeconds(20));
        int port = cluster.nodePort("lines");

        try (Socket held = new Socket()) {
            held.connect(new InetSocketAddress(cluster.nodeIp(1), port), 5000);
            held.setSoTimeout(10_000);
            OutputStream out = held.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(held.getInputStream(), StandardCharsets.UTF_8));
            out.write("hello\n".getBytes(StandardCharsets.UTF_8));
            String victim = in.readLine().split(" ")[0];
            Pod pod = cluster.pod(victim);
            long pid = Processes.pid(pod.getStatus().getContainerStatuses().getFirst().getContainerID());

            long deleted = System.nanoTime();
            cluster.delete(ResourceKind.POD, victim);
            assertThat(Pods.isTerminating(cluster.pod(victim))).isTrue();
            assertThat(new dev.portway.cli.CliDriver(java.time.Clock.systemUTC(), cluster.local()).run("get", "pods").out())
                    .containsPattern(victim + " +1/1 +Terminating +0 ");

            // SIGTERM reached the process, which said so in its log
            PodLogs.LogStream log = cluster.local().kubelet().open("default", victim, null, false);
            await().atMost(Duration.ofSeconds(2)).until(() -> TestCluster.readAll(log).contains("SIGTERM received, draining"));

            // the open connection is still served...
            out.write("still there?\n".getBytes(StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo(victim + " still there?");
            // ...while new connections go to the other pods only
            cluster.settle();
            Set<String> answering = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                answering.add(ask(port, "hi"));
            }
            assertThat(answering).doesNotContain(victim).isNotEmpty();
            assertThat(Processes.alive(pid)).isTrue();

            // the grace period ends: SIGKILL, the connection closes, the pod goes
            assertThat(in.readLine()).isNull();
            long elapsedMillis = (System.nanoTime() - deleted) / 1_000_000;
            assertThat(elapsedMillis).isBetween(1900L, 6000L);
            await().atMost(Duration.ofSeconds(2)).until(() -> !Processes.alive(pid));
            await().atMost(Duration.ofSeconds(2)).until(() ->
                    cluster.local().store().get(Pod.class, "default", victim).isEmpty());
        }
    }

    private static String ask(int port, String line) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(cluster.nodeIp(1), port), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            String answer = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
            return answer.split(" ")[0];
        }
    }
}
