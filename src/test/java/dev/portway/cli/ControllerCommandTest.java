package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.StandInCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code portway controller} says before it starts, when it cannot: at once, and what to fix. */
class ControllerCommandTest {

    private static final String POOL = StandInCluster.pool("127.0.62.30/32");

    @TempDir
    Path dir;

    private Cli.Result run(String... args) {
        return new Cli(Clock.systemUTC(), (String) null).run(args);
    }

    @Test
    void onlyPoolsAreTaken() throws Exception {
        Path file = Files.writeString(dir.resolve("svc.yaml"), POOL + """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  ports: [{port: 80}]
                """);
        Cli.Result r = run("controller", "-f", file.toString(), "--kubeconfig", "/nonexistent");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("error: Service web: portway controller takes IPAddressPools only");
    }

    @Test
    void aMissingKubeconfigIsToldAsSuch() throws Exception {
        Path pools = Files.writeString(dir.resolve("pools.yaml"), POOL);
        Cli.Result r = run("controller", "-f", pools.toString(), "--kubeconfig", dir.resolve("missing").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("error: cannot read the kubeconfig " + dir.resolve("missing") + ": no such file, or not readable");
    }

    @Test
    void anUnreachableApiServerIsToldAtOnce() throws Exception {
        Path pools = Files.writeString(dir.resolve("pools.yaml"), POOL);
        Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), """
                apiVersion: v1
                kind: Config
                clusters:
                - name: c
                  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
                users:
                - name: u
                  user: {token: abc}
                contexts:
                - name: x
                  context: {cluster: c, user: u}
                current-context: x
                """);
        long start = System.nanoTime();
        Cli.Result r = run("controller", "-f", pools.toString(), "--kubeconfig", kubeconfig.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("error: cannot reach the API server at https://127.0.0.1:1/: cannot connect");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).as("no retries").isLessThan(java.time.Duration.ofSeconds(10));
    }

    @Test
    void anInvalidPoolIsToldAsApplyTellsIt() throws Exception {
        Path pools = Files.writeString(dir.resolve("pools.yaml"), POOL.replace("127.0.62.30/32", "not-an-address"));
        Cli.Result r = run("controller", "-f", pools.toString(), "--kubeconfig", "/nonexistent");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("IPAddressPool").contains("not-an-address");
    }
}
