package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pods run as Portway's user, so without more they could read its state directory (the admin
 * token, the CA's key, the kubeconfig) and its data directory (every Secret of every namespace).
 * In the pods' sandbox each is an empty directory of their own, as a container sees none of the
 * node's files; Portway itself still reads and writes them.
 */
class PodsCannotReadCredentialsTest {

    @Test
    void theStateAndDataDirectoriesAreEmptyInsideAPod(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path data = dir.resolve("elsewhere-data");
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state).withDataDir(data))) {
            Assumptions.assumeTrue(cluster.local().kubelet().dns().active(), cluster.local().kubelet().dnsSummary());
            assertThat(state.resolve("token")).exists();
            assertThat(data).isNotEmptyDirectory();
            cluster.apply(TestCluster.shellPod("nosy", "Never", "echo state: $(ls -A " + state + "); echo data: $(ls -A " + data
                    + "); cat " + state.resolve("token") + " || echo no token; echo done"));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("nosy").contains("done"));
            String log = cluster.log("nosy");
            assertThat(log).contains("state:\n", "data:\n", "no token");
            assertThat(log).doesNotContain(Files.readString(state.resolve("token")).strip());
        }
    }
}
