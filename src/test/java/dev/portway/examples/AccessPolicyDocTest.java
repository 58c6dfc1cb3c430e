package dev.portway.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.decode.Manifests;
import dev.portway.api.decode.ObjectDecoder;
import dev.portway.api.policy.AccessPolicy;
import dev.portway.api.policy.AccessPolicyModel;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;

/**
 * docs/access-policy.md says what it shows: its manifests apply (the Prometheus example beside
 * the Services and Deployments of {@code examples/monitoring}, which it routes to), the example policy guards the three
 * routes with both Secrets resolved, and its htpasswd line is the password the text says; and
 * the README's short example applies too.
 */
class AccessPolicyDocTest {

    private static final Path DOC = Path.of("docs", "access-policy.md");

    private static List<String> yamlBlocks() throws IOException {
        return yamlBlocks(DOC);
    }

    private static List<String> yamlBlocks(Path markdown) throws IOException {
        Matcher m = Pattern.compile("(?s)```yaml\n(.*?)```").matcher(Files.readString(markdown));
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    @Test
    void thePrometheusExampleGuardsTheStacksRoutes() throws IOException {
        TestApi api = new TestApi();
        Path example = Path.of("examples", "monitoring");
        Manifests.Loaded stack = Manifests.load(List.of(example.resolve("prometheus.yaml").toString(),
                example.resolve("alertmanager.yaml").toString(), example.resolve("pushgateway.yaml").toString()), System.in);
        assertThat(stack.problems()).isEmpty();
        api.api().apply(stack.objects().stream().map(ObjectDecoder.Decoded::object).toList(), "default", false);
        List<HasMetadata> applied = api.apply(yamlBlocks().getFirst());
        assertThat(applied).filteredOn(o -> o instanceof AccessPolicy).hasSize(1);

        var store = api.api().store();
        AccessPolicyModel model = AccessPolicyModel.build(store.list(AccessPolicy.class), store.list(HTTPRoute.class),
                store.list(Ingress.class), store.list(Secret.class));
        AccessPolicyModel.PolicyInfo policy = model.policies().getFirst();
        assertThat(policy.accepted().message()).isEqualTo("Guards HTTPRoute/prometheus, HTTPRoute/alertmanager, HTTPRoute/pushgateway");
        assertThat(policy.resolvedRefs().message()).isEqualTo("basicAuth: 1 user from Secret \"stack-htpasswd\"; "
                + "bearerTokens: 1 token from Secret \"stack-tokens\"");
        assertThat(OpenBSDBCrypt.checkPassword(policy.credentials().users().get("admin"), "s3cret".toCharArray()))
                .as("the password the curl lines use").isTrue();
        assertThat(Files.readString(DOC)).contains("Authorization: Bearer " + policy.credentials().tokens().getFirst());
    }

    @Test
    void theReferenceManifestApplies() throws IOException {
        TestApi api = new TestApi();
        api.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n");
        List<HasMetadata> applied = api.apply(yamlBlocks().get(1));
        assertThat(applied).singleElement().isInstanceOf(AccessPolicy.class);
    }

    @Test
    void theReadmesPolicyApplies() throws IOException {
        String policy = yamlBlocks(Path.of("README.md")).stream().filter(b -> b.contains("kind: AccessPolicy")).findFirst().orElseThrow();
        assertThat(new TestApi().apply(policy)).singleElement().isInstanceOf(AccessPolicy.class);
    }
}
