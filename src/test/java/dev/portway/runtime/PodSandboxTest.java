package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PodSandboxTest {

    /** A character of two UTF-16 units across a piece's end was cut in two, and each half became '?'. */
    @Test
    void theEnvironmentsPiecesNeverCutACharacter() {
        String script = "x".repeat(29_999) + "\uD83D\uDE00" + "y".repeat(40_000);
        List<String> chunks = PodSandbox.chunks(script);
        assertThat(String.join("", chunks)).isEqualTo(script);
        assertThat(chunks).allSatisfy(c -> assertThat(new String(c.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(c));
        assertThat(PodSandbox.chunks("")).containsExactly("");
    }

    @Test
    void variablesAShellCannotTakeGoToEnvAfterItsOptions() {
        String text = PodSandbox.environment(new java.util.LinkedHashMap<>(java.util.Map.of("-i", "z")), "/bin/true");
        assertThat(text).contains("/usr/bin/env -- '-i=z' \"$@\"");
        assertThat(PodSandbox.environment(java.util.Map.of("a.b", "c"), "/opt/x=y/run"))
                .contains("-- 'a.b=c' " + PodSandbox.SETPRIV + " --inh-caps=-all -- \"$@\"");
    }

    /**
     * A pod stopped while its sandbox is set up is stopped. Portway took a set-up step's process
     * ({@code stat}, as the init checks a directory before it hides it) for the command, and sent
     * SIGTERM then; the init started the command and passed the signal on at once, to a process
     * that was still a copy of the init, whose trap took it and forgot it. The pod ran its whole
     * grace period. Many hidden directories make the set-up long enough to be caught in it.
     */
    @Test
    void aStopWhileTheSandboxIsSetUpStopsThePod(@TempDir Path dir) throws Exception {
        PodSandbox detected = PodSandbox.detect(dir.resolve("check"));
        Assumptions.assumeTrue(detected.available(), () -> "no sandbox here: " + detected.unavailable());
        List<Path> hidden = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            hidden.add(dir.resolve("hidden-" + i));
        }
        PodSandbox sandbox = detected.hiding(hidden);
        Path own = Files.createDirectories(dir.resolve("own"));
        try (OrphanGuard guard = OrphanGuard.start()) {
            for (int i = 0; i < 5; i++) {
                PodSandbox.Launch launch = sandbox.wrap(List.of("/bin/sleep", "600"), Map.of("PATH", "/usr/bin:/bin"), null, null, own, own);
                OsProcess pod = OsProcess.start(launch.argv(), launch.env(), launch.directory(), guard,
                        new ContainerLog(dir.resolve("log-" + i), 0, 1 << 16, 2));
                pod.terminate(Duration.ofSeconds(60));
                try {
                    assertThat(pod.exit().get(15, TimeUnit.SECONDS)).as("the status of a pod stopped by SIGTERM").isEqualTo(143);
                } finally {
                    pod.kill();
                }
            }
        }
    }

    /** Where the init's descriptors cannot be seen, its set-up steps are told from the command by their command lines. */
    @Test
    void theSetUpStepsAreKnownByTheirCommandLines() {
        for (String step : List.of(PodSandbox.MOUNT + "\0--bind\0a\0b\0", PodSandbox.STAT + "\0-L\0-c\0%d:%i\0/proc/self/fd/3\0",
                PodSandbox.MKDIR + "\0-p\0/own\0", PodSandbox.SETPRIV + "\0--inh-caps=-all\0--\0" + PodSandbox.MKDIR + "\0-p\0--\0/wd\0")) {
            assertThat(PodSandbox.setUpStep(step.getBytes(java.nio.charset.StandardCharsets.UTF_8))).as(step).isTrue();
        }
        for (String command : List.of(PodSandbox.ENV + "\0--default-signal=INT,QUIT\0" + PodSandbox.SETPRIV + "\0",
                PodSandbox.SETPRIV + "\0--inh-caps=-all\0--\0/bin/sh\0-c\0x\0", "/bin/sleep\0600\0")) {
            assertThat(PodSandbox.setUpStep(command.getBytes(java.nio.charset.StandardCharsets.UTF_8))).as(command).isFalse();
        }
    }
}
