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

    /**
     * A quantity with an exponent past 9999 or a number of more than a thousand digits is refused:
     * every use of one (its rounding to nano, its canonical form, a sum) made a number of that many
     * digits, in quadratic time, on the API's event loop: {@code 1e1000000} kept it for minutes.
     */
    @Test
    void aQuantityOfAnAbsurdSizeIsRefused() {
        for (String q : new String[] {"1e1000000", "1e-1000000", "1E+10000", "1" + "0".repeat(1000) + "m"}) {
            assertThat(Quantities.parse(q)).as(q).isEmpty();
        }
        assertThat(Quantities.parse("1e9999").map(Quantities::canonical)).contains("1e9999");
        assertThat(Quantities.parse("5" + "0".repeat(990) + "Mi")).isPresent();
    }
}
