package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** What a local pod's process gets: variables, expansion, and volumes at their rewritten mount paths. */
class PodEnvironmentTest {

    @Nested
    class Expansion {

        @Test
        void expandsDefinedNamesKeepsUndefinedOnesAndUnescapesDollars() throws PodEnvironment.ConfigError {
            Map<String, String> env = Map.of("POD_IP", "127.1.1.2", "PORT", "9090");
            assertThat(PodEnvironment.expand("--web.listen-address=$(POD_IP):$(PORT)", env))
                    .isEqualTo("--web.listen-address=127.1.1.2:9090");
            assertThat(PodEnvironment.expand("$(MISSING) stays", env)).isEqualTo("$(MISSING) stays");
            assertThat(PodEnvironment.expand("$$(POD_IP) is escaped, $$$(PORT) is not", env))
                    .isEqualTo("$(POD_IP) is escaped, $9090 is not");
            assertThat(PodEnvironment.expand("a lone $ and $( unclosed", env)).isEqualTo("a lone $ and $( unclosed");
            assertThat(PodEnvironment.undefinedReferences(List.of("$(POD_IP) $(NOPE) $$(ESCAPED) $(not a name)"), env))
                    .containsExactly("NOPE");
        }

        @Test
        void mountPathsAreRewrittenWhereTheyStandAsPaths() {
            var mounts = List.of(Map.entry("/etc/prometheus", Path.of("/tmp/p/volumes/config")),
                    Map.entry("/etc", Path.of("/tmp/p/volumes/etc")));
            assertThat(PodVolumes.rewrite("--config.file=/etc/prometheus/prometheus.yml", mounts))
                    .isEqualTo("--config.file=/tmp/p/volumes/config/prometheus.yml");
            assertThat(PodVolumes.rewrite("/etc/hosts", mounts)).isEqualTo("/tmp/p/volumes/etc/hosts");
            assertThat(PodVolumes.rewrite("/etcetera /usr/etc/x", mounts)).isEqualTo("/etcetera /usr/etc/x");
            assertThat(PodVolumes.rewrite("cat '/etc/prometheus' \"/etc\"", mounts))
                    .isEqualTo("cat '/tmp/p/volumes/config' \"/tmp/p/volumes/etc\"");
        }
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
    void aProcessSeesItsVariablesAndItsVolumes() {
        cluster.apply("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: my-db
                spec:
                  selector: {app: db}
                  ports:
                  - {name: sql, port: 5432}
                ---
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
                  password: s3cret
                ---
                apiVersion: v1
                kind: Pod
                metadata:
                  name: env-dump
                  labels: {app: dump, tier: back}
                spec:
                  restartPolicy: Never
                  containers:
                  - name: main
                    image: busybox
                    command: [sh, -c]
                    args:
                    - |
                      echo "ip=$(MY_IP) node=$(NODE) tier=$(TIER) greeting=$GREETING"
                      echo 'escaped=$$(MY_IP)'
                      echo "mode=$MODE cfg_mode=$CFG_MODE pass=$DB_PASSWORD host=$HOSTNAME"
                      echo "db=$MY_DB_SERVICE_HOST:$MY_DB_SERVICE_PORT_SQL link=$MY_DB_PORT"
                      echo "conf=$(cat /etc/app/app.conf) secret=$(cat /etc/creds/pw) mode=$(stat -c %a /etc/creds/pw)"
                      echo "labels=$(cat /etc/podinfo/labels) data=$DATA_DIR var=$PORTWAY_VOLUME_SCRATCH"
                      echo "pwd=$(pwd)"
                    env:
                    - {name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
                    - {name: TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
                    - {name: GREETING, value: "hello from $(NODE)"}
                    - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
                    - {name: DATA_DIR, value: /data/cache}
                    envFrom:
                    - configMapRef: {name: settings}
                    - configMapRef: {name: settings}
                      prefix: CFG_
                    volumeMounts:
                    - {name: config, mountPath: /etc/app}
                    - {name: creds, mountPath: /etc/creds, readOnly: true}
                    - {name: podinfo, mountPath: /etc/podinfo}
                    - {name: scratch, mountPath: /data}
                  volumes:
                  - name: config
                    configMap: {name: settings, items: [{key: app.conf, path: app.conf}]}
                  - name: creds
                    secret: {secretName: creds, defaultMode: 0400, items: [{key: password, path: pw}]}
                  - name: podinfo
                    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: "metadata.labels['app']"}}]}
                  - name: scratch
                    emptyDir: {}
                """);
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(cluster.pod("env-dump").getStatus().getPhase()));
        Pod pod = cluster.pod("env-dump");
        String ip = pod.getStatus().getPodIP();
        String node = pod.getSpec().getNodeName();
        String dbIp = cluster.clusterIp("my-db");
        Path podDir = cluster.local().kubelet().stateDir().resolve("pods").resolve("default_env-dump_" + pod.getMetadata().getUid());

        assertThat(cluster.log("env-dump")).isEqualTo("""
                ip=%1$s node=%2$s tier=back greeting=hello from %2$s
                escaped=$(MY_IP)
                mode=fast cfg_mode=fast pass=s3cret host=env-dump
                db=%3$s:5432 link=tcp://%3$s:5432
                conf=listen = 8080 secret=s3cret mode=400
                labels=dump data=%4$s/volumes/scratch/cache var=%4$s/volumes/scratch
                pwd=%4$s/containers/main
                """.formatted(ip, node, dbIp, podDir));
    }

    /**
     * Each {@code $(NAME)} may double the variable before it: a chain of 40 short lines expands to
     * a terabyte, and expanding it filled the heap of the process that serves the API. What exec
     * would refuse anyway (one variable or word past 128 KiB, an environment past 2 MiB) is now a
     * CreateContainerConfigError, as a missing ConfigMap is.
     */
    @Test
    void aVariableThatExpandsPastWhatExecTakesHoldsTheContainer() {
        StringBuilder env = new StringBuilder("    - {name: A0, value: " + "x".repeat(1000) + "}\n");
        for (int i = 1; i <= 40; i++) {
            env.append("    - {name: A").append(i).append(", value: \"$(A").append(i - 1).append(")$(A").append(i - 1).append(")\"}\n");
        }
        StringBuilder many = new StringBuilder("    - {name: A0, value: " + "x".repeat(1000) + "}\n");
        for (int i = 1; i <= 7; i++) {
            many.append("    - {name: A").append(i).append(", value: \"$(A").append(i - 1).append(")$(A").append(i - 1).append(")\"}\n");
        }
        for (int i = 0; i < 20; i++) {
            many.append("    - {name: B").append(i).append(", value: \"$(A7)\"}\n");
        }
        String chain = many.substring(0, many.indexOf("    - {name: B"));
        cluster.apply(pod("doubles", env.toString(), ""));
        cluster.apply(pod("many", many.toString(), ""));
        cluster.apply(pod("long-word", chain, "    args: [\"$(A7)$(A7)\"]\n"));
        cluster.apply(pod("long-probe", chain, """
                    readinessProbe:
                      exec: {command: [echo, "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)", "$(A7)"]}
                """));
        assertThat(configError("doubles")).isEqualTo("env A8: expands to more than 131072 characters, more than exec takes");
        assertThat(configError("many")).isEqualTo("the container's environment comes to more than 2097152 characters, more than exec takes");
        assertThat(configError("long-word")).isEqualTo("command and args[3]: expands to more than 131072 characters, more than exec takes");
        assertThat(configError("long-probe"))
                .isEqualTo("readinessProbe.exec.command: comes to more than 2097152 characters, more than exec takes");
    }

    private static String pod(String name, String env, String more) {
        return TestCluster.shellPod(name, "Never", "echo started") + "    env:\n" + env + more;
    }

    /** The message of the CreateContainerConfigError the pod's container waits in. */
    private static String configError(String name) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            var s = cluster.pod(name).getStatus().getContainerStatuses();
            return s != null && s.getFirst().getState().getWaiting() != null
                    && "CreateContainerConfigError".equals(s.getFirst().getState().getWaiting().getReason());
        });
        return cluster.pod(name).getStatus().getContainerStatuses().getFirst().getState().getWaiting().getMessage();
    }

    @Test
    void aMissingConfigMapHoldsTheContainerUntilItExists() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: waits-for-config
                spec:
                  restartPolicy: Never
                  containers:
                  - name: main
                    image: busybox
                    command: [sh, -c, 'echo "level=$LEVEL"']
                    env:
                    - {name: LEVEL, valueFrom: {configMapKeyRef: {name: later, key: level}}}
                """);
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            var s = cluster.pod("waits-for-config").getStatus().getContainerStatuses();
            return s != null && s.getFirst().getState().getWaiting() != null
                    && "CreateContainerConfigError".equals(s.getFirst().getState().getWaiting().getReason());
        });
        assertThat(cluster.pod("waits-for-config").getStatus().getContainerStatuses().getFirst().getState().getWaiting().getMessage())
                .isEqualTo("configmap \"later\" not found");
        cluster.apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: later
                data:
                  level: debug
                """);
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(cluster.pod("waits-for-config").getStatus().getPhase()));
        assertThat(cluster.log("waits-for-config")).isEqualTo("level=debug\n");
    }
}
