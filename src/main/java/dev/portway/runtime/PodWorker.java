package dev.portway.runtime;

import dev.portway.api.Times;
import dev.portway.runtime.echo.EchoServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HostIP;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one pod on one node: starts its containers (the built-in echo server for image
 * {@code portway/echo}), reports their state in the pod's status, and stops them, gracefully on
 * delete: listeners close at once, open connections get until the grace period ends.
 */
final class PodWorker {

    private static final Logger log = LoggerFactory.getLogger(PodWorker.class);
    private static final String COMPONENT = "kubelet";

    private final Kubelet kubelet;
    private final LocalNode node;
    private final String podIp;
    private final PodRuntime runtime;
    private final String uid;
    private final String namespace;
    private final String name;
    private Pod pod;
    private final List<EchoServer> echoServers = new ArrayList<>();
    private CompletableFuture<Void> stopped;

    PodWorker(Kubelet kubelet, Pod pod, LocalNode node, String podIp, PodRuntime runtime) {
        this.kubelet = kubelet;
        this.pod = pod;
        this.node = node;
        this.podIp = podIp;
        this.runtime = runtime;
        this.uid = pod.getMetadata().getUid();
        this.namespace = pod.getMetadata().getNamespace();
        this.name = pod.getMetadata().getName();
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

    void update(Pod latest) {
        this.pod = latest;
    }

    /** Starts the pod's containers; status is written as they come up. Control thread. */
    void start() {
        String now = now();
        writeStatus(status -> {
            status.setHostIP(node.ip());
            status.setHostIPs(new ArrayList<>(List.of(new HostIP(node.ip()))));
            status.setPodIP(podIp);
            status.setPodIPs(new ArrayList<>(List.of(new PodIP(podIp))));
            status.setStartTime(now);
            status.setPhase("Pending");
            status.setQosClass("BestEffort");
            setCondition(status, "PodReadyToStartContainers", "True");
            setCondition(status, "Initialized", "True");
            setCondition(status, "Ready", "False");
            setCondition(status, "ContainersReady", "False");
            List<ContainerStatus> statuses = new ArrayList<>();
            for (Container c : pod.getSpec().getContainers()) {
                statuses.add(waiting(c, "ContainerCreating", null));
            }
            status.setContainerStatuses(statuses);
        });
        List<CompletableFuture<Void>> starting = new ArrayList<>();
        for (Container c : pod.getSpec().getContainers()) {
            if (EchoServer.isEchoImage(c.getImage()) && (c.getCommand() == null || c.getCommand().isEmpty())) {
                starting.add(startEcho(c));
            } else {
                String message = "image " + '"' + c.getImage() + '"' + " cannot run here: there is no container runtime in local "
                        + "mode; give the container a command to run it as a process, or use image " + EchoServer.IMAGE;
                kubelet.events().warning(pod, "Failed", "Error: " + message, COMPONENT);
                writeStatus(status -> replaceContainer(status, waiting(c, "CreateContainerError", message)));
            }
        }
        CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).whenComplete((r, e) ->
                kubelet.control().submit(() -> {
                    if (stopped == null) {
                        refreshReadiness();
                    }
                    return null;
                }));
    }

