package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pods run as Portway's user, so without more they could read its state directory (the admin
 * token, the CA's key, the kubeconfig) and its data directory (every Secret of every namespace).
 * In the pods' sandbox each is an empty directory of their own, as a container sees none of the
 * node's files; Portway itself still reads and writes them.
 */
class PodsCannotReadCredentialsTest {

    /** With cluster DNS off too: the sandbox is not DNS's alone. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = DnsOptions.Mode.class, names = {"HOSTS", "OFF"})
    void theStateAndDataDirectoriesAreEmptyInsideAPod(DnsOptions.Mode dns, @TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path data = dir.resolve("elsewhere-data");
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state).withDataDir(data)
                .withKubelet(TestCluster.options().kubelet().withDns(TestCluster.dns(dns))))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, cluster.local().kubelet().unhidden());
            assertThat(state.resolve("token")).exists();
            assertThat(data).isNotEmptyDirectory();
            cluster.apply(TestCluster.shellPod("nosy", "Never", "echo state: $(ls -A " + state + "); echo data: $(ls -A " + data
                    + "); cat " + state.resolve("token") + " || echo no token; echo done"));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("nosy").contains("done"));
            String log = cluster.log("nosy");
            assertThat(log).contains("state:\n", "data:\n", "no token");
            assertThat(log).doesNotContain(Files.readString(state.resolve("token")).strip());
            // a container runs in the working directory it names (its pod has no directory of its own
            // otherwise), and one whose working directory is hidden does not start there, and says why
            cluster.apply(inWorkingDir("found", "echo in $(pwd)", dir) + "---\n" + inWorkingDir("lost", "ls -A", state.resolve("pki")));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("found").contains("in " + dir));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(cluster.log("lost")).contains("hidden from pods"));
        }
    }

    /**
     * A data (or state) directory that holds the pods' own directories, or the user's home, cannot
     * be hidden from them: the cluster does not start, where it used to start with a warning and let
     * every pod read every stored Secret (or the admin token).
     */
    @Test
    void aDirectoryThatCannotBeHiddenIsRefused(@TempDir Path dir) {
        Path pods = dir.resolve("kubelet");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new TestCluster(TestCluster.options().withDataDir(dir)
                        .withKubelet(TestCluster.options().kubelet().withStateDir(pods))).close())
                .hasMessageContaining(dir + " cannot be hidden from pods (it holds the pods' own directories, " + pods + ")")
                .hasMessageContaining("give --state-dir and --data-dir directories of their own");
        String home = System.getProperty("user.home");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new TestCluster(TestCluster.options().withStateDir(Path.of(home))).close())
                .hasMessageContaining(Path.of(home).toAbsolutePath().normalize() + " cannot be hidden from pods (it holds your home directory)");
        assertThat(pods.resolve("pods")).doesNotExist();
    }

    /**
     * A cluster given no state directory (an embedder's, the tests') makes a temporary one for its
     * credentials: it was made after the kubelet, which had been told what to hide, so the pods
     * could read the admin token and the CA's key.
     */
    @Test
    void aTemporaryStateDirectoryIsHiddenToo() throws Exception {
        try (TestCluster cluster = new TestCluster(TestCluster.options())) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, cluster.local().kubelet().unhidden());
            Path state = cluster.local().stateDir();
            assertThat(state.resolve("token")).exists();
            cluster.apply(TestCluster.shellPod("nosy", "Never", "echo state: $(ls -A " + state + "); cat " + state.resolve("token")
                    + " || echo no token; echo done"));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("nosy").contains("done"));
            assertThat(cluster.log("nosy")).contains("state:\n", "no token");
        }
    }

    /**
     * The sandbox's init runs its tools by their paths: it used to find {@code mount} on the pod's
     * own PATH, and a pod that named a directory with a {@code mount} of its own that did nothing
     * had none of Portway's directories hidden.
     */
    @Test
    void aPodsPathDoesNotChooseTheSandboxsTools(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String tool : java.util.List.of("mount", "mkdir")) {
            Path fake = bin.resolve(tool);
            Files.writeString(fake, "#!/bin/sh\nexit 0\n");
            fake.toFile().setExecutable(true);
        }
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            cluster.apply("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: pathfinder}
                    spec:
                      restartPolicy: Never
                      containers:
                      - name: app
                        image: busybox
                        command: [/bin/sh, -c, 'echo state: $(/bin/ls -A %s); echo done']
                        env: [{name: PATH, value: "%s:/usr/bin:/bin"}]
                    """.formatted(state, bin));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("pathfinder").contains("done"));
            assertThat(cluster.log("pathfinder")).contains("state:\n").doesNotContain("token");
        }
    }

    /**
     * A container's working directory is made as a runtime makes it, but not through a link into
     * what pods must not see: a link the pod left had Portway make directories in its state
     * directory (or where another pod's volume files were to be written).
     */
    @Test
    void aWorkingDirectoryIsNotMadeThroughALinkIntoAHiddenDirectory(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            Files.createSymbolicLink(dir.resolve("way"), state);
            cluster.apply(inWorkingDir("burrow", "echo in $(pwd)", dir.resolve("way").resolve("burrowed")) + "---\n"
                    + inWorkingDir("nested", "echo in $(pwd)", dir.resolve("new").resolve("deeper")));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("nested").contains("in " + dir.resolve("new/deeper")));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                var statuses = cluster.pod("burrow").getStatus().getContainerStatuses();
                var waiting = statuses == null || statuses.isEmpty() ? null : statuses.getFirst().getState().getWaiting();
                return waiting != null && waiting.getMessage() != null && waiting.getMessage().contains("hidden from pods");
            });
            assertThat(state.resolve("burrowed")).doesNotExist();
        }
    }

    /**
     * Portway checks a working directory to be made, but does not make it: the pod's init does, as
     * the pod sees the files. Made by Portway after its check, it could be made through a link the
     * pod swapped in between the two (here: swapped in after the check, as the process starts).
     * Inside the sandbox the link leads into the pod's empty tmpfs, and nothing is made in the
     * state directory.
     */
    @Test
    void aWorkingDirectoryIsMadeAsThePodSeesTheFiles(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            Path way = Files.createDirectories(dir.resolve("way"));
            Kubelet kubelet = cluster.local().kubelet();
            Kubelet.ProcessLauncher real = kubelet.launcher();
            kubelet.launcher((command, env, workingDir, guard, log) -> {
                if (Files.isDirectory(way, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.delete(way); // what a pod's process could do once Portway has checked the path
                    Files.createSymbolicLink(way, state);
                }
                return real.start(command, env, workingDir, guard, log);
            });
            cluster.apply(inWorkingDir("swapped", "echo in $(pwd); ls -A; echo done", way.resolve("burrowed/deeper")));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("swapped").contains("done"));
            assertThat(Files.isSymbolicLink(way)).isTrue();
            assertThat(state.resolve("burrowed")).doesNotExist();
            // it ran there: in the pod's own tmpfs over the state directory, made by its init and empty
            assertThat(cluster.log("swapped")).contains("in " + state.resolve("burrowed/deeper") + "\ndone");
        }
    }

    /**
     * A filesystem mounted a second time (a bind mount of the home, a toolbox's /run/host) showed
     * the state directory at a second path, where no tmpfs covered it. Hidden there too now. The
     * bind mount is the machine's own (no namespace of the test's): root only, and undone after.
     */
    @Test
    void theStateDirectoryIsHiddenWhereItsFilesystemIsMountedAgain(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "a bind mount needs root");
        Path home = Files.createDirectories(dir.resolve("home"));
        Path state = home.resolve("state");
        Path again = Files.createDirectories(dir.resolve("again"));
        Path pki = Files.createDirectories(dir.resolve("pki-again"));
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            String token = Files.readString(state.resolve("token")).strip();
            run("mount", "--bind", home.toString(), again.toString());
            try {
                // and a part of it alone, bound elsewhere
                run("mount", "--bind", state.resolve("pki").toString(), pki.toString());
                assertThat(Files.readString(again.resolve("state/token")).strip()).isEqualTo(token);
                assertThat(pki.resolve("ca.key")).exists();
                cluster.apply(TestCluster.shellPod("twice", "Never", "cat " + again.resolve("state/token")
                        + " || echo no token; ls -A " + again.resolve("state") + "; echo pki: $(ls -A " + pki + "); echo done"));
                await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("twice").contains("done"));
                assertThat(cluster.log("twice")).contains("no token", "pki:\n").doesNotContain(token).doesNotContain("ca.key");
            } finally {
                run("umount", "-l", pki.toString());
                run("umount", "-l", again.toString());
            }
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).inheritIO().start();
        assertThat(p.waitFor()).as(String.join(" ", command)).isZero();
    }

    /**
     * The command runs without the capabilities its namespace grants, whatever user Portway runs
     * as. For a user other than root, dropping the inheritable and ambient sets did it; for root
     * (uid 0 in the namespace) an exec gives every capability back unless the bounding set is empty:
     * a pod of a Portway run as root could unmount the tmpfs over the state directory and read the
     * token.
     */
    @Test
    void aPodCannotUnmountWhatHidesTheStateDirectory(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            String token = Files.readString(state.resolve("token")).strip();
            cluster.apply(TestCluster.shellPod("unmounter", "Never", "grep Cap /proc/self/status; umount " + state
                    + " 2>&1; umount -l " + state + " 2>&1; cat " + state.resolve("token") + " || echo no token; echo done"));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("unmounter").contains("done"));
            assertThat(cluster.log("unmounter")).contains("no token", "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000")
                    .doesNotContain(token);
        }
    }

    /** A working directory the pod may not make is said so, in its log (the start fails, and is tried again). */
    @Test
    void aWorkingDirectoryThatCannotBeMadeSaysSo(@TempDir Path dir) throws Exception {
        Path closed = Files.createDirectories(dir.resolve("closed"));
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(dir.resolve("state")))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            Files.setPosixFilePermissions(closed, java.nio.file.attribute.PosixFilePermissions.fromString("r-xr-xr-x"));
            cluster.apply(inWorkingDir("unmade", "echo started", closed.resolve("app")));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("unmade").contains("cannot make the working directory"));
            assertThat(cluster.log("unmade")).contains(closed.resolve("app").toString()).doesNotContain("started");
        } finally {
            Files.setPosixFilePermissions(closed, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /**
     * A working directory is found as the kernel finds it: "link/../app" is the parent of where the
     * link leads, then app. The init's cd read it by its text (link's own parent), and the pod did
     * not start (said to be in a hidden directory).
     */
    @Test
    void aWorkingDirectoryWithALinkAndDotDotIsTheOneTheKernelFinds(@TempDir Path dir) throws Exception {
        Path real = Files.createDirectories(dir.resolve("real/sub"));
        Files.createDirectories(dir.resolve("real/app"));
        Files.createSymbolicLink(dir.resolve("link"), real);
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(dir.resolve("state")))) {
            cluster.apply(inWorkingDir("dotted", "echo in $(pwd)", Path.of(dir + "/link/../app")));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("dotted").contains("in "));
            assertThat(cluster.log("dotted")).contains("in " + dir.resolve("real/app"));
        }
    }

    /**
     * A hidden directory is hidden as the directory it is, not by its path. A pod may rename a
     * parent it can write (~/.local/state is the user's): the next container's sandbox then hid
     * a decoy put at the old path, or nothing, and read the token at the new one. Now the sandbox
     * checks each directory is the one Portway hid at its start, and refuses to start otherwise.
     */
    @Test
    void aPodThatMovesTheStateDirectoryAwayStartsNoOtherPodThatSeesIt(@TempDir Path dir) throws Exception {
        Path parent = dir.resolve("parent");
        Path state = parent.resolve("state");
        Path moved = dir.resolve("moved");
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            String token = Files.readString(state.resolve("token")).strip();
            try {
                cluster.apply(TestCluster.shellPod("mover", "Never", "mv " + parent + " " + moved + " && mkdir -p " + state
                        + " && echo moved; sleep 600"));
                await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("mover").contains("moved"));
                cluster.apply(TestCluster.shellPod("reader", "Never", "cat " + moved.resolve("state/token") + " || echo no token; echo done"));
                await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("reader").contains("no pod starts"));
                assertThat(cluster.log("reader")).doesNotContain(token).doesNotContain("done");
            } finally {
                // put it back, for Portway's own sake
                if (Files.isDirectory(moved)) {
                    Files.deleteIfExists(state);
                    Files.deleteIfExists(parent);
                    Files.move(moved, parent);
                }
            }
        }
    }

    /**
     * One directory reached by two paths (the data directory named through a link into the
     * state directory) is hidden once: hidden by each path in turn, the second path led into the
     * first one's tmpfs, and every pod's start was refused as if the directory had been moved.
     */
    @Test
    void aDirectoryNamedThroughALinkIsHiddenOnce(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Files.createDirectories(state);
        Files.createSymbolicLink(dir.resolve("alias"), state);
        Path data = dir.resolve("alias").resolve("data");
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state).withDataDir(data))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            cluster.apply(TestCluster.shellPod("twice", "Never", "echo data: $(ls -A " + data + "); echo done"));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("twice").contains("done"));
            assertThat(cluster.log("twice")).contains("data:\n");
        }
    }

    /**
     * A pod writes in its own directory. Portway's files of the pod (its logs, the /etc files bound
     * into its sandbox) used to lie there too: a pod that put links in their place had its next
     * start bind the admin token over its /etc/hosts, and Portway write its next run's log into
     * any file of the user's. They now lie in the kubelet's directory, which the sandbox hides
     * but for the pod's own directory, and with it every other pod's files.
     */
    @Test
    void aPodSeesNoOtherPodsFilesAndTheLinksItPlantsLeadNowhere(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path canary = dir.resolve("canary");
        Files.writeString(canary, "untouched\n");
        try (TestCluster cluster = new TestCluster(TestCluster.options().withStateDir(state))) {
            Assumptions.assumeTrue(cluster.local().kubelet().unhidden() == null, "no sandbox here");
            Path token = state.resolve("token");
            cluster.apply(TestCluster.shellPod("neighbour", "Never", "echo s3cret > $PORTWAY_POD_DIR/mine; echo ready; sleep 60"));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("neighbour").contains("ready"));
            String pod = "$PORTWAY_POD_DIR";
            cluster.apply(TestCluster.shellPod("nosy", "OnFailure", "if [ ! -e " + pod + "/planted ]; then"
                    + " mkdir -p " + pod + "/etc " + pod + "/logs/app; ln -sf " + token + " " + pod + "/etc/hosts;"
                    + " ln -sf " + token + " " + pod + "/etc/resolv.conf; ln -sf " + canary + " " + pod + "/logs/app/1.log;"
                    + " touch " + pod + "/planted; exit 1; fi;"
                    + " echo hosts: $(head -c 300 /etc/hosts); echo pods: $(ls " + pod + "/..);"
                    + " cat " + pod + "/../*/mine 2>/dev/null || echo no neighbour; echo done"));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("nosy").contains("done"));
            String log = cluster.log("nosy");
            assertThat(log).doesNotContain(Files.readString(token).strip()).contains("no neighbour").doesNotContain("s3cret");
            String podsLine = log.lines().filter(l -> l.startsWith("pods:")).findFirst().orElseThrow();
            assertThat(podsLine.substring("pods:".length()).trim().split(" ")).as("the pods it sees: its own").hasSize(1);
            assertThat(Files.readString(canary)).isEqualTo("untouched\n");
            assertThat(Files.readString(token)).doesNotContain("run").doesNotContain("hosts:");

            // a container's own working directory is made before the pod runs, not again through a link a run left
            Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
            cluster.apply(TestCluster.shellPod("mover", "OnFailure", "if [ -L " + pod + "/containers ]; then echo second run; exit 0; fi;"
                    + " cd /; rm -rf " + pod + "/containers; ln -s " + elsewhere + " " + pod + "/containers; exit 1"));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.local().store().list(io.fabric8.kubernetes.api.model.Event.class)
                    .stream().anyMatch(e -> "mover".equals(e.getInvolvedObject().getName()) && e.getMessage() != null
                            && e.getMessage().contains("no longer a directory of the pod's")));
            assertThat(elsewhere).isEmptyDirectory();
            assertThat(cluster.log("mover")).doesNotContain("second run");
        }
    }

    /** A pod that runs {@code sh -c script} once, in the working directory {@code workingDir}. */
    private static String inWorkingDir(String name, String script, Path workingDir) {
        return """
                apiVersion: v1
                kind: Pod
                metadata: {name: %s}
                spec:
                  restartPolicy: Never
                  containers:
                  - {name: app, image: busybox, command: [sh, -c, "%s"], workingDir: %s}
                """.formatted(name, script, workingDir);
    }
}
