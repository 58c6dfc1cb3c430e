package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.control.ApiServer;
import dev.portway.testing.TestCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code portway up} shows the Gateways it applied, with a curl per listener that works as printed. */
class UpSummaryGatewayTest {

    @Test
    void theSummaryListsGatewaysWithACurlThatReachesTheirRoutes() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            List<ApiServer.Applied> applied = cluster.apply(TestCluster.echoDeployment("web", 1, null) + """
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: web}
                    spec:
                      selector: {app: web}
                      ports:
                      - {port: 8000, targetPort: http}
                    ---
                    apiVersion: gateway.networking.k8s.io/v1
                    kind: Gateway
                    metadata: {name: front}
                    spec:
                      gatewayClassName: portway
                      listeners:
                      - {name: http, protocol: HTTP, port: 18080}
                      - {name: named, protocol: HTTP, port: 18081, hostname: "*.shop.test"}
                    ---
                    apiVersion: gateway.networking.k8s.io/v1
                    kind: HTTPRoute
                    metadata: {name: web}
                    spec:
                      parentRefs: [{name: front}]
                      rules:
                      - backendRefs: [{name: web, port: 8000}]
                    """);
            StringWriter text = new StringWriter();
            new UpSummary(cluster.local(), Clock.systemUTC(), new PrintWriter(text, true)).print(applied, Path.of("/tmp/kubeconfig"), null);
            String out = text.toString();
            assertThat(out).containsPattern("NAME\\s+CLASS\\s+ADDRESS\\s+PROGRAMMED\\s+AGE").containsPattern("front\\s+portway\\s+127\\.");
            List<String> curls = out.lines().filter(l -> l.contains("curl ") && l.contains("Gateway listener")).toList();
            assertThat(curls).hasSize(2);
            assertThat(curls.get(1)).contains("--resolve www.shop.test:18081:");
            for (String line : curls) {
                assertCurlAnswers200(line);
            }
        }
    }

    /** Routes by path: a line per part of the app (an admin path beside its app's is not one), and how pods resolve names. */
    @Test
    void theSummarySaysWhereEachRoutedPartIsAndHowPodsResolveNames() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            List<ApiServer.Applied> applied = cluster.apply(TestCluster.echoBackend("app", 1) + """
                    ---
                    apiVersion: gateway.networking.k8s.io/v1
                    kind: Gateway
                    metadata: {name: one}
                    spec:
                      gatewayClassName: portway
                      listeners:
                      - {name: http, protocol: HTTP, port: 18082}
                    ---
                    apiVersion: gateway.networking.k8s.io/v1
                    kind: HTTPRoute
                    metadata: {name: app}
                    spec:
                      parentRefs: [{name: one}]
                      rules:
                      - matches: [{path: {type: PathPrefix, value: /app}}]
                        backendRefs: [{name: app, port: 8000}]
                    ---
                    apiVersion: gateway.networking.k8s.io/v1
                    kind: HTTPRoute
                    metadata: {name: app-admin}
                    spec:
                      parentRefs: [{name: one}]
                      rules:
                      - matches: [{path: {type: PathPrefix, value: /app/admin}}]
                        backendRefs: [{name: app, port: 8000}]
                    """);
            StringWriter text = new StringWriter();
            new UpSummary(cluster.local(), Clock.systemUTC(), new PrintWriter(text, true)).print(applied, Path.of("/tmp/kubeconfig"), null);
            List<String> parts = text.toString().lines().filter(l -> l.contains("#   HTTPRoute")).toList();
            assertThat(parts).hasSize(1);
            assertThat(parts.getFirst()).containsPattern("curl http://127\\.[0-9.]+:18082/app/ +#   HTTPRoute app -> app:8000");
            assertCurlAnswers200(parts.getFirst());
            assertThat(text.toString()).contains("Cluster DNS: no cluster DNS server (--cluster-dns=hosts)");
            // the sockets the traffic runs on, and how many loops carry it: what a benchmark's reader asks first
            assertThat(text.toString()).contains("Data plane: " + cluster.local().dataPlane().transport().label() + " sockets, "
                    + cluster.local().dataPlane().eventLoops() + " event loop");
        }
    }

    /** Runs the curl of a summary line as printed (up to its comment): it must get a 200. */
    private static void assertCurlAnswers200(String line) throws Exception {
        String command = line.substring(0, line.indexOf('#')).trim();
        Process curl = new ProcessBuilder("bash", "-c", command + " -sS -o /dev/null -w '%{http_code}'").start();
        assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).as(command).isEqualTo("200");
    }
}
