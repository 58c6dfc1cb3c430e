package dev.portway.runtime;

import dev.portway.control.ApiServer;
import dev.portway.control.ControlPlane;
import dev.portway.control.Controller;
import dev.portway.control.EventRecorder;
import dev.portway.control.Pods;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent of every local node: runs the pods bound to the node (each through a
 * {@link PodWorker}), gives them IPs from the node's pod range, and, when a pod is deleted,
 * stops it within its grace period and removes it for good.
 */
public final class Kubelet implements Controller {

    private static final Logger log = LoggerFactory.getLogger(Kubelet.class);

    private final ControlPlane control;
    private final ApiServer api;
    private final Store store;
    private final Map<String, LocalNode> nodes;
    private final PodRuntime runtime;
    private final Map<String, PodWorker> workers = new HashMap<>();

    public Kubelet(ControlPlane control, List<LocalNode> nodes, PodRuntime runtime) {
        this.control = control;
        this.api = control.api();
        this.store = control.store();
        this.runtime = runtime;
        this.nodes = new HashMap<>();
        for (LocalNode n : nodes) {
            this.nodes.put(n.name(), n);
        }
    }

    EventRecorder events() {
        return control.events();
    }

    ControlPlane control() {
        return control;
    }

    @Override
    public void reconcile() {
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
                String ip = node.allocatePodIp();
                if (ip == null) {
                    log.warn("node {} has no pod IP left for {}", node.name(), pod.getMetadata().getName());
                    continue;
                }
                worker = new PodWorker(this, pod, node, ip, runtime);
                workers.put(uid, worker);
                worker.start();
            } else {
                worker.update(pod);
            }
        }
        for (PodWorker worker : List.copyOf(workers.values())) {
            if (!live.contains(worker.uid())) {
                worker.kill();
            }
        }
    }

    /** Called on the control thread when a worker has stopped everything of its pod. */
    void stopped(PodWorker worker, boolean finalizeDeletion) {
        workers.remove(worker.uid());
        worker.node().releasePodIp(worker.podIp());
        if (finalizeDeletion) {
            api.finalizePodDeletion(worker.namespace(), worker.name());
        }
    }

    ApiServer api() {
        return api;
    }

    /** Stops every pod at once (shutdown). Completes when all have stopped. */
    public java.util.concurrent.CompletableFuture<Void> stopAll() {
        return control.submit(() -> List.copyOf(workers.values()))
                .thenCompose(all -> java.util.concurrent.CompletableFuture.allOf(
                        all.stream().map(PodWorker::kill).toArray(java.util.concurrent.CompletableFuture[]::new)));
    }
}
