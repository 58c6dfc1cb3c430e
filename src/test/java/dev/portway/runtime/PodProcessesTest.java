package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.api.ResourceKind;
import dev.portway.testing.Processes;
import dev.portway.testing.TestCluster;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A container's processes live in a PID namespace of their own, as in Kubernetes: they see and
 * signal none but theirs, and none of them outlives the container. Without it, every pod ran as
 * Portway's user among all of the machine's processes: it could kill Portway or another pod, and
 * a process that left its group ({@code setsid}, as daemons do) survived its pod's deletion.
 */
class PodProcessesTest {

    @Test
    void aProcessThatLeftItsGroupDiesWithItsContainer() throws Exception {
        String token = UUID.randomUUID().toString();
        try (TestCluster cluster = new TestCluster()) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            cluster.apply("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: daemon}
                    spec:
                      terminationGracePeriodSeconds: 60
                      containers:
                      - name: app
                        image: busybox
                        command: [sh, -c, 'setsid sleep 600 & echo started; exec sleep 600']
                        env:
                        - {name: ESCAPE_TOKEN, value: "%s"}
                    """.formatted(token));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("daemon").contains("started"));

            // the sleep has no SIGTERM handler: the init passes SIGTERM on, and the pod goes long before its grace period
            cluster.delete(ResourceKind.POD, "daemon");
            await().atMost(Duration.ofSeconds(15)).until(() -> cluster.local().store()
                    .get(io.fabric8.kubernetes.api.model.Pod.class, "default", "daemon").isEmpty());
            // the unshare that Portway started, the init, the sleep it runs, and the sleep that left their group
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(Processes.withEnvironment("ESCAPE_TOKEN", token))
                    .as("the pod's processes, the setsid sleep among them").isEmpty());
        } finally {
            for (long pid : Processes.withEnvironment("ESCAPE_TOKEN", token)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    /**
     * The pod's environment is the command's alone. The sandbox's own tools ({@code unshare}, its
     * init, {@code mount}, {@code setpriv}) run before the pod is fenced or with the capabilities
     * that could undo the fence, and a pod's variables steered them: a pod that preloaded a
     * library it wrote ({@code LD_PRELOAD}) ran that library there, with the admin token in sight.
     */
    @Test
    void thePodsEnvironmentIsTheCommandsAlone() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            cluster.apply("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: loader}
                    spec:
                      containers:
                      - name: app
                        image: busybox
                        command: [sh, -c, 'echo "bind=$LD_BIND_NOW quote=$QUOTE in $(pwd)"; tr "\\0" "\\n" < /proc/$$$$/environ | grep -E "^(my.var|IFS|SHELLOPTS|-x|PWD|OLDPWD)=" | sort; exec sleep 600']
                        env:
                        - {name: LD_BIND_NOW, value: "1"}
                        - {name: QUOTE, value: "it's \\"here\\" $HOME `x`"}
                        - {name: my.var, value: "dotted's"}
                        - {name: SHELLOPTS, value: xtrace}
                        - {name: IFS, value: ":"}
                        - {name: "-x", value: "y"}
                    """);
            // the echo's line and the sorted variables are two writes: the log is read once both are in (a CI run
            // once read it between them)
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(cluster.log("loader"))
                    .contains("bind=1 quote=it's \"here\" $HOME `x` in ")
                    .contains("IFS=:\n", "SHELLOPTS=xtrace\n", "my.var=dotted's\n", "-x=y\n"));
            String log = cluster.log("loader");
            assertThat(log).doesNotContain("+ ").doesNotContain("in /\n").doesNotContain("PWD=");
            String id = cluster.pod("loader").getStatus().getContainerStatuses().getFirst().getContainerID();
            long sandbox = Long.parseLong(id.substring("pid://".length()));
            ProcessHandle init = ProcessHandle.of(sandbox).orElseThrow().children().findFirst().orElseThrow();
            for (long pid : List.of(sandbox, init.pid())) {
                String env = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc", Long.toString(pid), "environ")),
                        java.nio.charset.StandardCharsets.UTF_8);
                assertThat(env.split("\0")).as("the environment of %d", pid)
                        .allMatch(v -> v.startsWith("PATH=") || v.startsWith("PORTWAY_POD_ENV_"));
            }
        }
    }

    /**
     * A pod deleted as it starts still gets SIGTERM: it used to reach the sandbox's init before
     * the init could pass it on (before its trap was set, which a PID 1 drops, or to the command's
     * process before that had left the init's shell), and the pod then waited its whole grace
     * period for SIGKILL.
     */
    @Test
    void aPodDeletedAsItStartsIsAskedToStop() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            for (int i = 0; i < 3; i++) {
                String name = "brief-" + i;
                cluster.apply("""
                        apiVersion: v1
                        kind: Pod
                        metadata: {name: %s}
                        spec:
                          terminationGracePeriodSeconds: 60
                          containers:
                          - {name: app, image: busybox, command: [sleep, "600"]}
                        """.formatted(name));
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(2)).until(() -> {
                    var statuses = cluster.pod(name).getStatus().getContainerStatuses();
                    return statuses != null && !statuses.isEmpty() && statuses.getFirst().getState().getRunning() != null;
                });
                cluster.delete(ResourceKind.POD, name);
                await().atMost(Duration.ofSeconds(20)).until(() -> cluster.local().store()
                        .get(io.fabric8.kubernetes.api.model.Pod.class, "default", name).isEmpty());
            }
        }
    }

    @Test
    void aPodSeesAndSignalsOnlyItsOwnProcesses() throws Exception {
        long portway = ProcessHandle.current().pid();
        try (TestCluster cluster = new TestCluster()) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            cluster.apply("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: nosy}
                    spec:
                      restartPolicy: Never
                      containers:
                      - name: app
                        image: busybox
                        command: [sh, -c, 'echo processes: $(ls /proc | grep -c "^[0-9]"); kill -0 %d 2>/dev/null && echo portway reached
                          || echo portway unreachable; echo $n $portway_n $wd; grep SigIgn /proc/self/status;
                          echo init: $(tr "\\0" " " < /proc/1/cmdline | grep -o portway-pod); echo done']
                        env: [{name: n, value: five}, {name: wd, value: mine}]
                    """.formatted(portway));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("nosy").contains("done"));
            String log = cluster.log("nosy");
            assertThat(log).contains("portway unreachable");
            // the init's own variables are not the command's, and the signals it sends to pods are handled as by default
            assertThat(log).contains("five mine\n");
            long ignored = Long.parseLong(log.lines().filter(l -> l.startsWith("SigIgn:")).findFirst().orElseThrow()
                    .substring("SigIgn:".length()).trim(), 16);
            assertThat(ignored & 0b110).as("SIGINT and SIGQUIT ignored (a shell's background job has them so)").isZero();
            Assumptions.assumeTrue(log.contains("init: portway-pod"), "the kernel did not let the sandbox mount a /proc of its own here");
            int seen = Integer.parseInt(log.lines().filter(l -> l.startsWith("processes: ")).findFirst().orElseThrow()
                    .substring("processes: ".length()).trim());
            assertThat(seen).as("the processes the pod sees in /proc: its init, its shell, ls and grep").isLessThanOrEqualTo(5);
        }
    }
}
