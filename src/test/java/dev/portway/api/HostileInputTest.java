package dev.portway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Checks of API input a client controls run in time linear in it, and without deep recursion:
 * they run on the API server's one event loop (selectors, the decoder's quantities), where a
 * backtracking match of seconds stopped every client. Each took minutes or overflowed the stack
 * with java.util.regex; the patterns now run in RE2, as they do in kube-apiserver (Go's regexp).
 */
class HostileInputTest {

    @Test
    void aLongInvalidQuantityIsRefusedAtOnce() {
        // two overlapping runs of digits: quadratic backtracking (18 s for an 80 KB body)
        long start = System.nanoTime();
        assertThat(Quantities.parse("1".repeat(200_000) + "x")).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(Quantities.parse("1500m")).isPresent();
    }

    @Test
    void aLongLabelKeyInASelectorIsRefusedNotOverflowed() {
        // one repetition of the dotted group per segment: a StackOverflowError at 3,000 characters
        assertThatThrownBy(() -> LabelQuery.parse("aa.".repeat(1_000) + "a=x")).isInstanceOf(ApiException.class)
                .hasMessageContaining("invalid label key");
        String segment = "a".repeat(60);
        assertThatThrownBy(() -> LabelQuery.parse((segment + ".").repeat(50) + "a=x")).isInstanceOf(ApiException.class);
        assertThat(LabelQuery.parse("example.com/tier=front")).isNotNull();
    }
}
