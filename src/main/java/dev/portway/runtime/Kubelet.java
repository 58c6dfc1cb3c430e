package dev.portway.runtime;

import dev.portway.admin.PodLogs;
import dev.portway.api.ApiException;
import dev.portway.api.ResourceKind;
import dev.portway.control.ApiServer;
import dev.portway.control.ControlPlane;
import dev.portway.control.Controller;
import dev.portway.control.EventRecorder;
import dev.portway.control.Pods;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent of every local node: runs the pods bound to the nodes (each through a
 * {@link PodWorker}), gives them IPs from the node's pod range and a directory under the state
 * directory, and, when a pod is deleted, stops it within its grace period and removes it for good.
 * It also serves containers' logs.
 */
public final class Kubelet implements Controller, PodLogs, dev.portway.admin.PodExec, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Kubelet.class);
    private static final String STATE_DIR_PREFIX = "portway-";
    /** The file in a state directory that names the Portway process it belongs to. */
    private static final String OWNER_FILE = "portway.pid";

    private final ControlPlane control;
    private final ApiServer api;
    private final Store store;
    private final Map<String, LocalNode> nodes;
    private final PodRuntime runtime;
    private final KubeletOptions options;
    private final Path stateDir;
    private final boolean ownStateDir;
    private final OrphanGuard guard;
    private final Prober prober;
    private final PodSandbox sandbox;
    private final ClusterDns dns;
    /** How container processes are started (a seam for tests: a slow start must not hold the control thread). */
    private volatile ProcessLauncher launcher = new ProcessLauncher() {
        @Override
        public ContainerProcess start(List<String> command, Map<String, String> env, Path workingDir, OrphanGuard guard, ContainerLog log)
                throws IOException {
            return OsProcess.start(command, env, workingDir, guard, log);
        }

        @Override
        public ContainerProcess start(List<String> command, Map<String, String> env, Path workingDir, OrphanGuard guard, ContainerLog log,
                                      boolean stdin) throws IOException {
            return OsProcess.start(command, env, workingDir, guard, log, stdin);
        }
    };
    private final Map<String, PodWorker> workers = new HashMap<>();
    /** Pods whose address went back when they finished (their workers keep their logs until the pod goes). */
    private final Set<String> addressFreed = new HashSet<>();
    /** Set when Portway stops: pods are stopped and nothing starts again. Control thread. */
    private boolean stopping;

    public Kubelet(ControlPlane control, List<LocalNode> nodes, PodRuntime runtime, KubeletOptions options) throws IOException {
        this.control = control;
        this.api = control.api();
        this.store = control.store();
        this.runtime = runtime;
        this.options = options;
        this.nodes = new HashMap<>();
        for (LocalNode n : nodes) {
            this.nodes.put(n.name(), n);
        }
        if (!OrphanGuard.supported()) {
            throw new IOException(OrphanGuard.SETSID + " is missing (Debian package util-linux): pods run in process groups of their own");
        }
        this.ownStateDir = options.stateDir() == null;
        this.stateDir = ownStateDir ? Files.createTempDirectory(STATE_DIR_PREFIX) : options.stateDir();
        List<Path> hidden;
        try {
            hidden = hideable(options.hiddenFromPods());
        } catch (IOException e) {
            if (ownStateDir) {
                Files.deleteIfExists(stateDir);
            }
            throw e;
        }
        if (ownStateDir) {
            removeStaleStateDirs(stateDir.getParent(), stateDir);
        }
        Files.createDirectories(podsDir());
        Files.writeString(stateDir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
        this.guard = OrphanGuard.start();
        this.prober = new Prober(runtime, guard);
        try {
            // the kubelet's own directory too (every pod's volumes, logs and /etc files): a pod gets its own directory back
            hidden.add(stateDir.toAbsolutePath().normalize());
            this.sandbox = PodSandbox.detect(stateDir.resolve("sandbox-check")).hiding(hidden);
            this.dns = ClusterDns.start(options.dns(), sandbox, runtime);
        } catch (RuntimeException e) {
            guard.close();
            throw e;
        }
        if (!sandbox.available()) {
            log.warn("pods run as this user and can read its files here, Portway's admin token, CA key and stored Secrets"
                    + " among them, and each other's volumes and logs, and signal its processes: no unprivileged user"
                    + " namespace ({})", sandbox.unavailable());
        }
        ClusterDns.logOnce(dns);
    }

    // ---- what pod workers use ----

    EventRecorder events() {
        return control.events();
    }

    ControlPlane control() {
        return control;
    }

    ApiServer api() {
        return api;
    }

    Store store() {
        return store;
    }

    PodRuntime runtime() {
        return runtime;
    }

    KubeletOptions options() {
        return options;
    }

    OrphanGuard guard() {
        return guard;
    }

    Prober prober() {
        return prober;
    }

    /**
     * How to run {@code command} of {@code pod}, with {@code env}, in the pods' sandbox (its own
     * directory the one of the kubelet's it sees, its /etc files bound when cluster DNS gives pods
     * their own), or {@code command} itself where there is no sandbox.
     */
    PodSandbox sandbox() {
        return sandbox;
    }

    PodSandbox.Launch sandboxed(List<String> command, java.util.Map<String, String> env, PodWorker pod, Path workingDir) {
        return sandbox.wrap(command, env, dns.hostsFile(pod.etcDir()), dns.resolvConf(pod.etcDir()), pod.dir(), workingDir);
    }

    /**
     * Makes a container's working directory as a runtime would. With the sandbox, Portway makes
     * nothing: the pod's init makes it, as the pod sees the files (a link on the way into a hidden
     * directory leads into the pod's empty tmpfs there, {@link PodSandbox}). Checked here, Portway
     * would make it through whatever link the pod swapped in after the check. What is checked here
     * is only for a clear message: a working directory to be made in a hidden directory (the pod's
     * own excepted), through links or not, fails the start saying why, as the sandbox does for one
     * that exists there (through a link swapped in after this check, it is made in the pod's tmpfs).
     */
    void makeWorkingDir(Path dir, Path podDir) throws IOException {
        if (!sandbox.available()) {
            Files.createDirectories(dir); // no sandbox: pods see every file Portway does
            return;
        }
        Path existing = dir.toAbsolutePath().normalize();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && !existing.equals(dir.toAbsolutePath().normalize()) && hiddenFromPod(existing.toRealPath(), podDir)) {
            throw new IOException("the working directory " + dir + " is in a directory hidden from pods"
                    + " (Portway's state, data or kubelet directory)");
        }
    }

    private boolean hiddenFromPod(Path real, Path podDir) throws IOException {
        return !(Files.isDirectory(podDir) && real.startsWith(podDir.toRealPath())) && sandbox.hides(real);
    }

    /** Why pods can read Portway's credentials and each other's files here, or null when they cannot. */
    String unhidden() {
        return sandbox.unavailable();
    }

    ClusterDns dns() {
        return dns;
    }

    /** Starts a container's process; called off the control thread. */
    interface ProcessLauncher {
        ContainerProcess start(List<String> command, Map<String, String> env, Path workingDir, OrphanGuard guard, ContainerLog log)
                throws IOException;

        /**
         * With {@code stdin}, a container of {@code stdin: true} (or {@code tty: true}): its input a pipe held
         * for {@code kubectl attach}. A launcher that implements only the other method cannot hold one, and says so.
         */
        default ContainerProcess start(List<String> command, Map<String, String> env, Path workingDir, OrphanGuard guard, ContainerLog log,
                                       boolean stdin) throws IOException {
            if (stdin) {
                throw new IOException("this launcher cannot hold a container's input (stdin: true, tty: true)");
            }
            return start(command, env, workingDir, guard, log);
        }
    }

    ProcessLauncher launcher() {
        return launcher;
    }

    void launcher(ProcessLauncher l) {
        this.launcher = l;
    }

    /** How pods resolve cluster names here, in one sentence. */
    public String dnsSummary() {
        return dns.describe();
    }

    Clock clock() {
        return api.config().clock();
    }

    /** A pod's files that are the kubelet's (logs, /etc files), by the name of its directory: hidden from pods. */
    Path privateDir(Path podDir) {
        return stateDir.resolve("private").resolve(podDir.getFileName().toString());
    }

    /** Where pods' directories are: {@code <state dir>/pods}. */
    Path podsDir() {
        return stateDir.resolve("pods");
    }

    /**
     * The directories to hide from pods, each of which must be one that can be hidden: not one that
     * holds the pods' own directories (a state directory of /tmp would hide them), nor the user's
     * home. Such a directory is refused rather than left visible: it holds the admin token and the
     * CA's key, or every stored Secret, and any pod could read them.
     */
    private List<Path> hideable(List<Path> dirs) throws IOException {
        Path pods = stateDir.toAbsolutePath().normalize();
        Path home = Path.of(System.getProperty("user.home", "/")).toAbsolutePath().normalize();
        List<Path> out = new java.util.ArrayList<>();
        for (Path d : dirs) {
            Path dir = d.toAbsolutePath().normalize();
            if (pods.startsWith(dir) || home.startsWith(dir)) {
                throw new IOException(dir + " cannot be hidden from pods (it holds " + (home.startsWith(dir) ? "your home directory"
                        : "the pods' own directories, " + pods) + "), and pods, processes of this user, could read Portway's"
                        + " credentials or stored Secrets there: give --state-dir and --data-dir directories of their own");
            }
            out.add(dir);
        }
        return out;
    }

    public Path stateDir() {
        return stateDir;
    }

    // ---- reconciling ----

    @Override
    public void reconcile() {
        if (stopping) {
            return;
        }
        Set<String> live = new HashSet<>();
        for (Pod pod : store.list(Pod.class)) {
            LocalNode node = nodes.get(pod.getSpec().getNodeName());
            if (node == null) {
                continue;
            }
            String uid = pod.getMetadata().getUid();
            live.add(uid);
            PodWorker worker = workers.get(uid);
            if (Pods.isTerminating(pod)) {
                if (worker == null) {
                    api.finalizePodDeletion(pod.getMetadata().getNamespace(), pod.getMetadata().getName());
                } else {
                    worker.terminate(pod);
                }
            } else if (worker == null) {
                if (Pods.isTerminal(pod)) {
                    continue;
                }
                String ip = node.allocatePodIp();
                if (ip == null) {
                    log.warn("node {} has no pod IP left for {}", node.name(), pod.getMetadata().getName());
                    continue;
                }
                worker = new PodWorker(this, pod, node, ip);
                workers.put(uid, worker);
                worker.start();
            } else {
                worker.update(pod);
                // finished as the worker saw its containers end: a status write alone (PATCH .../status) frees nothing
                if (Pods.isTerminal(pod) && worker.finished() && addressFreed.add(uid)) {
                    // all its containers have exited: its address goes back, as a kubelet tears down a finished pod's
                    // sandbox, while its directory (its logs) stays until the pod is deleted. Kept, completed pods
                    // took the node's addresses, and the pods the scheduler sent there waited with none left.
                    node.releasePodIp(worker.podIp());
                }
            }
        }
        for (PodWorker worker : List.copyOf(workers.values())) {
            if (!live.contains(worker.uid())) {
                worker.kill();
            }
        }
        if (dns.refresh(store)) {
            workers.values().forEach(PodWorker::rewriteHosts);
        }
    }

    /** Called on the control thread when a worker has stopped everything of its pod. */
    void stopped(PodWorker worker, boolean finalizeDeletion) {
        workers.remove(worker.uid());
        if (!addressFreed.remove(worker.uid())) {
            worker.node().releasePodIp(worker.podIp());
        }
        deleteTree(worker.dir());
        deleteTree(worker.privateDir());
        if (finalizeDeletion) {
            api.finalizePodDeletion(worker.namespace(), worker.name());
        }
    }

    // ---- logs ----

    @Override
    public LogStream open(String namespace, String podName, String container, boolean previous) {
        return control.call(() -> {
            Pod pod = store.get(Pod.class, namespace, podName).orElseThrow(() -> ApiException.notFound(ResourceKind.POD, podName));
            List<String> names = names(pod.getSpec().getContainers());
            List<String> initNames = names(pod.getSpec().getInitContainers());
            String name = container;
            if (name == null || name.isEmpty()) {
                if (names.size() != 1) {
                    throw ApiException.badRequest("a container name must be specified for pod " + podName + ", choose one of: "
                            + names.toString().replace(",", "") + (initNames.isEmpty() ? "" : " or one of the init containers: "
                            + initNames.toString().replace(",", "")));
                }
                name = names.getFirst();
            }
            if (!names.contains(name) && !initNames.contains(name)) {
                throw ApiException.badRequest("container " + name + " is not valid for pod " + podName);
            }
            PodWorker worker = workers.get(pod.getMetadata().getUid());
            if (pod.getSpec().getNodeName() == null || pod.getSpec().getNodeName().isEmpty()) {
                throw ApiException.badRequest("pod " + podName + " does not have a host assigned");
            }
            ContainerLog stream = worker == null ? null : worker.log(name, previous);
            if (stream == null) {
                throw ApiException.badRequest(previous
                        ? "previous terminated container " + '"' + name + '"' + " in pod " + '"' + podName + '"' + " not found"
                        : "container " + '"' + name + '"' + " in pod " + '"' + podName + '"' + " is waiting to start: "
                        + waitingReason(pod, name));
            }
            return stream;
        });
    }

    // ---- exec ----

    /**
     * The container {@code kubectl exec} runs a command in: found as kube-apiserver's
     * {@code ExecLocation} finds it (the pod, the container, a node), then as the kubelet finds a
     * running one.
     */
    @Override
    public ContainerExec find(String namespace, String podName, String container) {
        return control.call(() -> {
            Located at = locate(namespace, podName, container, false);
            return new ContainerExec(this, at.worker(), at.runner(), at.runner().execRun());
        });
    }

    /** The running container {@code kubectl attach} reads and writes, found as {@link #find} finds one. */
    @Override
    public ContainerAttach attach(String namespace, String podName, String container) {
        return control.call(() -> {
            Located at = locate(namespace, podName, container, true);
            Container spec = at.runner().spec();
            return new ContainerAttach(at.runner().process(), at.runner().log(false), Boolean.TRUE.equals(spec.getStdin()),
                    Boolean.TRUE.equals(spec.getStdinOnce()), Boolean.TRUE.equals(spec.getTty()));
        });
    }

    private record Located(PodWorker worker, ContainerRunner runner) {
    }

    /**
     * A running container, as kube-apiserver's {@code ExecLocation} and {@code AttachLocation} find
     * it (the pod, the container, a node), then as the kubelet does. Control thread.
     */
    private Located locate(String namespace, String podName, String container, boolean attach) {
        Pod pod = store.get(Pod.class, namespace, podName).orElseThrow(() -> ApiException.notFound(ResourceKind.POD, podName));
        List<String> all = new ArrayList<>(names(pod.getSpec().getInitContainers()));
        all.addAll(names(pod.getSpec().getContainers()));
        all.addAll(pod.getSpec().getEphemeralContainers() == null ? List.of()
                : pod.getSpec().getEphemeralContainers().stream().map(io.fabric8.kubernetes.api.model.EphemeralContainer::getName).toList());
        String name = container;
        if (name == null || name.isEmpty()) {
            List<String> app = names(pod.getSpec().getContainers());
            if (app.size() != 1) {
                throw ApiException.badRequest("a container name must be specified for pod " + podName + ", choose one of: "
                        + all.toString().replace(",", ""));
            }
            name = app.getFirst();
        } else if (!all.contains(name)) {
            throw ApiException.badRequest("container " + name + " is not valid for pod " + podName);
        }
        if (pod.getSpec().getNodeName() == null || pod.getSpec().getNodeName().isEmpty()) {
            throw ApiException.badRequest("pod " + podName + " does not have a host assigned");
        }
        PodWorker worker = workers.get(pod.getMetadata().getUid());
        ContainerRunner runner = worker == null ? null : worker.runner(name);
        if (runner == null || !runner.running() || runner.process() == null) {
            // the kubelet's words (GetExec's findContainer, GetAttach's), which it answers with a 500
            throw ApiException.internal(attach ? "container " + name + " not found in pod " + podName + "_" + namespace
                    : "container not found (\"" + name + "\")");
        }
        return new Located(worker, runner);
    }

    @Override
    public Forward forward(String namespace, String podName) {
        return control.call(() -> {
            Pod pod = store.get(Pod.class, namespace, podName).orElseThrow(() -> ApiException.notFound(ResourceKind.POD, podName));
            if (pod.getSpec().getNodeName() == null || pod.getSpec().getNodeName().isEmpty()) {
                throw ApiException.badRequest("pod " + podName + " does not have a host assigned");
            }
            PodWorker worker = workers.get(pod.getMetadata().getUid());
            String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
            byte[] address = ip == null ? null : io.netty.util.NetUtil.createByteArrayFromIpAddressString(ip);
            if (worker == null || address == null) {
                // the kubelet's words (GetPortForward), with the pod's full name as it writes it
                throw ApiException.internal("pod not found (\"" + podName + "_" + namespace + "\")");
            }
            try {
                return new Forward(java.net.InetAddress.getByAddress(address), pod.getMetadata().getUid());
            } catch (java.net.UnknownHostException e) {
                throw ApiException.internal(e.getMessage());
            }
        });
    }

    private static String waitingReason(Pod pod, String container) {
        if (pod.getStatus() != null) {
            List<io.fabric8.kubernetes.api.model.ContainerStatus> all = new ArrayList<>();
            if (pod.getStatus().getContainerStatuses() != null) {
                all.addAll(pod.getStatus().getContainerStatuses());
            }
            if (pod.getStatus().getInitContainerStatuses() != null) {
                all.addAll(pod.getStatus().getInitContainerStatuses());
            }
            for (var s : all) {
                if (s.getName().equals(container) && s.getState() != null && s.getState().getWaiting() != null) {
                    return s.getState().getWaiting().getReason();
                }
            }
        }
        return "ContainerCreating";
    }

    private static List<String> names(List<Container> containers) {
        return containers == null ? List.of() : containers.stream().map(Container::getName).toList();
    }

    // ---- stopping ----

    /**
     * Stops every pod (Portway is shutting down): SIGTERM, and SIGKILL after each pod's grace
     * period or {@code maxGrace}, whichever is shorter. Completes when all have stopped.
     */
    public CompletableFuture<Void> stopAll(Duration maxGrace) {
        return control.submit(() -> {
            stopping = true;
            // a copy: a pod with nothing running stops at once, and leaves the map while we go
            return CompletableFuture.allOf(List.copyOf(workers.values()).stream().map(w -> w.shutdown(maxGrace))
                    .toArray(CompletableFuture[]::new));
        }).thenCompose(f -> f);
    }

    /** Ends the process watchdog (and with it any process still running) and removes the state directory if it is Portway's. */
    @Override
    public void close() {
        guard.close();
        dns.close();
        if (ownStateDir) {
            deleteTree(stateDir);
        }
    }

    /**
     * Removes what Portways that could not clean up (killed with SIGKILL) left in {@code tmp}: state
     * directories whose owner process is gone. Their processes are already gone: the watchdog
     * ended them. Only this user's own private directories (as {@code createTempDirectory} makes
     * them: 0700) are touched: in a shared {@code /tmp}, a directory another user made could be
     * changed under the deletion (a subdirectory swapped for a link into this user's home).
     */
    static void removeStaleStateDirs(Path tmp, Path own) {
        Object me;
        try {
            me = Files.getAttribute(own, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS); // this user's: just made
        } catch (IOException | RuntimeException e) {
            log.debug("cannot tell which stale state directories in {} are this user's: {}", tmp, e.toString());
            return;
        }
        try (var dirs = Files.newDirectoryStream(tmp, STATE_DIR_PREFIX + "*")) {
            for (Path dir : dirs) {
                if (dir.equals(own) || !ownPrivateDir(dir, me)) {
                    continue;
                }
                Path owner = dir.resolve(OWNER_FILE);
                if (!Files.isRegularFile(owner)) {
                    continue;
                }
                try {
                    long pid = Long.parseLong(Files.readString(owner).strip());
                    if (isRunning(pid)) {
                        continue;
                    }
                } catch (NumberFormatException | IOException e) {
                    continue;
                }
                log.info("removing {}, left by a Portway that is gone", dir);
                deleteTree(dir);
            }
        } catch (IOException e) {
            log.debug("cannot look for stale state directories in {}: {}", tmp, e.toString());
        }
    }

    /** Whether {@code dir} is a directory (not a link to one) of user {@code uid} that no one else may write or enter. */
    private static boolean ownPrivateDir(Path dir, Object uid) {
        try {
            java.util.Map<String, Object> a = Files.readAttributes(dir, "unix:uid,mode,isDirectory", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return Boolean.TRUE.equals(a.get("isDirectory")) && uid.equals(a.get("uid")) && ((Integer) a.get("mode") & 0077) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether {@code pid} runs; a zombie (dead, not reaped yet) does not. */
    private static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException e) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }

    /**
     * Removes a directory and what it holds, without ever following a link: each entry is removed
     * relative to its open parent directory ({@link java.nio.file.SecureDirectoryStream}), so a pod
     * process still alive (one that left its process group) that swaps a directory for a link to
     * Portway's state mid-walk gets the link removed, not what it points to. What is gone already
     * (a worker stopping at the same time) is fine.
     *
     * <p>The walk keeps its own stack, at most {@link #OPEN_DIRECTORIES} directories deep: a pod
     * can make a chain of directories as deep as it likes (a recursive walk overflowed the thread's
     * stack at some thousands, and an unbounded one would take as many descriptors as the chain is
     * deep). What lies deeper is moved up to the top of the tree, renamed, and removed from there.
     */
    static void deleteTree(Path root) {
        Path parent = root.toAbsolutePath().getParent();
        if (parent == null || !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var dirs = Files.newDirectoryStream(parent)) {
            if (!(dirs instanceof java.nio.file.SecureDirectoryStream<Path> secure)) {
                throw new IOException("this file system cannot remove a tree without following links");
            }
            removeEntry(secure, root.getFileName());
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", root, e.toString());
        }
    }

    /** How deep {@link #deleteTree} goes before it moves what lies deeper up to the top. */
    static final int OPEN_DIRECTORIES = 32;
    /** The most passes over one tree: each moves what lies deeper than {@link #OPEN_DIRECTORIES} up, so a chain 3.2 million deep. */
    private static final int MAX_PASSES = 100_000;

    /** A directory being emptied: its open stream, what is left of its entries, and its name in the one above. */
    private record Level(java.nio.file.SecureDirectoryStream<Path> dir, java.util.Iterator<Path> entries, Path name) {
    }

    private static void removeEntry(java.nio.file.SecureDirectoryStream<Path> parent, Path name) throws IOException {
        if (!isDirectory(parent, name)) {
            deleteQuietly(() -> parent.deleteFile(name)); // a link is removed itself
            return;
        }
        int passes = 0;
        int missed = 0;
        for (Pass pass = emptyOnce(parent, name); pass != Pass.DONE; pass = emptyOnce(parent, name)) {
            // what was moved up is removed by the next pass; what a listing missed (made while it ran), a few times over
            if (++passes > MAX_PASSES || (pass == Pass.MISSED && ++missed > 3)) {
                throw new IOException(parent + "/" + name + " still holds entries after " + passes + " passes");
            }
        }
        deleteQuietly(() -> parent.deleteDirectory(name));
    }

    /** What a pass over a tree left: nothing, directories moved up to the top, or entries its listing missed. */
    private enum Pass { DONE, MOVED_UP, MISSED }

    /** Empties {@code name} in {@code parent} as far as one walk goes, {@link #OPEN_DIRECTORIES} deep at most. */
    private static Pass emptyOnce(java.nio.file.SecureDirectoryStream<Path> parent, Path name) throws IOException {
        java.nio.file.SecureDirectoryStream<Path> top;
        try {
            top = parent.newDirectoryStream(name, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return Pass.DONE;
        }
        Pass left = Pass.DONE;
        java.util.ArrayDeque<Level> levels = new java.util.ArrayDeque<>();
        try (top) {
            levels.push(new Level(top, top.iterator(), null));
            while (!levels.isEmpty()) {
                Level level = levels.peek();
                if (!level.entries().hasNext()) {
                    levels.pop();
                    if (level.dir() != top) {
                        level.dir().close();
                        java.nio.file.SecureDirectoryStream<Path> above = levels.element().dir();
                        try {
                            deleteQuietly(() -> above.deleteDirectory(level.name()));
                        } catch (java.nio.file.DirectoryNotEmptyException e) {
                            left = left == Pass.DONE ? Pass.MISSED : left;
                        }
                    }
                    continue;
                }
                Path entry = level.entries().next().getFileName();
                if (!isDirectory(level.dir(), entry)) {
                    deleteQuietly(() -> level.dir().deleteFile(entry));
                } else if (levels.size() >= OPEN_DIRECTORIES) {
                    Path up = Path.of(".portway-deep-" + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong()));
                    deleteQuietly(() -> level.dir().move(entry, top, up));
                    left = Pass.MOVED_UP;
                } else {
                    java.nio.file.SecureDirectoryStream<Path> sub;
                    try {
                        sub = level.dir().newDirectoryStream(entry, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    } catch (java.nio.file.NoSuchFileException e) {
                        continue;
                    }
                    levels.push(new Level(sub, sub.iterator(), entry));
                }
            }
        } finally {
            for (Level level : levels) {
                if (level.dir() != top) {
                    level.dir().close();
                }
            }
        }
        return left;
    }

    /** Whether {@code name} in {@code dir} is a directory (not a link to one); false when it is gone. */
    private static boolean isDirectory(java.nio.file.SecureDirectoryStream<Path> dir, Path name) throws IOException {
        try {
            return dir.getFileAttributeView(name, java.nio.file.attribute.BasicFileAttributeView.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).readAttributes().isDirectory();
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }

    private interface Removal {
        void run() throws IOException;
    }

    private static void deleteQuietly(Removal removal) throws IOException {
        try {
            removal.run();
        } catch (java.nio.file.NoSuchFileException e) {
            // gone already
        }
    }
}
