package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kubelet removes a pod's directory while a pod process that left its process group may still
 * run in it. Nothing of what a link leads to is removed: neither a link that is there, nor one
 * swapped in for a directory while the removal is inside it.
 */
class DeleteTreeTest {

    private static final int FILES = 20_000;

    @Test
    void aLinkIsRemovedNotWhatItLeadsTo(@TempDir Path dir) throws Exception {
        Path victim = Files.createDirectories(dir.resolve("state"));
        Files.writeString(victim.resolve("token"), "secret");
        Path root = Files.createDirectories(dir.resolve("pod/volumes"));
        Files.createSymbolicLink(root.resolve("link"), victim);
        Files.createSymbolicLink(root.resolve("file-link"), victim.resolve("token"));
        Kubelet.deleteTree(dir.resolve("pod"));
        assertThat(dir.resolve("pod")).doesNotExist();
        assertThat(victim.resolve("token")).hasContent("secret");
    }

    /**
     * A directory of many files is swapped for a link to a directory with the same names once the
     * removal has begun inside it: what remains to be removed must not be taken from there.
     */
    @Test
    void aDirectorySwappedForALinkMidWayKeepsWhatTheLinkLeadsTo(@TempDir Path dir) throws Exception {
        Path victim = Files.createDirectories(dir.resolve("state"));
        Path pod = Files.createDirectories(dir.resolve("pod"));
        Path x = Files.createDirectories(pod.resolve("x"));
        for (int i = 0; i < FILES; i++) {
            Files.writeString(x.resolve("f" + i), "");
            Files.writeString(victim.resolve("f" + i), "");
        }
        AtomicBoolean swapped = new AtomicBoolean();
        Thread swapper = Thread.ofPlatform().start(() -> {
            try {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (System.nanoTime() < deadline) {
                    // the removal is inside x once any of a spread of its files is gone
                    boolean begun = false;
                    for (int i = 0; i < FILES && !begun; i += FILES / 64) {
                        begun = !Files.exists(x.resolve("f" + i));
                    }
                    if (begun) {
                        Files.move(x, pod.resolve("x-moved"));
                        Files.createSymbolicLink(x, victim);
                        swapped.set(true);
                        return;
                    }
                    Thread.onSpinWait();
                }
            } catch (java.io.IOException e) {
                // the removal finished first
            }
        });
        Kubelet.deleteTree(pod);
        swapper.join(30_000);
        org.junit.jupiter.api.Assumptions.assumeTrue(swapped.get(), "the removal was over before the swap");
        try (var left = Files.list(victim)) {
            assertThat(left.count()).as("files left where the link leads").isEqualTo(FILES);
        }
    }
    /**
     * A pod can make a chain of directories as deep as it likes. The walk was recursive: a chain
     * 10,000 deep overflowed the stack of the thread that removed it, which was the control thread
     * when the pod was deleted, and the start of every later Portway that found the chain left in a
     * stale state directory.
     */
    @Test
    void aChainOfDirectoriesDeeperThanAnyStackIsRemoved(@TempDir Path dir) throws Exception {
        Path pod = Files.createDirectories(dir.resolve("pod"));
        Files.writeString(pod.resolve("kept-beside"), "x");
        Process p = new ProcessBuilder("python3", "-c", """
                import os
                os.chdir("pod")
                for _ in range(10000):
                    os.mkdir("d")
                    os.chdir("d")
                open("bottom", "w").close()
                """).directory(dir.toFile()).inheritIO().start();
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        Kubelet.deleteTree(pod);
        assertThat(pod).doesNotExist();
        try (var left = Files.list(dir)) {
            assertThat(left).isEmpty();
        }
    }
}
