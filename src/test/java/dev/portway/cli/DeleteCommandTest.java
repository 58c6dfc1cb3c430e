package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.runtime.LocalCluster;
import dev.portway.runtime.LocalClusterOptions;
import io.fabric8.kubernetes.api.model.Service;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Names the CLI puts in a path are refused as client-go refuses them, before anything is sent. The
 * API server reads {@code .../services/} as the collection, as kube-apiserver does: {@code portway
 * delete svc "$NAME"} with {@code $NAME} empty deleted every Service of the namespace.
 */
class DeleteCommandTest {

    private static LocalCluster cluster;
    private static Cli cli;

    @BeforeAll
    static void start() throws Exception {
        cluster = new LocalCluster(LocalClusterOptions.defaults()).start();
        cli = new Cli(Clock.systemUTC(), cluster);
        applyServices("a", "b");
    }

    private static void applyServices(String... names) {
        StringBuilder yaml = new StringBuilder();
        for (String name : names) {
            yaml.append("---\napiVersion: v1\nkind: Service\nmetadata: {name: ").append(name).append("}\nspec:\n  ports: [{port: 80}]\n");
        }
        Cli.Result applied = cli.runWithInput(yaml.toString(), "apply", "-f", "-");
        assertThat(applied.exitCode()).as(applied.err()).isZero();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static void refused(Cli.Result r, String message) {
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: " + message + "\n");
        assertThat(cluster.control().call(() -> cluster.control().store().list(Service.class, "default")))
                .extracting(s -> s.getMetadata().getName()).contains("a", "b");
    }

    @Test
    void anEmptyNameOrOneThatIsNoPathSegmentIsRefusedAndNothingIsDeleted() {
        refused(cli.run("delete", "svc", ""), "resource name may not be empty");
        refused(cli.run("delete", "svc/"), "arguments in resource/name form must have a single resource and name");
        refused(cli.run("delete", "svc/a/b"), "arguments in resource/name form may not have more than one slash");
        // a name with a ? in it is one segment, percent-encoded: it named the collection (the path before the query)
        Cli.Result question = cli.run("delete", "svc", "?");
        assertThat(question.exitCode()).isEqualTo(1);
        assertThat(question.err()).isEqualTo("Error from server (NotFound): services \"?\" not found\n");
        assertThat(cluster.control().call(() -> cluster.control().store().list(Service.class, "default"))).hasSize(2); // a and b
    }

    @Test
    void aManifestWithAnEmptyNameDeletesNothing() {
        refused(cli.runWithInput("""
                apiVersion: v1
                kind: Service
                metadata: {name: ""}
                """, "delete", "-f", "-"), "resource name may not be empty");
    }

    @Test
    void aTypeGivenApartAndThenWithANameIsRefusedWithKubectlsMessage() {
        refused(cli.run("delete", "svc/a", "b"), GetCommand.MIXED_FORMS);
        refused(cli.run("get", "svc/a", "b"), GetCommand.MIXED_FORMS);
        refused(cli.run("delete", "svc", "svc/a"), GetCommand.MIXED_FORMS);
        refused(cli.run("get", "svc", "svc/a"), GetCommand.MIXED_FORMS);
        refused(cli.run("delete", "svc", "a", "--force", "--grace-period=5"),
                "--force and --grace-period greater than 0 cannot be specified together");
    }

    /** As kubectl: one bad name fails itself, and the names after it are still deleted. */
    @Test
    void aBadNameAmongOthersFailsAloneAndTheNamespaceOptionMeansNothingToNodes() {
        applyServices("x1", "x2");
        Cli.Result r = cli.run("delete", "svc", "x1", "", "x2");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).isEqualTo("service \"x1\" deleted\nservice \"x2\" deleted\n");
        assertThat(r.err()).isEqualTo("error: resource name may not be empty\n");

        Cli.Result node = cli.run("get", "node", "node1", "-n", "a/b");
        assertThat(node.exitCode()).as(node.err()).isZero();
        assertThat(cli.run("get", "svc", "a", "-n", "").exitCode()).as("an empty -n is default").isZero();
    }

    @Test
    void namesThatAreNoPathSegmentAreRefused() {
        refused(cli.run("get", "svc", ".."), "invalid resource name \"..\": [may not be '..']");
        refused(cli.run("delete", "svc", "x%2F"), "invalid resource name \"x%2F\": [may not contain '%']");
        refused(cli.run("get", "svc", "a", "-n", "x/y"), "invalid namespace \"x/y\": [may not contain '/']");
    }
    /**
     * kubectl's grace-period rules: negative (its default, -1) is each pod's own
     * terminationGracePeriodSeconds, not 1 second; --now with --grace-period is an error; 0 is 1
     * without --force.
     */
    @Test
    void aNegativeGracePeriodIsThePodsOwn() {
        Cli.Result applied = cli.runWithInput(dev.portway.testing.TestCluster.shellPod("patient", "Never", "trap \"\" TERM; echo ignoring TERM; sleep 600")
                .replace("  restartPolicy: Never\n", "  restartPolicy: Never\n  terminationGracePeriodSeconds: 6\n"), "apply", "-f", "-");
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> cluster.control().call(() ->
                cluster.control().store().get(io.fabric8.kubernetes.api.model.Pod.class, "default", "patient")
                        .map(p -> "Running".equals(p.getStatus().getPhase())).orElse(false)));
        // a SIGTERM that comes before the shell has run its trap ends it (on a loaded machine): deleted only once
        // it says it ignores them
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                .until(() -> cli.run("logs", "patient").out().contains("ignoring TERM"));

        Cli.Result both = cli.run("delete", "pod", "patient", "--now", "--grace-period", "3");
        assertThat(both.exitCode()).isEqualTo(1);
        assertThat(both.err()).isEqualTo("error: --now and --grace-period cannot be specified together\n");

        assertThat(cli.run("delete", "pod", "patient", "--grace-period=-1").exitCode()).isZero();
        long since = System.nanoTime();
        org.awaitility.Awaitility.await().pollDelay(java.time.Duration.ofSeconds(3)).atMost(java.time.Duration.ofSeconds(5)).until(() -> true);
        assertThat(System.nanoTime() - since).isGreaterThan(2_900_000_000L);
        assertThat(cluster.control().call(() -> cluster.control().store().get(io.fabric8.kubernetes.api.model.Pod.class, "default", "patient")))
                .as("still stopping 3 s on: its own grace period is 6 s, not 1").isPresent();
    }
}
