package dev.portway.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portway.testing.InNetworkNamespace;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link MonitoringStackTest} where an ordinary user may bind ports 53 and 80: in a user and
 * network namespace of its own. Where they can be bound here (root), MonitoringStackTest runs
 * directly and this is skipped.
 */
class MonitoringStackInNamespaceTest {

    @Test
    void theMonitoringStackPassesInANetworkOfItsOwn() throws Exception {
        assumeTrue(!InNetworkNamespace.canBindPrivilegedPorts(), "ports 53 and 80 can be bound here: MonitoringStackTest runs directly");
        assumeTrue(MonitoringStackTest.packagesInstalled() || System.getenv("PORTWAY_REQUIRE_PACKAGES") != null,
                "needs Debian's prometheus, prometheus-alertmanager and prometheus-pushgateway (apt-get install them, as .ci/run does)");
        String cannot = InNetworkNamespace.cannotRun();
        if (cannot != null) {
            if (System.getenv("PORTWAY_REQUIRE_PACKAGES") != null) {
                fail("MonitoringStackTest needs a network namespace of its own here, and cannot have one: " + cannot);
            }
            assumeTrue(false, "MonitoringStackTest needs a network namespace of its own here, and cannot have one: " + cannot);
        }
        InNetworkNamespace.Result result = InNetworkNamespace.run(MonitoringStackTest.class, Duration.ofMinutes(6));
        assertThat(result.passed()).as("MonitoringStackTest in its namespace:\n%s", result.output()).isTrue();
    }
}
