package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.admin.auth.AdminCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kubeconfig portway up writes, merged into a user's without clobbering it, and read back as kubectl reads it. */
class KubeconfigTest {

    @TempDir
    Path dir;

    private AdminCredentials credentials() {
        return AdminCredentials.loadOrCreate(dir.resolve("state"), List.of("127.0.0.1"), Clock.systemUTC());
    }

    @Test
    void writtenAloneItIsTheCurrentContextAndOnlyItsOwnerCanReadIt() throws Exception {
        Path file = dir.resolve("state/kubeconfig");
        Kubeconfig.write(file, "https://127.0.0.1:8001", credentials(), true);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        Kubeconfig.Target t = Kubeconfig.resolve(file.toString(), null, null);
        assertThat(t.context()).isEqualTo("portway");
        assertThat(t.server()).isEqualTo("https://127.0.0.1:8001");
        assertThat(t.token()).isEqualTo(credentials().token());
        assertThat(t.caPem()).startsWith("-----BEGIN CERTIFICATE-----");
    }

    /**
     * Written outside the state directory (up --write-kubeconfig), it names the token's file: pods
     * are processes of the same user and may read ~/.kube/config, not the state directory.
     */
    @Test
    void writtenByReferenceItHoldsNoToken() throws Exception {
        Path file = dir.resolve("kube/config");
        Kubeconfig.write(file, "https://127.0.0.1:8001", credentials(), false, true);
        assertThat(Files.readString(file)).doesNotContain(credentials().token()).contains("tokenFile: " + credentials().tokenFile());
        assertThat(Kubeconfig.resolve(file.toString(), null, null).token()).isEqualTo(credentials().token());
    }

    @Test
    void aLinkAnotherUserLeftWhereItIsWrittenIsNotFollowed() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "giving a link to another user needs root");
        Path victim = Files.writeString(dir.resolve("precious"), "apiVersion: v1\nkind: Config\n");
        Path link = Files.createSymbolicLink(dir.resolve("kc"), victim);
        var nobody = link.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        Files.getFileAttributeView(link, java.nio.file.attribute.PosixFileAttributeView.class, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                .setOwner(nobody);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Kubeconfig.write(link, "https://127.0.0.1:8001", credentials(), false))
                .hasMessageContaining("is a symbolic link that belongs to nobody");
        assertThat(Files.readString(victim)).isEqualTo("apiVersion: v1\nkind: Config\n");
        // a link of this user's own is followed, as before
        Files.writeString(dir.resolve("elsewhere"), "apiVersion: v1\nkind: Config\n");
        Path own = Files.createSymbolicLink(dir.resolve("kc-own"), dir.resolve("elsewhere"));
        Kubeconfig.write(own, "https://127.0.0.1:8001", credentials(), false);
        assertThat(Files.readString(dir.resolve("elsewhere"))).contains("https://127.0.0.1:8001");
    }

    @Test
    void mergedIntoAnotherKubeconfigItKeepsItsContextsAndCurrentContext() throws Exception {
        Path user = dir.resolve("config");
        Files.writeString(user, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: prod
                  cluster: {server: https://prod.example:6443}
                - name: portway
                  cluster: {server: https://old.example}
                users:
                - name: me
                  user: {token: abc}
                contexts:
                - name: prod
                  context: {cluster: prod, user: me, namespace: shop}
                current-context: prod
                preferences: {colors: true}
                """);
        Kubeconfig.write(user, "https://127.0.0.1:8001", credentials(), false);
        String merged = Files.readString(user);
        assertThat(merged).contains("https://prod.example:6443").contains("namespace: shop").contains("token: abc")
                .contains("current-context: prod").contains("colors: true").doesNotContain("old.example");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(user))).isEqualTo("rw-------");
        assertThat(Kubeconfig.resolve(user.toString(), null, null).server()).isEqualTo("https://prod.example:6443");
        Kubeconfig.Target portway = Kubeconfig.resolve(user.toString(), "portway", null);
        assertThat(portway.server()).isEqualTo("https://127.0.0.1:8001");
        assertThat(portway.token()).isEqualTo(credentials().token());
        assertThat(Kubeconfig.resolve(user.toString(), "portway", "https://127.0.0.1:9").server()).isEqualTo("https://127.0.0.1:9");
        assertThatThrownBy(() -> Kubeconfig.resolve(user.toString(), "nope", null))
                .hasMessage("context was not found for specified context: nope");
    }

    /** As kubectl (client-go's TLSConfigFor): insecure-skip-tls-verify beside a CA is refused, not a CA silently dropped. */
    @Test
    void aClusterWithACaAndInsecureSkipTlsVerifyIsRefused() throws Exception {
        Path file = dir.resolve("state/kubeconfig");
        Kubeconfig.write(file, "https://127.0.0.1:8001", credentials(), true);
        Files.writeString(file, Files.readString(file).replace("    server:", "    insecure-skip-tls-verify: true\n    server:"));
        Kubeconfig.Target t = Kubeconfig.resolve(file.toString(), null, null);
        assertThat(t.insecure()).isTrue();
        assertThatThrownBy(() -> new AdminClient(t)).isInstanceOf(Main.CliException.class)
                .hasMessage("specifying a root certificates file with the insecure flag is not allowed");
    }

    @Test
    void aMissingKubeconfigSaysWhatToDo() {
        assertThatThrownBy(() -> Kubeconfig.resolve(dir.resolve("none").toString(), null, null))
                .hasMessageContaining("no such file or directory");
    }

    @Test
    void relativeFilesAreFoundBesideTheKubeconfig() throws Exception {
        Path confDir = java.nio.file.Files.createDirectories(dir.resolve("conf"));
        Files.writeString(confDir.resolve("token.txt"), "s3cret\n");
        Files.writeString(confDir.resolve("config"), """
                apiVersion: v1
                kind: Config
                clusters:
                - name: c
                  cluster: {server: https://127.0.0.1:6443}
                users:
                - name: u
                  user: {tokenFile: token.txt}
                contexts:
                - name: x
                  context: {cluster: c, user: u}
                current-context: x
                """);
        assertThat(Kubeconfig.resolve(confDir.resolve("config").toString(), null, null).token()).isEqualTo("s3cret");
    }
}
