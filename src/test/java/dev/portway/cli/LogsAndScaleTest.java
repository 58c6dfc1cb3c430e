package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code portway logs} and {@code portway scale} against a running local cluster. */
class LogsAndScaleTest {

    private static TestCluster cluster;
    private static Cli cli;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster(TestCluster.options()
                .withKubelet(TestCluster.options().kubelet().withBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)).withLogLimits(2048, 2)));
        cli = new Cli(Clock.systemUTC(), cluster.local());
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static void pod(String name, String policy, String script) {
        cluster.apply(TestCluster.shellPod(name, policy, script));
    }

    private static String phase(String pod) {
        var status = cluster.pod(pod).getStatus();
        return status == null ? "" : status.getPhase();
    }

    @Test
    void logsPrintsStdoutAndStderrAndTheTail() {
        pod("talker", "Never", "for i in 1 2 3 4 5; do echo out $i; done; echo err >&2");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(phase("talker")));
        assertThat(cli.run("logs", "talker").out()).isEqualTo("out 1\nout 2\nout 3\nout 4\nout 5\nerr\n");
        assertThat(cli.run("logs", "talker", "--tail", "2").out()).isEqualTo("out 5\nerr\n");
        assertThat(cli.run("logs", "pod/talker", "-c", "app", "--tail=1").out()).isEqualTo("err\n");
    }

    @Test
    void sinceAndTimestampsFollowTheTimeEachLineWasWritten() {
        pod("stamped", "Never", "echo early; sleep 2; echo late");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(phase("stamped")));
        String stamped = cli.run("logs", "stamped", "--timestamps").out();
        assertThat(stamped.lines()).hasSize(2).allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z (early|late)"));
        java.time.Instant early = java.time.Instant.parse(stamped.lines().toList().get(0).split(" ")[0]);
        java.time.Instant late = java.time.Instant.parse(stamped.lines().toList().get(1).split(" ")[0]);
        assertThat(Duration.between(early, late)).isBetween(Duration.ofMillis(1500), Duration.ofSeconds(10));
        // the lines written at or after a time (the kubelet's --since-time), and those of the last hour
        assertThat(cli.run("logs", "stamped", "--since-time", late.toString()).out()).isEqualTo("late\n");
        assertThat(cli.run("logs", "stamped", "--since-time", late.plusSeconds(60).toString()).out()).isEmpty();
        assertThat(cli.run("logs", "stamped", "--since", "1h").out()).isEqualTo("early\nlate\n");
        assertThat(cli.run("logs", "stamped", "--limit-bytes", "3").out()).isEqualTo("ear");
        // kubectl's and the API server's refusals
        assertThat(cli.run("logs", "stamped", "--since", "5s", "--since-time", late.toString()).err())
                .isEqualTo("error: at most one of `sinceTime` or `sinceSeconds` may be specified\n");
        assertThat(cli.run("logs", "stamped", "--since", "soon").err()).startsWith("error: invalid argument \"soon\" for \"--since\" flag");
    }

    @Test
    void previousIsTheRunBeforeTheLastRestart() {
        // run 1 fails, run 2 succeeds (OnFailure): a counter in the pod's working directory tells them apart
        pod("twice", "OnFailure", "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo run $n; [ $n -ge 2 ]");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(phase("twice")));
        assertThat(cli.run("logs", "twice").out()).isEqualTo("run 2\n");
        assertThat(cli.run("logs", "twice", "--previous").out()).isEqualTo("run 1\n");

        pod("once", "Never", "echo only");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(phase("once")));
        Cli.Result none = cli.run("logs", "once", "-p");
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.err()).isEqualTo("Error from server (BadRequest): previous terminated container \"app\" in pod \"once\" not found\n");
    }

    @Test
    void duringCrashLoopBackOffPreviousIsTheRunThatJustEnded() {
        pod("looping", "Always", "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo run $n; exit 1");
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            var before = cluster.pod("looping").getStatus().getContainerStatuses().getFirst();
            assertThat(before.getRestartCount()).isGreaterThanOrEqualTo(2);
            assertThat(before.getState().getWaiting()).isNotNull();
            String previous = cli.run("logs", "looping", "-p").out();
            String current = cli.run("logs", "looping").out();
            var after = cluster.pod("looping").getStatus().getContainerStatuses().getFirst();
            // a consistent view: still waiting after the same run
            assertThat(after.getRestartCount()).isEqualTo(before.getRestartCount());
            assertThat(after.getState().getWaiting()).isNotNull();
            assertThat(previous).isEqualTo("run " + (before.getRestartCount() + 1) + "\n");
            assertThat(current).isEqualTo(previous);
        });
    }

    @Test
    void aLivenessKilledEchoContainerEndsItsFollowedLogAndRestartsUnderOnFailure() throws Exception {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: sick-echo
                spec:
                  restartPolicy: OnFailure
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: echo
                    image: portway/echo
                    ports:
                    - {containerPort: 8080}
                    livenessProbe:
                      httpGet: {path: "/?status=500", port: 8080}
                      initialDelaySeconds: 1
                      periodSeconds: 1
                      failureThreshold: 1
                """);
        await().atMost(Duration.ofSeconds(10)).until(() -> "Running".equals(phase("sick-echo")));
        CompletableFuture<Cli.Result> follow = CompletableFuture.supplyAsync(() -> cli.run("logs", "-f", "sick-echo"),
                task -> Thread.ofVirtual().start(task));
        Cli.Result r = follow.get(15, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.out()).startsWith("portway/echo: serving tcp ");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                cluster.pod("sick-echo").getStatus().getContainerStatuses().getFirst().getRestartCount() >= 1);
    }

    @Test
    void followPrintsLinesAsTheyComeUntilTheContainerEnds() throws Exception {
        pod("ticker", "Never", "for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.2; done");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Running".equals(phase("ticker")));
        long began = System.nanoTime();
        CompletableFuture<Cli.Result> follow = CompletableFuture.supplyAsync(() -> cli.run("logs", "-f", "ticker"),
                task -> Thread.ofVirtual().start(task));
        Cli.Result r = follow.get(15, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\ntick 7\ntick 8\n");
        // it returned when the run ended, not at once
        assertThat((System.nanoTime() - began) / 1_000_000).isGreaterThan(500);
    }

    @Test
    void aLogOverTheCapIsRotatedAndTheOldestDropped() {
        // 200 lines of 32 bytes: 6400 bytes against 2 files of 2048
        pod("chatty", "Never", "i=100; while [ $i -lt 300 ]; do echo \"line $i .....................\"; i=$((i+1)); done");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(phase("chatty")));
        String out = cli.run("logs", "chatty").out();
        assertThat(out).endsWith("line 299 .....................\n").doesNotContain("line 100 ");
        assertThat(out.length()).isBetween(2049, 4096);
    }

    /**
     * A plain read answers what the log holds when asked, however fast it grows: it was read whole
     * into memory on the API's event loop, catching up with the writer before answering. And
     * {@code limitBytes} and {@code tailLines} are judged as the API server judges them.
     */
    @Test
    void aLogReadEndsWhereTheLogStoodAndLogOptionsAreJudgedAsTheApiServerDoes() throws Exception {
        dev.portway.testing.AdminHttp http = new dev.portway.testing.AdminHttp(cluster.local());
        pod("limited", "Never", "echo out 1; echo out 2");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(phase("limited")));
        String path = "/api/v1/namespaces/default/pods/limited/log";
        assertThat(http.get(path + "?limitBytes=6").body()).isEqualTo("out 1\n");
        assertThat(http.get(path + "?limitBytes=600").body()).isEqualTo("out 1\nout 2\n");
        var zero = http.get(path + "?limitBytes=0");
        assertThat(zero.statusCode()).isEqualTo(422);
        assertThat(zero.body()).contains("PodLogOptions \\\"limited\\\" is invalid: limitBytes: Invalid value: 0: must be greater than 0");
        // an HTTP/1.0 client reads no chunks: its answer ends with the connection
        java.net.InetSocketAddress admin = cluster.local().adminAddress();
        String old = http.raw("GET " + path + " HTTP/1.0\r\nHost: " + admin.getHostString() + ":" + admin.getPort()
                + "\r\nAuthorization: Bearer " + cluster.local().credentials().token() + "\r\n\r\n");
        assertThat(old.toLowerCase(java.util.Locale.ROOT)).startsWith("http/1.1 200").doesNotContain("transfer-encoding")
                .endsWith("\r\n\r\nout 1\nout 2\n");
        var negative = http.get(path + "?tailLines=-1");
        assertThat(negative.statusCode()).isEqualTo(422);
        assertThat(negative.body()).contains("tailLines: Invalid value: -1: must be greater than or equal to 0");

        pod("endless", "Never", "while :; do echo yes yes yes yes yes yes yes yes yes yes yes yes; done");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> cluster.log("endless").length() > 0);
            for (int i = 0; i < 3; i++) {
                var r = http.get("/api/v1/namespaces/default/pods/endless/log");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("yes yes");
            }
        } finally {
            cluster.delete(dev.portway.api.ResourceKind.POD, "endless");
        }
    }

    /**
     * A finished pod gives its address back (its logs stay readable): kept, finished pods took a
     * node's 253 addresses, and pods the scheduler placed there waited with none left.
     */
    @Test
    void aFinishedPodGivesItsAddressBackAndKeepsItsLog() {
        int before = cluster.local().control().call(() ->
                cluster.local().nodes().stream().mapToInt(dev.portway.runtime.LocalNode::podIpsInUse).sum());
        pod("finisher", "Never", "echo done");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Succeeded".equals(phase("finisher")));
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.local().control().call(() ->
                cluster.local().nodes().stream().mapToInt(dev.portway.runtime.LocalNode::podIpsInUse).sum()) <= before);
        assertThat(cli.run("logs", "finisher").out()).isEqualTo("done\n");

        // a status write that only claims the pod finished frees nothing: its processes still run on the address
        pod("claimed", "Never", "sleep 600");
        await().atMost(Duration.ofSeconds(10)).until(() -> "Running".equals(phase("claimed")));
        int running = cluster.local().control().call(() ->
                cluster.local().nodes().stream().mapToInt(dev.portway.runtime.LocalNode::podIpsInUse).sum());
        var patched = new dev.portway.testing.AdminHttp(cluster.local()).patch("/api/v1/namespaces/default/pods/claimed/status",
                "application/merge-patch+json", "{\"status\":{\"phase\":\"Succeeded\"}}");
        assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
        cluster.local().control().awaitIdle();
        assertThat(cluster.local().control().call(() ->
                cluster.local().nodes().stream().mapToInt(dev.portway.runtime.LocalNode::podIpsInUse).sum())).isEqualTo(running);
        cluster.delete(dev.portway.api.ResourceKind.POD, "claimed");
    }

    @Test
    void logsErrorsAreTheApiServers() {
        cluster.apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: two
                spec:
                  containers:
                  - {name: a, image: busybox, command: [sleep, '600']}
                  - {name: b, image: busybox, command: [sleep, '600']}
                """);
        assertThat(cli.run("logs", "two").err())
                .isEqualTo("Error from server (BadRequest): a container name must be specified for pod two, choose one of: [a b]\n");
        assertThat(cli.run("logs", "two", "-c", "c").err())
                .isEqualTo("Error from server (BadRequest): container c is not valid for pod two\n");
        assertThat(cli.run("logs", "nope").err()).isEqualTo("Error from server (NotFound): pods \"nope\" not found\n");
    }

    @Test
    void scaleChangesTheReplicasOfADeployment() {
        cluster.apply(TestCluster.echoDeployment("scaled", 2, null));
        cluster.awaitReady("scaled", 2);
        Cli.Result r = cli.run("scale", "deploy", "scaled", "--replicas", "4");
        assertThat(r.out()).isEqualTo("deployment.apps/scaled scaled\n");
        cluster.awaitReady("scaled", 4);
        assertThat(cli.run("scale", "deployment/scaled", "--replicas=1").out()).isEqualTo("deployment.apps/scaled scaled\n");
        cluster.awaitReady("scaled", 1);
        assertThat(cluster.local().store().get(Deployment.class, "default", "scaled").orElseThrow().getSpec().getReplicas()).isEqualTo(1);
        Cli.Result wrong = cli.run("scale", "deploy", "scaled", "--replicas=3", "--current-replicas=2");
        assertThat(wrong.exitCode()).isEqualTo(1);
        assertThat(wrong.err()).isEqualTo("error: Expected replicas to be 2, was 1\n");
        assertThat(cli.run("scale", "deploy", "missing", "--replicas=3").err())
                .isEqualTo("Error from server (NotFound): deployments.apps \"missing\" not found\n");
        assertThat(cli.run("logs", "deployment/scaled").exitCode()).isZero();
    }
}
