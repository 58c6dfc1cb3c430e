package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountAliasesTest {

    /** A machine's table: / on vda, /home bound again at /run/host/home, and a toolbox's whole host root. */
    private static final String TABLE = """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
            28 27 254:0 /home /run/host/home rw,relatime - ext4 /dev/vda rw
            29 27 254:0 / /run/host rw,relatime - ext4 /dev/vda rw
            30 27 254:1 / /data rw,relatime - ext4 /dev/vdb rw
            31 27 254:1 /srv/My\\040Files /mnt/my\\040files rw,relatime - ext4 /dev/vdb rw
            32 27 254:0 /var/lib /var/lib/other rw,relatime - ext4 /dev/vda rw
            """;

    @Test
    void aDirectoryIsFoundAtEachMountOfItsFilesystemThatHoldsIt() {
        List<MountAliases.Mount> table = MountAliases.parse(TABLE);
        // one path, however many mounts lead to it (/run/host/home and /run/host)
        assertThat(MountAliases.candidates(Path.of("/home/u/.local/state/portway"), "254:0", table))
                .containsExactly(Path.of("/run/host/home/u/.local/state/portway"));
        assertThat(MountAliases.candidates(Path.of("/var/lib/portway"), "254:0", table))
                .containsExactlyInAnyOrder(Path.of("/run/host/var/lib/portway"), Path.of("/var/lib/other/portway"));
    }

    @Test
    void aBindMountsRootIsWhereItsPathsStart() {
        List<MountAliases.Mount> table = MountAliases.parse(TABLE);
        // reached through the bind of /home, it is the filesystem's /home/u/x; candidates the
        // table cannot rule out (which mount covers which) are left to the check of each path
        assertThat(MountAliases.candidates(Path.of("/run/host/home/u/x"), "254:0", table))
                .contains(Path.of("/home/u/x")).doesNotContain(Path.of("/run/host/home/u/x"));
        // a path with a space, as the kernel writes it; another filesystem's mounts do not count
        assertThat(MountAliases.candidates(Path.of("/data/srv/My Files/state"), "254:1", table))
                .containsExactly(Path.of("/mnt/my files/state"));
        assertThat(MountAliases.candidates(Path.of("/data/state"), "254:1", table)).isEmpty();
    }

    @Test
    void noDeviceNoAliases() {
        assertThat(MountAliases.candidates(Path.of("/home/u"), null, MountAliases.parse(TABLE))).isEmpty();
        assertThat(MountAliases.parse("garbage\n\n1 2 3\n")).isEmpty();
    }
}
