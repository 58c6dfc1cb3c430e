package dev.portway.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./portway up} as a user runs it (the launcher, after {@code package}), in a process of its
 * own, on this JVM's block of loopback addresses: one node at 127.0.BLOCK.1, pods in
 * 127.BLOCK.0.0/16, LoadBalancer addresses from {@link TestCluster#POOL}.
 *
 * @param process the launcher's JVM (the launcher execs it)
 * @param output  what it printed so far, stdout and stderr
 */
public record PortwayProcess(Process process, StringBuffer output) implements AutoCloseable {

    /** Starts it on {@code manifest} with {@code state} as its state directory, and waits until it is up. */
    public static PortwayProcess up(Path state, Path manifest) throws IOException {
        int b = TestCluster.BLOCK;
        ProcessBuilder pb = new ProcessBuilder("./portway", "up", "--state-dir", state.toString(), "--admin-address", "127.0.0.1:0",
                "--nodes", "1", "--node-addresses", "127.0." + b + ".0/24", "--pod-addresses", "127." + b + ".0.0/16",
                "--default-pool", TestCluster.POOL, "--cluster-dns", "hosts", "-f", manifest.toString())
                .redirectErrorStream(true);
        return start(pb);
    }

    /**
     * Starts {@code pb} ({@code portway up} or {@code portway controller}, its stderr redirected to
     * its stdout), collects what it prints, and waits until it is up: the first run also writes the
     * launcher's class-data sharing archive, hence the generous wait.
     */
    public static PortwayProcess start(ProcessBuilder pb) throws IOException {
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
                .until(() -> out.indexOf("Ctrl-C stops the ") >= 0 || !p.isAlive());
        assertThat(p.isAlive()).as("./portway up is running; it printed:\n%s", out).isTrue();
        return new PortwayProcess(p, out);
    }

    /** The node's address. */
    public static String nodeIp() {
        return "127.0." + TestCluster.BLOCK + ".1";
    }

    /** Sends {@code signal} (TERM, KILL) to the JVM, as {@code kill -SIGNAL PID} does. */
    public void signal(String signal) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start().waitFor();
    }

    /** Its resident memory now, in bytes (VmRSS of /proc/PID/status). */
    public long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/" + process.pid() + "/status");
    }

    /** Stops it with SIGTERM, and with SIGKILL if it has not exited 20 seconds later (or the wait is interrupted). */
    @Override
    public void close() throws IOException {
        if (process.isAlive()) {
            try {
                signal("TERM");
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
