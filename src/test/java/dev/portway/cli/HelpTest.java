package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every command explains itself with -h and --help, tells its version with -V, and the command list reads as sentences. */
class HelpTest {

    private final Cli cli = new Cli(Clock.systemUTC(), (String) null);

    @ParameterizedTest
    @ValueSource(strings = {"up", "apply", "get", "describe", "delete", "logs", "scale", "validate", "controller", "ui"})
    void everySubcommandAnswersHelp(String command) {
        for (String flag : new String[] {"-h", "--help"}) {
            Cli.Result r = cli.run(command, flag);
            assertThat(r.exitCode()).as(command + " " + flag + ": " + r.err()).isZero();
            assertThat(r.out()).startsWith("Usage: portway " + command);
            assertThat(r.err()).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"up", "apply", "get", "describe", "delete", "logs", "scale", "validate", "node", "controller", "ui"})
    void everySubcommandTellsTheVersion(String command) {
        for (String flag : new String[] {"-V", "--version"}) {
            Cli.Result r = cli.run(command, flag);
            assertThat(r.exitCode()).as(command + " " + flag + ": " + r.err()).isZero();
            assertThat(r.out()).as(command + " " + flag).isEqualTo(cli.run("--version").out()).startsWith("portway ");
        }
    }

    @Test
    void theCommandListSaysWhatUpDoesInAWholeSentence() {
        Cli.Result r = cli.run("--help");
        assertThat(r.out()).containsPattern("(?m)^  up +Run a local cluster in this process until Ctrl-C\\.$");
        assertThat(cli.run("up", "--help").out()).contains("--state-dir=DIR").contains("--write-kubeconfig=PATH");
    }
}
