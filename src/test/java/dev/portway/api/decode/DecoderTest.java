package dev.portway.api.decode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.Service;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading manifests: YAML and JSON, files, directories and stdin, and every way they go wrong. */
class DecoderTest {

    @Test
    void malformedYamlNamesFileLineColumnAndWhatWasExpected() {
        Manifests.Loaded loaded = Manifests.loadText("bad.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                 spec: {}
                """);
        assertThat(loaded.problems()).singleElement().satisfies(p -> {
            assertThat(p.where()).isEqualTo("bad.yaml:5:2");
            assertThat(p.message()).startsWith("invalid YAML: expected <block end>, but found '<block mapping start>'");
            assertThat(p.message()).contains("(while parsing a block mapping that started at line 1, column 1)");
        });
    }

    @Test
    void duplicateKeysAreAnErrorAsTheyAreForTheApiServer() {
        Manifests.Loaded loaded = Manifests.loadText("dup.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  ports:
                  - port: 80
                    port: 81
                """);
        assertThat(loaded.problems()).singleElement().satisfies(p -> {
            assertThat(p.where()).isEqualTo("dup.yaml:8:5");
            assertThat(p.message()).isEqualTo("invalid YAML: mapping key \"port\" already defined at line 7");
        });
    }

    @Test
    void unknownKindAndVersionAreNamedWithFileAndDocument() {
        Manifests.Loaded loaded = Manifests.loadText("kinds.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: ok
                ---
                apiVersion: apps/v2
                kind: Deployment
                metadata:
                  name: web
                ---
                apiVersion: example.com/v1
                kind: Widget
                """);
        assertThat(loaded.objects()).hasSize(1);
        assertThat(loaded.problems()).hasSize(2);
        assertThat(loaded.problems().get(0).toString()).startsWith(
                "kinds.yaml:6:1 (document 2): no matches for kind \"Deployment\" in version \"apps/v2\"\n"
                        + "  hint: Deployment is served as apiVersion \"apps/v1\", not \"apps/v2\"");
        assertThat(loaded.problems().get(1).toString()).startsWith(
                "kinds.yaml:11:1 (document 3): no matches for kind \"Widget\" in version \"example.com/v1\"");
    }

    @Test
    void aReferenceGrantDecodesAtV1AndV1beta1ToItsStorageVersion() {
        String grant = """
                apiVersion: gateway.networking.k8s.io/%s
                kind: ReferenceGrant
                metadata:
                  name: %s
                spec:
                  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
                  to: [{group: "", kind: Service}]
                """;
        Manifests.Loaded loaded = Manifests.loadText("grants.yaml", grant.formatted("v1", "new") + "---\n"
                + grant.formatted("v1beta1", "old") + "---\n" + grant.formatted("v1alpha2", "older"));
        assertThat(loaded.objects()).hasSize(2).allSatisfy(d -> {
            assertThat(d.kind()).isEqualTo(ResourceKind.REFERENCE_GRANT);
            assertThat(d.object()).isInstanceOf(io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant.class);
            assertThat(d.object().getApiVersion()).isEqualTo("gateway.networking.k8s.io/v1beta1");
        });
        assertThat(loaded.objects()).extracting(d -> d.object().getMetadata().getName()).containsExactly("new", "old");
        assertThat(loaded.problems()).singleElement().hasToString(
                "grants.yaml:17:1 (document 3): no matches for kind \"ReferenceGrant\" in version \"gateway.networking.k8s.io/v1alpha2\"\n"
                        + "  hint: ReferenceGrant is served as apiVersion \"gateway.networking.k8s.io/v1\" or "
                        + "\"gateway.networking.k8s.io/v1beta1\", not \"gateway.networking.k8s.io/v1alpha2\"");
    }

    @Test
    void missingKindIsReported() {
        Manifests.Loaded loaded = Manifests.loadText("nokind.yaml", "apiVersion: v1\nmetadata:\n  name: x\n");
        assertThat(loaded.problems()).singleElement().extracting(DecodeProblem::message)
                .isEqualTo("error validating data: kind not set");
    }

    @Test
    void aStringWhereANumberBelongsIsATypeErrorInGosWords() {
        Manifests.Loaded loaded = Manifests.loadText("types.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  ports:
                  - port: "80"
                """);
        assertThat(loaded.problems()).singleElement().satisfies(p -> {
            assertThat(p.where()).isEqualTo("types.yaml:7:5");
            assertThat(p.message()).isEqualTo("Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
                    + "string into Go struct field ServicePort.spec.ports.port of type int32");
        });
    }

