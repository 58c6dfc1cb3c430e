package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.api.ApiException;
import dev.portway.store.Store;
import dev.portway.store.StoreJournal;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * While the journal cannot write (a full disk; here, a directory where its file goes), the API's
 * clients were answered 201 for writes kept only in memory, which a crash then lost. They are
 * refused now (503, as kube-apiserver answers with its storage away), and accepted again once a
 * whole snapshot succeeds, which the refusals themselves retry (at most once a second).
 */
class WriteRefusalTest {

    private static ConfigMap configMap(String name) {
        return new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata().addToData("k", name).build();
    }

    @Test
    void writesAreRefusedWhileTheJournalCannotKeepThem(@TempDir Path dir) throws Exception {
        Store store = new Store();
        StoreJournal journal = StoreJournal.open(dir, store);
        Path blocker = Files.createDirectories(dir.resolve(StoreJournal.JOURNAL).resolve("x"));
        ControlPlane control = new ControlPlane(store, ClusterConfig.local(), new Random(1));
        try {
            control.writeRefusal(journal::notKept);
            // the first commit finds out (one of Portway's own, not a client's: it is taken, in memory)
            control.call(() -> control.api().apply(List.of(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build()),
                    "default", false));
            assertThatThrownBy(() -> control.submitWrite(() -> control.api().create(configMap("refused"), "default")).join())
                    .isInstanceOf(CompletionException.class).cause().isInstanceOf(ApiException.class)
                    .satisfies(e -> assertThat(((ApiException) e).status().getCode()).isEqualTo(503))
                    .hasMessageContaining("writes are refused until it can");
            assertThat(store.get(ConfigMap.class, "default", "refused")).isEmpty();

            Files.delete(blocker);
            Files.delete(blocker.getParent());
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                    .until(() -> control.submitWrite(() -> control.api().create(configMap("again"), "default")).join() != null);
            assertThat(StoreJournal.load(dir).objects()).extracting(o -> o.getMetadata().getName()).contains("default", "again")
                    .doesNotContain("refused");
            // stopping: the state is written for good, and a client's write now would be lost; refused
            journal.close();
            assertThatThrownBy(() -> control.submitWrite(() -> control.api().create(configMap("late"), "default")).join())
                    .cause().hasMessageContaining("Portway is stopping");
        } finally {
            control.close();
            journal.close();
        }
    }
}
