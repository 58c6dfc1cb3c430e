package dev.portway.api.decode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Service;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The seed document's YAML, copied verbatim into {@code src/test/resources/seed/}, has its
 * {@code app: MyApp} lines at {@code spec} level, so the selector is empty. Portway must refuse
 * it, name {@code spec.app}, and say to indent it under {@code spec.selector}.
 */
class SeedManifestTest {

    static Path seed(String name) throws URISyntaxException {
        return Path.of(SeedManifestTest.class.getResource("/seed/" + name).toURI());
    }

    @Test
    void theSeedsNodePortServiceIsRefusedWithAHintAtTheIndentation() throws Exception {
        Manifests.Loaded loaded = Manifests.load(List.of(seed("nodeport.yaml").toString()), System.in);

        assertThat(loaded.objects()).isEmpty();
        assertThat(loaded.problems()).hasSize(1);
        DecodeProblem problem = loaded.problems().getFirst();
        assertThat(problem.where()).endsWith("nodeport.yaml:8:5");
        assertThat(problem.message()).isEqualTo(
                "Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.app\"");
        assertThat(problem.hints()).singleElement().asString()
                .contains("\"app: MyApp\" sits beside the empty \"selector:\" (line 7)")
                .contains("indent it under spec.selector")
                .contains("the Service selects no pods");
    }

    @Test
    void theSeedsLoadBalancerServiceIsRefusedTheSameWay() throws Exception {
        Manifests.Loaded loaded = Manifests.load(List.of(seed("loadbalancer.yaml").toString()), System.in);

        assertThat(loaded.objects()).isEmpty();
        assertThat(loaded.problems()).singleElement().satisfies(p -> {
            assertThat(p.message()).endsWith("strict decoding error: unknown field \"spec.app\"");
            assertThat(p.hints()).singleElement().asString().contains("indent it under spec.selector");
        });
    }

    @Test
    void theSeedsServicesAreAcceptedOnceIndented() throws Exception {
        for (String name : List.of("nodeport.yaml", "loadbalancer.yaml")) {
            String fixed = Files.readString(seed(name)).replace("    selector:\n    app: MyApp", "    selector:\n      app: MyApp");
            Manifests.Loaded loaded = Manifests.loadText(name, fixed);
            assertThat(loaded.problems()).isEmpty();
            Service svc = (Service) loaded.objects().getFirst().object();
            assertThat(svc.getSpec().getSelector()).isEqualTo(Map.of("app", "MyApp"));

            TestApi api = new TestApi();
            Service stored = (Service) api.apply(fixed).getFirst();
            Integer nodePort = stored.getSpec().getPorts().getFirst().getNodePort();
            assertThat(nodePort).isEqualTo(name.equals("nodeport.yaml") ? 30007 : nodePort).isBetween(30000, 32767);
        }
    }

    @Test
    void aPresentButEmptySelectorIsAcceptedWithAWarning() {
        Manifests.Loaded loaded = Manifests.loadText("svc.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  selector:
                  ports:
                  - port: 80
                """);
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.objects().getFirst().warnings()).singleElement().asString()
                .startsWith("spec.selector is present but empty");
    }

    /** Valid, and not applied by the data plane: said when applied rather than left silent. */
    @Test
    void internalTrafficPolicyLocalIsAcceptedWithAWarning() {
        Manifests.Loaded loaded = Manifests.loadText("svc.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  selector: {app: web}
                  internalTrafficPolicy: Local
                  ports:
                  - port: 80
                """);
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.objects().getFirst().warnings()).singleElement().asString()
                .startsWith("spec.internalTrafficPolicy: Local is valid, but Portway's data plane does not apply it");
    }

    @Test
    void theTestCopyIsTheSeedDocumentsYamlVerbatim() throws IOException, URISyntaxException {
        Path doc = Path.of("..", "shared", "seed.md");
        if (Files.exists(doc)) {
            assertThat(Files.readString(doc)).contains(Files.readString(seed("nodeport.yaml")).strip());
        }
    }
}
