package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

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
}