    @Test
    void everyUnknownFieldIsListedWithHintsForFieldsOfANeighbour() {
        Manifests.Loaded loaded = Manifests.loadText("svc.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  targetPort: 8080
                  ports:
                  - port: 80
                    bogus: true
                """);
        assertThat(loaded.problems()).singleElement().satisfies(p -> {
            assertThat(p.message()).endsWith("strict decoding error: unknown field \"spec.targetPort\", unknown field \"spec.ports[0].bogus\"");
            assertThat(p.hints()).containsExactly("\"targetPort\" is a field of spec.ports[*]: indent it under \"ports:\"");
        });
    }

    @Test
    void aFieldIndentedOneLevelTooDeepGetsAHint() {
        Manifests.Loaded loaded = Manifests.loadText("deep.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                  labels:
                    app: web
                spec:
                  ports:
                  - port: 80
                    type: NodePort
                """);
        assertThat(loaded.problems()).singleElement().satisfies(p -> {
            assertThat(p.message()).endsWith("unknown field \"spec.ports[0].type\"");
            assertThat(p.hints()).anySatisfy(h -> assertThat(h).contains("one level up").contains("spec.type"));
        });
    }

    @Test
    void jsonAndListsAndMultipleDocumentsDecode() {
        Manifests.Loaded json = Manifests.loadText("list.json", """
                {"apiVersion": "v1", "kind": "List", "items": [
                  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}]}},
                  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "data": {"k": "v"}}
                ]}
                """);
        assertThat(json.problems()).isEmpty();
        assertThat(json.objects()).extracting(ObjectDecoder.Decoded::kind).containsExactly(ResourceKind.SERVICE, ResourceKind.CONFIG_MAP);

        Manifests.Loaded yaml = Manifests.loadText("multi.yaml", "---\n# nothing\n---\napiVersion: v1\nkind: Namespace\n"
                + "metadata: {name: a}\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n");
        assertThat(yaml.problems()).isEmpty();
        assertThat(yaml.objects()).hasSize(2);
    }

    @Test
    void aJsonTypeErrorPointsAtTheLine() {
        Manifests.Loaded json = Manifests.loadText("svc.json", """
                {
                  "apiVersion": "v1",
                  "kind": "Service",
                  "metadata": {"name": "a"},
                  "spec": {
                    "ports": [{"port": true}]
                  }
                }
                """);
        assertThat(json.problems()).singleElement().satisfies(p -> {
            assertThat(p.where()).isEqualTo("svc.json:6:16");
            assertThat(p.message()).endsWith("json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.port of type int32");
        });
    }

    @Test
    void aDirectoryIsReadInNameOrderAndOnlyManifestFilesCount(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("b.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n");
        Files.writeString(dir.resolve("a.yml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n");
        Files.writeString(dir.resolve("c.json"), "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"c\"}}");
        Files.writeString(dir.resolve("README.md"), "# not a manifest");
        Manifests.Loaded loaded = Manifests.load(List.of(dir.toString()), System.in);
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.objects()).extracting(o -> o.object().getMetadata().getName()).containsExactly("a", "b", "c");
    }

    @Test
    void standardInputAndMissingPaths() {
        var stdin = new ByteArrayInputStream("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n"
                .getBytes(StandardCharsets.UTF_8));
        Manifests.Loaded loaded = Manifests.load(List.of("-", "/nonexistent/x.yaml"), stdin);
        assertThat(loaded.objects()).singleElement().extracting(o -> ((Service) o.object()).getMetadata().getName()).isEqualTo("s");
        assertThat(loaded.problems()).singleElement().asString()
                .isEqualTo("/nonexistent/x.yaml: the path \"/nonexistent/x.yaml\" does not exist");
    }

    @Test
    void anAliasBombIsRefusedQuickly() {
        // 50 aliases (under SnakeYAML's limit of 64) that expand to 2^25 nodes
        String yaml = aliasChain(25);
        long start = cpuNanos();
        Manifests.Loaded loaded = Manifests.loadText("bomb.yaml", yaml);
        assertThat(java.time.Duration.ofNanos(cpuNanos() - start)).isLessThan(java.time.Duration.ofSeconds(5));
        assertThat(loaded.ok()).isFalse();
        assertThat(loaded.problems().toString()).contains("yaml: document contains excessive aliasing");
    }

