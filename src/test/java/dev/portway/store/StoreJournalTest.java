package dev.portway.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store on disk: every acknowledged change survives a crash, a torn last record is dropped, corruption stops the start. */
class StoreJournalTest {

    private static ConfigMap configMap(String name, String value) {
        return new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withData(Map.of("v", value)).build();
    }

    private static void put(Store store, HasMetadata... objects) {
        Store.Batch b = store.begin();
        for (HasMetadata o : objects) {
            b.put(o);
        }
        b.commit();
    }

    private static Map<String, String> values(StoreJournal.Restored r) {
        return r.objects().stream().filter(o -> o instanceof ConfigMap).map(o -> (ConfigMap) o)
                .collect(Collectors.toMap(c -> c.getMetadata().getName(), c -> c.getData().get("v")));
    }

    @Test
    void changesAfterTheSnapshotAreReplayedFromTheJournal(@TempDir Path dir) throws Exception {
        Store store = new Store();
        put(store, configMap("a", "1"));
        StoreJournal journal = StoreJournal.open(dir, store);       // snapshot: a=1
        put(store, configMap("b", "2"));                           // journaled
        put(store, new EventBuilder().withNewMetadata().withName("e1").withNamespace("default").endMetadata().build());
        put(store, configMap("a", "3"));
        Store.Batch del = store.begin();
        del.remove(dev.portway.api.ResourceKind.CONFIG_MAP, "default", "b");
        del.commit();
        // no close: the files are as a crash (kill -9) leaves them
        assertThat(Files.exists(dir.resolve(StoreJournal.JOURNAL))).isTrue();
        StoreJournal.Restored r = StoreJournal.load(dir);
        assertThat(values(r)).isEqualTo(Map.of("a", "3"));
        assertThat(r.objects()).noneMatch(o -> o instanceof io.fabric8.kubernetes.api.model.Event);
        assertThat(r.revision()).isEqualTo(store.revision());

        Store again = new Store();
        again.restore(r.objects(), r.revision());
        assertThat(again.get(ConfigMap.class, "default", "a").orElseThrow().getMetadata().getResourceVersion())
                .isEqualTo(store.get(ConfigMap.class, "default", "a").orElseThrow().getMetadata().getResourceVersion());
        put(again, configMap("c", "4"));
        assertThat(Long.parseLong(again.get(ConfigMap.class, "default", "c").orElseThrow().getMetadata().getResourceVersion()))
                .as("revisions go on from where they were").isGreaterThan(r.revision());
        journal.close();
    }

    @Test
    void revisionsHandedOutForEventsAreNeverHandedOutAgainAfterACrash(@TempDir Path dir) throws Exception {
        Store store = new Store();
        StoreJournal.open(dir, store);
        put(store, configMap("a", "1"));
        // the kubelet's last words before the crash: Events only, which are not kept, but a client
        // (an informer) may hold their revision and resume a watch from it after the restart
        put(store, new EventBuilder().withNewMetadata().withName("e1").withNamespace("default").endMetadata().build());
        put(store, new EventBuilder().withNewMetadata().withName("e2").withNamespace("default").endMetadata().build());
        long seen = store.revision();
        StoreJournal.Restored r = StoreJournal.load(dir);
        assertThat(r.objects()).noneMatch(o -> o instanceof io.fabric8.kubernetes.api.model.Event);
        assertThat(r.revision()).as("the restored revision is past every revision handed out").isEqualTo(seen);
    }

    @Test
    void aCleanCloseLeavesOneSnapshotAndNoJournal(@TempDir Path dir) throws Exception {
        Store store = new Store();
        StoreJournal journal = StoreJournal.open(dir, store);
        put(store, configMap("a", "1"), configMap("b", "2"));
        journal.close();
        assertThat(Files.exists(dir.resolve(StoreJournal.JOURNAL))).isFalse();
        assertThat(values(StoreJournal.load(dir))).isEqualTo(Map.of("a", "1", "b", "2"));
    }

