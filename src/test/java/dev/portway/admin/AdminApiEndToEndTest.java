package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.Json;
import dev.portway.runtime.LocalCluster;
import dev.portway.testing.AdminHttp;
import dev.portway.testing.TestCluster;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin server end to end: the CLI applies a directory, gets, deletes and re-applies; a
 * plain HTTP client sees the Kubernetes REST API with Status objects for errors.
 */
class AdminApiEndToEndTest {

    private LocalCluster cluster;
    private dev.portway.cli.CliDriver cli;

    @BeforeEach
    void start() throws Exception {
        cluster = new LocalCluster(TestCluster.options()).start();
        cli = new dev.portway.cli.CliDriver(Clock.systemUTC(), cluster);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    static void writeApp(Path dir) throws Exception {
        Files.writeString(dir.resolve("00-namespace.yaml"), """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: shop
                """);
        Files.writeString(dir.resolve("10-deployment.yaml"), """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                  namespace: shop
                spec:
                  replicas: 2
                  selector:
                    matchLabels: {app: web}
                  template:
                    metadata:
                      labels: {app: web}
                    spec:
                      containers:
                      - name: web
                        image: portway/echo
                        ports:
                        - containerPort: 8080
                """);
        Files.writeString(dir.resolve("20-service.yaml"), """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                  namespace: shop
                spec:
                  type: NodePort
                  selector: {app: web}
                  ports:
                  - port: 7000
                    targetPort: 8080
                    nodePort: 30080
                """);
    }

    @Test
    void applyGetDeleteAndReapplyADirectory(@TempDir Path dir) throws Exception {
        writeApp(dir);

        var applied = cli.run("apply", "-f", dir.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        assertThat(applied.out()).isEqualTo("namespace/shop created\ndeployment.apps/web created\nservice/web created\n");

        var svc = cli.run("get", "svc", "-n", "shop");
        assertThat(svc.out()).startsWith("NAME   TYPE       CLUSTER-IP").contains("7000:30080/TCP");
        assertThat(cli.run("get", "deploy", "-n", "shop").out()).startsWith("NAME   READY   UP-TO-DATE   AVAILABLE   AGE\n")
                .containsPattern("(?m)^web    [0-2]/2 ");

        var again = cli.run("apply", "-f", dir.toString());
        assertThat(again.out()).isEqualTo("namespace/shop unchanged\ndeployment.apps/web unchanged\nservice/web unchanged\n");

        Files.writeString(dir.resolve("20-service.yaml"), Files.readString(dir.resolve("20-service.yaml")).replace("port: 7000", "port: 8000"));
        assertThat(cli.run("apply", "-f", dir.toString()).out()).contains("service/web configured");

        var deleted = cli.run("delete", "-f", dir.resolve("20-service.yaml").toString());
        assertThat(deleted.out()).isEqualTo("service \"web\" deleted\n");
        assertThat(cli.run("get", "svc", "-n", "shop").err()).isEqualTo("No resources found in shop namespace.\n");
        assertThat(cli.run("delete", "svc", "web", "-n", "shop").err())
                .isEqualTo("Error from server (NotFound): services \"web\" not found\n");

        var reapplied = cli.run("apply", "-f", dir.toString());
        assertThat(reapplied.out()).contains("service/web created");
        assertThat(cli.run("get", "svc", "web", "-n", "shop").out()).contains("8000:30080/TCP");
    }

    @Test
    void oneInvalidObjectMeansNothingIsApplied(@TempDir Path dir) throws Exception {
        writeApp(dir);
        Files.writeString(dir.resolve("30-bad.yaml"), """
                apiVersion: v1
                kind: Service
                metadata:
                  name: bad
                  namespace: shop
                spec:
                  type: NodePort
                  ports:
                  - port: 80
                    nodePort: 29999
                """);
        var r = cli.run("apply", "-f", dir.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("The Service \"bad\" is invalid: spec.ports[0].nodePort: Invalid value: 29999: "
                        + "provided port is not in the valid range. The range of valid ports is 30000-32767\n")
                .contains("(from " + dir.resolve("30-bad.yaml") + ", document 1)")
                .endsWith("error: nothing was applied: the apply is all or nothing and 1 object failed\n");
        assertThat(cli.run("get", "ns", "shop").err()).isEqualTo("Error from server (NotFound): namespaces \"shop\" not found\n");
        assertThat(cluster.control().call(() -> cluster.control().api().nodePorts().isAllocated(30080))).isFalse();
    }

    @Test
    void theRestApiSpeaksKubernetes() {
        AdminHttp http = new AdminHttp(cluster);
        HttpResponse<String> created = http.post("/api/v1/namespaces/default/services", "application/json", """
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"api","labels":{"tier":"front"}},
                 "spec":{"ports":[{"port":8000}]}}""");
        assertThat(created.statusCode()).isEqualTo(201);
        JsonNode svc = Json.readTree(created.body().getBytes());
        assertThat(svc.at("/spec/clusterIP").asText()).startsWith("127.2.");

        HttpResponse<String> invalid = http.post("/api/v1/namespaces/default/services", "application/json", """
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"bad"},"spec":{"type":"NodePort",
                 "ports":[{"port":0,"targetPort":80}]}}""");
        assertThat(invalid.statusCode()).isEqualTo(422);
        JsonNode status = Json.readTree(invalid.body().getBytes());
        assertThat(status.path("kind").asText()).isEqualTo("Status");
        assertThat(status.path("reason").asText()).isEqualTo("Invalid");
        assertThat(status.path("message").asText())
                .isEqualTo("Service \"bad\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive");
        assertThat(status.at("/details/causes/0/field").asText()).isEqualTo("spec.ports[0].port");
        assertThat(status.at("/details/causes/0/reason").asText()).isEqualTo("FieldValueInvalid");

        HttpResponse<String> strict = http.post("/api/v1/namespaces/default/services?fieldValidation=Strict", "application/json", """
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"app":"x","ports":[{"port":8000}]}}""");
        assertThat(strict.statusCode()).isEqualTo(400);
        assertThat(Json.readTree(strict.body().getBytes()).path("message").asText())
                .isEqualTo("Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.app\"");

        HttpResponse<String> warned = http.post("/api/v1/namespaces/default/services", "application/json", """
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"w"},"spec":{"app":"x","ports":[{"port":8000}]}}""");
        assertThat(warned.statusCode()).as("fieldValidation defaults to Warn, as in the API server").isEqualTo(201);
        assertThat(warned.headers().allValues("Warning")).containsExactly("299 - \"unknown field \\\"spec.app\\\"\"");

        HttpResponse<String> list = http.get("/api/v1/services?labelSelector=tier%3Dfront");
        JsonNode items = Json.readTree(list.body().getBytes());
        assertThat(items.path("kind").asText()).isEqualTo("ServiceList");
        assertThat(items.path("items")).hasSize(1);

        ((com.fasterxml.jackson.databind.node.ObjectNode) svc.path("metadata")).put("resourceVersion", "1");
        HttpResponse<String> stale = http.put("/api/v1/namespaces/default/services/api", Json.write(svc));
        assertThat(stale.statusCode()).isEqualTo(409);
        assertThat(Json.readTree(stale.body().getBytes()).path("message").asText()).isEqualTo("Operation cannot be fulfilled on "
                + "services \"api\": the object has been modified; please apply your changes to the latest version and try again");

        HttpResponse<String> discovery = http.get("/apis/apps/v1");
        assertThat(Json.readTree(discovery.body().getBytes()).path("resources").findValuesAsText("name")).contains("deployments");

        HttpResponse<String> deleted = http.delete("/api/v1/namespaces/default/services/api");
        assertThat(deleted.statusCode()).isEqualTo(200);
        HttpResponse<String> gone = http.get("/api/v1/namespaces/default/services/api");
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(Json.readTree(gone.body().getBytes()).path("message").asText()).isEqualTo("services \"api\" not found");
    }
}