    private CompletableFuture<Void> startEcho(Container c) {
        EchoServer server = new EchoServer(new EchoServer.Identity(name, namespace, podIp, node.name()), runtime.transport(), runtime.group());
        echoServers.add(server);
        List<EchoServer.Port> ports = new ArrayList<>();
        for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
            if ("SCTP".equals(p.getProtocol())) {
                continue;
            }
            ports.add(new EchoServer.Port(p.getContainerPort(), "UDP".equals(p.getProtocol())));
        }
        kubelet.events().normal(pod, "Pulled", "Container image " + '"' + c.getImage() + '"' + " already present on machine", COMPONENT);
        kubelet.events().normal(pod, "Created", "Created container: " + c.getName(), COMPONENT);
        return server.start(podIp, ports).whenComplete((r, e) -> kubelet.control().submit(() -> {
            if (stopped != null) {
                return null;
            }
            if (e == null) {
                kubelet.events().normal(pod, "Started", "Started container " + c.getName(), COMPONENT);
                writeStatus(status -> replaceContainer(status, running(c)));
            } else {
                String message = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
                log.warn("pod {}/{}: {}", namespace, name, message);
                kubelet.events().warning(pod, "Failed", "Error: " + message, COMPONENT);
                writeStatus(status -> replaceContainer(status, new ContainerStatusBuilder(base(c))
                        .withReady(false).withStarted(false)
                        .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(1).withReason("Error")
                                .withMessage(message).withFinishedAt(now()).endTerminated().build())
                        .build()));
            }
            return null;
        }));
    }

    /** Ready when every container runs; phase Running once any does. */
    private void refreshReadiness() {
        writeStatus(status -> {
            List<ContainerStatus> cs = status.getContainerStatuses();
            boolean allReady = cs != null && !cs.isEmpty() && cs.stream().allMatch(s -> Boolean.TRUE.equals(s.getReady()));
            boolean anyRunning = cs != null && cs.stream().anyMatch(s -> s.getState() != null && s.getState().getRunning() != null);
            if (anyRunning) {
                status.setPhase("Running");
            }
            setCondition(status, "Ready", allReady ? "True" : "False");
            setCondition(status, "ContainersReady", allReady ? "True" : "False");
        });
    }

    /**
     * A graceful delete: listeners close now, open connections may finish until the grace
     * period ends, then the pod is removed. Control thread; repeated calls do nothing.
     */
    void terminate(Pod latest) {
        this.pod = latest;
        if (stopped != null) {
            return;
        }
        long grace = latest.getMetadata().getDeletionGracePeriodSeconds() == null ? 30 : latest.getMetadata().getDeletionGracePeriodSeconds();
        kubelet.events().normal(pod, "Killing", "Stopping container " + pod.getSpec().getContainers().getFirst().getName(), COMPONENT);
        CompletableFuture<Void> drained = drained(Duration.ofSeconds(grace));
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (EchoServer s : echoServers) {
            stops.add(s.stop(drained));
        }
        stopped = CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new));
        stopped.whenComplete((r, e) -> kubelet.control().submit(() -> {
            kubelet.stopped(this, true);
            return null;
        }));
    }

    /** Stops at once, without grace (the pod object is gone, or Portway is shutting down). */
    CompletableFuture<Void> kill() {
        if (stopped != null) {
            return stopped;
        }
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (EchoServer s : echoServers) {
            stops.add(s.stop(CompletableFuture.completedFuture(null)));
        }
        stopped = CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new));
        stopped.whenComplete((r, e) -> kubelet.control().submit(() -> {
            kubelet.stopped(this, false);
            return null;
        }));
        return stopped;
    }

    /** Completes when no connection is open to the pod's servers, or when {@code grace} has passed. */
    private CompletableFuture<Void> drained(Duration grace) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + grace.toNanos();
        var loop = runtime.group().next();
        Runnable check = new Runnable() {
            @Override
            public void run() {
                int open = echoServers.stream().mapToInt(EchoServer::openConnections).sum();
                if (open == 0 || System.nanoTime() >= deadline) {
                    done.complete(null);
                } else {
                    loop.schedule(this, 50, TimeUnit.MILLISECONDS);
                }
            }
        };
        loop.execute(check);
        return done;
    }

    private void writeStatus(java.util.function.Consumer<PodStatus> change) {
        kubelet.api().mutate(Pod.class, namespace, name, p -> {
            if (!uid.equals(p.getMetadata().getUid())) {
                return null;
            }
            if (p.getStatus() == null) {
                p.setStatus(new PodStatus());
            }
            change.accept(p.getStatus());
            return p;
        });
    }

    private static ContainerStatus base(Container c) {
        return new ContainerStatusBuilder()
                .withName(c.getName())
                .withImage(c.getImage())
                .withImageID("")
                .withRestartCount(0)
                .build();
    }

    private static ContainerStatus waiting(Container c, String reason, String message) {
        return new ContainerStatusBuilder(base(c))
                .withReady(false)
                .withStarted(false)
                .withState(new ContainerStateBuilder().withNewWaiting().withReason(reason).withMessage(message).endWaiting().build())
                .build();
    }

    private ContainerStatus running(Container c) {
        return new ContainerStatusBuilder(base(c))
                .withContainerID("portway://" + uid + "/" + c.getName())
                .withReady(true)
                .withStarted(true)
                .withState(new ContainerStateBuilder().withNewRunning().withStartedAt(now()).endRunning().build())
                .build();
    }

    private static void replaceContainer(PodStatus status, ContainerStatus updated) {
        List<ContainerStatus> list = new ArrayList<>(status.getContainerStatuses() == null ? List.of() : status.getContainerStatuses());
        list.removeIf(s -> s.getName().equals(updated.getName()));
        list.add(updated);
        list.sort(java.util.Comparator.comparing(ContainerStatus::getName));
        status.setContainerStatuses(list);
    }

    private void setCondition(PodStatus status, String type, String value) {
        List<PodCondition> conditions = new ArrayList<>(status.getConditions() == null ? List.of() : status.getConditions());
        for (int i = 0; i < conditions.size(); i++) {
            PodCondition c = conditions.get(i);
            if (c.getType().equals(type)) {
                if (!value.equals(c.getStatus())) {
                    conditions.set(i, new PodConditionBuilder().withType(type).withStatus(value).withLastTransitionTime(now()).build());
                }
                status.setConditions(conditions);
                return;
            }
        }
        conditions.add(new PodConditionBuilder().withType(type).withStatus(value).withLastTransitionTime(now()).build());
        status.setConditions(conditions);
    }

    private String now() {
        return Times.format(kubelet.api().config().clock().instant());
    }
}
