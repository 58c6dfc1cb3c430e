package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.api.ResourceKind;
import dev.portway.testing.Kubectl;
import dev.portway.testing.TestApi;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code portway describe pod NAME} prints the same bytes as the real {@code kubectl describe pod
 * NAME} against the same server, for pods in the states a local cluster produces: a running echo
 * pod of the built-in Deployment, a crash loop, init containers, every kind of environment
 * variable and local volume, probes and resources, a pod the scheduler cannot place, a failed pod,
 * a terminating one.
 */
class DescribePodMatchesKubectlTest {

    @TempDir
    static Path home;

    private static TestCluster cluster;
    private static CliDriver cli;
    private static Kubectl kubectl;

    @BeforeAll
    static void start() throws InterruptedException, IOException {
        Kubectl.requireInstalled();
        cluster = new TestCluster();
        cli = new CliDriver(Clock.systemUTC(), cluster.local());
        kubectl = new Kubectl(CliDriver.kubeconfigOf(cluster.local()), home);
        try (InputStream in = DescribePodMatchesKubectlTest.class.getResourceAsStream("/examples/seed/app.yaml")) {
            List<HasMetadata> seed = TestApi.decode(new String(Objects.requireNonNull(in).readAllBytes(), StandardCharsets.UTF_8));
            // Only the Deployment: the example's Services would bind node ports other clusters on this machine may hold.
            cluster.apply(seed.stream().filter(o -> o instanceof Deployment).map(o -> (Deployment) o)
                    .peek(d -> d.getSpec().setReplicas(1)).map(HasMetadata.class::cast).toList());
        }
        cluster.apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                data:
                  MODE: fast
                  app.conf: "listen = 8080\\n"
                ---
                apiVersion: v1
                kind: Secret
                metadata:
                  name: creds
                stringData:
                  password: hunter2
                """);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aRunningEchoPodOfTheBuiltInDeployment() {
        await().atMost(Duration.ofSeconds(20)).until(() -> cluster.pods("MyApp").stream()
                .anyMatch(p -> started(p) && (ready(p) || restarts(p) > 0)));
        String name = cluster.pods("MyApp").getFirst().getMetadata().getName();
        assertSameAsKubectl(name);
    }

    @Test
    void aCrashLoopingProcessWithItsLastState() {
        cluster.apply(TestCluster.shellPod("crasher", "Always", "echo dying; exit 3"));
        awaitPod("crasher", p -> {
            ContainerStatus s = p.getStatus().getContainerStatuses().getFirst();
            return s.getState().getWaiting() != null && "CrashLoopBackOff".equals(s.getState().getWaiting().getReason())
                    && s.getLastState() != null && s.getLastState().getTerminated() != null;
        });
        assertSameAsKubectl("crasher");
    }

    @Test
    void initContainersThatRanToCompletion() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: staged
                  annotations: {example.com/note: staged pod}
                spec:
                  initContainers:
                  - name: fetch
                    image: busybox
                    command: [sh, -c, 'echo fetched > /work/data']
                    volumeMounts: [{name: work, mountPath: /work}]
                  - name: check
                    image: busybox
                    command: [sh, -c, 'grep -q fetched /work/data']
                    volumeMounts: [{name: work, mountPath: /work}]
                  containers:
                  - name: app
                    image: busybox
                    command: [sh, -c, 'exec sleep 600']
                    volumeMounts: [{name: work, mountPath: /work}]
                  volumes:
                  - {name: work, emptyDir: {}}
                """);
        awaitPod("staged", p -> "Running".equals(p.getStatus().getPhase()) && ready(p));
        assertSameAsKubectl("staged");
    }

    @Test
    void environmentVolumesProbesAndResources() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: full
                  labels: {app: full, tier: backend}
                spec:
                  containers:
                  - name: web
                    image: busybox
                    command: [sh, -c]
                    args: ['echo started; exec sleep 600']
                    ports:
                    - {containerPort: 18080, name: http}
                    - {containerPort: 19090, protocol: UDP}
                    resources:
                      requests: {cpu: "0.5", memory: 64Mi}
                      limits: {cpu: "1", memory: 128Mi}
                    readinessProbe:
                      exec: {command: [sh, -c, 'true']}
                      periodSeconds: 1
                    livenessProbe:
                      httpGet: {path: "/alive?now=1", port: http, host: localhost}
                      initialDelaySeconds: 300
                    startupProbe:
                      exec: {command: ['true']}
                      periodSeconds: 1
                      failureThreshold: 30
                    env:
                    - {name: PLAIN, value: hello}
                    - name: MULTI
                      value: "line one\\nline two"
                    - name: ESCAPES
                      value: "red\\e[31m and a \\r"
                    - name: POD_NAME
                      valueFrom: {fieldRef: {fieldPath: metadata.name}}
                    - name: NODE
                      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
                    - name: CPU_LIMIT
                      valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}
                    - name: MEMORY
                      valueFrom: {resourceFieldRef: {resource: requests.memory, divisor: 1Mi}}
                    - name: MODE
                      valueFrom: {configMapKeyRef: {name: settings, key: MODE}}
                    - name: PASSWORD
                      valueFrom: {secretKeyRef: {name: creds, key: password, optional: true}}
                    envFrom:
                    - configMapRef: {name: settings}
                    - prefix: S_
                      secretRef: {name: creds}
                    volumeMounts:
                    - {name: config, mountPath: /etc/app, readOnly: true}
                    - {name: secret, mountPath: /etc/creds}
                    - {name: scratch, mountPath: /scratch, subPath: sub}
                    - {name: info, mountPath: /etc/podinfo}
                    - {name: host, mountPath: /host}
                  - name: side
                    image: busybox
                    command: [sh, -c, 'exec sleep 600']
                  volumes:
                  - {name: config, configMap: {name: settings}}
                  - {name: secret, secret: {secretName: creds}}
                  - {name: scratch, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
                  - name: info
                    downwardAPI:
                      items:
                      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
                      - {path: cpu, resourceFieldRef: {containerName: web, resource: limits.cpu}}
                  - {name: host, hostPath: {path: /tmp, type: Directory}}
                """);
        awaitPod("full", p -> "Running".equals(p.getStatus().getPhase()) && ready(p));
        assertSameAsKubectl("full");
    }

    @Test
    void aPodTheSchedulerCannotPlace() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: unplaced
                  annotations:
                    a.example.com/multi: "first\\nsecond\\n"
                    b.example.com/long: "%s"
                spec:
                  nodeSelector: {disk: ssd, zone: a}
                  tolerations:
                  - {key: dedicated, operator: Equal, value: db, effect: NoSchedule}
                  - {operator: Exists}
                  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
                  containers:
                  - name: main
                    image: busybox
                    command: [sh, -c, 'exec sleep 600']
                    resources:
                      limits: {cpu: 100m, memory: 16Mi}
                """.formatted("0123456789".repeat(15)));
        awaitPod("unplaced", p -> p.getStatus() != null && p.getStatus().getConditions() != null
                && p.getStatus().getConditions().stream().anyMatch(c -> c.getType().equals("PodScheduled")));
        assertSameAsKubectl("unplaced");
    }

    @Test
    void aPodWithPriorityAServiceAccountAndItsOwnTerminationGrace() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: special
                spec:
                  priorityClassName: system-cluster-critical
                  serviceAccountName: builder
                  containers:
                  - name: main
                    image: busybox
                    command: [sh, -c, 'exec sleep 600']
                    ports:
                    - {containerPort: 18081, hostPort: 18081}
                    livenessProbe:
                      tcpSocket: {port: 18081}
                      initialDelaySeconds: 300
                      timeoutSeconds: 3
                """);
        awaitPod("special", p -> "Running".equals(p.getStatus().getPhase()));
        assertSameAsKubectl("special");
    }

    @Test
    void gatesSpreadConstraintsSeccompPodResourcesAndVolumesNoLocalNodeMounts() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: exotic
                  labels: {app: exotic, x: "y"}
                  annotations: {x.example.com/unicode: "héllo wörld ✓"}
                spec:
                  readinessGates:
                  - conditionType: example.com/ready
                  - conditionType: Ready
                  topologySpreadConstraints:
                  - maxSkew: 1
                    topologyKey: zone
                    whenUnsatisfiable: ScheduleAnyway
                    labelSelector:
                      matchLabels: {app: exotic}
                      matchExpressions:
                      - {key: tier, operator: In, values: [web, api]}
                  - {maxSkew: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule}
                  securityContext:
                    seccompProfile: {type: RuntimeDefault}
                  resources:
                    requests: {cpu: 100m, memory: 1Gi}
                    limits: {cpu: 100m, memory: 1Gi}
                  containers:
                  - name: main
                    image: busybox
                    command: [sh, -c, 'exec sleep 600']
                    securityContext:
                      seccompProfile: {type: Localhost, localhostProfile: profiles/x.json}
                    readinessProbe:
                      grpc: {port: 9000, service: ""}
                    livenessProbe:
                      httpGet: {path: /h, port: 8080, scheme: HTTPS, host: "::1"}
                      initialDelaySeconds: 300
                    env:
                    - name: LABEL
                      valueFrom: {fieldRef: {fieldPath: "metadata.labels['x']"}}
                    - name: NAMESPACE
                      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
                    - name: EMPTY
                      value: ""
                    volumeMounts:
                    - {name: proj, mountPath: /proj}
                  volumes:
                  - name: proj
                    projected:
                      sources:
                      - serviceAccountToken: {path: token, expirationSeconds: 3600}
                      - downwardAPI:
                          items:
                          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
                  - {name: claim, persistentVolumeClaim: {claimName: data, readOnly: true}}
                  - {name: csi, csi: {driver: example.csi.io, volumeAttributes: {b: "2", a: "1"}}}
                  - {name: nfs, nfs: {server: nfs.example.com, path: /export}}
                """);
        awaitPod("exotic", p -> started(p));
        assertSameAsKubectl("exotic");
    }

    @Test
    void aSidecarWithAProbeBesideTheApp() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: sidecar
                spec:
                  initContainers:
                  - name: proxy
                    image: busybox
                    restartPolicy: Always
                    command: [sh, -c, 'exec sleep 600']
                    startupProbe:
                      exec: {command: ['true']}
                      periodSeconds: 1
                  containers:
                  - name: app
                    image: busybox
                    command: [sh, -c, 'exec sleep 600']
                """);
        awaitPod("sidecar", p -> "Running".equals(p.getStatus().getPhase()) && ready(p));
        assertSameAsKubectl("sidecar");
    }

    @Test
    void aFailedPodThatNeverRestarts() {
        cluster.apply(TestCluster.shellPod("failed", "Never", "exit 7"));
        awaitPod("failed", p -> "Failed".equals(p.getStatus().getPhase()));
        assertSameAsKubectl("failed");
    }

    @Test
    void aTerminatingPod() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: stubborn
                spec:
                  terminationGracePeriodSeconds: 60
                  containers:
                  - name: main
                    image: busybox
                    command: [sh, -c, "trap '' TERM; echo ignoring TERM; while true; do sleep 0.2; done"]
                """);
        awaitPod("stubborn", p -> "Running".equals(p.getStatus().getPhase()) && ready(p));
        // a SIGTERM that comes before the shell has run its trap ends it (once in a CI run, on a loaded machine):
        // deleted only once it says it ignores them
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(cluster.log("stubborn")).contains("ignoring TERM"));
        cluster.delete(ResourceKind.POD, "stubborn");
        awaitPod("stubborn", p -> p.getMetadata().getDeletionTimestamp() != null);
        assertSameAsKubectl("stubborn");
    }

    /**
     * Both outputs, byte for byte. Ages ("3s" in the Events table, "lasts" of a terminating pod) are
     * whole seconds since a timestamp, so two runs a moment apart can straddle a second; a pod
     * that restarts in between changes too. So the pair is run again, from the start of a fresh
     * second, until one pair agrees, and the last pair must: a real difference never agrees,
     * so nothing is weakened.
     */
    private static void assertSameAsKubectl(String pod) {
        String expected = null;
        String actual = null;
        for (int attempt = 0; attempt < 6; attempt++) {
            sleepToNextSecond();
            expected = kubectl.run("describe", "pod", pod).ok();
            CliDriver.Result ours = cli.run("describe", "pod", pod);
            assertThat(ours.exitCode()).as(ours.err()).isZero();
            actual = ours.out();
            if (actual.equals(expected)) {
                return;
            }
        }
        assertThat(actual).as("portway describe pod %s, against kubectl's", pod).isEqualTo(expected);
    }

    /** Waits for the start of the next wall-clock second, when both runs have the most time to fall in the same one. */
    private static void sleepToNextSecond() {
        long next = (System.currentTimeMillis() / 1000 + 1) * 1000 + 20;
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(5)).until(() -> System.currentTimeMillis() >= next);
    }

    private static void awaitPod(String name, Predicate<Pod> state) {
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
            Pod p = cluster.pod(name);
            assertThat(state.test(p)).as("pod %s, status %s", name, dev.portway.api.Json.write(p.getStatus())).isTrue();
        });
    }

    private static boolean started(Pod p) {
        return p.getStatus() != null && p.getStatus().getContainerStatuses() != null && !p.getStatus().getContainerStatuses().isEmpty();
    }

    private static boolean ready(Pod p) {
        return started(p) && p.getStatus().getContainerStatuses().stream().allMatch(s -> Boolean.TRUE.equals(s.getReady()));
    }

    private static int restarts(Pod p) {
        return p.getStatus().getContainerStatuses().stream().mapToInt(s -> s.getRestartCount() == null ? 0 : s.getRestartCount()).sum();
    }
}
