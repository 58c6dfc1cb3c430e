package dev.portway.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs a test class where it may bind ports below 1024 without being root: in a JVM of its own,
 * inside a new user and network namespace ({@code unshare --map-root-user --net}, loopback up),
 * where it is root over a network of its own. Tests of what listens on port 53 or 80 (cluster
 * DNS, a Gateway on port 80) run there when the suite runs as an ordinary user, as CI runs it.
 */
public final class InNetworkNamespace {

    private InNetworkNamespace() {
    }

    /** Whether this process may bind TCP port 80 and UDP port 53 on a loopback address (root, or a network of its own). */
    public static boolean canBindPrivilegedPorts() {
        try (ServerSocket tcp = new ServerSocket()) {
            tcp.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 80));
        } catch (IOException e) {
            return false;
        }
        try (var udp = new java.net.DatagramSocket(null)) {
            udp.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 53));
        } catch (IOException e) {
            return false;
        }
        return true;
    }

    /** Why a namespace cannot be made here, or null when it can. */
    public static String cannotRun() {
        if (which("unshare") == null || which("ip") == null) {
            return "unshare (util-linux) or ip (iproute2) is missing";
        }
        try {
            Process p = new ProcessBuilder("unshare", "--map-root-user", "--net", "true").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return "unprivileged user namespaces are not allowed here: " + out.strip();
            }
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return null;
    }

    /** What the run in the namespace printed, and whether every test passed. */
    public record Result(boolean passed, String output) {
    }

    /** Runs {@code testClass}'s tests in a new namespace; its output goes to the returned result and to this one's stdout. */
    public static Result run(Class<?> testClass, Duration timeout) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(which("unshare"), "--map-root-user", "--net", "sh", "-c",
                "\"$0\" link set lo up && exec \"$@\"", which("ip"), java));
        // the same JVM flags as this test JVM (leak detection, native access), then this class's main
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-D") || arg.startsWith("--enable-native-access") || arg.startsWith("-Xshare")) {
                command.add(arg);
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), testClass.getName()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        // inside, the JVM runs as uid 0: keep its home (user.home) the test's, not /root
        pb.environment().put("HOME", System.getProperty("user.home"));
        Process p = pb.start();
        StringBuffer output = new StringBuffer();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    output.append(line).append('\n');
                    System.out.println("[netns] " + line);
                }
            } catch (IOException e) {
                output.append("(output: ").append(e).append(")\n");
            }
        });
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            reader.join(Duration.ofSeconds(5));
            return new Result(false, output + "\n(timed out after " + timeout + ")");
        }
        reader.join(Duration.ofSeconds(5));
        return new Result(p.exitValue() == 0, output.toString());
    }

    private static String which(String command) {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            Path f = Path.of(dir, command);
            if (Files.isExecutable(f)) {
                return f.toString();
            }
        }
        return null;
    }

    /** Inside the namespace: runs one test class with the JUnit launcher; exits 0 when every test passed. */
    public static final class Main {

        public static void main(String[] args) throws ClassNotFoundException {
            Class<?> testClass = Class.forName(args[0]);
            Launcher launcher = LauncherFactory.create();
            SummaryGeneratingListener summary = new SummaryGeneratingListener();
            launcher.execute(LauncherDiscoveryRequestBuilder.request()
                    .selectors(DiscoverySelectors.selectClass(testClass))
                    .configurationParameters(Map.of("junit.jupiter.extensions.autodetection.enabled", "true"))
                    .build(), summary);
            TestExecutionSummary s = summary.getSummary();
            PrintWriter out = new PrintWriter(System.out, true);
            s.printTo(out);
            s.printFailuresTo(out, 30);
            out.flush();
            boolean passed = s.getTotalFailureCount() == 0 && s.getTestsSucceededCount() > 0 && s.getTestsAbortedCount() == 0;
            System.exit(passed ? 0 : 1);
        }
    }
}
