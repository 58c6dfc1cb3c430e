package dev.portway.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code kubectl} (on these machines' PATH) against a cluster through a kubeconfig,
 * with a HOME of its own so its discovery and OpenAPI caches start empty. When kubectl is missing
 * the test is skipped, except in CI ({@code PORTWAY_REQUIRE_PACKAGES} set), where it fails.
 */
public final class Kubectl {

    /** What one kubectl run printed and returned. */
    public record Result(int exitCode, String out, String err) {
        /** Stdout, after asserting the command succeeded. */
        public String ok() {
            if (exitCode != 0) {
                throw new AssertionError("kubectl failed (" + exitCode + "):\n" + err + out);
            }
            return out;
        }
    }

    private final Path kubeconfig;
    private final Path home;

    public Kubectl(Path kubeconfig, Path home) {
        this.kubeconfig = kubeconfig;
        this.home = home;
        requireInstalled();
    }

    public static String binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, "kubectl");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    /** Skips the calling test when kubectl is missing, unless CI requires it (then it fails). */
    public static void requireInstalled() {
        boolean installed = binary() != null;
        if (!installed && System.getenv("PORTWAY_REQUIRE_PACKAGES") != null) {
            throw new AssertionError("kubectl is not on the PATH, and this CI run requires it");
        }
        assumeTrue(installed, "kubectl is not on the PATH");
    }

    public Result run(String... args) {
        return runWithInput(null, args);
    }

    /** Runs kubectl with {@code stdin} (or none), waiting at most 60 s. */
    public Result runWithInput(String stdin, String... args) {
        List<String> command = new ArrayList<>();
        command.add(binary());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("HOME", home.toString());
        pb.environment().remove("KUBECTL_EXTERNAL_DIFF");
        try {
            Files.createDirectories(home);
            Process p = pb.start();
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl " + String.join(" ", args) + " did not finish within 60 s");
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts kubectl in the background (a watch); the caller stops it with {@link Process#destroy()}. */
    public Process start(Path stdout, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(binary());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectErrorStream(true);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("HOME", home.toString());
        Files.createDirectories(home);
        return pb.start();
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> text = new CompletableFuture<>();
        Thread.ofVirtual().name("kubectl-output").start(() -> {
            try {
                text.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                text.complete("");
            }
        });
        return text;
    }
}
