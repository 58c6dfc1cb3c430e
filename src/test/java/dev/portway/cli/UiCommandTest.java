package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.admin.auth.AdminCredentials;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code portway ui}: the topology page's link, signed in with the kubeconfig's token in its fragment. */
class UiCommandTest {

    @TempDir
    Path dir;

    @Test
    void theLinkCarriesTheTokenInItsFragment() throws Exception {
        AdminCredentials credentials = AdminCredentials.loadOrCreate(dir.resolve("state"), List.of("127.0.0.1"), Clock.systemUTC());
        Path kubeconfig = dir.resolve("kubeconfig");
        Kubeconfig.write(kubeconfig, "https://127.0.0.1:8443", credentials, true);
        Cli.Result r = new Cli(Clock.systemUTC(), kubeconfig.toString()).run("ui");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out().strip()).isEqualTo("https://127.0.0.1:8443/ui/#token=" + credentials.token());
    }
}
