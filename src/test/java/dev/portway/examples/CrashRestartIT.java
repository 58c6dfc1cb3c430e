package dev.portway.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.Net;
import dev.portway.testing.PortwayProcess;
import dev.portway.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./portway up} killed with SIGKILL, then started again on the same state directory: every
 * applied object is back, with the same ClusterIPs, NodePorts and external IP, and traffic flows.
 * Then stopped with SIGTERM while a client is connected: the connection is served while Portway
 * drains, Portway exits, and comes back once more the same. A real {@code kill -9} of the real
 * launcher's JVM (after {@code package}, as a user runs it).
 */
class CrashRestartIT {

    private static final String MANIFEST = TestCluster.keptApp(1);

    /** The summary's rows of the two Services: name, type, ClusterIP, external IP, ports. */
    private static final Pattern ROW = Pattern.compile("^(kept(?:-lb)?) +(NodePort|LoadBalancer) +(\\S+) +(\\S+) +(\\S+) ", Pattern.MULTILINE);

    private static List<String> rows(StringBuffer output) {
        Matcher m = ROW.matcher(output);
        List<String> rows = new java.util.ArrayList<>();
        while (m.find()) {
            rows.add(String.join(" ", m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)));
        }
        return rows;
    }

    @Test
    void killedWithSigkillItComesBackWithEveryObjectAndAllocation(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("app.yaml");
        Files.writeString(manifest, MANIFEST);
        Path state = dir.resolve("state");
        List<String> before;
        try (PortwayProcess first = PortwayProcess.up(state, manifest)) {
            before = rows(first.output());
            assertThat(before).as("the summary:\n%s", first.output()).hasSize(2);
            first.signal("KILL");
            assertThat(first.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(state.resolve("data").resolve("journal.jsonl")).as("a crash leaves the journal to replay").exists();

        String[] nodePort = before.getFirst().split(" ")[4].split("[:/]");
        String nodeIp = PortwayProcess.nodeIp();
        try (PortwayProcess second = PortwayProcess.up(state, manifest)) {
            assertThat(second.output().toString()).containsPattern("Restored \\d+ objects from " + Pattern.quote(state.resolve("data").toString()));
            assertThat(rows(second.output())).isEqualTo(before);
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> Net.get(nodeIp, Integer.parseInt(nodePort[1]), "/").status() == 200);

            // SIGTERM with a client connected: its connection goes on while Portway drains, then Portway exits
            try (Net.Connection open = new Net.Connection(nodeIp, Integer.parseInt(nodePort[1]), null)) {
                second.signal("TERM");
                assertThat(open.echo("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).as("an open connection is served while draining").startsWith("HTTP/1.1 200");
            }
            assertThat(second.process().waitFor(20, TimeUnit.SECONDS)).as("drained and exited; it printed:\n%s", second.output()).isTrue();
        }
        assertThat(state.resolve("data").resolve("journal.jsonl")).as("a clean stop leaves only the snapshot").doesNotExist();

        try (PortwayProcess third = PortwayProcess.up(state, manifest)) {
            assertThat(rows(third.output())).isEqualTo(before);
        }
    }
}
