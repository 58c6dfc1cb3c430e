package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * At its start the kubelet removes state directories that killed Portways left in the temporary
 * directory, but only its own user's private ones: one another user made (or opened to others) in
 * a shared {@code /tmp} is never walked, as it could be changed under the deletion.
 */
class StaleStateDirsTest {

    /** A state directory as a Portway killed with SIGKILL leaves it: its owner's PID no longer runs. */
    private static Path stale(Path tmp, String name, String mode) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("portway-" + name));
        Files.createDirectory(dir.resolve("pod"));
        Files.writeString(dir.resolve("pod").resolve("file"), "x");
        Files.writeString(dir.resolve("portway.pid"), Long.toString(deadPid()));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        return dir;
    }

    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void onlyThisUsersPrivateDirectoriesAreRemoved() throws Exception {
        Path tmp = Files.createTempDirectory("stale-test");
        try {
            Path own = stale(tmp, "own", "rwx------");
            Path open = stale(tmp, "open", "rwxrwxrwx");
            Path link = Files.createSymbolicLink(tmp.resolve("portway-link"), own.getParent().resolve("portway-open"));
            Path current = Files.createDirectory(tmp.resolve("portway-current"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Kubelet.removeStaleStateDirs(tmp, current);
            assertThat(own).doesNotExist();
            assertThat(current).as("this Portway's own").exists();
            assertThat(open.resolve("pod").resolve("file")).as("open to others: left alone").exists();
            assertThat(Files.isSymbolicLink(link)).as("a link: left alone").isTrue();
        } finally {
            try (var walk = Files.walk(tmp)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void anotherUsersDirectoryIsLeftAlone() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "giving a directory to another user needs root");
        Path tmp = Files.createTempDirectory("stale-test");
        try {
            Path theirs = stale(tmp, "theirs", "rwx------");
            Files.setAttribute(theirs, "unix:uid", 65534); // nobody
            Kubelet.removeStaleStateDirs(tmp, Files.createDirectory(tmp.resolve("portway-current")));
            assertThat(theirs.resolve("pod").resolve("file")).exists();
        } finally {
            try (var walk = Files.walk(tmp)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
