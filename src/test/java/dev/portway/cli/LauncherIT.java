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
 * version writes nothing, and a rebuild gets an archive of its own. The JVM neither uses nor
 * replaces an archive of another build of the jar, so before this every command after a rebuild
 * loaded all its classes from the jar again (0.55 s a command became 0.88 s).
 */
class LauncherIT {

    @TempDir
    Path home;

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
        Path archive = target.resolve("portway-cli.jsa");

        assertThat(run(null, "--version")).startsWith("portway ");
        assertThat(archive).as("a run that only prints its version writes no archive").doesNotExist();

        run(null, "validate", "-f", manifest.toString());
        assertThat(archive).as("the first real run writes the archive").exists();
        assertThat(run("-Xshare:on", "validate", "-f", manifest.toString())).as("and the next one maps it").contains("valid");

        // a rebuild: the jar is as new as the archive, which is of the build before
        FileTime written = Files.getLastModifiedTime(archive);
        Files.setLastModifiedTime(jar, written);
        run(null, "validate", "-f", manifest.toString());
        assertThat(Files.getLastModifiedTime(archive)).as("the archive of the new build").isGreaterThan(written);
        assertThat(run("-Xshare:on", "validate", "-f", manifest.toString())).contains("valid");
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
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("./portway %s printed:%n%s", String.join(" ", args), text).isZero();
        return text;
    }
}
