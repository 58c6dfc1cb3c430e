package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.proxy.HttpSettings;
import java.io.ByteArrayInputStream;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code portway up}'s gateway timeouts and connection cap: each option sets its field of the data
 * plane's HTTP settings, unset ones keep the defaults, and a value that is not a duration (or 0 where 0 cannot
 * mean "off") is refused before anything starts.
 */
class HttpOptionsTest {

    private static HttpSettings parsed(String... args) {
        CommandLine cl = Main.commandLine(new Main(Clock.systemUTC(), new ByteArrayInputStream(new byte[0])));
        CommandLine.ParseResult r = cl.parseArgs(args);
        return ((UpCommand) r.subcommand().commandSpec().userObject()).httpSettings();
    }

    @Test
    void withoutOptionsTheDefaultsHold() {
        assertThat(parsed("up")).isEqualTo(HttpSettings.DEFAULTS);
    }

    @Test
    void eachOptionSetsItsTimeout() {
        HttpSettings s = parsed("up", "--http-header-timeout", "2s", "--http-idle-timeout", "500ms",
                "--http-stream-idle-timeout", "0", "--websocket-idle-timeout", "10m", "--http-max-connections", "500");
        assertThat(s).isEqualTo(HttpSettings.DEFAULTS.withHeaderTimeout(Duration.ofSeconds(2)).withIdleTimeout(Duration.ofMillis(500))
                .withStreamIdleTimeout(Duration.ZERO).withTunnelIdleTimeout(Duration.ofMinutes(10)).withMaxConnections(500));
    }

    @Test
    void aValueThatIsNotADurationIsRefusedBeforeAnythingStarts() {
        Cli cli = new Cli(Clock.systemUTC(), (String) null);
        Cli.Result r = cli.run("up", "--http-idle-timeout", "soon");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("error: --http-idle-timeout: soon (expected a duration such as 500ms, 30s, 5m or 1h, more than 0)");
        r = cli.run("up", "--http-header-timeout", "0");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("error: --http-header-timeout: 0 (expected a duration such as 500ms, 30s, 5m or 1h, more than 0)");
        r = cli.run("up", "--websocket-idle-timeout", "-1s");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("error: --websocket-idle-timeout: -1s (expected a duration such as 500ms, 30s, 5m or 1h, or 0 to turn it off)");
        r = cli.run("up", "--http-max-connections", "0");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("error: --http-max-connections: 0 (expected: 1 or more)");
    }
}