    /**
     * The CPU time of this thread: what the parse costs, which is what the alias tests bound (an
     * unbounded expansion takes minutes). Wall time also counted the machine's other work: a CI run
     * on a loaded two-core machine once took 5.1 s for a parse that costs 0.5.
     */
    private static long cpuNanos() {
        return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    @Test
    void anAliasBombPaddedWithACommentIsRefusedAsQuickly() {
        // the same chain, 63 aliases, behind a comment of 256 KiB: the budget no longer grows with the text (it was 20 nodes
        // a byte, 5 million here)
        String chain = aliasChain(31);
        String padded = "# " + "x".repeat(1 << 18) + "\n" + chain;
        assertThat(DocumentParser.nodeBudget(compose(padded), DocumentParser.MAX_NODES))
                .as("the padded document's budget").isEqualTo(DocumentParser.nodeBudget(compose(chain), DocumentParser.MAX_NODES))
                .isEqualTo(100_000L);
        // and it is refused within that budget. The CPU bound is loose: scanning a long comment while the code is still
        // interpreted costs seconds (a bound of 5 s failed once for a megabyte, on a CI machine whose JIT threads were
        // starved), where expanding the chain's 2^32 nodes would take hours
        long start = cpuNanos();
        Manifests.Loaded loaded = Manifests.loadText("bomb.yaml", padded);
        assertThat(java.time.Duration.ofNanos(cpuNanos() - start)).isLessThan(java.time.Duration.ofSeconds(60));
        assertThat(loaded.problems().toString()).contains("yaml: document contains excessive aliasing");
    }

    /** {@code a0} a list of two scalars, and each next key a list of two aliases of the one before. */
    private static String aliasChain(int links) {
        StringBuilder yaml = new StringBuilder("a0: &a0 [x, x]\n");
        for (int i = 1; i <= links; i++) {
            yaml.append("a").append(i).append(": &a").append(i).append(" [*a").append(i - 1).append(", *a").append(i - 1).append("]\n");
        }
        return yaml.toString();
    }

    /** The first document of {@code yaml} as SnakeYAML composes it, aliases unexpanded. */
    private static org.yaml.snakeyaml.nodes.Node compose(String yaml) {
        return new org.yaml.snakeyaml.Yaml(DocumentParser.loaderOptions()).compose(new java.io.StringReader(yaml));
    }

    /**
     * An integer scalar of more than a thousand digits stays text, as a JSON number that long is
     * refused (Jackson's limit) and as go-yaml leaves one too large for a float: BigInteger reads
     * digits in quadratic time, and a million of them took 11 s.
     */
    @Test
    void anIntegerOfMoreThanAThousandDigitsStaysText() throws Exception {
        assertThat(DocumentParser.parse("big.yaml", "a: " + "7".repeat(1001) + "\nb: " + "9".repeat(1000) + "\n"))
                .singleElement().satisfies(d -> {
                    assertThat(d.tree().path("a").isTextual()).isTrue();
                    assertThat(d.tree().path("b").isBigInteger()).isTrue();
                });
    }

    /** A key of kilobytes above many nodes: each node's field path would copy the key (gigabytes for a 400 KB body). */
    @Test
    void aLongKeyAboveManyNodesIsParsedWithoutAPathForEach() throws Exception {
        String key = "k".repeat(40_000);
        String items = ",0".repeat(200_000).substring(1);
        for (String text : List.of("{\"" + key + "\": [" + items + "]}", "? " + key + "\n: [" + items + "]\n")) { // YAML's explicit key: an implicit one is at most 1024 characters
            List<Document> docs = DocumentParser.parse("long.yaml", text);
            assertThat(docs).singleElement().satisfies(d -> {
                assertThat(d.tree().path(key).size()).isEqualTo(200_000);
                assertThat(d.locations().keySet()).allMatch(p -> p.length() <= DocumentParser.MAX_LOCATED_PATH);
            });
        }
    }

    /**
     * The walk takes each type's fields from Jackson's deserializer (built once, then used by the
     * decoding itself) rather than from an introspection of its own: the two must name the same
     * fields, of the same types, in the same order (hints list neighbouring fields in it), for
     * every type any kind reaches.
     */
    @Test
    void theFieldsTheWalkKnowsAreTheFieldsJacksonIntrospects() {
        var seen = new java.util.HashSet<Class<?>>();
        var queue = new java.util.ArrayDeque<com.fasterxml.jackson.databind.JavaType>();
        for (ResourceKind kind : ResourceKind.values()) {
            queue.add(dev.portway.api.Json.mapper().constructType(kind.type()));
        }
        int beans = 0;
        while (!queue.isEmpty()) {
            var type = queue.poll();
            while (type.isContainerType()) {
                type = type.getContentType();
            }
            Class<?> raw = type.getRawClass();
            if (raw.isPrimitive() || raw.isEnum() || raw.getName().startsWith("java.") || !seen.add(raw)
                    || raw.isInterface() || java.lang.reflect.Modifier.isAbstract(raw.getModifiers())
                    || com.fasterxml.jackson.databind.JsonNode.class.isAssignableFrom(raw)) {
                continue;
            }
            var introspected = new java.util.LinkedHashMap<String, com.fasterxml.jackson.databind.JavaType>();
            for (var p : dev.portway.api.Json.mapper().getDeserializationConfig().introspect(type).findProperties()) {
                if (p.couldDeserialize() || p.hasField()) {
                    introspected.put(p.getName(), p.getPrimaryType());
                }
            }
            assertThat(ObjectDecoder.properties(type)).as(raw.getName()).containsExactlyEntriesOf(introspected);
            queue.addAll(introspected.values());
            beans++;
        }
        assertThat(beans).isGreaterThan(100);
    }
}
