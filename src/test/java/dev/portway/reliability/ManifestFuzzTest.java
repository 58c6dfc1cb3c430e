package dev.portway.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.ApiException;
import dev.portway.api.decode.Manifests;
import dev.portway.api.decode.ObjectDecoder;
import dev.portway.control.ApiServer;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Hostile manifests: a seeded random mutator over the repository's own manifests (every example,
 * every manifest of the docs) feeds the decoder, the validator and the API server, a bounded run.
 * No input may crash Portway (anything but a decode problem or a Kubernetes API error), hang it
 * (each input is timed), or leave a partial apply (a refused apply changes nothing in the store).
 * Jazzer's coverage guidance is not used: its JUnit integration does not resolve from Maven Central here.
 */
class ManifestFuzzTest {

    private static final long SEED = Long.getLong("portway.fuzz.seed", 20261129L);
    private static final int EXECUTIONS = Integer.getInteger("portway.fuzz.executions", 20_000);
    private static final long BUDGET_NANOS = 60_000_000_000L;
    private static final String YAML_BYTES = ":{}[]-&*!|>'\"\n #,%@`?\t0123456789abcdefxyzABC.\\/~";

    private static List<String> corpus() throws IOException {
        List<String> docs = new ArrayList<>();
        try (Stream<Path> files = Stream.concat(Files.walk(Path.of("examples")), Files.walk(Path.of("docs")))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                    docs.add(Files.readString(f));
                } else if (name.endsWith(".md")) {
                    var m = java.util.regex.Pattern.compile("(?s)```yaml\n(.*?)```").matcher(Files.readString(f));
                    while (m.find()) {
                        docs.add(m.group(1));
                    }
                }
            }
        }
        // each document on its own too, so that small objects are mutated as often as whole apps
        List<String> all = new ArrayList<>(docs);
        for (String d : docs) {
            for (String part : d.split("\n---\n")) {
                if (!part.isBlank() && !part.equals(d)) {
                    all.add(part);
                }
            }
        }
        return all;
    }

    static String mutate(String input, Random r) {
        StringBuilder s = new StringBuilder(input);
        int edits = 1 + r.nextInt(4);
        for (int e = 0; e < edits && !s.isEmpty(); e++) {
            int at = r.nextInt(s.length());
            switch (r.nextInt(7)) {
                case 0 -> s.setCharAt(at, YAML_BYTES.charAt(r.nextInt(YAML_BYTES.length())));
                case 1 -> s.delete(at, Math.min(s.length(), at + 1 + r.nextInt(20)));
                case 2 -> s.insert(at, s.substring(at, Math.min(s.length(), at + 1 + r.nextInt(40))));
                case 3 -> s.insert(at, YAML_BYTES.charAt(r.nextInt(YAML_BYTES.length())));
                case 4 -> s.insert(at, "  ");
                case 5 -> {
                    String[] values = {"-1", "99999999999999999999", "null", "~", "[]", "{}", "\"\"", "0x1F", "1e400", "*a", "&a x", "!!binary x",
                        "yes", "'", "\u0000", "\uD800"};
                    s.insert(at, values[r.nextInt(values.length)]);
                }
                default -> {
                    int nl = s.indexOf("\n", at);
                    if (nl > 0) {
                        s.insert(nl + 1, s.substring(s.lastIndexOf("\n", at) + 1, nl + 1)); // a duplicated line
                    }
                }
            }
        }
        return s.toString();
    }

    @Test
    void noMutatedManifestCrashesHangsOrHalfAppliesPortway() throws Exception {
        List<String> corpus = corpus();
        assertThat(corpus).hasSizeGreaterThan(10);
        Random random = new Random(SEED);
        TestApi api = new TestApi();
        long start = System.nanoTime();
        int runs = 0;
        int refused = 0;
        int applied = 0;
        long slowest = 0;
        for (; runs < EXECUTIONS && System.nanoTime() - start < BUDGET_NANOS; runs++) {
            String input = mutate(corpus.get(random.nextInt(corpus.size())), random);
            long t0 = System.nanoTime();
            try {
                Manifests.Loaded loaded = Manifests.loadText("fuzz.yaml", input);
                if (!loaded.ok()) {
                    refused++;
                    continue;
                }
                List<HasMetadata> objects = loaded.objects().stream().map(ObjectDecoder.Decoded::object).toList();
                long revision = api.api().store().revision();
                try {
                    api.api().apply(objects, "default", false);
                    applied++;
                } catch (ApiServer.ApplyException | ApiException e) {
                    refused++;
                    assertThat(api.api().store().revision()).as("a refused apply changes nothing (seed %d, run %d):\n%s", SEED, runs, input)
                            .isEqualTo(revision);
                }
            } catch (AssertionError e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError("run " + runs + " (seed " + SEED + ") crashed with " + t + " on:\n" + input, t);
            } finally {
                long took = System.nanoTime() - t0;
                slowest = Math.max(slowest, took);
                assertThat(took).as("run %d (seed %d) took %d ms:\n%s", runs, SEED, took / 1_000_000, input)
                        .isLessThan(5_000_000_000L);
            }
        }
        FaultsUnderLoadTest.report("manifest fuzzing (seed " + SEED + "): " + runs + " executions in "
                + (System.nanoTime() - start) / 1_000_000 + " ms, " + applied + " applied, " + refused + " refused, slowest "
                + slowest / 1_000_000 + " ms, no crash");
        assertThat(runs).isGreaterThan(500);
        // the API still works afterwards
        api.apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: after-fuzzing}
                data: {ok: "yes"}
                """);
    }
}
