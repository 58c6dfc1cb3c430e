package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code portway validate}: offline, exit 0 when every object is valid and 1 otherwise, with the API server's messages. */
class ValidateCommandTest {

    private final Cli cli = new Cli(Clock.systemUTC(), (String) null);

    @Test
    void validManifestsExitZero(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ok.yaml");
        Files.writeString(file, """
                apiVersion: v1
                kind: Service
                metadata:
                  name: my-service
                spec:
                  type: NodePort
                  selector:
                    app: MyApp
                  ports:
                  - protocol: TCP
                    port: 80
                    targetPort: 8080
                    nodePort: 30007
                """);
        Cli.Result r = cli.run("validate", "-f", file.toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo("service/my-service valid\n");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void theSeedsYamlExitsOneNamingSpecApp() throws Exception {
        Path seed = SeedPaths.seed("nodeport.yaml");
        Cli.Result r = cli.run("validate", "-f", seed.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("unknown field \"spec.app\"").contains("hint:").contains("indent it under spec.selector")
                .endsWith("error: 1 problem found\n");
    }

    @Test
    void anInvalidServicePrintsTheApiServersMessageAndExitsOne() {
        Cli.Result r = cli.runWithInput("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: my-service
                spec:
                  type: NodePort
                  selector: {app: MyApp}
                  ports:
                  - port: 80
                    nodePort: 29999
                """, "validate", "-f", "-");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("""
                The Service "my-service" is invalid: spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767
                  (from -, document 1)
                error: 1 problem found
                """);
    }

    @Test
    void aServiceWithoutANameGetsTheApiServersMessageNotAStackTrace() {
        Cli.Result r = cli.runWithInput("""
                apiVersion: v1
                kind: Service
                spec:
                  ports:
                  - port: 80
                """, "validate", "-f", "-");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("""
                The Service "" is invalid: metadata.name: Required value: name or generateName is required
                  (from -, document 1)
                error: 1 problem found
                """);
    }

    @Test
    void theNodePortRangeCanBeChanged() {
        String svc = """
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {type: NodePort, ports: [{port: 80, nodePort: 29999}]}
                """;
        assertThat(cli.runWithInput(svc, "validate", "-f", "-", "--service-node-port-range", "20000-29999").exitCode()).isZero();
    }

    @Test
    void aMissingFileOrNoObjectsIsAnError(@TempDir Path dir) {
        assertThat(cli.run("validate", "-f", dir.resolve("nope.yaml").toString()).exitCode()).isEqualTo(1);
        assertThat(cli.run("validate", "-f", dir.toString()).err()).contains("no objects found");
    }

    @Test
    void usageErrorsExitTwo() {
        Cli.Result r = cli.run("validate");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--filename=PATH'");
    }
}