    @Test
    void aLastRecordCutShortByACrashIsDropped(@TempDir Path dir) throws Exception {
        Store store = new Store();
        StoreJournal.open(dir, store);
        put(store, configMap("a", "1"));
        // a batch cut short: none of it comes back, not its first changes either
        Files.writeString(dir.resolve(StoreJournal.JOURNAL), "{\"rv\":99,\"batch\":[{\"type\":\"ADDED\",\"kind\":\"CONFIG_MAP\","
                + "\"rv\":98,\"object\":{\"metadata\":{\"name\":\"b\",\"namespace\":\"default\"}}},{\"type\":\"ADD",
                StandardOpenOption.APPEND);
        assertThat(values(StoreJournal.load(dir))).isEqualTo(Map.of("a", "1"));
    }

    @Test
    void corruptionStopsTheStartWithTheFilesPathAndKeepsTheFile(@TempDir Path dir) throws Exception {
        Store store = new Store();
        StoreJournal.open(dir, store);
        put(store, configMap("a", "1"));
        put(store, configMap("b", "2"));
        Path journal = dir.resolve(StoreJournal.JOURNAL);
        List<String> lines = Files.readAllLines(journal);
        Files.writeString(journal, "not json at all\n" + String.join("\n", lines) + "\n");
        byte[] before = Files.readAllBytes(journal);
        assertThatThrownBy(() -> StoreJournal.load(dir)).isInstanceOf(StoreJournal.CorruptStateException.class)
                .hasMessageContaining(journal.toString()).hasMessageContaining("line 1");
        assertThat(Files.readAllBytes(journal)).isEqualTo(before);

        Files.writeString(dir.resolve(StoreJournal.SNAPSHOT), "{\"revision\": 3, \"objects\": [{\"kind\": \"NO_SUCH_KIND\"}]}",
                StandardCharsets.UTF_8);
        Files.delete(journal);
        assertThatThrownBy(() -> StoreJournal.load(dir)).isInstanceOf(StoreJournal.CorruptStateException.class)
                .hasMessageContaining(dir.resolve(StoreJournal.SNAPSHOT).toString()).hasMessageContaining("unknown kind");
    }

    /**
     * A journal that cannot write (a full disk; here, a directory where the journal file goes) keeps
     * the cluster in memory and tries a whole snapshot again, at most once a second rather than at
     * every commit, until one succeeds; then every change is on disk again.
     */
    @Test
    void aJournalThatCannotWriteRetriesAWholeSnapshotAtMostOnceASecond(@TempDir Path dir) throws Exception {
        Store store = new Store();
        StoreJournal journal = StoreJournal.open(dir, store);
        Path blocker = Files.createDirectories(dir.resolve(StoreJournal.JOURNAL).resolve("x"));
        put(store, configMap("a", "1"));
        assertThat(journal.failing()).isTrue();
        int before = journal.snapshotsBegun();
        long start = System.nanoTime();
        for (int i = 0; i < 200; i++) {
            put(store, configMap("b" + i, "2"));
        }
        long seconds = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        assertThat(journal.snapshotsBegun() - before).as("200 commits in %d s", seconds).isLessThanOrEqualTo((int) seconds + 1);

        Files.delete(blocker);
        Files.delete(blocker.getParent());
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> {
            put(store, configMap("c", "3"));
            return !journal.failing();
        });
        put(store, configMap("d", "4"));
        assertThat(values(StoreJournal.load(dir))).containsEntry("a", "1").containsEntry("b199", "2").containsEntry("c", "3")
                .containsEntry("d", "4");
        journal.close();
    }

    @Test
    void anEmptyOrMissingDirectoryIsAnEmptyCluster(@TempDir Path dir) throws Exception {
        assertThat(StoreJournal.load(dir.resolve("none")).objects()).isEmpty();
        assertThat(StoreJournal.load(dir).objects()).isEmpty();
    }
}
