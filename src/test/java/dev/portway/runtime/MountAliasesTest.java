package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountAliasesTest {

    /**
     * A machine's table: / on vda, /home bound again at /run/host/home, a toolbox's whole host root,
     * a second disk with a name that has a space, a bind of a part of /var/lib, and a bind of a
     * directory inside the state directory.
     */
    private static final String TABLE = """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
            28 27 254:0 /home /run/host/home rw,relatime - ext4 /dev/vda rw
            29 27 254:0 / /run/host rw,relatime - ext4 /dev/vda rw
            30 27 254:1 / /data rw,relatime - ext4 /dev/vdb rw
            31 27 254:1 /srv/My\\040Files /mnt/my\\040files rw,relatime - ext4 /dev/vdb rw
            32 27 254:0 /var/lib /var/lib/other rw,relatime - ext4 /dev/vda rw
            33 27 254:0 /home/u/.local/state/portway/pki /mnt/pki rw,relatime - ext4 /dev/vda rw
            """;

    private static List<MountAliases.Mount> table() {
        return MountAliases.parse(TABLE.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static List<Path> at(Path dir) {
        List<MountAliases.Mount> t = table();
        return MountAliases.candidates(dir, MountAliases.covering(dir, t), t).stream().map(MountAliases.Alias::at).toList();
    }

    @Test
    void aDirectoryIsFoundAtEachMountOfItsFilesystemThatHoldsIt() {
        Path state = Path.of("/home/u/.local/state/portway");
        // one path, however many mounts lead to it (/run/host/home and /run/host), and the bind of a part of it
        List<MountAliases.Alias> found = MountAliases.candidates(state, "254:0", table());
        assertThat(found).containsExactly(new MountAliases.Alias(Path.of("/run/host/home/u/.local/state/portway"), state),
                new MountAliases.Alias(Path.of("/mnt/pki"), state.resolve("pki")));
        assertThat(at(Path.of("/var/lib/portway"))).containsExactlyInAnyOrder(Path.of("/run/host/var/lib/portway"),
                Path.of("/var/lib/other/portway"));
    }

    @Test
    void aBindMountsRootIsWhereItsPathsStart() {
        // reached through the bind of /home, it is the filesystem's /home/u/x; candidates the
        // table cannot rule out (which mount covers which) are left to the check of each path
        assertThat(at(Path.of("/run/host/home/u/x"))).contains(Path.of("/home/u/x")).doesNotContain(Path.of("/run/host/home/u/x"));
        // a path with a space, as the kernel writes it; another filesystem's mounts do not count
        assertThat(at(Path.of("/data/srv/My Files/state"))).containsExactly(Path.of("/mnt/my files/state"));
        assertThat(at(Path.of("/data/state"))).isEmpty();
    }

    @Test
    void theFilesystemIsTheMountsThePathIsUnderNotStats() {
        // on btrfs stat gives each subvolume a device of its own, which the table never names
        assertThat(MountAliases.covering(Path.of("/home/u"), table())).isEqualTo("254:0");
        assertThat(MountAliases.covering(Path.of("/data/x"), table())).isEqualTo("254:1");
        assertThat(MountAliases.covering(Path.of("/run/host/home/u"), table())).isEqualTo("254:0");
    }

    @Test
    void linesAndNamesThatCannotBeReadAreLeftOutNotThrown() {
        assertThat(MountAliases.parse("garbage\n\n1 2 3\n".getBytes(StandardCharsets.US_ASCII))).isEmpty();
        // a name that is not UTF-8 (or past ASCII under the C locale): left out, the others kept
        byte[] odd = "40 27 254:0 / /mnt/caf\u00e9 rw - ext4 /dev/vda rw\n41 27 254:0 / /mnt/plain rw - ext4 /dev/vda rw\n"
                .getBytes(StandardCharsets.ISO_8859_1);
        assertThat(MountAliases.parse(odd)).extracting(MountAliases.Mount::mountPoint).contains(Path.of("/mnt/plain"));
        assertThat(MountAliases.candidates(Path.of("/home/u"), null, table())).isEmpty();
    }
}
