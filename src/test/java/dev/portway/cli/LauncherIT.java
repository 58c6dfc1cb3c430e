package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's class-data sharing archive for the short commands ({@code get}, {@code apply},
 * {@code validate}...), run through the real {@code ./portway} on the packaged jar, in a copy of
 * the checkout's layout: the first real run of a build writes it, a run that only prints its
 * version writes nothing, and a rebuild gets an archive of its own (archives are named after the
 * build) while the others go. The JVM neither uses nor replaces an archive of another build of
 * the jar, so under one fixed name every command after a rebuild loaded all its classes from the
 * jar again (0.55 s a command became 0.88 s).
 */
class LauncherIT {

    @TempDir
    Path dir;
    /** The copy of the checkout: a path with a space and glob characters, which the launcher passes on as one word. */
    Path home;

    @org.junit.jupiter.api.BeforeEach
    void checkout() throws IOException {
        home = Files.createDirectories(dir.resolve("check out [1]"));
    }

    /** The copy's libraries are a link to the build's: the link goes, the libraries stay. */
    @org.junit.jupiter.api.AfterEach
    void unlinkLibraries() throws IOException {
        Files.deleteIfExists(home.resolve("target/lib"));
    }

    @Test
    void theShortCommandsArchiveFollowsTheBuild() throws Exception {
        Files.createDirectories(home.resolve(".mvn"));
        Files.copy(Path.of("portway"), home.resolve("portway"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(Path.of(".mvn/jdk.sh"), home.resolve(".mvn/jdk.sh"));
        Path target = Files.createDirectories(home.resolve("target"));
        Path jar = target.resolve("portway.jar");
        Files.copy(Path.of("target/portway.jar"), jar);
        Files.createSymbolicLink(target.resolve("lib"), Path.of("target/lib").toAbsolutePath());
        Path manifest = home.resolve("web.yaml");
        Files.writeString(manifest, """
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  selector: {app: web}
                  ports: [{port: 80}]
                """);
        assertThat(run(null, "--version")).startsWith("portway ");
        assertThat(archives(target)).as("a run that only prints its version writes no archive").isEmpty();

        run(null, "validate", "-f", manifest.toString());
        List<Path> first = archives(target);
        assertThat(first).as("the first real run writes the archive of this build").hasSize(1);
        assertThat(run("-Xshare:on", "validate", "-f", manifest.toString())).as("and the next one maps it").contains("valid");

        // a rebuild (the jar changes), with an archive left under the fixed name earlier launchers used
        Files.setLastModifiedTime(jar, FileTime.from(Files.getLastModifiedTime(jar).toInstant().plusSeconds(60)));
        Files.copy(first.getFirst(), target.resolve("portway-cli.jsa"));
        run(null, "validate", "-f", manifest.toString());
        List<Path> rebuilt = archives(target);
        assertThat(rebuilt).as("the archive of the new build, alone").hasSize(1).doesNotContainAnyElementsOf(first);
        assertThat(target.resolve("portway-cli.jsa")).as("a cache kept under the old fixed name goes").doesNotExist();
        assertThat(run("-Xshare:on", "validate", "-f", manifest.toString())).contains("valid");
    }

    /** The short commands' archives in {@code target}. */
    private static List<Path> archives(Path target) throws IOException {
        try (var files = Files.list(target)) {
            return files.filter(f -> f.getFileName().toString().startsWith("portway-cli") && f.getFileName().toString().endsWith(".jsa"))
                    .sorted().toList();
        }
    }

    /**
     * Runs {@code ./portway ARGS} in the copy, with {@code jvmOptions} as PORTWAY_JAVA_OPTS
     * ({@code -Xshare:on} makes the JVM fail when it cannot map the archive); its output, after
     * checking it exited 0.
     */
    private String run(String jvmOptions, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("./portway"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true);
        if (jvmOptions != null) {
            pb.environment().put("PORTWAY_JAVA_OPTS", jvmOptions);
        }
        Process p = pb.start();
        p.getOutputStream().close();
        java.util.concurrent.CompletableFuture<byte[]> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("./portway " + String.join(" ", args) + " did not end in 60 s");
        }
        String text;
        try {
            text = new String(out.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("reading the output of ./portway " + String.join(" ", args), e);
        }
        assertThat(p.exitValue()).as("./portway %s printed:%n%s", String.join(" ", args), text).isZero();
        return text;
    }
}
