package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A response's warnings, bounded as kube-apiserver's warning recorder bounds them. */
class HttpResponsesTest {

    @Test
    void warningsAreWrittenOnceAndCutPast4KiCharacters() {
        assertThat(HttpResponses.bounded(List.of("a", "b", "a", ""))).containsExactly("a", "b");
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            many.add(i + ": " + "x".repeat(300));
        }
        List<String> written = HttpResponses.bounded(many);
        assertThat(written).allSatisfy(w -> assertThat(w).hasSize(256));
        assertThat(written.stream().mapToInt(String::length).sum()).isBetween(4096, 4096 + 256);
        assertThat(written.getFirst()).startsWith("0: xxx");
        assertThat(HttpResponses.bounded(List.of("short", "y".repeat(300)))).as("under the bound: whole")
                .containsExactly("short", "y".repeat(300));
    }
}
