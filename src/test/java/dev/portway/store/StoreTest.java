package dev.portway.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A batch is seen whole or not at all, and a watch resumes from the history without gaps or repeats. */
class StoreTest {

    private static ConfigMap cm(String name) {
        return new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata().build();
    }

    @Test
    void readersNeverSeeHalfABatch() throws Exception {
        Store store = new Store();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger torn = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                int n = store.list(ResourceKind.CONFIG_MAP, "default").size();
                if (n % 10 != 0) {
                    torn.incrementAndGet();
                }
                reads.incrementAndGet();
            }
        });
        // the reader reads before the first batch: on two busy cores the 300 batches could otherwise all be
        // committed before its thread first ran (it happened in CI: no read at all)
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> reads.get() > 0);
        for (int b = 0; b < 300; b++) {
            Store.Batch batch = store.begin();
            for (int i = 0; i < 10; i++) {
                batch.put(cm("b" + b + "-" + i));
            }
            assertThat(store.get(ResourceKind.CONFIG_MAP, "default", "b" + b + "-0")).as("invisible before commit").isEmpty();
            assertThat(batch.get(ResourceKind.CONFIG_MAP, "default", "b" + b + "-0")).as("the batch sees its own writes").isPresent();
            batch.commit();
        }
        stop.set(true);
        reader.join();
        assertThat(reads.get()).isPositive();
        assertThat(torn.get()).as("lists that saw part of a batch").isZero();
        assertThat(store.list(ResourceKind.CONFIG_MAP, "default")).hasSize(3000);
    }

    @Test
    void theRevisionMovesOnlyWhenTheBatchIsVisible() {
        Store store = new Store();
        long before = store.revision();
        Store.Batch batch = store.begin();
        batch.put(cm("a"));
        assertThat(store.revision()).isEqualTo(before);
        batch.commit();
        assertThat(store.revision()).isGreaterThan(before);
        Store.Snapshot s = store.snapshot(ResourceKind.CONFIG_MAP, "default");
        assertThat(s.revision()).isEqualTo(store.revision());
        assertThat(s.items()).hasSize(1);
    }

    @Test
    void aWatchResumesFromTheHistoryThenFollowsLive() {
        Store store = new Store();
        Store.Batch b1 = store.begin();
        b1.put(cm("a"));
        b1.commit();
        long from = store.revision();
        Store.Batch b2 = store.begin();
        b2.put(cm("b"));
        b2.remove(ResourceKind.CONFIG_MAP, "default", "a");
        b2.commit();
        List<WatchEvent> replayed = new ArrayList<>();
        List<WatchEvent> live = new ArrayList<>();
        store.watchFrom(from, replayed::addAll, live::addAll);
        assertThat(replayed).extracting(WatchEvent::type).containsExactly(WatchEvent.Type.ADDED, WatchEvent.Type.DELETED);
        WatchEvent deleted = replayed.get(1);
        assertThat(deleted.object().getMetadata().getResourceVersion())
                .as("a deletion has a revision of its own").isEqualTo(Long.toString(deleted.revision()));
        assertThat(deleted.revision()).isEqualTo(store.revision());
        Store.Batch b3 = store.begin();
        b3.put(cm("c"));
        b3.commit();
        assertThat(live).extracting(e -> e.object().getMetadata().getName()).containsExactly("c");
    }

    @Test
    void aRevisionOlderThanTheHistoryIsTooOld() {
        Store store = new Store(5);
        long first = store.revision();
        for (int i = 0; i < 10; i++) {
            Store.Batch b = store.begin();
            b.put(cm("x" + i));
            b.commit();
        }
        assertThatThrownBy(() -> store.watchFrom(first, e -> { }, e -> { }))
                .isInstanceOf(Store.TooOldException.class)
                .hasMessageStartingWith("too old resource version: " + first + " (");
        List<HasMetadata> seen = new ArrayList<>();
        store.watchFrom(store.revision() - 2, e -> e.forEach(w -> seen.add(w.object())), e -> { });
        assertThat(seen).hasSize(2);
    }

    @Test
    void revisionsRiseInCommitOrderWithinABatch() {
        Store store = new Store();
        Store.Batch seed = store.begin();
        seed.put(cm("gone"));
        seed.commit();
        Store.Batch batch = store.begin();
        batch.put(cm("first"));
        batch.remove(ResourceKind.CONFIG_MAP, "default", "gone");
        batch.put(cm("second"));
        List<WatchEvent> events = batch.commit();
        assertThat(events).extracting(WatchEvent::revision).isSorted().doesNotHaveDuplicates();
        assertThat(events).extracting(e -> Long.parseLong(e.object().getMetadata().getResourceVersion()))
                .containsExactlyElementsOf(events.stream().map(WatchEvent::revision).toList());
    }
}
