package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.api.ApiException;
import dev.portway.api.ResourceKind;
import dev.portway.store.Store;
import dev.portway.testing.StepClock;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the chunked lists keep, and for how long: the bounds that stop a client pinning past states. */
class ListPagesTest {

    private final StepClock clock = new StepClock(Instant.parse("2026-12-03T12:00:00Z"));

    private static Store.Snapshot snapshot(long revision, int objects) {
        List<HasMetadata> items = new ArrayList<>();
        for (int i = 0; i < objects; i++) {
            items.add(new ConfigMapBuilder().withNewMetadata().withNamespace("default").withName("cm-%05d".formatted(i)).endMetadata().build());
        }
        return new Store.Snapshot(revision, List.copyOf(items));
    }

    private static ListPages.Page page(ListPages pages, String token, Store.Snapshot now) {
        return pages.page(ResourceKind.CONFIG_MAP, "default", 1L, token, false, o -> true, () -> now);
    }

    private static String nameOf(ListPages.Page page) {
        return page.items().getFirst().getMetadata().getName();
    }

    @Test
    void aSnapshotIsKeptFiveMinutesFromItsFirstPage() {
        ListPages pages = new ListPages(clock);
        Store.Snapshot first = snapshot(10, 3);
        String token = page(pages, null, first).continueToken();
        Store.Snapshot moved = snapshot(11, 5); // the store went on
        clock.advance(Duration.ofMinutes(4));
        ListPages.Page second = page(pages, token, moved);
        assertThat(nameOf(second)).isEqualTo("cm-00001");
        assertThat(second.revision()).isEqualTo(10);
        clock.advance(Duration.ofMinutes(1)); // five from the first page, whatever the second did
        assertThatThrownBy(() -> page(pages, second.continueToken(), moved))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status().getCode()).isEqualTo(410);
                    assertThat(e.status().getMetadata().getContinue()).isNotEmpty();
                });
    }

    @Test
    void theOldestSnapshotGoesPastTheCountOrTheObjects() {
        ListPages pages = new ListPages(clock, 3, 10);
        List<String> tokens = new ArrayList<>();
        for (int revision = 1; revision <= 4; revision++) {
            tokens.add(page(pages, null, snapshot(revision, 2)).continueToken());
        }
        Store.Snapshot now = snapshot(99, 2);
        assertThatThrownBy(() -> page(pages, tokens.getFirst(), now)).isInstanceOf(ApiException.class); // past the count: gone
        assertThat(nameOf(page(pages, tokens.get(1), now))).isEqualTo("cm-00001");
        // one of 8 objects: with the 6 kept, past 10 in all, the oldest go until it fits
        String big = page(pages, null, snapshot(50, 8)).continueToken();
        assertThatThrownBy(() -> page(pages, tokens.get(2), now)).isInstanceOf(ApiException.class);
        assertThat(nameOf(page(pages, big, now))).isEqualTo("cm-00001");
    }

    @Test
    void withNothingKeptTheCurrentStateServesATokenOfItsRevision() {
        ListPages pages = new ListPages(clock, 0, 0); // keeps nothing
        Store.Snapshot same = snapshot(7, 3);
        String token = page(pages, null, same).continueToken();
        assertThat(nameOf(page(pages, token, same))).isEqualTo("cm-00001"); // nothing changed since: consistent still
    }
}
