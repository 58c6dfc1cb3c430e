package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.plan.Plan;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A health server whose address was taken when its plan came binds when a later plan comes, as L4 listeners do. */
class HealthServersBindTest {

    @Test
    void aHealthServerThatCouldNotBindTriesAgainWithTheNextPlan() throws Exception {
        DataPlane plane = new DataPlane(dev.portway.net.Transport.NIO, 1, new PrometheusRegistry(), Clock.systemUTC());
        ServerSocket squatter = new ServerSocket();
        try {
            squatter.bind(new InetSocketAddress("127.0.63.1", 0));
            InetSocketAddress address = (InetSocketAddress) squatter.getLocalSocketAddress();
            List<Plan.HealthServer> servers = List.of(new Plan.HealthServer(address, "node1", null, 0));
            plane.apply(new Plan(1, List.of(), Map.of(), servers));
            await().atMost(Duration.ofSeconds(5)).until(() -> plane.healthServers().bindFailed(address)); // the address is taken
            squatter.close();
            plane.apply(new Plan(2, List.of(), Map.of(), servers));
            await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                    .until(() -> dev.portway.testing.Net.get(address.getHostString(), address.getPort(), "/healthz").status() == 200);
        } finally {
            squatter.close();
            plane.close();
        }
    }

    /**
     * A plan that takes a health server away and the next that brings it back (a Service deleted and
     * made again with its healthCheckNodePort): the new server is bound on another event loop than the
     * old one closes on, and bound before the old one let go it failed (EADDRINUSE) until some later
     * plan. It now binds once the old ones are closed.
     */
    @Test
    void aHealthServerBroughtBackRightAwayBindsOnceTheOldOneHasLetGo() throws Exception {
        // the machine's transport (epoll here): the JDK's NIO closes a listening socket registered with a selector only at
        // the selector's next pass, after the close is reported done, so on NIO a window is left
        DataPlane plane = new DataPlane(dev.portway.net.Transport.best(), 2, new PrometheusRegistry(), Clock.systemUTC());
        try {
            InetSocketAddress address;
            try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.63.2"))) {
                address = (InetSocketAddress) probe.getLocalSocketAddress();
            }
            List<Plan.HealthServer> servers = List.of(new Plan.HealthServer(address, "node1", null, 0));
            long version = 1;
            for (int i = 0; i < 20; i++) {
                plane.apply(new Plan(version++, List.of(), Map.of(), servers));
                plane.apply(new Plan(version++, List.of(), Map.of(), List.of()));
            }
            plane.apply(new Plan(version, List.of(), Map.of(), servers));
            await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                    .until(() -> dev.portway.testing.Net.get(address.getHostString(), address.getPort(), "/healthz").status() == 200);
            assertThat(plane.healthServers().bindFailed(address)).isFalse();
        } finally {
            plane.close();
        }
    }
}
