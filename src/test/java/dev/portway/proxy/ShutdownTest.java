package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Stopping a cluster: new connections are refused at once, open ones drain, every port is freed. */
class ShutdownTest {

    @SuppressWarnings("try") // the resource is held open, or closed early, on purpose
    @Test
    void shutdownDrainsOpenConnectionsThenFreesEveryPort() throws Exception {
        TestCluster cluster = new TestCluster();
        cluster.apply(TestCluster.echoDeployment("web", 2, null) + """
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  type: LoadBalancer
                  selector: {app: web}
                  ports:
                  - {port: 8000, targetPort: http, nodePort: 30123}
                """);
        cluster.awaitReady("web", 2);
        String lb = cluster.loadBalancerIp("web");
        cluster.settle();

        try (Net.Connection open = new Net.Connection(cluster.nodeIp(1), 30123, null)) {
            assertThat(open.request("/").status()).isEqualTo(200);
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> cluster.local().shutdown(Duration.ofSeconds(10)),
                    task -> Thread.ofVirtual().start(task));
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThatThrownBy(() -> Net.get(cluster.nodeIp(2), 30123, "/")).isInstanceOf(ConnectException.class));
            // The open connection still works while it drains.
            assertThat(open.request("/").status()).isEqualTo(200);
            assertThat(stopping).isNotDone();
            open.close();
            stopping.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        for (InetSocketAddress freed : new InetSocketAddress[] {new InetSocketAddress(cluster.nodeIp(1), 30123),
                new InetSocketAddress(cluster.nodeIp(2), 10256), new InetSocketAddress(lb, 8000)}) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(freed);
            }
        }
    }
}
