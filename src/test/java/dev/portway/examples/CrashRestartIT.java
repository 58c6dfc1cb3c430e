package dev.portway.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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

    private static final String MANIFEST = TestCluster.echoDeployment("kept", 1, null) + """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: kept}
            spec:
              type: NodePort
              selector: {app: kept}
              ports: [{port: 8000, targetPort: http}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: kept-lb}
            spec:
              type: LoadBalancer
              selector: {app: kept}
              ports: [{port: 8001, targetPort: http}]
            """;

    /** The summary's rows of the two Services: name, type, ClusterIP, external IP, ports. */
    private static final Pattern ROW = Pattern.compile("^(kept(?:-lb)?) +(NodePort|LoadBalancer) +(\\S+) +(\\S+) +(\\S+) ", Pattern.MULTILINE);

    private record Up(Process process, StringBuffer output) {
    }

    private static Up up(Path state, Path manifest) throws IOException {
        int b = TestCluster.BLOCK;
        ProcessBuilder pb = new ProcessBuilder("./portway", "up", "--state-dir", state.toString(), "--admin-address", "127.0.0.1:0",
                "--nodes", "1", "--node-addresses", "127.0." + b + ".0/24", "--pod-addresses", "127." + b + ".0.0/16",
                "--default-pool", "127.3." + b + ".0/25", "--cluster-dns", "hosts", "-f", manifest.toString())
                .redirectErrorStream(true);
        Process p = pb.start();
        StringBuffer out = new StringBuffer();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    out.append(line).append('\n');
                }
            } catch (IOException e) {
                out.append("(output: ").append(e).append(")\n");
            }
        });
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> out.indexOf("Ctrl-C stops the cluster") >= 0 || !p.isAlive());
        assertThat(p.isAlive()).as("./portway up is running; it printed:\n%s", out).isTrue();
        return new Up(p, out);
    }

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
        Up first = up(state, manifest);
        List<String> before;
        try {
            before = rows(first.output());
            assertThat(before).as("the summary:\n%s", first.output()).hasSize(2);
            new ProcessBuilder("kill", "-KILL", Long.toString(first.process().pid())).inheritIO().start().waitFor();
            assertThat(first.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
        } finally {
            first.process().destroyForcibly();
        }
        assertThat(state.resolve("data").resolve("journal.jsonl")).as("a crash leaves the journal to replay").exists();

        String[] nodePort = before.getFirst().split(" ")[4].split("[:/]");
        String nodeIp = "127.0." + TestCluster.BLOCK + ".1";
        Up second = up(state, manifest);
        try {
            assertThat(second.output().toString()).containsPattern("Restored \\d+ objects from " + Pattern.quote(state.resolve("data").toString()));
            assertThat(rows(second.output())).isEqualTo(before);
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> Net.get(nodeIp, Integer.parseInt(nodePort[1]), "/").status() == 200);

            // SIGTERM with a client connected: its connection goes on while Portway drains, then Portway exits
            try (Net.Connection open = new Net.Connection(nodeIp, Integer.parseInt(nodePort[1]), null)) {
                new ProcessBuilder("kill", "-TERM", Long.toString(second.process().pid())).inheritIO().start().waitFor();
                assertThat(open.echo("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).as("an open connection is served while draining").startsWith("HTTP/1.1 200");
            }
            assertThat(second.process().waitFor(20, TimeUnit.SECONDS)).as("drained and exited; it printed:\n%s", second.output()).isTrue();
        } finally {
            second.process().destroyForcibly();
        }
        assertThat(state.resolve("data").resolve("journal.jsonl")).as("a clean stop leaves only the snapshot").doesNotExist();

        Up third = up(state, manifest);
        try {
            assertThat(rows(third.output())).isEqualTo(before);
        } finally {
            new ProcessBuilder("kill", "-TERM", Long.toString(third.process().pid())).inheritIO().start().waitFor();
            if (!third.process().waitFor(20, TimeUnit.SECONDS)) {
                third.process().destroyForcibly();
            }
        }
    }
}
