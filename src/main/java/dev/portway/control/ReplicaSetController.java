package dev.portway.control;

import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;

/**
 * Keeps each ReplicaSet's number of pods at {@code spec.replicas}: creates pods from the
 * template, deletes the surplus (the least useful first: unscheduled, not ready, newest), and
 * reports replicas, ready and available counts.
 */
public final class ReplicaSetController implements Controller {

    static final String COMPONENT = "replicaset-controller";

    private final ControlPlane control;
    private final ApiServer api;
    private final Store store;
    private final EventRecorder events;
    private final java.time.Clock clock;
    /** When the pass that counts a pod available once its minReadySeconds are over is due, if one is. */
    private java.time.Instant wakeAt;

    public ReplicaSetController(ControlPlane control) {
        this.control = control;
        this.api = control.api();
        this.store = control.store();
        this.events = control.events();
        this.clock = api.config().clock();
    }

    @Override
    public void reconcile() {
        for (ReplicaSet rs : store.list(ReplicaSet.class)) {
            if (rs.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            // as kube's claimPods: active orphans that match are adopted, and pods relabelled out of the selector released
            List<Pod> owned = ControllerRefs.claim(api, Pod.class, rs, rs.getSpec().getSelector(),
                    store.list(Pod.class, rs.getMetadata().getNamespace()), Pods::isActive);
            List<Pod> active = owned.stream().filter(Pods::isActive).toList();
            int desired = rs.getSpec().getReplicas() == null ? 1 : rs.getSpec().getReplicas();
            int diff = active.size() - desired;
            if (diff < 0) {
                // as kube's ReplicaSet controller: at most burstReplicas a pass, in batches that double while they
                // succeed (1, 2, 4...), so a failing template costs one try, and ten thousand replicas do not hold
                // the control thread (and every API write behind it) for one long pass; the creates' commits queue
                // the next pass, after what waits
                int wanted = Math.min(-diff, BURST_REPLICAS);
                int created = 0;
                for (int batch = 1; created < wanted; batch *= 2) {
                    int n = Math.min(batch, wanted - created);
                    boolean failed = false;
                    for (int i = 0; i < n; i++) {
                        failed |= !createPod(rs);
                    }
                    if (failed) {
                        break;
                    }
                    created += n;
                }
            } else if (diff > 0) {
                List<Pod> victims = new ArrayList<>(active);
                victims.sort(DELETION_ORDER);
                for (Pod victim : victims.subList(0, Math.min(diff, BURST_REPLICAS))) {
                    try {
                        api.delete(ResourceKind.POD, victim.getMetadata().getNamespace(), victim.getMetadata().getName(),
                                DeleteOptions.DEFAULT);
                        events.normal(rs, "SuccessfulDelete", "Deleted pod: " + victim.getMetadata().getName(), COMPONENT);
                    } catch (ApiException e) {
                        // already gone
                    }
                }
            }
            updateStatus(rs, owned);
        }
    }

    /** Pods least worth keeping first, as the ReplicaSet controller ranks them. */
    static final Comparator<Pod> DELETION_ORDER = Comparator
            .comparing((Pod p) -> p.getSpec().getNodeName() != null && !p.getSpec().getNodeName().isEmpty())
            .thenComparing(p -> "Running".equals(p.getStatus() == null ? null : p.getStatus().getPhase()))
            .thenComparing(Pods::isReady)
            .thenComparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp()), Comparator.reverseOrder())
            .thenComparing(p -> p.getMetadata().getName(), Comparator.reverseOrder());

    /** The most pods a ReplicaSet creates or deletes in one pass (kube-controller-manager's burstReplicas). */
    static final int BURST_REPLICAS = 500;

    /** Creates one pod of {@code rs}; false (with a FailedCreate event) when the API server refused it. */
    private boolean createPod(ReplicaSet rs) {
        Pod pod = new Pod();
        ObjectMeta meta = new ObjectMeta();
        ObjectMeta template = rs.getSpec().getTemplate().getMetadata();
        meta.setGenerateName(rs.getMetadata().getName() + "-");
        meta.setNamespace(rs.getMetadata().getNamespace());
        meta.setLabels(template == null || template.getLabels() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(template.getLabels()));
        if (template != null && template.getAnnotations() != null && !template.getAnnotations().isEmpty()) {
            meta.setAnnotations(new LinkedHashMap<>(template.getAnnotations()));
        }
        meta.setOwnerReferences(new ArrayList<>(List.of(Pods.controllerRef(rs))));
        pod.setMetadata(meta);
        pod.setSpec(Json.copy(rs.getSpec().getTemplate().getSpec()));
        try {
            Pod created = (Pod) api.createInternal(pod);
            events.normal(rs, "SuccessfulCreate", "Created pod: " + created.getMetadata().getName(), COMPONENT);
            return true;
        } catch (ApiException e) {
            events.warning(rs, "FailedCreate", "Error creating: " + e.kubectlMessage(), COMPONENT);
            return false;
        }
    }

    private void updateStatus(ReplicaSet rs, List<Pod> owned) {
        int replicas = 0;
        int ready = 0;
        int available = 0;
        int labeled = 0;
        int minReady = rs.getSpec().getMinReadySeconds() == null ? 0 : rs.getSpec().getMinReadySeconds();
        java.time.Instant now = clock.instant();
        for (Pod p : owned) {
            if (!Pods.isActive(p)) {
                continue;
            }
            replicas++;
            if (Pods.isReady(p)) {
                ready++;
                // kube's IsPodAvailable: Ready for longer than minReadySeconds
                java.time.Instant since = minReady == 0 ? null : Pods.readySince(p);
                if (minReady == 0 || since != null && since.plusSeconds(minReady).isBefore(now)) {
                    available++;
                } else if (since != null) {
                    wakeAt(since.plusSeconds(minReady).plusMillis(1), now);
                }
            }
            if (dev.portway.api.Selectors.matches(rs.getSpec().getTemplate().getMetadata().getLabels(), p.getMetadata().getLabels())) {
                labeled++;
            }
        }
        ReplicaSetStatus status = new ReplicaSetStatus();
        status.setReplicas(replicas);
        status.setFullyLabeledReplicas(labeled);
        status.setReadyReplicas(ready);
        status.setAvailableReplicas(available);
        status.setObservedGeneration(rs.getMetadata().getGeneration());
        if (!Objects.equals(Json.tree(status), Json.tree(rs.getStatus()))) {
            api.mutate(ReplicaSet.class, rs.getMetadata().getNamespace(), rs.getMetadata().getName(), r -> {
                r.setStatus(status);
                return r;
            });
        }
    }

    /** Makes sure a pass runs at {@code at} (one timer for every ReplicaSet: the soonest). */
    private void wakeAt(java.time.Instant at, java.time.Instant now) {
        if (wakeAt != null && !wakeAt.isAfter(at)) {
            return; // the pass due then schedules what is left
        }
        wakeAt = at;
        // a millisecond more: the delay counts whole milliseconds, and the pass must not come a moment early
        control.schedule(() -> {
            if (at.equals(wakeAt)) {
                wakeAt = null;
            }
        }, java.time.Duration.between(now, at).plusMillis(1));
    }
}
