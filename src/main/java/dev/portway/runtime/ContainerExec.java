package dev.portway.runtime;

import dev.portway.admin.PodExec;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A command run in a running container ({@code kubectl exec}), with its environment, in its
 * working directory: in the container's own sandbox, joined ({@code nsenter} into its user, mount
 * and PID namespaces: it sees the container's files as the container does, and its processes, and
 * may signal them, {@code kill -HUP 1} included); where the container runs in no sandbox (the
 * built-in server, or no user namespaces here), in a sandbox of the pod's as its exec probes run.
 * In a process group of its own, ended with the container's run (its exit, or its stop), with its
 * client, or with Portway.
 *
 * <p>With a terminal ({@code kubectl exec -t}), the command runs under {@code script} (util-linux),
 * which gives it a pseudo-terminal: what the client types is echoed and edited there, and the
 * client's terminal size is set on it ({@code stty}) as it changes.
 */
final class ContainerExec implements PodExec.Target {

    static final Path SCRIPT = Path.of("/usr/bin/script");
    private static final Path STTY = Path.of("/usr/bin/stty");

    private final Kubelet kubelet;
    private final PodWorker pod;
    private final ContainerRunner container;
    private final int run;
    private final Map<String, String> env;
    private final Path workingDir;
    /** The container's run, an operating system process, or null (the built-in server). */
    private final ContainerProcess process;

    /** On the control thread: the container's run {@code run} is the one found running. */
    ContainerExec(Kubelet kubelet, PodWorker pod, ContainerRunner container, int run) {
        this.kubelet = kubelet;
        this.pod = pod;
        this.container = container;
        this.run = run;
        this.env = Map.copyOf(container.env());
        this.workingDir = container.workingDir();
        this.process = container.process();
    }

    @Override
    public PodExec.Session start(List<String> command, boolean stdin, boolean tty) throws IOException {
        String resolved = Executables.resolve(command.getFirst(), env.get("PATH"), workingDir);
        if (resolved == null) {
            throw new IOException("exec: \"" + command.getFirst() + "\": executable file not found in $PATH");
        }
        List<String> line = new ArrayList<>(command);
        line.set(0, resolved);
        if (tty) {
            if (!Files.isExecutable(SCRIPT)) {
                throw new IOException("a terminal needs " + SCRIPT + " (Debian package bsdutils); run without -t");
            }
            line = underTerminal(line, env.get("SHELL"));
        }
        List<String> argv = new ArrayList<>();
        argv.add(OrphanGuard.SETSID.toString());
        // in the container's own namespaces when it runs in the sandbox; else in a sandbox of the pod's, as probes run
        java.util.Optional<ProcessHandle> init = process == null ? java.util.Optional.empty() : process.sandboxInit();
        List<String> commandLine = List.copyOf(line);
        PodSandbox.Launch launch = init.map(i -> kubelet.sandbox().join(i, commandLine, env, workingDir, pod.dir())).orElse(null);
        if (launch == null) {
            launch = kubelet.sandboxed(commandLine, env, pod, workingDir);
        }
        argv.addAll(launch.argv());
        ProcessBuilder pb = new ProcessBuilder(argv).directory(launch.directory().toFile());
        if (!stdin) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        pb.redirectErrorStream(tty);
        pb.environment().clear();
        pb.environment().putAll(launch.env());
        OrphanGuard guard = kubelet.guard();
        if (!guard.open()) {
            throw new IOException("Portway is stopping");
        }
        Process p = pb.start();
        guard.watch(p.pid());
        Session session = new Session(p, guard, tty, container);
        if (!container.track(session, run)) {
            session.kill();
            throw new IOException("container not found (\"" + container.name() + "\"): it stopped");
        }
        return session;
    }

    /**
     * {@code command} run by {@code script -q -e -c}, which takes one line for a shell: each word
     * quoted, and {@code exec} so that the command is the terminal's own process. Its typescript goes
     * to {@code /dev/null}; {@code -e} exits with the command's status. {@code script} runs that line
     * with {@code $SHELL}: with {@code /bin/sh} here, and the command gets the pod's own
     * {@code SHELL} back ({@code podShell}, or none).
     */
    static List<String> underTerminal(List<String> command, String podShell) {
        StringBuilder shell = new StringBuilder("exec ").append(PodSandbox.ENV);
        shell.append(podShell == null ? " -u SHELL --" : " -- " + quoted("SHELL=" + podShell));
        for (String word : command) {
            shell.append(' ').append(quoted(word));
        }
        return List.of(PodSandbox.ENV.toString(), "SHELL=" + PodSandbox.SH, SCRIPT.toString(), "-q", "-e", "-c", shell.toString(), "/dev/null");
    }

