package dev.portway.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a pod's processes in a mount namespace of their own, inside an unprivileged user
 * namespace ({@code unshare --user --map-current-user}: no root, the same user ID inside),
 * where the pod's {@code hosts} and {@code resolv.conf} files are bind-mounted over
 * {@code /etc/hosts} and {@code /etc/resolv.conf}. Nothing else changes: the pod keeps the
 * machine's network (its own loopback IP), its files and its user; the capabilities the new
 * namespace grants are dropped ({@code setpriv}) before the container's command runs, and the
 * command keeps the process ID Portway started (every step {@code exec}s the next).
 *
 * <p>Directories pods must not see ({@link #hiding}: Portway's state directory, with the admin
 * token, the CA's key and the kubeconfig, its data directory, with every Secret, and the kubelet's
 * own, with every pod's volumes, logs and {@code /etc} files) are each an empty tmpfs of the pod's
 * own, as a container sees none of the node's files; the pod's own directory is then put back at
 * its place (bound from the working directory, which still holds the directory the tmpfs covers).
 * Pods still run as Portway's user: this keeps a pod from reading the credentials and the other
 * pods' files, not from the user's other files. The files bound over {@code /etc} lie in the
 * hidden kubelet directory too: a pod cannot replace them with links (to the token) that the next
 * start's bind would follow, nor plant links that Portway would write through.
 *
 * <p>Where user namespaces are not allowed (a kernel or container that forbids them), pods run
 * as before and see the machine's resolver; {@link #unavailable()} says why.
 */
final class PodSandbox {

    static final Path UNSHARE = Path.of("/usr/bin/unshare");
    static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    static final Path SH = Path.of("/bin/sh");

    /**
     * Bind-mounts $1 and $2 over the /etc files (each unless empty), goes into the pod's own
     * directory $3, hides the $4 directories after them under empty tmpfs mounts (one that cannot
     * be mounted, a directory gone, is skipped), puts the pod's own directory back at its path
     * (bound from ".", the directory the tmpfs covers now: not canonicalized, which would resolve
     * the path again, into the tmpfs), then runs the rest without capabilities, in the working
     * directory it was given (found again by its path, through the pod's directory put back).
     */
    private static final String SCRIPT = "set -e; [ -z \"$1\" ] || mount --bind \"$1\" /etc/hosts; "
            + "[ -z \"$2\" ] || mount --bind \"$2\" /etc/resolv.conf; wd=$PWD; own=$3; n=$4; shift 4; cd \"$own\"; "
            + "while [ \"$n\" -gt 0 ]; do mount -t tmpfs -o mode=0700,size=64k portway-hidden \"$1\" 2>/dev/null || true; "
            + "shift; n=$((n-1)); done; "
            + "mkdir -p \"$own\"; mount --no-canonicalize --bind . \"$own\"; "
            + "cd \"$wd\" 2>/dev/null || { echo \"portway: the working directory $wd is in a directory hidden from pods"
            + " (Portway's state, data or kubelet directory)\" >&2; exit 126; }; "
            + "exec " + SETPRIV + " --inh-caps=-all --ambient-caps=-all -- \"$@\"";

    private final String unavailable;
    private final List<Path> hidden;

    private PodSandbox(String unavailable) {
        this(unavailable, List.of());
    }

    private PodSandbox(String unavailable, List<Path> hidden) {
        this.unavailable = unavailable;
        this.hidden = List.copyOf(hidden);
    }

    /** This sandbox, with each of {@code dirs} an empty directory for the pods. */
    PodSandbox hiding(List<Path> dirs) {
        return new PodSandbox(unavailable, dirs);
    }

    /** A sandbox that is never used (pods see the machine's files). */
    static PodSandbox disabled(String why) {
        return new PodSandbox(why);
    }

    /**
     * Tries the sandbox once, with files in {@code scratch}: a process must see its own
     * {@code /etc/hosts}, an empty directory where a hidden one is, and its own directory as it is
     * (a sandbox whose hiding failed would leave the credentials in sight while Portway believes
     * them hidden).
     */
    static PodSandbox detect(Path scratch) {
        for (Path tool : List.of(UNSHARE, SETPRIV, SH)) {
            if (!Files.isExecutable(tool)) {
                return new PodSandbox(tool + " is missing (Debian package util-linux)");
            }
        }
        try {
            Files.createDirectories(scratch);
            Path hosts = scratch.resolve("hosts");
            Path resolv = scratch.resolve("resolv.conf");
            String marker = "127.0.0.1\tportway-sandbox-check\n";
            Files.writeString(hosts, marker);
            Files.writeString(resolv, "nameserver 127.0.0.1\n");
            Path hidden = Files.createDirectories(scratch.resolve("hidden"));
            Files.writeString(hidden.resolve("secret"), "");
            Path own = Files.createDirectories(scratch.resolve("own"));
            Files.writeString(own.resolve("mine"), "");
            List<String> probe = List.of(SH.toString(), "-c", "cat /etc/hosts; ls -A \"$0\"; ls -A \"$1\"", hidden.toString(), own.toString());
            List<String> argv = new ArrayList<>(new PodSandbox(null, List.of(hidden)).wrap(probe, hosts, resolv, own));
            ProcessBuilder check = new ProcessBuilder(argv).directory(own.toFile()).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            check.environment().clear(); // ls as it lists by default (QUOTING_STYLE, LS_COLORS... are the user's)
            check.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
            Process p = check.start();
            byte[] out = p.getInputStream().readNBytes(4096);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new PodSandbox("unshare did not finish in 10 s");
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0 || !text.equals(marker + "mine\n")) {
                return new PodSandbox("unshare --user --mount failed: " + text.strip());
            }
            return new PodSandbox(null);
        } catch (IOException e) {
            return new PodSandbox("cannot try unshare: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new PodSandbox("interrupted");
        }
    }

    /** Why pods cannot have files of their own here, or null when they can. */
    String unavailable() {
        return unavailable;
    }

    boolean available() {
        return unavailable == null;
    }

    /**
     * The command line that runs {@code command} (its first word a file) with {@code hosts} and
     * {@code resolv} as its {@code /etc} files (the machine's when null) and {@code own}, the
     * pod's directory, visible; {@code command} itself when the sandbox is unavailable.
     */
    List<String> wrap(List<String> command, Path hosts, Path resolv, Path own) {
        if (unavailable != null) {
            return command;
        }
        List<String> argv = new ArrayList<>(command.size() + 14 + hidden.size());
        argv.add(UNSHARE.toString());
        argv.add("--user");
        argv.add("--map-current-user");
        argv.add("--keep-caps");
        argv.add("--mount");
        argv.add("--");
        argv.add(SH.toString());
        argv.add("-c");
        argv.add(SCRIPT);
        argv.add("portway-pod");
        argv.add(hosts == null ? "" : hosts.toAbsolutePath().toString());
        argv.add(resolv == null ? "" : resolv.toAbsolutePath().toString());
        argv.add(own.toAbsolutePath().toString());
        argv.add(Integer.toString(hidden.size()));
        hidden.forEach(d -> argv.add(d.toAbsolutePath().toString()));
        argv.addAll(command);
        return argv;
    }
}
