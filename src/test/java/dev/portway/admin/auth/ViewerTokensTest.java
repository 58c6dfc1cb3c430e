package dev.portway.admin.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.StepClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The topology page's tokens: good for 12 hours, at most 64 at once (the oldest goes), kept by digest. */
class ViewerTokensTest {

    @Test
    void aTokenIsGoodForTwelveHoursAndThenGone() {
        StepClock clock = new StepClock(Instant.parse("2026-11-30T12:00:00Z"));
        ViewerTokens tokens = new ViewerTokens(clock);
        ViewerTokens.Minted minted = tokens.mint();
        assertThat(minted.expires()).isEqualTo(Instant.parse("2026-12-01T00:00:00Z"));
        assertThat(tokens.isValid(minted.token())).isTrue();
        assertThat(tokens.isValid(minted.token() + "x")).isFalse();
        assertThat(tokens.isValid("")).isFalse();
        clock.advance(Duration.ofHours(12).minusSeconds(1));
        assertThat(tokens.isValid(minted.token())).isTrue();
        clock.advance(Duration.ofSeconds(1));
        assertThat(tokens.isValid(minted.token())).isFalse();
        assertThat(tokens.size()).as("an expired token looked up is dropped").isZero();
    }

    @Test
    void atMostSixtyFourAreHeldAndTheOldestGoes() {
        ViewerTokens tokens = new ViewerTokens(new StepClock(Instant.parse("2026-11-30T12:00:00Z")));
        List<String> minted = new ArrayList<>();
        for (int i = 0; i < ViewerTokens.MAX + 1; i++) {
            minted.add(tokens.mint().token());
        }
        assertThat(tokens.size()).isEqualTo(ViewerTokens.MAX);
        assertThat(tokens.isValid(minted.getFirst())).as("the oldest").isFalse();
        assertThat(tokens.isValid(minted.get(1))).isTrue();
        assertThat(tokens.isValid(minted.getLast())).isTrue();
        assertThat(minted).doesNotHaveDuplicates().allSatisfy(t -> assertThat(t).hasSize(43));
    }

    @Test
    void revokingEndsEveryToken() {
        StepClock clock = new StepClock(Instant.parse("2026-11-30T12:00:00Z"));
        ViewerTokens tokens = new ViewerTokens(clock);
        String old = tokens.mint().token();
        clock.advance(Duration.ofHours(11));
        String a = tokens.mint().token();
        String b = tokens.mint().token();
        clock.advance(Duration.ofHours(2)); // the first has expired
        assertThat(tokens.revokeAll()).as("those that still worked").isEqualTo(2);
        assertThat(List.of(old, a, b)).noneMatch(tokens::isValid);
        assertThat(tokens.size()).isZero();
        assertThat(tokens.isValid(tokens.mint().token())).as("a link minted after works").isTrue();
    }
}
