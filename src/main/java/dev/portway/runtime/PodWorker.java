package dev.portway.runtime;

import dev.portway.api.Times;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HostIP;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Runs one pod on one node: makes its directory and volumes, runs its init containers one after
 * the other and then its containers (each through a {@link ContainerRunner}), and writes the
 * pod's status from theirs as the kubelet does: phase, conditions, container statuses. On delete
 * it stops every container within the grace period, and the pod goes.
 *
 * <p>Control thread only.
 */
final class PodWorker {

    private static final String COMPONENT = "kubelet";

    /** What a process takes from Portway's own environment; everything else comes from the pod. */
    private static final List<String> INHERITED = List.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR");

    private final Kubelet kubelet;
    private final LocalNode node;
    private final String podIp;
    private final String uid;
    private final String namespace;
    private final String name;
    private final Path dir;
    private Pod pod;
    private PodVolumes volumes;
    private final List<ContainerRunner> initContainers = new ArrayList<>();
    private final List<ContainerRunner> containers = new ArrayList<>();
    private boolean appStarted;
    /** The kubelet's {@code minimumGracePeriodInSeconds}: what a container stopped late in a pod's stop still gets. */
    private static final Duration MIN_GRACE = Duration.ofSeconds(2);
    /** The pod's containers are done and its sidecars are being stopped. */
    private boolean sidecarsStopping;
    private String startTime;
    private CompletableFuture<Void> stopped;
    /** The writing of the pod's volumes and /etc files, done when none is under way. */
    private CompletableFuture<Void> mounting = CompletableFuture.completedFuture(null);

    PodWorker(Kubelet kubelet, Pod pod, LocalNode node, String podIp) {
        this.kubelet = kubelet;
        this.pod = pod;
        this.node = node;
        this.podIp = podIp;
        this.uid = pod.getMetadata().getUid();
        this.namespace = pod.getMetadata().getNamespace();
        this.name = pod.getMetadata().getName();
        this.dir = kubelet.podsDir().resolve(namespace + "_" + name + "_" + uid);
        boolean hasInit = pod.getSpec().getInitContainers() != null && !pod.getSpec().getInitContainers().isEmpty();
        for (Container c : list(pod.getSpec().getInitContainers())) {
            initContainers.add(new ContainerRunner(this, c, true, "PodInitializing"));
        }
        for (Container c : pod.getSpec().getContainers()) {
            containers.add(new ContainerRunner(this, c, false, hasInit ? "PodInitializing" : "ContainerCreating"));
        }
        // a pod restored from the data directory ran before: its containers start again, as after a node's reboot,
        // and that start counts as a restart
        if (pod.getStatus() != null && pod.getStatus().getContainerStatuses() != null) {
            for (var status : pod.getStatus().getContainerStatuses()) {
                for (ContainerRunner c : containers) {
                    if (c.name().equals(status.getName()) && status.getRestartCount() != null) {
                        c.resumeCount(status.getRestartCount() + (status.getContainerID() != null ? 1 : 0));
                    }
                }
            }
        }
    }

    Kubelet kubelet() {
        return kubelet;
    }

    String uid() {
        return uid;
    }

    String namespace() {
        return namespace;
    }

    String name() {
        return name;
    }

    LocalNode node() {
        return node;
    }

    String podIp() {
        return podIp;
    }

    Pod pod() {
        return pod;
    }

    /** The pod's own directory: volumes, logs, and working directories of its containers. */
    Path dir() {
        return dir;
    }

    /**
     * The pod's files that are Portway's, not the pod's: its logs and its /etc files. Outside the
     * pod's own directory, in the kubelet's (which the pods' sandbox hides): a pod can write in its
     * own directory, and links it put there would lead Portway's writes (and the sandbox's binds)
     * to any file of the user's.
     */
    Path privateDir() {
        return kubelet.privateDir(dir);
    }

    /** Where the pod's own /etc files are (hosts, resolv.conf), mounted over the machine's in its sandbox. */
    Path etcDir() {
        return privateDir().resolve("etc");
    }

    /** Writes the pod's hosts file again, with the cluster's names of now (hosts mode). */
    void rewriteHosts() {
        try {
            kubelet.dns().rewriteHosts(pod, podIp, etcDir());
        } catch (IOException e) {
            kubelet.events().warning(pod, "FailedMount", "cannot update /etc/hosts: " + e.getMessage(), COMPONENT);
        }
    }

    PodVolumes volumes() {
        return volumes;
    }

    void update(Pod latest) {
        this.pod = latest;
    }

    long terminationGracePeriod() {
        Long grace = pod.getSpec().getTerminationGracePeriodSeconds();
        return grace == null ? 30 : grace;
    }

