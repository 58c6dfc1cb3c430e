package dev.portway.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portway.testing.Curl;
import dev.portway.testing.PortwayProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's "Quick start" as a user runs it: {@code ./portway up} with the built-in example,
 * then every {@code curl} its summary suggests, the LoadBalancer on 127.3.0.1 port 80 among them.
 *
 * <p>Port 80 needs root. So that any user can run this, Portway runs in a user and network
 * namespace of its own ({@code unshare --map-root-user --net}), where an ordinary user may bind
 * port 80 and where no other Portway (a developer's {@code portway up}, another test run) holds
 * 127.0.10.1:30007 or 127.0.0.1:8001; the requests are sent from inside it ({@code nsenter} and
 * {@link Curl}). It runs after {@code package} (failsafe, {@code ./mvnw verify}), so
 * {@code ./portway} runs the jar just built.
 *
 * <p>Needs {@code unshare} and {@code nsenter} (util-linux), {@code ip} (iproute2) and
 * unprivileged user namespaces. Without them it is skipped, with the reason, unless
 * {@code PORTWAY_REQUIRE_PACKAGES} is set (as .ci/run does), where it fails.
 */
class QuickStartIT {

    private static final Path BASEDIR = Path.of("").toAbsolutePath();
    private static final Pattern TRY = Pattern.compile("^\\s*curl (http://\\S+)\\s+# (.*)$", Pattern.MULTILINE);
    private static final String NODE1 = "127.0.10.1";
    private static final String NODE2 = "127.0.10.2";
    private static final String LOAD_BALANCER = "http://127.3.0.1/";

    private static String unshare;
    private static String nsenter;
    private static String ip;
    private static String cannotRun;
    private static Path home;
    private static Process portway;
    private static StringBuffer output = new StringBuffer();

    @BeforeAll
    static void start() throws Exception {
        String missing = missing();
        if (missing != null) {
            cannotRun = "QuickStartIT runs ./portway up in a network namespace of its own, where port 80 can be bound, and cannot here: "
                    + missing;
            if (System.getenv("PORTWAY_REQUIRE_PACKAGES") != null) {
                fail(cannotRun + " (PORTWAY_REQUIRE_PACKAGES is set, so this fails rather than skips)");
            }
            System.err.println("skipped: " + cannotRun);
            return;
        }
        // unshare, sh, ./portway and java exec one another: portway.pid() is Portway's JVM, inside the namespace
        ProcessBuilder up = new ProcessBuilder(unshare, "--map-root-user", "--net", "sh", "-c", "\"$0\" link set lo up && exec ./portway up", ip)
                .directory(BASEDIR.toFile())
                .redirectErrorStream(true);
        // Inside the namespace Portway runs as uid 0, so Java takes root's home (/root) for user.home:
        // give it a home of the test's own, for whatever it keeps there, away from the user's.
        home = Files.createTempDirectory("portway-quickstart-");
        up.environment().put("XDG_STATE_HOME", home.resolve("state").toString());
        up.environment().merge("PORTWAY_JAVA_OPTS", "-Duser.home=" + home, (mine, ours) -> mine + " " + ours);
        PortwayProcess started = PortwayProcess.start(up);
        portway = started.process();
        output = started.output();
    }

    @BeforeEach
    void runsHere() {
        // per test, so that Maven counts them as skipped, with the reason in the report
        assumeTrue(cannotRun == null, cannotRun);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (portway != null) {
                stopPortway();
            }
        } finally {
            if (home != null) {
                try (var files = Files.walk(home)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
    }

    private static void stopPortway() throws Exception {
        // Ctrl-C, as the summary says
        new ProcessBuilder("sh", "-c", "kill -INT " + portway.pid()).inheritIO().start().waitFor();
        boolean stopped = portway.waitFor(20, TimeUnit.SECONDS);
        if (!stopped) {
            portway.descendants().forEach(ProcessHandle::destroyForcibly);
            portway.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(stopped).as("./portway up stopped within 20 s of Ctrl-C; it printed:\n%s", output).isTrue();
    }

    @Test
    void theSummaryOffersTheLoadBalancerOnPort80AndEveryListenerIsOpen() {
        String summary = output.toString();
        assertThat(summary)
                .contains("Portway is up: 2 nodes (node1 127.0.10.1, node2 127.0.10.2)")
                .containsPattern("my-service +NodePort +127\\.2\\.[0-9.]+ +<none> +80:30007/TCP")
                .containsPattern("my-service-lb +LoadBalancer +127\\.2\\.[0-9.]+ +127\\.3\\.0\\.1 +80:3[0-9]{4}/TCP")
                .containsPattern("curl " + Pattern.quote(LOAD_BALANCER) + " +# my-service-lb: LoadBalancer -> a node -> a pod")
                .as("no listener failed (a failed one is a 'warning:' line)").doesNotContain("warning:");
    }

    @Test
    void everyCurlOfTheSummaryAnswers() throws Exception {
        List<String> urls = new ArrayList<>();
        Matcher m = TRY.matcher(output);
        while (m.find()) {
            urls.add(m.group(1));
        }
        assertThat(urls).as("the summary's 'Try it' lines:\n%s", output).hasSize(7).contains(LOAD_BALANCER);
        for (String[] answer : curl(urls)) {
            assertThat(answer[1]).as("status of %s", answer[0]).isEqualTo("200");
            assertThat(answer[2]).as("pod that answered %s", answer[0]).startsWith("my-app-");
        }
    }

    @Test
    void theLoadBalancerOnPort80SpreadsOverBothNodesAndAllFourPods() throws Exception {
        // the README: for i in $(seq 8); do curl -s http://127.3.0.1/ | head -1; done
        Set<String> pods = new HashSet<>();
        Set<String> nodes = new HashSet<>();
        for (String[] answer : curl(java.util.Collections.nCopies(8, LOAD_BALANCER))) {
            assertThat(answer[1]).as("status of %s", String.join(" ", answer)).isEqualTo("200");
            pods.add(answer[2]);
            // externalTrafficPolicy Cluster: the pod sees the node the load balancer chose
            nodes.add(answer[3].split(":")[0]);
        }
        assertThat(pods).as("pods that answered 8 requests").hasSize(4).allSatisfy(p -> assertThat(p).startsWith("my-app-"));
        assertThat(nodes).as("nodes the load balancer used").containsExactlyInAnyOrder(NODE1, NODE2);
    }

    /** GETs each URL in turn from inside Portway's namespace: for each, {URL, status, pod, client} or {URL, "error", message}. */
    private static List<String[]> curl(List<String> urls) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classes = Path.of(Curl.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        List<String> command = new ArrayList<>(List.of(nsenter, "--target", Long.toString(portway.pid()), "--user", "--net",
                "--preserve-credentials", java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classes, Curl.class.getName()));
        command.addAll(urls);
        String out = run(command, Duration.ofSeconds(60));
        List<String[]> answers = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("http://")) {
                answers.add(line.split("\t", -1));
            }
        }
        assertThat(answers).as("answers to %s; the client printed:\n%s", urls, out).hasSize(urls.size());
        return answers;
    }

    /** Why this test cannot run here, or null. */
    private static String missing() throws Exception {
        unshare = which("unshare");
        nsenter = which("nsenter");
        ip = which("ip");
        if (unshare == null || nsenter == null) {
            return "unshare or nsenter is missing (apt-get install util-linux)";
        }
        if (ip == null) {
            return "ip is missing (apt-get install iproute2)";
        }
        if (!Files.isExecutable(BASEDIR.resolve("portway"))) {
            return "no ./portway in " + BASEDIR;
        }
        String out = run(List.of(unshare, "--map-root-user", "--net", "sh", "-c", "\"$0\" link set lo up && echo namespace-ok", ip),
                Duration.ofSeconds(20));
        if (!out.contains("namespace-ok")) {
            return "cannot create a user and network namespace (" + out.strip() + "); unprivileged user namespaces may be off: see"
                    + " sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns";
        }
        return null;
    }

    /** The program on PATH, or in /usr/sbin and /sbin (where Debian puts ip, and which a user's PATH may lack). */
    private static String which(String program) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return Path.of(dir, program).toString();
            }
        }
        return null;
    }

    /** Runs a command to its end; returns its output and errors together. */
    private static String run(List<String> command, Duration timeout) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        Process p = builder.start();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (IOException e) {
                return e.toString().getBytes(StandardCharsets.UTF_8);
            }
        });
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish within " + timeout);
        }
        return new String(out.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
    }
}
