package dev.portway.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs each container's processes in a mount namespace and a PID namespace of their own, inside
 * an unprivileged user namespace ({@code unshare --user --map-current-user}: no root, the same
 * user ID inside), where the pod's {@code hosts} and {@code resolv.conf} files are bind-mounted
 * over {@code /etc/hosts} and {@code /etc/resolv.conf}. The pod keeps the machine's network (its
 * own loopback IP) and its user; the capabilities the new namespace grants are dropped
 * ({@code setpriv}) before the container's command runs.
 *
 * <p>The PID namespace is the container's, as in Kubernetes: its processes see and signal none
 * but their own (not Portway, not another pod), and none of them outlives the container, not
 * even one that left its process group ({@code setsid}), which a signal to the group misses. The
 * process Portway starts is {@code unshare}, which waits for the namespace's init, a shell of
 * Portway's ({@link #SCRIPT}) that runs the command as its child: SIGTERM goes to that init
 * ({@link #runsInit}), which passes it on.
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
    static final Path ENV = Path.of("/usr/bin/env");
    static final Path MOUNT = tool("mount");
    static final Path MKDIR = tool("mkdir");
    static final Path STAT = tool("stat");
    static final Path NSENTER = Path.of("/usr/bin/nsenter");
    /**
     * The descriptor the init opens (on {@code /dev/null}) once its set-up steps are over, just
     * before it starts the command, which does not get it: Portway's sign that a SIGTERM for the
     * pod can go to the init ({@link #commandStarted}). The init's descriptors are its own.
     */
    static final String LAST_STEP_FD = "9";

    /** {@code /usr/bin/NAME}, or {@code /bin/NAME} on a system whose /bin is not merged into /usr. */
    private static Path tool(String name) {
        Path usr = Path.of("/usr/bin", name);
        return Files.isExecutable(usr) ? usr : Path.of("/bin", name);
    }

    /**
     * The environment of the sandbox's own tools ({@code setsid}, {@code unshare}, the init's
     * shell, {@code mount}, {@code env}, {@code setpriv}): none of the pod's. They run before the
     * pod is fenced, or with the capabilities that could undo the fence, and the pod's variables
     * steer them: its {@code LD_PRELOAD} of a library it wrote ran that library with Portway's view
     * of the machine, {@code LANGUAGE} made {@code unshare} read message catalogs it wrote (format
     * strings), and a bash as {@code /bin/sh} runs {@code PS4} with {@code SHELLOPTS=xtrace}. The
     * pod's variables travel in {@code PORTWAY_POD_ENV_<n>}, read by no tool, and are set by one
     * shell that runs after {@code setpriv} has dropped the capabilities ({@link #environment}).
     */
    private static final String TOOLS_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
    private static final String ENV_CHUNK = "PORTWAY_POD_ENV_";
    /** What one variable carries (a variable may hold 128 KiB; a UTF-16 unit is at most 3 bytes of UTF-8). */
    private static final int CHUNK_CHARS = 30_000;
    /** Names a shell may refuse to export, or that mean something to it (bash's, as /bin/sh on some systems). */
    private static final java.util.Set<String> SHELL_OWN = java.util.Set.of("BASHOPTS", "SHELLOPTS", "EUID", "UID", "PPID",
            "GROUPS", "FUNCNAME", "RANDOM", "SRANDOM", "SECONDS", "LINENO", "HISTCMD", "BASHPID", "DIRSTACK",
            "EPOCHSECONDS", "EPOCHREALTIME", "BASH_ARGV0", "IFS", "OPTIND");
    private static final java.util.regex.Pattern SHELL_NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /**
     * A command line, the environment to start it with, and the directory to start it in: the
     * working directory itself outside the sandbox; inside, the pod's own directory, and the init
     * makes the working directory and goes there once the hidden directories are hidden.
     */
    record Launch(List<String> argv, java.util.Map<String, String> env, Path directory) {
    }

    /**
     * The pod's init (PID 1 of its own PID namespace). It bind-mounts $1 and $2 over the /etc
     * files (each unless empty), goes into the pod's own directory $3, notes whether the working
     * directory $4 exists, and hides the $5 directories after them (each a path and its identity, {@link Hidden}) under empty tmpfs
     * mounts: each is opened, checked to be the directory Portway hid at its start, and the tmpfs
     * goes onto the open directory, wherever it is now; one gone or replaced stops the start (exit
     * 126). The same directories are hidden where the machine mounts their filesystem a second
     * time (the pairs after the count that follows, {@link MountAliases}): each that is still the
     * directory there. Then it puts the pod's own directory back at its path (bound from ".", the directory the
     * tmpfs covers now: not canonicalized, which would resolve the path again, into the tmpfs),
     * mounts a /proc that shows the namespace's processes alone (where the kernel allows it), and
     * runs the rest without capabilities, in the working directory (found again by its path,
     * through the pod's directory put back). A working directory that did not exist is made here,
     * without capabilities, as the pod sees the files: a link on its way into a hidden directory
     * leads into the pod's empty tmpfs, whatever the pod changes while it starts (made by Portway
     * before the start, it could be made through a link swapped in after the check). One that
     * existed and is gone once the directories are hidden was in one of them: the start stops,
     * saying so. A SIGTERM that came during all this stops the start (exit 143): the command is
     * not started only to be signalled, which could reach its process before it runs the command
     * (a copy of the init then, whose trap takes the signal and forgets it). Then the init opens
     * {@link #LAST_STEP_FD}, the sign that it has done all that, starts the command (with the init's own input,
     * kept aside as descriptor 8 from the start: a shell gives a command it starts in the background an empty
     * input otherwise; a container's is empty, or a pipe {@code kubectl attach} writes to, a {@code kubectl exec -i}'s is the
     * client's) and waits: SIGTERM is passed on to the
     * command (a PID 1 without a handler would ignore it), and the command's status is the
     * init's; when the init exits, the kernel kills whatever is left in the namespace, a process
     * that left the command's process group included. Its environment is Portway's alone (see
     * {@link #TOOLS_PATH}).
     */
    private static final String SCRIPT = """
            portway_c= portway_t=
            trap 'portway_t=1; [ -z "$portway_c" ] || kill -TERM "$portway_c" 2>/dev/null' TERM
            set -e
            exec 8<&0
            [ -z "$1" ] || %1$s --bind "$1" /etc/hosts
            [ -z "$2" ] || %1$s --bind "$2" /etc/resolv.conf
            portway_own=$3 portway_wd=$4 portway_n=$5 portway_had=
            shift 5
            cd "$portway_own"
            if [ -d "$portway_wd" ]; then portway_had=1; fi
            while [ "$portway_n" -gt 0 ]; do
              [ -d "$1" ] || { echo "portway: $1, which pods must not see, is gone or moved: no pod starts" >&2; exit 126; }
              exec 3<"$1/."
              [ "$(%5$s -L -c %%d:%%i /proc/self/fd/3)" = "$2" ] || { echo "portway: $1 is not the directory Portway hides from\
             pods (moved, and another put in its place?): no pod starts" >&2; exit 126; }
              %1$s --no-canonicalize -t tmpfs -o mode=0700,size=64k portway-hidden /proc/self/fd/3
              exec 3<&-
              shift 2; portway_n=$((portway_n - 1))
            done
            portway_n=$1; shift
            while [ "$portway_n" -gt 0 ]; do
              if [ -d "$1" ] && [ -r "$1" ] && [ -x "$1" ]; then
                exec 3<"$1/."
                if [ "$(%5$s -L -c %%d:%%i /proc/self/fd/3)" = "$2" ]; then
                  %1$s --no-canonicalize -t tmpfs -o mode=0700,size=64k portway-hidden /proc/self/fd/3 || { echo "portway: cannot\
             hide $1, where a directory pods must not see is mounted again: no pod starts" >&2; exit 126; }
                fi
                exec 3<&-
              fi
              shift 2; portway_n=$((portway_n - 1))
            done
            %2$s -p "$portway_own"
            %1$s --no-canonicalize --bind . "$portway_own"
            %1$s -t proc portway-proc /proc 2>/dev/null || true
            if [ -z "$portway_had" ] && [ ! -d "$portway_wd" ]; then
              %4$s --inh-caps=-all --ambient-caps=-all --bounding-set=-all -- %2$s -p -- "$portway_wd" || { echo "portway: cannot make\
             the working directory $portway_wd" >&2; exit 126; }
            fi
            cd -P "$portway_wd" 2>/dev/null || { echo "portway: the working directory $portway_wd is in a directory hidden \
            from pods (Portway's state, data or kubelet directory)" >&2; exit 126; }
            set +e
            [ -z "$portway_t" ] || exit 143
            exec %6$s</dev/null
            %3$s --default-signal=INT,QUIT %4$s --inh-caps=-all --ambient-caps=-all --bounding-set=-all -- "$@" %6$s<&- <&8 8<&- &
            portway_c=$!
            [ -z "$portway_t" ] || kill -TERM "$portway_c" 2>/dev/null
            while :; do wait "$portway_c" 2>/dev/null; portway_s=$?; kill -0 "$portway_c" 2>/dev/null || exit "$portway_s"; done
            """.formatted(MOUNT, MKDIR, ENV, SETPRIV, STAT, LAST_STEP_FD);

    private final String unavailable;
    private final List<Hidden> hidden;

    /**
     * A directory hidden from pods, and which directory it is (device and inode, as {@code stat}
     * prints them): a pod can rename a parent it may write (~/.local/state), and a directory hidden
     * by its path would then be hidden no more, or a decoy in its place would be.
     */
    record Hidden(Path dir, String identity) {
        /** {@code dir} as it really is (made, private, if missing: Portway's own directories all are). */
        static Hidden of(Path dir) {
            try {
                Path d = dir.toAbsolutePath().normalize();
                if (!Files.isDirectory(d)) {
                    Files.createDirectories(d.getParent());
                    try {
                        Files.createDirectory(d, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
                    } catch (java.nio.file.FileAlreadyExistsException e) {
                        // made meanwhile
                    }
                }
                d = d.toRealPath(); // one directory reached by two paths (a link on the way) is hidden once
                return new Hidden(d, Files.getAttribute(d, "unix:dev") + ":" + Files.getAttribute(d, "unix:ino"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot hide " + dir + " from pods: " + e.getMessage(), e);
            }
        }
    }

    private PodSandbox(String unavailable) {
        this(unavailable, List.of());
    }

    private PodSandbox(String unavailable, List<Hidden> hidden) {
        this.unavailable = unavailable;
        this.hidden = List.copyOf(hidden);
    }

    /**
     * This sandbox, with each of {@code dirs} an empty directory for the pods (made now if missing;
     * one inside another is hidden with it).
     */
    PodSandbox hiding(List<Path> dirs) {
        List<Hidden> all = dirs.stream().map(Hidden::of).distinct().toList();
        List<Hidden> out = new ArrayList<>();
        for (Hidden h : all) {
            if (all.stream().noneMatch(other -> !other.dir().equals(h.dir()) && h.dir().startsWith(other.dir()))) {
                out.add(h);
            }
        }
        return new PodSandbox(unavailable, out);
    }

    /** Whether {@code real} (a real path) is in a directory this sandbox hides from pods. */
    boolean hides(Path real) {
        return hidden.stream().anyMatch(h -> real.startsWith(h.dir()));
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
        for (Path tool : List.of(UNSHARE, SETPRIV, SH, ENV, MOUNT, MKDIR, STAT)) {
            if (!Files.isExecutable(tool)) {
                return new PodSandbox(tool + " is missing (Debian packages util-linux, coreutils, dash)");
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
            // and whether the machine's processes show in its /proc: Portway's, unless its PID is one the sandbox's own processes may have
            long ownPid = ProcessHandle.current().pid();
            List<String> probe = List.of(SH.toString(), "-c", "cat /etc/hosts; ls -A \"$0\"; ls -A \"$1\"; [ ! -e /proc/\"$2\" ] || echo shared",
                    hidden.toString(), own.toString(), ownPid > 64 ? Long.toString(ownPid) : "none");
            List<String> argv = new PodSandbox(null, List.of()).hiding(List.of(hidden)).wrap(probe, hosts, resolv, own, own);
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
            boolean sharedProc = text.endsWith("mine\nshared\n");
            if (p.exitValue() != 0 || !text.equals(marker + (sharedProc ? "mine\nshared\n" : "mine\n"))) {
                return new PodSandbox("unshare --user --mount failed: " + text.strip());
            }
            if (sharedProc) {
                // a container runtime that masks parts of /proc refuses a new one: the pods then see every process
                org.slf4j.LoggerFactory.getLogger(PodSandbox.class).warn("the pods' sandbox cannot mount a /proc of its own here:"
                        + " pods see every process of the machine in /proc, and can read their command lines (a command or"
                        + " argument made from a Secret's key among them), though not their environment or files");
            }
            return new PodSandbox(null);
        } catch (IOException e) {
            return new PodSandbox("cannot try unshare: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new PodSandbox("interrupted");
        }
    }

    /**
     * Whether {@code argv} is a command line of {@link #wrap}: its process waits for the sandbox's
     * init, and SIGTERM is for the init (the process's one child), not for it.
     */
    static boolean runsInit(List<String> argv) {
        return !argv.isEmpty() && argv.getFirst().equals(UNSHARE.toString());
    }

    /**
     * Whether the sandbox's {@code init} has started the command: it has opened
     * {@link #LAST_STEP_FD}, which it does once its set-up steps are over and just before it
     * forks the command, and it has a child that is no longer a copy of itself (forked and not yet
     * exec'd, a child still runs the init's SIGTERM trap, and a SIGTERM passed on to it then is
     * lost). Before that, a SIGTERM may come before the init's trap is set, and a PID 1 drops a
     * signal it has no handler for; or it comes during a set-up step ({@code mount}, {@code stat},
     * {@code mkdir}), and stops the start. A set-up step's process was once taken for the command,
     * which then started with the signal lost and ran its whole grace period.
     */
    static boolean commandStarted(ProcessHandle init) {
        boolean byLine = false;
        try {
            Files.readAttributes(Path.of("/proc", Long.toString(init.pid()), "fd", LAST_STEP_FD),
                    java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.AccessDeniedException e) {
            // the init's descriptors cannot be seen here (its /proc entries are root's when it is not
            // dumpable): the command is told from the set-up steps by its command line, as before
            byLine = true;
            if (UNSEEN_WARNED.compareAndSet(false, true)) {
                org.slf4j.LoggerFactory.getLogger(PodSandbox.class).warn("cannot see a pod init's descriptors ({}):"
                        + " telling its command from its set-up steps by their command lines", e.getMessage());
            }
        } catch (IOException e) {
            return false; // not opened yet, or gone
        }
        byte[] own = commandLine(init.pid());
        boolean lineOnly = byLine;
        return own != null && init.children().anyMatch(c -> {
            byte[] line = commandLine(c.pid());
            return line != null && line.length > 0 && !java.util.Arrays.equals(line, own) && (!lineOnly || !setUpStep(line));
        });
    }

    private static final java.util.concurrent.atomic.AtomicBoolean UNSEEN_WARNED = new java.util.concurrent.atomic.AtomicBoolean();

    /** Whether {@code line} (a command line, NUL-separated) is one of the init's set-up steps: mount, mkdir, stat, or setpriv running mkdir. */
    static boolean setUpStep(byte[] line) {
        String text = new String(line, StandardCharsets.UTF_8);
        String first = text.substring(0, Math.max(0, text.indexOf('\0')));
        if (first.equals(MOUNT.toString()) || first.equals(MKDIR.toString()) || first.equals(STAT.toString())) {
            return true;
        }
        return first.equals(SETPRIV.toString()) && text.contains("\0--\0" + MKDIR + "\0");
    }

    private static byte[] commandLine(long pid) {
        try {
            return Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
        } catch (IOException e) {
            return null; // gone
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
     * How to run {@code command} (its first word a file) with {@code env}, with {@code hosts} and
     * {@code resolv} as its {@code /etc} files (the machine's when null) and {@code own}, the
     * pod's directory, visible; {@code command} itself when the sandbox is unavailable.
     */
    Launch wrap(List<String> command, java.util.Map<String, String> env, Path hosts, Path resolv, Path own, Path workingDir) {
        if (unavailable != null) {
            return new Launch(command, env, workingDir);
        }
        return withEnvironment(command, env, inner -> wrap(inner, hosts, resolv, own, workingDir), own);
    }

    /**
     * How to run {@code command} with {@code env} in {@code workingDir} inside the sandbox of a
     * running container whose init is {@code init} ({@link #commandStarted} true for it): in its user,
     * mount and PID namespaces ({@code nsenter}, keeping the user's IDs, which the namespace maps to
     * themselves), so that it sees the container's files and processes as they are and ends with
     * them; without capabilities, and with the pod's environment set after they are dropped, as
     * {@link #wrap} starts a container's command. Null when this sandbox is unavailable or
     * {@code nsenter} is missing.
     */
    Launch join(ProcessHandle init, List<String> command, java.util.Map<String, String> env, Path workingDir, Path directory) {
        if (unavailable != null || !Files.isExecutable(NSENTER)) {
            return null;
        }
        return withEnvironment(command, env, inner -> {
            List<String> argv = new ArrayList<>(List.of(NSENTER.toString(), "--target", Long.toString(init.pid()), "--user", "--mount",
                    "--pid", "--preserve-credentials", "--wdns=" + workingDir.toAbsolutePath(), "--",
                    SETPRIV.toString(), "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--"));
            argv.addAll(inner);
            return argv;
        }, directory);
    }

    /**
     * {@code command} run by a shell that first sets {@code env} (carried in {@code PORTWAY_POD_ENV_<n>},
     * which no tool reads), inside what {@code outer} wraps it in; the tools themselves get
     * {@link #TOOLS_PATH} alone.
     */
    private static Launch withEnvironment(List<String> command, java.util.Map<String, String> env,
                                          java.util.function.UnaryOperator<List<String>> outer, Path directory) {
        java.util.Map<String, String> tools = new java.util.LinkedHashMap<>();
        tools.put("PATH", TOOLS_PATH);
        String script = environment(env, command.getFirst());
        StringBuilder decode = new StringBuilder("portway_env=\"");
        StringBuilder unset = new StringBuilder("unset");
        List<String> chunks = chunks(script);
        for (int i = 0; i < chunks.size(); i++) {
            tools.put(ENV_CHUNK + i, chunks.get(i));
            decode.append("$").append(ENV_CHUNK).append(i);
            unset.append(' ').append(ENV_CHUNK).append(i);
        }
        // PWD and OLDPWD are the init's cds' (Kubernetes sets neither): the pod's own, if any, come back with the rest
        decode.append("\"; ").append(unset).append(" PWD OLDPWD; eval \"$portway_env\"");
        List<String> inner = new ArrayList<>(command.size() + 4);
        inner.addAll(List.of(SH.toString(), "-c", decode.toString(), "portway-env"));
        inner.addAll(command);
        return new Launch(outer.apply(inner), tools, directory);
    }

    /**
     * The shell text that sets {@code env} and runs the command ("$@"): {@code export} for each
     * name a shell takes, quoted; a name it does not ({@code my.var}, which Kubernetes allows) goes
     * to {@code env} as {@code NAME=VALUE}, so its value is in a command line until the command runs
     * ({@code file}, the command's first word, comes after them).
     */
    static String environment(java.util.Map<String, String> env, String file) {
        StringBuilder out = new StringBuilder();
        List<String> others = new ArrayList<>();
        env.forEach((name, value) -> {
            if (SHELL_NAME.matcher(name).matches() && !SHELL_OWN.contains(name) && !name.startsWith("BASH")
                    && !name.startsWith(ENV_CHUNK)) {
                out.append("export ").append(name).append('=').append(quoted(value)).append('\n');
            } else {
                others.add(quoted(name + "=" + value));
            }
        });
        out.append("exec ");
        if (!others.isEmpty()) {
            // "--": a name may start with '-' (Kubernetes allows it), which env would take for an option
            out.append(ENV).append(" -- ").append(String.join(" ", others)).append(' ');
            if (file.indexOf('=') >= 0) {
                // env would take the command for one more variable: through setpriv, which changes nothing
                // here and, unlike a shell, passes on every variable as it is
                out.append(SETPRIV).append(" --inh-caps=-all -- ");
            }
        }
        return out.append("\"$@\"\n").toString();
    }

    /** {@code script} in pieces of at most {@link #CHUNK_CHARS} characters, a character of two UTF-16 units never cut. */
    static List<String> chunks(String script) {
        List<String> out = new ArrayList<>();
        int at = 0;
        do {
            int end = Math.min(script.length(), at + CHUNK_CHARS);
            if (end < script.length() && Character.isHighSurrogate(script.charAt(end - 1))) {
                end--;
            }
            out.add(script.substring(at, end));
            at = end;
        } while (at < script.length());
        return out;
    }

    private static String quoted(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private List<String> wrap(List<String> command, Path hosts, Path resolv, Path own, Path workingDir) {
        List<String> argv = new ArrayList<>(command.size() + 14 + 2 * hidden.size());
        argv.add(UNSHARE.toString());
        argv.add("--user");
        argv.add("--map-current-user");
        argv.add("--keep-caps");
        argv.add("--mount");
        argv.add("--pid");
        argv.add("--fork");
        argv.add("--kill-child");
        argv.add("--");
        argv.add(SH.toString());
        argv.add("-c");
        argv.add(SCRIPT);
        argv.add("portway-pod");
        argv.add(hosts == null ? "" : hosts.toAbsolutePath().toString());
        argv.add(resolv == null ? "" : resolv.toAbsolutePath().toString());
        argv.add(own.toAbsolutePath().toString());
        argv.add(workingDir.toAbsolutePath().toString());
        argv.add(Integer.toString(hidden.size()));
        hidden.forEach(h -> {
            argv.add(h.dir().toString());
            argv.add(h.identity());
        });
        List<String> aliases = new ArrayList<>();
        hidden.forEach(h -> MountAliases.of(h).forEach(alias -> {
            aliases.add(alias.dir().toString());
            aliases.add(alias.identity());
        }));
        argv.add(Integer.toString(aliases.size() / 2));
        argv.addAll(aliases);
        argv.addAll(command);
        return argv;
    }
}
