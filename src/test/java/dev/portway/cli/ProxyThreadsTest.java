package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/**
 * {@code portway up --proxy-threads N} sets how many event loops carry the traffic (HAProxy's
 * {@code nbthread}, Envoy's {@code --concurrency}); by default one per CPU.
 */
class ProxyThreadsTest {

    @Test
    void aClusterRunsItsTrafficOnTheEventLoopsAskedFor() throws Exception {
        try (TestCluster cluster = new TestCluster(TestCluster.options().withProxyThreads(1))) {
            assertThat(cluster.local().dataPlane().eventLoops()).isEqualTo(1);
            cluster.apply(TestCluster.echoBackend("one", 1));
            cluster.awaitReady("one", 1);
            cluster.settle();
            assertThat(Net.get(cluster.clusterIp("one"), 8000, "/").pod()).startsWith("one-");
        }
        try (TestCluster cluster = new TestCluster()) {
            assertThat(cluster.local().dataPlane().eventLoops()).as("one per CPU").isEqualTo(Runtime.getRuntime().availableProcessors());
        }
    }

    @Test
    void aTransportThatIsNoneOrNotHereIsRefusedBeforeAnythingStarts() {
        Cli.Result r = new Cli(Clock.systemUTC(), (String) null).run("up", "--transport", "kqueue");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("error: --transport kqueue: expected io_uring, epoll or nio").doesNotContain("Exception");
        for (dev.portway.net.Transport t : dev.portway.net.Transport.values()) {
            if (!t.isAvailable()) {
                Cli.Result missing = new Cli(Clock.systemUTC(), (String) null).run("up", "--transport", t.label());
                assertThat(missing.exitCode()).isEqualTo(1);
                assertThat(missing.err()).contains("error: --transport " + t.label() + ": not available on this machine (");
            }
        }
    }

    @Test
    void noEventLoopIsRefusedBeforeAnythingStarts() {
        Cli.Result r = new Cli(Clock.systemUTC(), (String) null).run("up", "--proxy-threads", "0");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("error: --proxy-threads: 0 (expected: 1 or more)");
    }
}
