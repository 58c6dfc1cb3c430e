package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.re2j.Pattern;
import dev.portway.plan.Plan;
import org.junit.jupiter.api.Test;

/** Deny rules are fences: neither case nor a trailing slash walks around one, of any match type. */
class AccessControlDenyTest {

    private static boolean denies(Plan.MatchType type, String value, String path) {
        Pattern p = type == Plan.MatchType.REGULAR_EXPRESSION ? Pattern.compile(value, Pattern.CASE_INSENSITIVE) : null;
        return AccessControl.denies(new Plan.PathMatch(type, value), p, path);
    }

    @Test
    void aTrailingSlashOrAnotherCaseDoesNotPassAnyKindOfRule() {
        for (Plan.MatchType type : Plan.MatchType.values()) {
            String value = type == Plan.MatchType.REGULAR_EXPRESSION ? "/admin/[a-z]+" : "/admin/quit";
            assertThat(denies(type, value, "/admin/quit")).as(type.toString()).isTrue();
            assertThat(denies(type, value, "/admin/quit/")).as(type + " with a trailing slash").isTrue();
            assertThat(denies(type, value, "/Admin/QUIT/")).as(type + " in another case").isTrue();
            assertThat(denies(type, value, "/admin")).as(type + " elsewhere").isFalse();
        }
        assertThat(denies(Plan.MatchType.REGULAR_EXPRESSION, "/", "/")).isTrue();
    }
}
