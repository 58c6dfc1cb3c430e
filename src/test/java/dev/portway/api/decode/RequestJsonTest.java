package dev.portway.api.decode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.Json;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestJsonTest {

    private static RequestJson.Parsed read(String json, boolean typed) throws Exception {
        return RequestJson.read(json.getBytes(StandardCharsets.UTF_8), typed);
    }

    @Test
    void duplicatesAreNamedByTheirFieldPathsAsTheApiServersDecoderNamesThem() throws Exception {
        RequestJson.Parsed p = read("""
                {"a": 1, "spec": {"ports": [{"port": 80, "port": 81}, {"name": "x"}], "type": "A", "type": "B"}, "a": 2,
                 "m": {"k.with.dots": 1, "k.with.dots": 2}, "spec": {"type": "C"}}""", true);
        assertThat(p.duplicates()).containsExactly("spec.ports[0].port", "spec.type", "a", "m.k.with.dots", "spec");
        assertThat(p.strictErrors()).startsWith("duplicate field \"spec.ports[0].port\"");
        assertThat(p.tree().path("a").asInt()).isEqualTo(2);
        // typed: the second object is decoded into the first
        assertThat(p.tree().path("spec").path("ports")).hasSize(2);
        assertThat(p.tree().path("spec").path("type").asText()).isEqualTo("C");
    }

    @Test
    void readUntypedTheLastValueIsKeptWhole() throws Exception {
        RequestJson.Parsed p = read("{\"spec\": {\"a\": 1}, \"spec\": {\"b\": 2}}", false);
        assertThat(p.duplicates()).containsExactly("spec");
        assertThat(p.tree()).isEqualTo(Json.readTree("{\"spec\": {\"b\": 2}}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aBodyWithoutDuplicatesReadsAsJacksonReadsIt() throws Exception {
        String json = """
                {"n": 1, "big": 12345678901234567890, "f": 1.5, "t": true, "z": null, "s": "x\\u00e9", "a": [[], {}, [1, [2]]]}""";
        RequestJson.Parsed p = read(json, true);
        assertThat(p.duplicates()).isEmpty();
        assertThat(p.tree()).isEqualTo(Json.readTree(json.getBytes(StandardCharsets.UTF_8)));
        assertThat(read("  ", true).tree().isMissingNode()).isTrue();
    }

    @Test
    void atMostAHundredDuplicatesAreNoted() throws Exception {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < 300; i++) {
            b.append("\"k").append(i).append("\":1,\"k").append(i).append("\":2,");
        }
        b.append("\"end\":0}");
        assertThat(read(b.toString(), true).duplicates()).hasSize(100);
    }
}
