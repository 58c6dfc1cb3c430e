package dev.portway.admin.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state directory's credentials: made once and reused, renewed where they must be, and never taken from a stranger's directory. */
class AdminCredentialsTest {

    @TempDir
    Path dir;

    private AdminCredentials load(Path state, String... hosts) {
        return AdminCredentials.loadOrCreate(state, List.of(hosts), Clock.systemUTC());
    }

    @Test
    void aRestartReusesTheCaAndTheToken() {
        Path state = dir.resolve("state");
        AdminCredentials first = load(state, "127.0.0.1");
        AdminCredentials second = load(state, "127.0.0.1");
        assertThat(second.token()).isEqualTo(first.token());
        assertThat(second.ca().cert()).isEqualTo(first.ca().cert());
        assertThat(second.server().cert()).isEqualTo(first.server().cert());
        assertThat(Pki.covers(first.server().cert(), "127.0.0.1")).isTrue();
        assertThat(Pki.covers(first.server().cert(), "localhost")).isTrue();
        assertThat(Pki.covers(first.server().cert(), "::1")).isTrue();
    }

    @Test
    void aNewAdminAddressGetsANewServingCertificateFromTheSameCa() throws Exception {
        Path state = dir.resolve("state");
        AdminCredentials first = load(state, "127.0.0.1");
        AdminCredentials moved = load(state, "127.0.0.7");
        assertThat(moved.ca().cert()).isEqualTo(first.ca().cert());
        assertThat(Pki.covers(moved.server().cert(), "127.0.0.7")).isTrue();
        moved.server().cert().verify(first.ca().cert().getPublicKey());
        assertThat(moved.client().cert().getSubjectX500Principal().getName()).isEqualTo("CN=portway-admin,O=system:masters");
    }

    @Test
    void aCorruptKeyIsReportedWithItsPathNotReplaced() throws Exception {
        Path state = dir.resolve("state");
        load(state, "127.0.0.1");
        Path key = state.resolve("pki/ca.key");
        Files.writeString(key, "garbage");
        assertThatThrownBy(() -> load(state, "127.0.0.1"))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining(key.toString()).hasMessageContaining("remove them to have new ones made");
        assertThat(Files.readString(key)).isEqualTo("garbage");
    }

    @Test
    void looseModesAreTightened() throws Exception {
        Path state = dir.resolve("state");
        load(state, "127.0.0.1");
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(state.resolve("token"), PosixFilePermissions.fromString("rw-r--r--"));
        load(state, "127.0.0.1");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("token")))).isEqualTo("rw-------");
    }

    @Test
    void aSymbolicLinkOrAWritableByOthersDirectoryIsRefused() throws Exception {
        Path victim = Files.createDirectory(dir.resolve("victim"));
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), victim);
        assertThatThrownBy(() -> load(link, "127.0.0.1")).hasMessageContaining("is a symbolic link");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(victim))).isEqualTo("rwxr-xr-x");
        assertThat(victim).isEmptyDirectory();
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> load(shared, "127.0.0.1")).hasMessageContaining("is writable by others");
        assertThat(shared).isEmptyDirectory();
    }

    @Test
    void aDirectoryOfAnotherUserIsRefusedBeforeAnythingIsChanged() throws Exception {
        Path foreign;
        if ("root".equals(System.getProperty("user.name"))) {
            foreign = Files.createDirectory(dir.resolve("foreign"));
            UserPrincipal nobody = foreign.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            Files.setOwner(foreign, nobody);
        } else {
            foreign = Path.of("/usr"); // root's: the check comes before any chmod, so this is safe to try
        }
        String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(foreign));
        assertThatThrownBy(() -> load(foreign, "127.0.0.1"))
                .hasMessageContaining(foreign + " belongs to ");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(foreign))).isEqualTo(mode);
    }
}
