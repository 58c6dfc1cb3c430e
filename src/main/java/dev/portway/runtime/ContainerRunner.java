package dev.portway.runtime;

import dev.portway.api.GoValues;
import dev.portway.api.Times;
import dev.portway.control.ControlPlane;
import dev.portway.runtime.echo.EchoBasic;
import dev.portway.runtime.echo.EchoServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateTerminatedBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.LifecycleHandler;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One container of a local pod, through all its runs: starts it (a process, or the built-in echo
 * server), watches it exit, restarts it as the pod's {@code restartPolicy} says with the
 * kubelet's CrashLoopBackOff (the initial delay doubling up to the maximum, forgotten once a
 * run lasts twice the maximum), runs its probes, and stops it: SIGTERM, then SIGKILL when the
 * grace period is over.
 *
 * <p>Everything here runs on the control thread; process exits, probe verdicts and timers are
 * handed to it.
 */
final class ContainerRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerRunner.class);
    private static final String COMPONENT = "kubelet";

    private enum State { WAITING, RUNNING, TERMINATED }

    private final PodWorker pod;
    private final Container spec;
    private final boolean init;
    /** An init container with {@code restartPolicy: Always}: it runs beside the pod's containers, restarted whenever it exits. */
    private final boolean sidecar;
    /** A sidecar that has started once: the init containers after it may run. */
    private boolean sequenced;
    /** A sidecar whose pod is stopping: it is not started again when it exits. */
    private boolean terminating;
    private int restartCount;
    private State state = State.WAITING;
    private String waitingReason;
    private String waitingMessage;
    private String startedAt;
    private String containerId;
    private ContainerStateTerminated terminated;
    private ContainerStateTerminated lastTerminated;
    private ContainerProcess process;
    private Map<String, String> env = Map.of();
    /** The {@code kubectl exec} sessions of the current run ({@link #track}); guards {@link #execRun} and {@link #execsOpen}. */
    private final java.util.Set<dev.portway.admin.PodExec.Session> execs = new java.util.HashSet<>();
    private int execRun;
    private boolean execsOpen;
    private Path workingDir;
    private ContainerLog log;
    private ContainerLog previousLog;
    private final List<ProbeWorker> probes = new ArrayList<>();
    private boolean started;
    private boolean ready;
    private boolean completed;
    private Duration backoff;
    private Instant backoffUpdated;
    private Instant exitedAt;
    /** The current run is being stopped because a liveness or startup probe failed. */
    private boolean killedByProbe;
    private ScheduledFuture<?> pendingStart;
    private ScheduledFuture<?> killTimer;
    private CompletableFuture<Void> stopped;
    /** A process being started off the control thread; null when none is. */
    private CompletableFuture<ContainerProcess> starting;

    ContainerRunner(PodWorker pod, Container spec, boolean init, String waitingReason) {
        this.pod = pod;
        this.spec = spec;
        this.init = init;
        this.sidecar = init && dev.portway.api.PodContainers.isSidecar(spec);
        this.waitingReason = waitingReason;
    }

    String name() {
        return spec.getName();
    }

    Container spec() {
        return spec;
    }

    /** Goes on counting restarts from {@code count} (a pod that ran before Portway restarted). */
    void resumeCount(int count) {
        restartCount = Math.max(restartCount, count);
    }

    boolean isInit() {
        return init;
    }

    boolean isSidecar() {
        return sidecar;
    }

    /** An init container whose turn is over: a regular one that exited 0, a sidecar that has started (its startup probe passed). */
    boolean initialized() {
        return sidecar ? sequenced : completed;
    }

    /** The pod is stopping (deleted, or done): a sidecar waiting to restart does not, nor does one that exits now. */
    void terminating() {
        terminating = true;
        cancelPendingStart();
    }

    /** A sidecar's first start lets the next init container run. */
    private void sequence() {
        if (sidecar && !sequenced && started()) {
            sequenced = true;
            pod.initContainerCompleted();
        }
    }

    /** Whether the current run is going and has passed its startup probe. */
    boolean started() {
        return state == State.RUNNING && started;
    }

    boolean ready() {
        return state == State.RUNNING && started && ready;
    }

    boolean running() {
        return state == State.RUNNING;
    }

    /**
     * The run {@code kubectl exec} sessions may join now: each one started is {@link #track tracked}
     * with it, and ended with the run (its exit, or the container's stop), as a container's own
     * processes end with it. Any thread.
     */
    int execRun() {
        synchronized (execs) {
            return execRun;
        }
    }

    /** Ends {@code session} with the container's current run: false (and not tracked) when that is no longer {@code run}. */
    boolean track(dev.portway.admin.PodExec.Session session, int run) {
        synchronized (execs) {
            if (!execsOpen || run != execRun) {
                return false;
            }
            execs.add(session);
            return true;
        }
    }

    void untrack(dev.portway.admin.PodExec.Session session) {
        synchronized (execs) {
            execs.remove(session);
        }
    }

    private void endExecs() {
        List<dev.portway.admin.PodExec.Session> ending;
        synchronized (execs) {
            execsOpen = false;
            execRun++;
            ending = new ArrayList<>(execs);
            execs.clear();
        }
        ending.forEach(dev.portway.admin.PodExec.Session::kill);
    }

    /** The environment of its current run (what exec probes, hooks and {@code kubectl exec} run with). */
    Map<String, String> env() {
        return env;
    }

    /** The working directory of its current run; null before the first. */
    Path workingDir() {
        return workingDir;
    }

    /** Its current run's process; null when none runs. Control thread. */
    ContainerProcess process() {
        return process;
    }

    /** An init container that exited 0. */
    boolean completed() {
        return completed;
    }

    /** Stopped for good: ran to its end and will not run again, or was stopped. */
    boolean finished() {
        return stopped != null ? stopped.isDone() : state == State.TERMINATED && pendingStart == null;
    }

    ContainerStateTerminated terminated() {
        return state == State.TERMINATED ? terminated : null;
    }

    ContainerStateTerminated lastTerminated() {
        return lastTerminated;
    }

    boolean waitingAfterRun() {
        return state == State.WAITING && lastTerminated != null;
    }

    ControlPlane control() {
        return pod.kubelet().control();
    }

    PodRuntime runtime() {
        return pod.kubelet().runtime();
    }

    Prober prober() {
        return pod.kubelet().prober();
    }

    /** The log of the current run (or the last one), or of the run before it (lastState). */
    ContainerLog log(boolean previous) {
        // as the kubelet: while waiting to restart, both mean the run that just ended (lastState)
        if (state == State.WAITING && lastTerminated != null) {
            return log;
        }
        return previous ? previousLog : log;
    }

    // ---- starting ----

    /** Starts a run now. */
    void start() {
        pendingStart = null;
        if (stopped != null) {
            return;
        }
        Launch launch;
        try {
            launch = prepare();
            if (launch != null) {
                for (Map.Entry<String, List<String>> exec : execCommands(spec).entrySet()) {
                    // expanded as they run (local), with this environment: bounded as the command is, checked once here
                    PodEnvironment.expandAll(exec.getKey(), exec.getValue(), launch.env);
                }
            }
        } catch (PodEnvironment.ConfigError e) {
            waiting("CreateContainerConfigError", e.getMessage());
            event(true, "Failed", "Error: " + e.getMessage());
            pod.sync();
            pendingStart = control().schedule(this::start, Duration.ofSeconds(2));
            return;
        } catch (IOException e) {
            waiting("CreateContainerError", e.getMessage());
            event(true, "Failed", "Error: " + e.getMessage());
            pod.sync();
            pendingStart = control().schedule(this::start, Duration.ofSeconds(2));
            return;
        }
        if (launch == null) {
            return;
        }
        env = launch.env;
        workingDir = launch.workingDir;
        try {
            openLog();
        } catch (IOException e) {
            waiting("CreateContainerError", "cannot create the log of container " + name() + ": " + e.getMessage());
            pod.sync();
            pendingStart = control().schedule(this::start, Duration.ofSeconds(2));
            return;
        }
        event(false, "Pulled", "Container image " + '"' + spec.getImage() + '"' + " already present on machine");
        if (launch.kind == Kind.ECHO) {
            startEcho();
            return;
        }
        if (launch.kind == Kind.ECHO_BASIC) {
            startEchoBasic(launch.env);
            return;
        }
        String file = Executables.resolve(launch.command.getFirst(), launch.env.get("PATH"), launch.workingDir);
        String at = now();
        if (file == null) {
            failedToStart(at, "exec: \"" + launch.command.getFirst() + "\": executable file not found in $PATH");
            return;
        }
        List<String> argv = new ArrayList<>(launch.command);
        argv.set(0, file);
        boolean tty = Boolean.TRUE.equals(spec.getTty()) && java.nio.file.Files.isExecutable(ContainerExec.SCRIPT);
        // a terminal's input is held open even with no stdin: its command waits on it, as on a runtime's terminal,
        // where an empty input would end it at once
        boolean stdin = Boolean.TRUE.equals(spec.getStdin()) || tty;
        if (tty) {
            argv = new ArrayList<>(ContainerExec.underTerminal(argv, launch.env.get("SHELL"))); // tty: true, a terminal as a runtime gives one
        }
        // the fork happens off the control thread (a slow fork must not stall every API write); the result comes back to it
        PodSandbox.Launch sandboxed = pod.kubelet().sandboxed(argv, launch.env, pod, launch.workingDir);
        OrphanGuard guard = pod.kubelet().guard();
        ContainerLog runLog = log;
        Kubelet.ProcessLauncher launcher = pod.kubelet().launcher();
        CompletableFuture<ContainerProcess> forked = new CompletableFuture<>();
        starting = forked;
        Thread.ofVirtual().name("start-" + name()).start(() -> {
            try {
                forked.complete(launcher.start(sandboxed.argv(), sandboxed.env(), sandboxed.directory(), guard, runLog, stdin));
            } catch (IOException | RuntimeException e) {
                forked.completeExceptionally(e);
            }
        });
        forked.whenComplete((p, e) -> control().submit(() -> {
            starting = null;
            if (e != null) {
                failedToStart(at, e.getMessage());
                if (stopped != null) {
                    stopped.complete(null);
                }
            } else if (stopped != null) {
                // stopped while it was starting: the stop is done once this process is gone
                p.kill();
                p.exit().whenComplete((code, x) -> stopped.complete(null));
            } else {
                event(false, "Created", "Created container: " + name());
                running(p, "pid://" + p.pid(), at);
            }
            return null;
        }).exceptionally(t -> {
            // the control plane is gone (Portway is stopping): nobody else will end this process
            if (p != null) {
                p.kill();
            }
            return null;
        }));
    }

    /** What runs: a process, the built-in echo server, or the built-in server playing Gateway API's echo-basic. */
    private enum Kind { PROCESS, ECHO, ECHO_BASIC }

    /** What a run is started with. */
    private record Launch(Kind kind, List<String> command, Map<String, String> env, Path workingDir) {
    }

    private Launch prepare() throws PodEnvironment.ConfigError, IOException {
        boolean noCommand = spec.getCommand() == null || spec.getCommand().isEmpty();
        if (noCommand && EchoServer.isEchoImage(spec.getImage())) {
            return new Launch(Kind.ECHO, List.of(), pod.baseEnvironment(spec), pod.dir());
        }
        if (noCommand && EchoBasic.isEchoBasicImage(spec.getImage())) {
            // echo-basic reads who it is from the environment (POD_NAME, NAMESPACE from the downward API)
            Map<String, String> env = PodEnvironment.build(pod.pod(), spec, pod.kubelet().store(), pod.baseEnvironment(spec));
            String unsupported = EchoBasic.unsupported(env);
            if (unsupported == null) {
                try {
                    EchoBasic.httpPort(env);
                } catch (IllegalArgumentException e) {
                    unsupported = "echo-basic: " + e.getMessage();
                }
            }
            if (unsupported != null) {
                waiting("CreateContainerError", unsupported);
                event(true, "Failed", "Error: " + unsupported);
                pod.sync();
                return null;
            }
            return new Launch(Kind.ECHO_BASIC, List.of(), env, pod.dir());
        }
        if (noCommand) {
            String message = "image " + '"' + spec.getImage() + '"' + " cannot run here: local mode has no container runtime; "
                    + "give the container a command (and args) to run it as a process, or use image " + EchoServer.IMAGE;
            waiting("CreateContainerError", message);
            event(true, "Failed", "Error: " + message);
            pod.sync();
            return null;
        }
        Map<String, String> env = PodEnvironment.build(pod.pod(), spec, pod.kubelet().store(), pod.baseEnvironment(spec));
        List<Map.Entry<String, Path>> mounts = pod.volumes().mounts(spec);
        env.replaceAll((k, v) -> PodVolumes.rewrite(v, mounts));
        List<String> raw = new ArrayList<>(spec.getCommand());
        if (spec.getArgs() != null) {
            raw.addAll(spec.getArgs());
        }
        List<String> undefined = PodEnvironment.undefinedReferences(raw, env);
        if (!undefined.isEmpty()) {
            event(true, "UndefinedVariable", "command and args refer to " + String.join(", ", undefined.stream().map(n -> "$(" + n + ")").toList())
                    + " but the container defines no such variable; they are passed as written (define them in env, "
                    + "e.g. valueFrom.fieldRef.fieldPath: status.podIP)");
        }
        List<String> command = new ArrayList<>();
        for (String s : PodEnvironment.expandAll("command and args", raw, env)) {
            command.add(PodVolumes.rewrite(s, mounts));
        }
        boolean own = ownWorkingDir(spec);
        Path workingDir = own ? ownWorkingDir(pod.dir(), spec) : Path.of(PodVolumes.rewrite(spec.getWorkingDir(), mounts));
        if (own) {
            // made before any of the pod's processes ran (PodWorker); made again now, it could be made
            // through a link an earlier run left in its place
            if (!Files.isDirectory(workingDir, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    || Files.isSymbolicLink(workingDir.getParent())) {
                throw new IOException("its working directory " + workingDir + " is no longer a directory of the pod's");
            }
        } else {
            pod.kubelet().makeWorkingDir(workingDir, pod.dir());
        }
        return new Launch(Kind.PROCESS, command, env, workingDir);
    }

    /** Whether the container has no workingDir of its own (it gets {@code <pod dir>/containers/<name>}). */
    static boolean ownWorkingDir(Container spec) {
        return spec.getWorkingDir() == null || spec.getWorkingDir().isEmpty();
    }

    /** The pod's directory a container without a workingDir of its own starts in. */
    static Path ownWorkingDir(Path podDir, Container spec) {
        return podDir.resolve("containers").resolve(spec.getName());
    }

    private void openLog() throws IOException {
        Path dir = pod.privateDir().resolve("logs").resolve(name());
        if (log != null) {
            // not closed here: what the last run wrote may still be in the pipe; its end closes it
            previousLog = log;
            for (int older = restartCount - 2; older >= 0 && older >= restartCount - 3; older--) {
                deleteRun(dir, older);
            }
        }
        KubeletOptions options = pod.kubelet().options();
        log = new ContainerLog(dir, restartCount, options.logMaxBytes(), options.logMaxFiles());
    }

    private static void deleteRun(Path dir, int run) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.equals(run + ".log") || n.startsWith(run + ".log.")) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private void startEcho() {
        List<EchoServer.Port> ports = new ArrayList<>();
        StringBuilder listening = new StringBuilder();
        for (ContainerPort p : spec.getPorts() == null ? List.<ContainerPort>of() : spec.getPorts()) {
            if ("SCTP".equals(p.getProtocol())) {
                continue;
            }
            boolean udp = "UDP".equals(p.getProtocol());
            ports.add(new EchoServer.Port(p.getContainerPort(), udp));
            listening.append(listening.isEmpty() ? "" : ", ").append(udp ? "udp " : "tcp ").append(pod.podIp()).append(':').append(p.getContainerPort());
        }
        String startedAt = now();
        EchoServer.Identity identity = new EchoServer.Identity(pod.name(), pod.namespace(), pod.podIp(), pod.node().name());
        echoStarting(EchoProcess.start(identity, pod.podIp(), ports, runtime()), startedAt,
                "portway/echo: serving " + (listening.isEmpty() ? "no ports" : listening) + "\n", "portway://echo/" + pod.uid() + "/" + name());
    }

    /**
     * Follows the built-in server's start to its end, on the control thread: it runs, or it failed,
     * or it was stopped meanwhile. A stop that comes while it binds waits for it to be gone (as for
     * a process being started): the pod's address goes back only once nothing listens there.
     */
    private void echoStarting(CompletableFuture<EchoProcess> start, String startedAt, String firstLogLine, String id) {
        starting = start.thenApply(p -> (ContainerProcess) p);
        start.whenComplete((p, e) -> control().submit(() -> {
            starting = null;
            if (e != null) {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                failedToStart(startedAt, cause.getMessage());
                if (stopped != null) {
                    stopped.complete(null);
                }
            } else if (stopped != null) {
                p.kill();
                log.close();
                p.exit().whenComplete((code, x) -> stopped.complete(null));
            } else {
                writeLog(firstLogLine);
                event(false, "Created", "Created container: " + name());
                running(p, id, startedAt);
            }
            return null;
        }).exceptionally(t -> {
            if (p != null) {
                p.kill(); // the control plane is gone (Portway is stopping)
            }
            return null;
        }));
    }

    /**
     * Runs the built-in server as the Gateway API's echo-basic: HTTP on {@code $HTTP_PORT} (3000),
     * whatever ports the container declares, as echo-basic listens; its log lines go to the
     * container's log, where {@code portway logs} (and the conformance suite's mirror checks) read them.
     */
    private void startEchoBasic(Map<String, String> env) {
        int httpPort = EchoBasic.httpPort(env);
        String startedAt = now();
        ContainerLog runLog = log;
        java.util.function.Consumer<String> sink = line -> {
            try {
                byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
                runLog.append(bytes, 0, bytes.length);
            } catch (IOException e) {
                // a log that cannot be written does not stop the container
            }
        };
        EchoServer.Identity identity = new EchoServer.Identity(pod.name(), pod.namespace(), pod.podIp(), pod.node().name());
        EchoServer server = EchoServer.echoBasic(identity, EchoBasic.Context.fromEnv(env), httpPort, sink,
                runtime().transport(), runtime().group());
        echoStarting(EchoProcess.start(server, pod.podIp(), List.of(new EchoServer.Port(httpPort, false)), runtime()), startedAt,
                "Starting server, listening on port " + httpPort + " (http)\n", "portway://echo-basic/" + pod.uid() + "/" + name());
    }

    private void writeLog(String line) {
        try {
            byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
            log.append(bytes, 0, bytes.length);
        } catch (IOException e) {
            // a log that cannot be written does not stop the container
        }
    }

    private void running(ContainerProcess p, String id, String at) {
        synchronized (execs) {
            execsOpen = true;
        }
        process = p;
        containerId = id;
        state = State.RUNNING;
        startedAt = at;
        terminated = null;
        started = spec.getStartupProbe() == null;
        ready = spec.getReadinessProbe() == null;
        event(false, "Started", "Started container " + name());
        startProbes(p);
        int run = restartCount;
        p.exit().whenComplete((code, e) -> control().submit(() -> {
            exited(run, code == null ? 1 : code);
            return null;
        }));
        pod.sync();
        sequence();
    }

    private void startProbes(ContainerProcess p) {
        Prober.Target target = target();
        addProbe(ProbeWorker.Kind.STARTUP, spec.getStartupProbe(), target);
        addProbe(ProbeWorker.Kind.LIVENESS, spec.getLivenessProbe(), target);
        addProbe(ProbeWorker.Kind.READINESS, spec.getReadinessProbe(), target);
    }

    /**
     * The probe as it runs here: an exec command gets the container's variables expanded (as the
     * kubelet does) and its mountPaths rewritten to the volumes' directories, like the container's
     * own command.
     */
    private Probe local(Probe probe) {
        if (probe.getExec() == null || probe.getExec().getCommand() == null) {
            return probe;
        }
        List<Map.Entry<String, Path>> mounts = pod.volumes().mounts(spec);
        List<String> command = new ArrayList<>();
        try {
            for (String s : PodEnvironment.expandAll("exec command", probe.getExec().getCommand(), env)) {
                command.add(PodVolumes.rewrite(s, mounts));
            }
        } catch (PodEnvironment.ConfigError e) {
            throw new IllegalStateException("checked when the container started: " + e.getMessage(), e);
        }
        return new ProbeBuilder(probe).editExec().withCommand(command).endExec().build();
    }

    /** The exec commands of a container's probes and preStop hook, which run with its environment, by their field paths. */
    private static Map<String, List<String>> execCommands(Container spec) {
        Map<String, List<String>> commands = new java.util.LinkedHashMap<>();
        Map<String, Probe> probes = new java.util.LinkedHashMap<>();
        probes.put("startupProbe", spec.getStartupProbe());
        probes.put("livenessProbe", spec.getLivenessProbe());
        probes.put("readinessProbe", spec.getReadinessProbe());
        probes.forEach((field, p) -> {
            if (p != null && p.getExec() != null && p.getExec().getCommand() != null) {
                commands.put(field + ".exec.command", p.getExec().getCommand());
            }
        });
        LifecycleHandler preStop = spec.getLifecycle() == null ? null : spec.getLifecycle().getPreStop();
        if (preStop != null && preStop.getExec() != null && preStop.getExec().getCommand() != null) {
            commands.put("lifecycle.preStop.exec.command", preStop.getExec().getCommand());
        }
        return commands;
    }

    /** What probes and hooks run against: the pod's IP, and the container's environment and working directory. */
    private Prober.Target target() {
        Kubelet kubelet = pod.kubelet();
        return new Prober.Target(pod.podIp(), spec.getPorts() == null ? List.of() : spec.getPorts(), env, workingDir,
                host -> kubelet.dns().resolve(host, pod.namespace()), command -> kubelet.sandboxed(command, env, pod, workingDir));
    }

    private void addProbe(ProbeWorker.Kind kind, Probe probe, Prober.Target target) {
        if (probe != null && (!init || sidecar)) {
            ProbeWorker w = new ProbeWorker(this, kind, local(probe), target);
            probes.add(w);
            w.start();
        }
    }

    private void stopProbes() {
        probes.forEach(ProbeWorker::stop);
        probes.clear();
    }

    /** The process could not be started at all: a run that ended at once, as containerd reports it. */
    private void failedToStart(String at, String message) {
        LOG.warn("pod {}/{} container {}: {}", pod.namespace(), pod.name(), name(), message);
        event(true, "Failed", "Error: " + message);
        writeLog(message + "\n");
        this.log.close();
        exitedAt = pod.kubelet().clock().instant();
        terminated = new ContainerStateTerminatedBuilder().withExitCode(128).withReason("StartError").withMessage(message)
                .withStartedAt(at).withFinishedAt(now()).build();
        state = State.TERMINATED;
        afterRun(128);
    }

    // ---- a run ends ----

    private void exited(int run, int code) {
        if (run != restartCount || state != State.RUNNING) {
            return;
        }
        endExecs();
        if (!(process instanceof OsProcess)) {
            // the built-in server writes its log itself; an OS process's log ends with its output pipe
            log.close();
        }
        process = null;
        if (killTimer != null) {
            killTimer.cancel(false);
            killTimer = null;
        }
        boolean probeKill = killedByProbe;
        killedByProbe = false;
        stopProbes();
        exitedAt = pod.kubelet().clock().instant();
        terminated = new ContainerStateTerminatedBuilder()
                .withExitCode(code)
                .withReason(code == 0 ? "Completed" : "Error")
                .withStartedAt(startedAt)
                .withFinishedAt(now())
                .withContainerID(containerId)
                .build();
        state = State.TERMINATED;
        started = false;
        ready = false;
        if (stopped != null) {
            stopped.complete(null);
            pod.sync();
            return;
        }
        afterRun(probeKill ? Math.max(code, 1) : code);
    }

    private void afterRun(int code) {
        if (stopped != null) {
            stopped.complete(null);
            pod.sync();
            return;
        }
        if (init && !sidecar && code == 0) {
            completed = true;
            pod.sync();
            pod.initContainerCompleted();
            return;
        }
        if (!shouldRestart(code)) {
            pod.sync();
            return;
        }
        Instant now = pod.kubelet().clock().instant();
        Instant finished = exitedAt;
        KubeletOptions options = pod.kubelet().options();
        if (backoff != null && Duration.between(backoffUpdated, finished).compareTo(options.backoffMax().multipliedBy(2)) > 0) {
            backoff = null;
        }
        Duration delay = backoff == null ? Duration.ZERO : backoff.minus(Duration.between(finished, now));
        if (delay.isNegative() || delay.isZero()) {
            restart();
            return;
        }
        lastTerminated = terminated;
        String podRef = pod.name() + "_" + pod.namespace() + "(" + pod.uid() + ")";
        waiting("CrashLoopBackOff", "back-off " + GoValues.duration(backoff) + " restarting failed container=" + name() + " pod=" + podRef);
        event(true, "BackOff", "Back-off restarting failed container " + name() + " in pod " + podRef);
        pendingStart = control().schedule(this::restart, delay);
        pod.sync();
    }

    private boolean shouldRestart(int code) {
        String policy = pod.pod().getSpec().getRestartPolicy() == null ? "Always" : pod.pod().getSpec().getRestartPolicy();
        if (sidecar) {
            return !terminating; // whatever the pod's policy, until the pod stops
        }
        if (init) {
            return !policy.equals("Never") && code != 0;
        }
        return switch (policy) {
            case "Never" -> false;
            case "OnFailure" -> code != 0;
            default -> true;
        };
    }

    private void restart() {
        pendingStart = null;
        if (stopped != null) {
            return;
        }
        KubeletOptions options = pod.kubelet().options();
        Instant now = pod.kubelet().clock().instant();
        if (backoff == null || Duration.between(backoffUpdated, now).compareTo(options.backoffMax().multipliedBy(2)) > 0) {
            backoff = options.backoffInitial();
        } else {
            backoff = backoff.multipliedBy(2);
            if (backoff.compareTo(options.backoffMax()) > 0) {
                backoff = options.backoffMax();
            }
        }
        backoffUpdated = now;
        lastTerminated = terminated;
        restartCount++;
        waiting("ContainerCreating", null);
        start();
    }

    // ---- probes ----

    /** A probe's verdict changed. */
    void probeChanged(ProbeWorker w) {
        switch (w.kind()) {
            case STARTUP -> {
                if (w.result()) {
                    started = true;
                    w.stop();
                    pod.sync();
                    sequence();
                    return;
                } else {
                    killForProbe("startup");
                }
            }
            case LIVENESS -> {
                if (!w.result()) {
                    killForProbe("liveness");
                }
            }
            case READINESS -> ready = w.result();
        }
        pod.sync();
    }

    void probeFailed(ProbeWorker w, String message) {
        event(true, "Unhealthy", w.kind().label + " probe failed: " + message);
    }

    private void killForProbe(String which) {
        if (process == null || stopped != null) {
            return;
        }
        boolean restarts = sidecar || !"Never".equals(pod.pod().getSpec().getRestartPolicy());
        event(false, "Killing", "Container " + name() + " failed " + which + " probe" + (restarts ? ", will be restarted" : ""));
        killedByProbe = true;
        Probe probe = which.equals("liveness") ? spec.getLivenessProbe() : spec.getStartupProbe();
        long grace = probe.getTerminationGracePeriodSeconds() != null ? probe.getTerminationGracePeriodSeconds() : pod.terminationGracePeriod();
        signal(Duration.ofSeconds(grace));
    }

    /** SIGTERM now, SIGKILL when {@code grace} is over. */
    private void signal(Duration grace) {
        ContainerProcess p = process;
        if (p == null) {
            return;
        }
        p.terminate(grace);
        if (killTimer == null) {
            killTimer = control().schedule(p::kill, grace);
        }
    }

    // ---- stopping ----

    /**
     * Stops the container for good: the preStop hook, SIGTERM, SIGKILL once {@code grace} is
     * over. Completes when the run has ended.
     */
    CompletableFuture<Void> stop(Duration grace) {
        if (stopped != null) {
            return stopped;
        }
        stopped = new CompletableFuture<>();
        cancelPendingStart();
        stopProbes();
        endExecs();
        if (process == null) {
            if (starting == null) {
                stopped.complete(null); // else it completes when the process being started is gone
            }
            return stopped;
        }
        event(false, "Killing", "Stopping container " + name());
        ContainerProcess p = process;
        if (killTimer != null) {
            killTimer.cancel(false);
        }
        killTimer = control().schedule(p::kill, grace);
        LifecycleHandler preStop = spec.getLifecycle() == null ? null : spec.getLifecycle().getPreStop();
        if (preStop == null) {
            p.terminate(grace);
        } else {
            preStop(preStop, grace).whenComplete((r, e) -> control().submit(() -> {
                p.terminate(grace);
                return null;
            }));
        }
        return stopped;
    }

    /** Ends the run at once. */
    CompletableFuture<Void> kill() {
        if (stopped == null) {
            stopped = new CompletableFuture<>();
            cancelPendingStart();
            stopProbes();
        }
        if (process == null) {
            if (starting == null) {
                stopped.complete(null); // else it completes when the process being started is gone
            }
        } else {
            process.kill();
        }
        return stopped;
    }

    private void cancelPendingStart() {
        if (pendingStart != null) {
            pendingStart.cancel(false);
            pendingStart = null;
        }
    }

    private CompletableFuture<Void> preStop(LifecycleHandler hook, Duration grace) {
        if (hook.getSleep() != null && hook.getSleep().getSeconds() != null) {
            CompletableFuture<Void> slept = new CompletableFuture<>();
            runtime().group().next().schedule(() -> slept.complete(null), hook.getSleep().getSeconds() * 1000L,
                    java.util.concurrent.TimeUnit.MILLISECONDS);
            return slept;
        }
        Probe asProbe = local(new ProbeBuilder().withExec(hook.getExec()).withHttpGet(hook.getHttpGet()).withTcpSocket(hook.getTcpSocket())
                .withTimeoutSeconds((int) Math.max(1, grace.toSeconds())).build());
        return prober().run(asProbe, target()).thenCompose(r -> control().submit(() -> {
            if (!r.success()) {
                event(true, "FailedPreStopHook", "PreStopHook failed: " + r.message());
            }
            return null;
        }));
    }

    // ---- status ----

    private void waiting(String reason, String message) {
        state = State.WAITING;
        waitingReason = reason;
        waitingMessage = message;
    }

    /** This container's entry in the pod's status. */
    ContainerStatus status() {
        ContainerState current = switch (state) {
            case WAITING -> new ContainerStateBuilder().withNewWaiting().withReason(waitingReason).withMessage(waitingMessage).endWaiting().build();
            case RUNNING -> new ContainerStateBuilder().withNewRunning().withStartedAt(startedAt).endRunning().build();
            case TERMINATED -> new ContainerStateBuilder().withTerminated(terminated).build();
        };
        ContainerStatusBuilder b = new ContainerStatusBuilder()
                .withName(name())
                .withImage(spec.getImage())
                .withImageID("")
                .withRestartCount(restartCount)
                .withStarted(started())
                .withReady(ready())
                .withState(current);
        if (containerId != null) {
            b.withContainerID(containerId);
        }
        if (lastTerminated != null) {
            b.withNewLastState().withTerminated(lastTerminated).endLastState();
        }
        return b.build();
    }

    private void event(boolean warning, String reason, String message) {
        if (warning) {
            pod.kubelet().events().warning(pod.pod(), reason, message, COMPONENT);
        } else {
            pod.kubelet().events().normal(pod.pod(), reason, message, COMPONENT);
        }
    }

    private String now() {
        return Times.format(pod.kubelet().clock().instant());
    }
}
