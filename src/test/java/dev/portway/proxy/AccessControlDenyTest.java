package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.re2j.Pattern;
import dev.portway.plan.Plan;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Deny rules are fences: neither case, a trailing slash nor an escaped character walks around one, of any match type. */
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
        // a rule written with the slash stops the path without it (Express, say, serves both alike)
        assertThat(denies(Plan.MatchType.EXACT, "/admin/", "/admin")).isTrue();
        assertThat(denies(Plan.MatchType.EXACT, "/admin/", "/ADMIN/")).isTrue();
        assertThat(denies(Plan.MatchType.EXACT, "/", "/")).isTrue();
        assertThat(denies(Plan.MatchType.EXACT, "/admin/", "/admin/x")).isFalse();
    }

    /**
     * An escaped {@code ;} starts path parameters once a backend decodes it, and servlet
     * containers strip those ({@code /admin/quit%3Bx} is their {@code /admin/quit}): the rule stops
     * it, where a raw {@code ;} is refused before any rule.
     */
    @Test
    void anEscapedPathParameterDoesNotPassAnyKindOfRule() {
        for (Plan.MatchType type : Plan.MatchType.values()) {
            String value = type == Plan.MatchType.REGULAR_EXPRESSION ? "/admin/[a-z]+" : "/admin/quit";
            assertThat(denies(type, value, "/admin/quit%3Bx")).as(type.toString()).isTrue();
            assertThat(denies(type, value, "/admin%3Bjsessionid=1/quit%3bx=2")).as(type + ", on every segment").isTrue();
            assertThat(denies(type, value, "/public/..%3B/admin/quit")).as(type + ": a dot segment once stripped").isTrue();
            assertThat(denies(type, value, "/%3Bx/admin/quit")).as(type + ": an empty segment once stripped").isTrue();
        }
        assertThat(denies(Plan.MatchType.EXACT, "/admin/quit", "/admin/quiet%3Bx")).isFalse();
        assertThat(AccessControl.withoutParameters("/a;x/b;y=1")).isEqualTo("/a/b");
        assertThat(AccessControl.withoutParameters("/plain")).isSameAs("/plain");
    }

    /**
     * The gateway keeps {@code %3A} and its like encoded (as Envoy does), but a backend that decodes
     * them serves {@code /v1/keys%3Aexport} as {@code /v1/keys:export}: the rule stops both.
     */
    @Test
    void anEscapedCharacterOfAPathSegmentDoesNotPassAnyKindOfRule() {
        for (Plan.MatchType type : Plan.MatchType.values()) {
            String value = type == Plan.MatchType.REGULAR_EXPRESSION ? "/v1/keys:[a-z]+" : "/v1/keys:export";
            assertThat(denies(type, value, "/v1/keys%3Aexport")).as(type.toString()).isTrue();
            assertThat(denies(type, value, "/v1/keys%3aexport")).as(type + ", lower-case hex").isTrue();
            assertThat(denies(type, value, "/v1/keys%2Fexport")).as(type + ": an escaped slash is another path").isFalse();
        }
        assertThat(denies(Plan.MatchType.PREFIX, "/users/@admin", "/users/%40admin/x")).isTrue();
        assertThat(AccessControl.decodeSegmentCharacters("/a%3Ab%25c%2F%40")).isEqualTo("/a:b%25c%2F@");
        assertThat(AccessControl.decodeSegmentCharacters("/plain")).isSameAs("/plain");
    }

    /** A rule written with the escape stops the character written raw, as the other way round. */
    @Test
    void aRuleWrittenEscapedStopsThePathWrittenRaw() {
        for (Plan.MatchType type : List.of(Plan.MatchType.EXACT, Plan.MatchType.PREFIX)) {
            assertThat(denies(type, "/v1/keys%3Aexport", "/v1/keys:export")).as(type.toString()).isTrue();
            assertThat(denies(type, "/v1/keys%3Aexport", "/v1/keys%3Aexport")).as(type + ", as written").isTrue();
            assertThat(denies(type, "/v1/keys%3Aexport", "/v1/keys%3Aexports")).as(type + ": another path").isFalse();
        }
        assertThat(denies(Plan.MatchType.PREFIX, "/users/%40admin", "/users/@admin/keys")).isTrue();
    }
}
