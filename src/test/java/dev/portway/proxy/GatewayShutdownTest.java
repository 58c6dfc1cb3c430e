package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.RawHttp;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Stopping the gateway: the keep-alive connections it holds to backends for later requests are
 * idle, not work to drain, and do not hold the stop for the drain timeout.
 */
class GatewayShutdownTest {

    @Test
    void idleUpstreamConnectionsDoNotHoldTheDrain() throws Exception {
        try (GatewayFixture gw = new GatewayFixture()) {
            gw.cluster("a", gw.echo("a-pod", 1));
            InetSocketAddress listener = gw.listen(1, host(null, rule("default/a", prefix("/"), to("a"))));
            try (RawHttp c = new RawHttp(listener)) {
                assertThat(c.get("x", "/").status()).isEqualTo(200);
            }
            assertThat(gw.plane.openConnections()).as("the upstream connection is kept for the next request").isEqualTo(1);
            // a minute's drain: idle connections must not wait it out (the test would fail after 5 s)
            gw.plane.shutdown(Duration.ofMinutes(1)).get(5, TimeUnit.SECONDS);
            assertThat(gw.plane.openConnections()).isZero();
        }
    }

    @Test
    void anUpstreamConnectionFreedAfterTheStopBeganIsClosedNotPooled() throws Exception {
        try (GatewayFixture gw = new GatewayFixture()) {
            gw.cluster("a", gw.echo("a-pod", 1));
            InetSocketAddress listener = gw.listen(1, host(null, rule("default/a", prefix("/"), to("a"))));
            java.util.concurrent.CompletableFuture<Void> stopped;
            try (RawHttp c = new RawHttp(listener)) {
                assertThat(c.get("x", "/").status()).isEqualTo(200);
                stopped = gw.plane.shutdown(Duration.ofMinutes(1));
                // the client's open connection is served while it drains; its exchange frees an upstream connection
                assertThat(c.get("x", "/").status()).isEqualTo(200);
            }
            stopped.get(5, TimeUnit.SECONDS);
            assertThat(gw.plane.openConnections()).isZero();
        }
    }
}