    /** What every process of {@code container} starts with, before the pod's own variables. */
    Map<String, String> baseEnvironment(Container container) {
        Map<String, String> env = new LinkedHashMap<>();
        Map<String, String> own = System.getenv();
        for (String key : INHERITED) {
            if (own.containsKey(key)) {
                env.put(key, own.get(key));
            }
        }
        env.putIfAbsent("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("HOSTNAME", pod.getSpec().getHostname() != null ? pod.getSpec().getHostname() : name);
        env.put("PORTWAY_POD_DIR", dir.toString());
        if (volumes != null) {
            volumes.directories().forEach((volume, path) -> env.put(PodVolumes.variable(volume), path.toString()));
        }
        return env;
    }

    // ---- starting ----

    /** Sets the pod up and starts it; status follows as containers come up. */
    void start() {
        startTime = now();
        sync();
        mountAndRun();
    }

    /**
     * Writes the pod's volumes and /etc files, then starts its containers. The files are written
     * off the control thread (a slow disk must not stall every API write); the result comes back
     * to it, as a process's exit does.
     */
    private void mountAndRun() {
        if (stopped != null) {
            return;
        }
        Pod spec = pod;
        Kubelet k = kubelet;
        CompletableFuture<Void> written = new CompletableFuture<>();
        mounting = written;
        Thread.ofVirtual().name("mount-" + name).start(() -> {
            PodVolumes mounted = null;
            Exception failure = null;
            try {
                java.nio.file.Files.createDirectories(dir); // the sandbox puts it back in its place, whether or not a volume or working directory is in it
                mounted = PodVolumes.create(spec, dir, k.store());
                // the containers' own working directories, now, before any process of the pod can put a link in their way
                List<Container> all = new ArrayList<>(list(spec.getSpec().getInitContainers()));
                all.addAll(list(spec.getSpec().getContainers()));
                for (Container c : all) {
                    if (ContainerRunner.ownWorkingDir(c)) {
                        java.nio.file.Files.createDirectories(ContainerRunner.ownWorkingDir(dir, c));
                    }
                }
                k.dns().writeFiles(spec, podIp, etcDir());
            } catch (PodEnvironment.ConfigError | IOException | RuntimeException e) {
                failure = e;
            }
            PodVolumes result = mounted;
            Exception error = failure;
            written.complete(null);
            k.control().submit(() -> {
                mounted(result, error);
                return null;
            });
        });
    }

    private void mounted(PodVolumes mounted, Exception failure) {
        if (stopped != null) {
            return;
        }
        if (failure != null) {
            kubelet.events().warning(pod, "FailedMount", "MountVolume.SetUp failed: " + failure.getMessage(), COMPONENT);
            kubelet.control().schedule(this::mountAndRun, Duration.ofSeconds(2));
            return;
        }
        volumes = mounted;
        rewriteHosts(); // the cluster's names may have changed while the files were written
        runNext();
    }

    /**
     * Starts the first init container whose turn is not over (a regular one runs to completion, a
     * sidecar until it has started), or, when all are done, every container.
     */
    private void runNext() {
        if (stopped != null) {
            return;
        }
        for (ContainerRunner c : initContainers) {
            if (!c.initialized()) {
                c.start();
                return;
            }
        }
        appStarted = true;
        for (ContainerRunner c : containers) {
            c.start();
        }
    }

    void initContainerCompleted() {
        runNext();
    }

    // ---- status ----

    /** Writes the pod's status from its containers'. */
    void sync() {
        stopSidecarsWhenDone();
        String phase = phase();
        boolean terminal = phase.equals("Succeeded") || phase.equals("Failed");
        List<String> unready = new ArrayList<>();
        for (ContainerRunner c : initContainers) {
            if (c.isSidecar() && !c.ready()) {
                unready.add(c.name()); // sidecars first, as the kubelet lists them
            }
        }
        for (ContainerRunner c : containers) {
            if (!c.ready()) {
                unready.add(c.name());
            }
        }
        List<String> uninitialized = new ArrayList<>();
        for (ContainerRunner c : initContainers) {
            if (!c.initialized()) {
                uninitialized.add(c.name());
            }
        }
        List<ContainerStatus> statuses = containers.stream().map(ContainerRunner::status).toList();
        List<ContainerStatus> initStatuses = initContainers.stream().map(ContainerRunner::status).toList();
        kubelet.api().mutate(Pod.class, namespace, name, p -> {
            if (!uid.equals(p.getMetadata().getUid())) {
                return null;
            }
            PodStatus status = p.getStatus() == null ? new PodStatus() : p.getStatus();
            p.setStatus(status);
            status.setHostIP(node.ip());
            status.setHostIPs(new ArrayList<>(List.of(new HostIP(node.ip()))));
            status.setPodIP(podIp);
            status.setPodIPs(new ArrayList<>(List.of(new PodIP(podIp))));
            status.setStartTime(startTime);
            status.setPhase(phase);
            status.setQosClass(dev.portway.api.PodQos.compute(p));
            setCondition(status, "PodReadyToStartContainers", true, null, null);
            setCondition(status, "Initialized", uninitialized.isEmpty(), "ContainersNotInitialized",
                    "containers with incomplete status: " + uninitialized);
            boolean ready = unready.isEmpty() && !terminal;
            String reason = terminal ? "PodCompleted" : "ContainersNotReady";
            String message = terminal ? null : "containers with unready status: " + unready;
            setCondition(status, "ContainersReady", ready, reason, message);
            setCondition(status, "Ready", ready, reason, message);
            status.setInitContainerStatuses(initStatuses.isEmpty() ? null : new ArrayList<>(initStatuses));
            status.setContainerStatuses(new ArrayList<>(statuses));
            return p;
        }).filter(p -> uid.equals(p.getMetadata().getUid())).ifPresent(p -> pod = p);
    }

    /**
     * Whether every container has ended for good, as this worker saw them (not as a status write
     * claims): the pod is done and no sidecar of it runs any more (its address may go to another pod).
     */
    boolean finished() {
        String phase = phase();
        return (phase.equals("Succeeded") || phase.equals("Failed"))
                && initContainers.stream().filter(ContainerRunner::isSidecar).allMatch(ContainerRunner::finished);
    }

    /**
     * Once the pod's containers have ended for good (a pod that does not restart them), or an init
     * container failed for good, its sidecars are stopped, the last first, as the kubelet ends a
     * finished pod's; then the pod is done.
     */
    private void stopSidecarsWhenDone() {
        if (sidecarsStopping || stopped != null || initContainers.stream().noneMatch(ContainerRunner::isSidecar)) {
            return;
        }
        boolean initFailed = initContainers.stream().anyMatch(c -> !c.isSidecar() && c.finished() && c.terminated() != null
                && c.terminated().getExitCode() != 0);
        boolean appDone = appStarted && !containers.isEmpty() && containers.stream().allMatch(ContainerRunner::finished);
        if (!initFailed && !appDone) {
            return;
        }
        sidecarsStopping = true;
        sidecars().forEach(ContainerRunner::terminating);
        stopInReverse(sidecars(), CompletableFuture.completedFuture(null), kubelet.clock().instant().plusSeconds(terminationGracePeriod()));
    }

    /** The sidecars, the last declared first: the order they are stopped in. */
    private List<ContainerRunner> sidecars() {
        List<ContainerRunner> sidecars = new ArrayList<>(initContainers.stream().filter(ContainerRunner::isSidecar).toList());
        java.util.Collections.reverse(sidecars);
        return sidecars;
    }

    /** Stops {@code runners} one after the other once {@code after} is done, each with what is left of the grace period. */
    private CompletableFuture<Void> stopInReverse(List<ContainerRunner> runners, CompletableFuture<Void> after, java.time.Instant deadline) {
        CompletableFuture<Void> chain = after;
        for (ContainerRunner c : runners) {
            chain = chain.exceptionally(t -> null).thenCompose(v -> kubelet.control().submit(() -> {
                // as the kubelet, a container stopped late still gets its minimum grace period
                Duration left = Duration.between(kubelet.clock().instant(), deadline);
                return c.stop(left.compareTo(MIN_GRACE) < 0 ? MIN_GRACE : left);
            }).thenCompose(f -> f));
        }
        return chain;
    }

    /** The kubelet's {@code getPhase}. */
    private String phase() {
        String policy = pod.getSpec().getRestartPolicy() == null ? "Always" : pod.getSpec().getRestartPolicy();
        for (ContainerRunner c : initContainers) {
            if (c.isSidecar()) {
                if (!c.initialized()) {
                    return "Pending"; // not started yet: what comes after it has not run
                }
                continue;
            }
            if (c.completed()) {
                continue;
            }
            ContainerStateTerminated t = c.terminated();
            if (t != null && c.finished() && t.getExitCode() != 0) {
                return "Failed";
            }
            return "Pending";
        }
        int running = 0;
        int waiting = 0;
        int stopped = 0;
        int succeeded = 0;
        for (ContainerRunner c : initContainers) {
            if (c.isSidecar() && c.running()) {
                running++; // a sidecar still running keeps the pod Running (an ended one counts for nothing)
            }
        }
        for (ContainerRunner c : containers) {
            ContainerStateTerminated t = c.terminated();
            if (c.running()) {
                running++;
            } else if (t != null || c.waitingAfterRun()) {
                stopped++;
                ContainerStateTerminated last = t != null ? t : c.lastTerminated();
                if (last.getExitCode() == 0) {
                    succeeded++;
                }
            } else {
                waiting++;
            }
        }
        if (waiting > 0 || !appStarted) {
            return "Pending";
        }
        if (running > 0) {
            return "Running";
        }
        if (policy.equals("Always")) {
            return "Running";
        }
        if (stopped == succeeded) {
            return containers.stream().allMatch(ContainerRunner::finished) ? "Succeeded" : "Running";
        }
        if (policy.equals("Never")) {
            return "Failed";
        }
        return "Running";
    }

    private void setCondition(PodStatus status, String type, boolean value, String reason, String message) {
        String text = value ? "True" : "False";
        List<PodCondition> conditions = new ArrayList<>(status.getConditions() == null ? List.of() : status.getConditions());
        PodCondition updated = new PodConditionBuilder().withType(type).withStatus(text).withLastTransitionTime(now())
                .withReason(value ? null : reason).withMessage(value ? null : message).build();
        for (int i = 0; i < conditions.size(); i++) {
            PodCondition c = conditions.get(i);
            if (c.getType().equals(type)) {
                if (text.equals(c.getStatus())) {
                    updated.setLastTransitionTime(c.getLastTransitionTime());
                }
                if (!Objects.equals(c, updated)) {
                    conditions.set(i, updated);
                }
                status.setConditions(conditions);
                return;
            }
        }
        conditions.add(updated);
        status.setConditions(conditions);
    }

    // ---- logs ----

    /** The log of {@code container}'s current run or of the run before it; null if there is none. */
    ContainerLog log(String container, boolean previous) {
        for (ContainerRunner c : all()) {
            if (c.name().equals(container)) {
                return c.log(previous);
            }
        }
        return null;
    }

    /** The runner of {@code container} (an init container's too), or null. */
    ContainerRunner runner(String container) {
        return all().stream().filter(c -> c.name().equals(container)).findFirst().orElse(null);
    }

    List<ContainerRunner> all() {
        List<ContainerRunner> all = new ArrayList<>(initContainers);
        all.addAll(containers);
        return all;
    }

    // ---- stopping ----

    /**
     * A graceful delete: every container gets SIGTERM (after its preStop hook) and SIGKILL when
     * the grace period is over; then the pod is removed. Repeated calls do nothing.
     */
    void terminate(Pod latest) {
        this.pod = latest;
        Long grace = latest.getMetadata().getDeletionGracePeriodSeconds();
        stop(Duration.ofSeconds(grace == null ? terminationGracePeriod() : grace), true);
    }

    /** Stops every container within {@code grace} at most (Portway is shutting down). */
    CompletableFuture<Void> shutdown(Duration maxGrace) {
        Duration grace = Duration.ofSeconds(terminationGracePeriod());
        return stop(grace.compareTo(maxGrace) < 0 ? grace : maxGrace, false);
    }

    /** Stops at once, without grace (the pod object is gone). */
    CompletableFuture<Void> kill() {
        return stop(Duration.ZERO, false);
    }

    private CompletableFuture<Void> stop(Duration grace, boolean finalizeDeletion) {
        if (stopped != null) {
            if (grace.isZero()) {
                all().forEach(ContainerRunner::kill);
            }
            return stopped;
        }
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        if (grace.isZero()) {
            all().forEach(c -> stops.add(c.kill()));
        } else {
            // the pod's containers (and an init container still running) first; its sidecars once they are gone, the last first
            sidecars().forEach(ContainerRunner::terminating);
            List<CompletableFuture<Void>> regular = all().stream().filter(c -> !c.isSidecar()).map(c -> c.stop(grace)).toList();
            stops.add(stopInReverse(sidecars(), CompletableFuture.allOf(regular.toArray(CompletableFuture[]::new)),
                    kubelet.clock().instant().plus(grace)));
            stops.addAll(regular);
        }
        // files still being written for the pod: its directory goes only after them
        stops.add(mounting.exceptionally(t -> null));
        stopped = CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new));
        stopped.whenComplete((r, e) -> kubelet.control().submit(() -> {
            kubelet.stopped(this, finalizeDeletion);
            return null;
        }));
        return stopped;
    }

    private String now() {
        return Times.format(kubelet.clock().instant());
    }

    private static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : l;
    }
}
