package dev.portway.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.re2j.Pattern;
import java.util.List;
import org.junit.jupiter.api.Test;

class RegularExpressionsTest {

    /** The estimate is at least what re2j builds, for the shapes that make programs large, so none too large is compiled. */
    @Test
    void theEstimateIsNoLessThanTheProgramAndSaturatesWithoutCompiling() {
        for (String re : List.of("/api/v[0-9]+/users/[^/]+", "(?:[0-9]{1,3}\\.){3}[0-9]{1,3}", "/(a|b|c)+/x{1,100}", "(?:a?){200}",
                "[]a{3}]{5}", "\\Qa{9}\\E{4}", "\\p{Greek}{7}", "a{2,}", "(?i)[[:alpha:]]{20}")) {
            assertThat(RegularExpressions.estimatedSize(re)).as(re).isGreaterThanOrEqualTo(Pattern.compile(re).programSize() / 2);
        }
        assertThat(RegularExpressions.estimatedSize("(?:(?:(?:(?:a{1000}){1000}){1000}){1000})")).isGreaterThan(10_000);
        assertThat(RegularExpressions.estimatedSize("a{b}c{,2}")).as("braces that are no repetition are literal").isEqualTo(9);
        // a '[' followed by ':' with no ":]" after it is a member, as in re2j: the class ends at the next ']',
        // and what follows it counts (it was taken for the class, and a billion instructions were compiled)
        for (String hiding : List.of("/[[:](?:(?:(?:a?){1000}){1000}){1000}", "/x[][:](?:(?:a?){1000}){1000}")) {
            assertThat(RegularExpressions.estimatedSize(hiding)).as(hiding).isGreaterThan(10_000);
            assertThat(RegularExpressions.problem(hiding, false)).as(hiding).startsWith("the expression is too large");
        }
    }

    @Test
    void typicalRouteExpressionsAreWellWithinTheLimit() {
        for (String re : List.of("/api/v[0-9]+/users/[^/]+", "^/(api|v1)/.*", "[a-f0-9]{64}", "/v2/[a-zA-Z0-9._-]+/manifests/[a-zA-Z0-9._:-]+")) {
            assertThat(RegularExpressions.problem(re, false)).as(re).isNull();
            assertThat(RegularExpressions.problem(re, true)).as(re).isNull();
        }
    }
}