    private static String quoted(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }

    /**
     * The terminal of one session: sizes applied in the order the client sent them, the last one
     * last. kubectl sends two at once at the start (one a column and a row larger, to make the
     * program redraw, then the real one); each applied on a thread of its own, the larger one
     * sometimes came last and stayed.
     */
    static final class Terminal {
        private final ProcessHandle root;
        private final java.util.concurrent.locks.ReentrantLock applying = new java.util.concurrent.locks.ReentrantLock();
        private volatile int[] wanted;

        Terminal(ProcessHandle root) {
            this.root = root;
        }

        /** Sets {@code columns} x {@code rows}, off the caller's thread; whichever application runs last sets the latest size. */
        void resize(int columns, int rows) {
            wanted = new int[] {columns, rows};
            Thread.ofVirtual().name("pod-terminal-resize").start(() -> {
                applying.lock();
                try {
                    int[] size = wanted;
                    resizeTerminal(root, size[0], size[1]);
                } finally {
                    applying.unlock();
                }
            });
        }
    }

    /**
     * Sets {@code columns} x {@code rows} on the pseudo-terminal a process under {@code root} reads
     * ({@code stty}): the {@code /dev/pts/N} a descendant's input is, waited for up to 2 s (the first
     * size comes as the command starts, before {@code script} has opened it).
     */
    static void resizeTerminal(ProcessHandle root, int columns, int rows) {
        if (!Files.isExecutable(STTY)) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        do {
            String terminal = terminal(root);
            if (terminal != null) {
                try {
                    new ProcessBuilder(STTY.toString(), "-F", terminal, "rows", Integer.toString(rows), "cols", Integer.toString(columns))
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                            .waitFor(2, TimeUnit.SECONDS);
                } catch (IOException e) {
                    // the size stays as it was
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        } while (System.nanoTime() < deadline && root.isAlive());
    }

    /** The pseudo-terminal a descendant of {@code root} reads: the {@code /dev/pts/N} its input is. */
    private static String terminal(ProcessHandle root) {
        return root.descendants().map(d -> {
            try {
                Path in = Files.readSymbolicLink(Path.of("/proc", Long.toString(d.pid()), "fd", "0"));
                return in.toString().startsWith("/dev/pts/") ? in.toString() : null;
            } catch (IOException | UnsupportedOperationException e) {
                return null;
            }
        }).filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }

    private static final class Session implements PodExec.Session {
        private final Process process;
        private final OrphanGuard guard;
        private final boolean tty;
        private final ContainerRunner container;
        /** Its terminal, with {@code tty}; else null. */
        private final Terminal terminal;
        private volatile boolean killed;

        Session(Process process, OrphanGuard guard, boolean tty, ContainerRunner container) {
            this.process = process;
            this.guard = guard;
            this.tty = tty;
            this.container = container;
            this.terminal = tty ? new Terminal(process.toHandle()) : null;
        }

        @Override
        public OutputStream stdin() {
            return process.getOutputStream();
        }

        @Override
        public InputStream stdout() {
            return process.getInputStream();
        }

        @Override
        public InputStream stderr() {
            return tty ? null : process.getErrorStream();
        }

        @Override
        public int waitFor() throws InterruptedException {
            return process.waitFor();
        }

        @Override
        public void kill() {
            if (killed) {
                return;
            }
            killed = true;
            // its group, and each process of its tree by itself too: one not yet in the group (setsid has
            // not run) or that left it is ended all the same
            guard.signalGroup(process.pid(), "KILL");
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            guard.forget(process.pid());
            container.untrack(this);
        }

        /** Sets the size on the command's terminal. */
        @Override
        public void resize(int columns, int rows) {
            if (terminal != null) {
                terminal.resize(columns, rows);
            }
        }
    }
}
