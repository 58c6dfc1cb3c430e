package dev.portway.runtime;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A container run as an operating system process: the leader of a new session and process
 * group, so that one signal reaches everything it starts, and {@link OrphanGuard} can end the
 * group if Portway dies. Its stdin is {@code /dev/null} (a pipe Portway holds, for a container
 * {@code kubectl attach} writes to); stdout and stderr go, merged, to the
 * container's {@link ContainerLog}.
 *
 * <p>SIGTERM goes to the container's first process alone (in the pods' sandbox, to the init of
 * its PID namespace, which passes it to the command), as a container runtime sends it to PID 1;
 * SIGKILL goes to the whole group, as a runtime kills the container's cgroup; and when the leader
 * exits, what it left behind is killed, as a PID namespace dies with its PID 1 (in the sandbox,
 * the kernel does that too, and reaches the processes that left the group).
 */
final class OsProcess implements ContainerProcess {

    private final Process process;
    private final OrphanGuard guard;
    /** Whether the process is the pods' sandbox, whose init (its child) takes SIGTERM. */
    private final boolean sandboxed;
    private final CompletableFuture<Integer> exit;
    /** Whether its input is a pipe Portway holds. */
    private final boolean stdin;

    private OsProcess(Process process, boolean sandboxed, OrphanGuard guard, ContainerLog log, boolean stdin) {
        this.process = process;
        this.stdin = stdin;
        this.sandboxed = sandboxed;
        this.guard = guard;
        guard.watch(process.pid());
        Thread.ofVirtual().name("log-" + process.pid()).start(() -> log.drain(process.getInputStream()));
        // Process.onExit() completes on the common ForkJoinPool, which anything else in the JVM may keep busy (on two
        // cores it has one thread): a virtual thread of our own waits instead, so no one else's work delays an exit
        this.exit = new CompletableFuture<>();
        Thread.ofVirtual().name("exit-" + process.pid()).start(() -> {
            int code;
            try {
                code = process.waitFor();
            } catch (InterruptedException e) {
                exit.completeExceptionally(e);
                return;
            }
            guard.signalGroup(process.pid(), "KILL");
            guard.forget(process.pid());
            // a process that left its group (setsid of its own) may still hold the output pipe:
            // the run's log ends anyway, once what was in the pipe has been read
            CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS, r -> Thread.ofVirtual().start(r)).execute(log::close);
            exit.complete(code);
        });
    }

    /**
     * Starts {@code command} (already expanded, its first word resolved to a file) with exactly
     * {@code env} in {@code workingDir}.
     */
    static OsProcess start(List<String> command, Map<String, String> env, Path workingDir, OrphanGuard guard, ContainerLog log)
            throws IOException {
        return start(command, env, workingDir, guard, log, false);
    }

    /**
     * As {@link #start(List, Map, Path, OrphanGuard, ContainerLog)}; with {@code stdin}, its input is a
     * pipe Portway holds ({@link #stdin()}), not an empty file.
     */
    static OsProcess start(List<String> command, Map<String, String> env, Path workingDir, OrphanGuard guard, ContainerLog log,
                           boolean stdin) throws IOException {
        if (!guard.open()) {
            throw new IOException("Portway is stopping (or its process watchdog is gone): no process starts");
        }
        List<String> argv = new ArrayList<>(command.size() + 1);
        argv.add(OrphanGuard.SETSID.toString());
        argv.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(argv)
                .directory(workingDir.toFile())
                .redirectErrorStream(true);
        if (!stdin) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        pb.environment().clear();
        pb.environment().putAll(env);
        return new OsProcess(pb.start(), PodSandbox.runsInit(command), guard, log, stdin);
    }

    @Override
    public java.io.OutputStream stdin() {
        return stdin ? process.getOutputStream() : null;
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public CompletableFuture<Integer> exit() {
        return exit;
    }

    @Override
    public void terminate(Duration grace) {
        // the handle's destroy sends SIGTERM and nothing more; Process.destroy would also close
        // the output pipe, and lose what the process says while it shuts down
        if (!sandboxed) {
            process.toHandle().destroy();
            return;
        }
        // the sandbox's unshare does not pass signals on: SIGTERM is for the init it forks, which
        // passes it to the command, once the command runs (a stop right after a start comes first)
        long deadline = System.nanoTime() + Math.max(grace.toNanos(), TimeUnit.SECONDS.toNanos(1));
        Thread.ofVirtual().name("terminate-" + process.pid()).start(() -> {
            while (process.isAlive() && System.nanoTime() - deadline < 0) {
                Optional<ProcessHandle> init = process.toHandle().children().findFirst();
                if (init.isPresent() && PodSandbox.commandStarted(init.get())) {
                    init.get().destroy();
                    return;
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    @Override
    public Optional<ProcessHandle> sandboxInit() {
        if (!sandboxed) {
            return Optional.empty();
        }
        return process.toHandle().children().findFirst().filter(PodSandbox::commandStarted);
    }

    @Override
    public void kill() {
        if (!process.isAlive()) {
            return;
        }
        if (guard.open()) {
            guard.signalGroup(process.pid(), "KILL");
            // a process killed right after its start may not lead its group yet (setsid has not run): kill it by its PID too
            process.toHandle().destroyForcibly();
        } else {
            // no watchdog to signal the group: what Java sees of it will do
            process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            process.toHandle().destroyForcibly();
        }
    }
}
