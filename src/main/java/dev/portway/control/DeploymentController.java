package dev.portway.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.Times;
import dev.portway.api.validation.AppsValidation;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetSpec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Deployments as Kubernetes runs them: one ReplicaSet per pod template (named by the template's
 * hash), and a rolling update from the old ReplicaSets to the new one within
 * {@code maxSurge}/{@code maxUnavailable}, so traffic always has ready pods to go to.
 */
public final class DeploymentController implements Controller {

    static final String COMPONENT = "deployment-controller";
    public static final String POD_TEMPLATE_HASH = "pod-template-hash";
    static final String REVISION = "deployment.kubernetes.io/revision";
    static final String REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
    private static final String SAFE_CHARS = "bcdfghjklmnpqrstvwxz2456789";
    private static final ObjectMapper HASH_MAPPER = Json.mapper().copy().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private final ApiServer api;
    private final Store store;
    private final EventRecorder events;
    private final Clock clock;

    public DeploymentController(ControlPlane control) {
        this.api = control.api();
        this.store = control.store();
        this.events = control.events();
        this.clock = api.config().clock();
    }

    @Override
    public void reconcile() {
        for (Deployment d : store.list(Deployment.class)) {
            if (d.getMetadata().getDeletionTimestamp() == null) {
                try {
                    sync(d);
                } catch (ApiException e) {
                    events.warning(d, "ReconcileError", e.kubectlMessage(), COMPONENT);
                }
            }
        }
    }

    private void sync(Deployment d) {
        String ns = d.getMetadata().getNamespace();
        // as kube's ClaimReplicaSets: an orphan that matches (a Deployment deleted with --cascade=orphan, applied
        // again) is adopted, not made again beside its pods under the same name
        List<ReplicaSet> owned = ControllerRefs.claim(api, ReplicaSet.class, d, d.getSpec().getSelector(),
                store.list(ReplicaSet.class, ns), rs -> true);
        String hash = templateHash(d.getSpec().getTemplate(), d.getStatus() == null ? null : d.getStatus().getCollisionCount());
        ReplicaSet newRs = owned.stream().filter(rs -> hash.equals(labels(rs.getMetadata()).get(POD_TEMPLATE_HASH))).findFirst().orElse(null);
        List<ReplicaSet> old = new ArrayList<>(owned);
        if (newRs != null) {
            old.remove(newRs);
        }
        old.sort(Comparator.comparing((ReplicaSet rs) -> revision(rs)));
        int desired = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        boolean recreate = "Recreate".equals(d.getSpec().getStrategy().getType());

        if (Boolean.TRUE.equals(d.getSpec().getPaused())) {
            syncPaused(d, newRs, old, owned, desired);
            return;
        }
        if (newRs == null) {
            int oldTotal = old.stream().mapToInt(DeploymentController::replicas).sum();
            int initial = recreate ? (oldPodsGone(old) ? desired : 0) : (oldTotal == 0 ? desired : 0);
            newRs = createReplicaSet(d, hash, initial, nextRevision(old));
            if (newRs == null) {
                return; // its name was taken: the next pass tries another
            }
        } else {
            newRs = atNextRevision(d, newRs, old);
        }
        newRs = followMinReadySeconds(d, newRs);
        if (recreate) {
            for (ReplicaSet rs : old) {
                scale(d, rs, 0);
            }
            if (oldPodsGone(old)) {
                scale(d, newRs, desired);
            }
        } else {
            rollingUpdate(d, newRs, old, desired);
        }
        cleanup(d, old);
        String newUid = newRs.getMetadata().getUid();
        boolean listed = owned.stream().anyMatch(rs -> newUid.equals(rs.getMetadata().getUid()));
        updateStatus(d, newRs, listed ? owned : append(owned, newRs), desired, false);
    }

    /**
     * A paused Deployment (kubectl rollout pause) as kube's {@code sync}: no new ReplicaSet for a
     * changed template, nothing rolled; only a change of replicas goes to the one active
     * ReplicaSet (or the latest, when none is), and a saturated new one scales the old ones down.
     * Proportional scaling of a rollout paused half way is not done: the replicas stay as they are.
     */
    private void syncPaused(Deployment d, ReplicaSet newRs, List<ReplicaSet> old, List<ReplicaSet> owned, int desired) {
        if (newRs != null) {
            newRs = atNextRevision(d, newRs, old);
        }
        List<ReplicaSet> all = new ArrayList<>(old);
        all.sort(Comparator.comparing((ReplicaSet rs) -> rs.getMetadata().getCreationTimestamp(), Comparator.nullsFirst(Comparator.naturalOrder()))
                .reversed());
        if (newRs != null) {
            all.addFirst(newRs);
        }
        List<ReplicaSet> active = all.stream().filter(rs -> replicas(rs) > 0).toList();
        ReplicaSet activeOrLatest = active.size() == 1 ? active.getFirst() : active.isEmpty() && !all.isEmpty() ? all.getFirst() : null;
        if (activeOrLatest != null) {
            scale(d, activeOrLatest, desired);
        } else if (newRs != null && replicas(newRs) == desired && available(newRs) >= desired) {
            for (ReplicaSet rs : old) {
                scale(d, rs, 0);
            }
        }
        cleanup(d, old);
        updateStatus(d, newRs, owned, desired, true);
    }

    private void rollingUpdate(Deployment d, ReplicaSet newRs, List<ReplicaSet> old, int desired) {
        var ru = d.getSpec().getStrategy().getRollingUpdate();
        int maxSurge = resolve(ru == null ? null : ru.getMaxSurge(), desired, true);
        int maxUnavailable = resolve(ru == null ? null : ru.getMaxUnavailable(), desired, false);
        if (maxSurge == 0 && maxUnavailable == 0) {
            maxUnavailable = 1;
        }
        // Scale the new ReplicaSet up, within maxSurge.
        int newReplicas = replicas(newRs);
        int total = newReplicas + old.stream().mapToInt(DeploymentController::replicas).sum();
        if (newReplicas > desired) {
            newRs = scale(d, newRs, desired);
        } else if (newReplicas < desired) {
            int maxTotal = desired + maxSurge;
            if (total < maxTotal) {
                newRs = scale(d, newRs, newReplicas + Math.min(maxTotal - total, desired - newReplicas));
            }
        }
        // Scale old ReplicaSets down, keeping at least desired - maxUnavailable available.
        int allPods = replicas(newRs) + old.stream().mapToInt(DeploymentController::replicas).sum();
        int minAvailable = desired - maxUnavailable;
        int newUnavailable = Math.max(0, replicas(newRs) - available(newRs));
        int maxScaledDown = allPods - minAvailable - newUnavailable;
        if (maxScaledDown <= 0) {
            return;
        }
        // First the old replicas that are not available anyway, then the rest, oldest first.
        for (ReplicaSet rs : old) {
            if (maxScaledDown <= 0) {
                break;
            }
            int unhealthy = Math.max(0, replicas(rs) - available(rs));
            int cut = Math.min(unhealthy, maxScaledDown);
            if (cut > 0) {
                scale(d, rs, replicas(rs) - cut);
                maxScaledDown -= cut;
            }
        }
        for (ReplicaSet rs : old) {
            if (maxScaledDown <= 0) {
                break;
            }
            ReplicaSet current = store.get(ReplicaSet.class, rs.getMetadata().getNamespace(), rs.getMetadata().getName()).orElse(rs);
            int cut = Math.min(replicas(current), maxScaledDown);
            if (cut > 0) {
                scale(d, current, replicas(current) - cut);
                maxScaledDown -= cut;
            }
        }
    }

    /** maxSurge rounds up, maxUnavailable rounds down, as in Kubernetes. */
    static int resolve(IntOrString value, int desired, boolean roundUp) {
        if (value == null) {
            return roundUp ? (int) Math.ceil(desired * 0.25) : (int) Math.floor(desired * 0.25);
        }
        if (value.getIntVal() != null) {
            return value.getIntVal();
        }
        int percent = AppsValidation.intOrPercentValue(value);
        double exact = desired * percent / 100.0;
        return roundUp ? (int) Math.ceil(exact) : (int) Math.floor(exact);
    }

    private ReplicaSet createReplicaSet(Deployment d, String hash, int replicas, int revision) {
        ReplicaSet rs = new ReplicaSet();
        ObjectMeta meta = new ObjectMeta();
        meta.setName(d.getMetadata().getName() + "-" + hash);
        meta.setNamespace(d.getMetadata().getNamespace());
        Map<String, String> labels = new LinkedHashMap<>(labels(d.getSpec().getTemplate().getMetadata()));
        labels.put(POD_TEMPLATE_HASH, hash);
        meta.setLabels(labels);
        meta.setAnnotations(new LinkedHashMap<>(Map.of(REVISION, Integer.toString(revision))));
        meta.setOwnerReferences(new ArrayList<>(List.of(Pods.controllerRef(d))));
        rs.setMetadata(meta);
        ReplicaSetSpec spec = new ReplicaSetSpec();
        spec.setReplicas(replicas);
        LabelSelector selector = Json.copy(d.getSpec().getSelector());
        if (selector.getMatchLabels() == null) {
            selector.setMatchLabels(new LinkedHashMap<>());
        }
        selector.getMatchLabels().put(POD_TEMPLATE_HASH, hash);
        spec.setSelector(selector);
        PodTemplateSpec template = Json.copy(d.getSpec().getTemplate());
        if (template.getMetadata() == null) {
            template.setMetadata(new ObjectMeta());
        }
        template.getMetadata().setLabels(new LinkedHashMap<>(labels));
        spec.setTemplate(template);
        spec.setMinReadySeconds(d.getSpec().getMinReadySeconds());
        rs.setSpec(spec);
        ReplicaSet created;
        try {
            created = (ReplicaSet) api.createInternal(rs);
        } catch (ApiException e) {
            if (!"AlreadyExists".equals(e.reason())) {
                throw e;
            }
            // kube's hash collision: a ReplicaSet not ours has the name (one relabelled out of the selector, or made by
            // hand); status.collisionCount goes into the hash, and the next pass makes another name
            api.mutate(Deployment.class, d.getMetadata().getNamespace(), d.getMetadata().getName(), dep -> {
                if (dep.getStatus() == null) {
                    dep.setStatus(new DeploymentStatus());
                }
                Integer count = dep.getStatus().getCollisionCount();
                dep.getStatus().setCollisionCount(count == null ? 1 : count + 1);
                return dep;
            });
            return null;
        }
        events.normal(d, "ScalingReplicaSet", "Scaled up replica set " + created.getMetadata().getName() + " from 0 to " + replicas,
                COMPONENT);
        setRevision(d, revision);
        return created;
    }

    /** The new ReplicaSet with the Deployment's minReadySeconds, which is not part of the template (kube's getNewReplicaSet). */
    private ReplicaSet followMinReadySeconds(Deployment d, ReplicaSet rs) {
        if (Objects.equals(rs.getSpec().getMinReadySeconds(), d.getSpec().getMinReadySeconds())) {
            return rs;
        }
        return api.mutate(ReplicaSet.class, rs.getMetadata().getNamespace(), rs.getMetadata().getName(), r -> {
            r.getSpec().setMinReadySeconds(d.getSpec().getMinReadySeconds());
            return r;
        }).orElse(rs);
    }

    /**
     * The new ReplicaSet, above every old one's revision: a rollback to an older template takes its
     * ReplicaSet back at the next revision, as kube's SetNewReplicaSetAnnotations (the revision it had
     * goes to its history), so a second {@code kubectl rollout undo} goes back to the template left.
     */
    private ReplicaSet atNextRevision(Deployment d, ReplicaSet newRs, List<ReplicaSet> old) {
        int next = nextRevision(old);
        return revision(newRs) < next ? raiseRevision(d, newRs, next) : newRs;
    }

    /** {@code rs} at {@code revision}, its old one added to its revision history; the Deployment's revision follows. */
    private ReplicaSet raiseRevision(Deployment d, ReplicaSet rs, int revision) {
        ReplicaSet raised = api.mutate(ReplicaSet.class, rs.getMetadata().getNamespace(), rs.getMetadata().getName(), r -> {
            Map<String, String> annotations = r.getMetadata().getAnnotations() == null ? new LinkedHashMap<>()
                    : new LinkedHashMap<>(r.getMetadata().getAnnotations());
            String was = annotations.get(REVISION);
            if (was != null && !was.isEmpty()) {
                annotations.put(REVISION_HISTORY, withRevision(annotations.get(REVISION_HISTORY), was));
            }
            annotations.put(REVISION, Integer.toString(revision));
            r.getMetadata().setAnnotations(annotations);
            return r;
        }).orElse(rs);
        setRevision(d, revision);
        return raised;
    }

    /** The longest revision history kept (kube's maxRevHistoryLengthInChars): the oldest entries go first. */
    static final int MAX_REVISION_HISTORY = 2000;

    /** {@code history} (comma-separated revisions, or null) with {@code revision} added, as kube's SetNewReplicaSetAnnotations. */
    static String withRevision(String history, String revision) {
        if (history == null || history.isEmpty()) {
            return revision;
        }
        List<String> revisions = new ArrayList<>(List.of(history.split(",")));
        int length = history.length() + revision.length() + 1;
        while (length > MAX_REVISION_HISTORY && !revisions.isEmpty()) {
            length -= revisions.removeFirst().length() + 1;
        }
        revisions.add(revision);
        return String.join(",", revisions);
    }

    /** The Deployment's revision annotation: its newest ReplicaSet's. */
    private void setRevision(Deployment d, int revision) {
        api.mutate(Deployment.class, d.getMetadata().getNamespace(), d.getMetadata().getName(), dep -> {
            if (dep.getMetadata().getAnnotations() == null) {
                dep.getMetadata().setAnnotations(new LinkedHashMap<>());
            }
            dep.getMetadata().getAnnotations().put(REVISION, Integer.toString(revision));
            return dep;
        });
    }

    private ReplicaSet scale(Deployment d, ReplicaSet rs, int replicas) {
        int from = replicas(rs);
        if (from == replicas) {
            return rs;
        }
        ReplicaSet scaled = api.mutate(ReplicaSet.class, rs.getMetadata().getNamespace(), rs.getMetadata().getName(), r -> {
            r.getSpec().setReplicas(replicas);
            r.getMetadata().setGeneration((r.getMetadata().getGeneration() == null ? 1 : r.getMetadata().getGeneration()) + 1);
            return r;
        }).orElse(rs);
        events.normal(d, "ScalingReplicaSet", "Scaled " + (replicas > from ? "up" : "down") + " replica set "
                + rs.getMetadata().getName() + " from " + from + " to " + replicas, COMPONENT);
        return scaled;
    }

    /** Old ReplicaSets scaled to zero beyond revisionHistoryLimit are deleted. */
    private void cleanup(Deployment d, List<ReplicaSet> old) {
        int limit = d.getSpec().getRevisionHistoryLimit() == null ? 10 : d.getSpec().getRevisionHistoryLimit();
        List<ReplicaSet> idle = new ArrayList<>();
        for (ReplicaSet rs : old) {
            ReplicaSet current = store.get(ReplicaSet.class, rs.getMetadata().getNamespace(), rs.getMetadata().getName()).orElse(null);
            if (current != null && replicas(current) == 0 && (current.getStatus() == null || current.getStatus().getReplicas() == null
                    || current.getStatus().getReplicas() == 0)) {
                idle.add(current);
            }
        }
        for (int i = 0; i < idle.size() - limit; i++) {
            api.deleteInternal(ResourceKind.REPLICA_SET, idle.get(i).getMetadata().getNamespace(), idle.get(i).getMetadata().getName());
        }
    }

    /** The Deployment's status from its ReplicaSets'; {@code newRs} is null while a paused Deployment's new template has none. */
    private void updateStatus(Deployment d, ReplicaSet newRs, List<ReplicaSet> all, int desired, boolean paused) {
        int replicas = 0;
        int ready = 0;
        int available = 0;
        for (ReplicaSet rs : all) {
            ReplicaSet current = store.get(ReplicaSet.class, rs.getMetadata().getNamespace(), rs.getMetadata().getName()).orElse(rs);
            if (current.getStatus() != null) {
                replicas += nz(current.getStatus().getReplicas());
                ready += nz(current.getStatus().getReadyReplicas());
                available += nz(current.getStatus().getAvailableReplicas());
            }
        }
        ReplicaSet currentNew = newRs == null ? null
                : store.get(ReplicaSet.class, newRs.getMetadata().getNamespace(), newRs.getMetadata().getName()).orElse(newRs);
        int updated = currentNew == null || currentNew.getStatus() == null ? 0 : nz(currentNew.getStatus().getReplicas());
        var ru = d.getSpec().getStrategy().getRollingUpdate();
        int maxUnavailable = "Recreate".equals(d.getSpec().getStrategy().getType()) ? 0
                : resolve(ru == null ? null : ru.getMaxUnavailable(), desired, false);
        boolean isAvailable = available >= desired - maxUnavailable;
        boolean complete = updated == desired && replicas == desired && available == desired;
        DeploymentStatus status = new DeploymentStatus();
        status.setCollisionCount(d.getStatus() == null ? null : d.getStatus().getCollisionCount());
        status.setObservedGeneration(d.getMetadata().getGeneration());
        status.setReplicas(replicas);
        status.setUpdatedReplicas(updated);
        status.setReadyReplicas(ready);
        status.setAvailableReplicas(available);
        status.setUnavailableReplicas(Math.max(0, desired - available) == 0 ? null : Math.max(0, desired - available));
        String now = Times.format(clock.instant());
        List<DeploymentCondition> conditions = new ArrayList<>();
        conditions.add(condition(d, "Available", isAvailable ? "True" : "False",
                isAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                isAvailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", now));
        if (paused) {
            // kube's checkPausedConditions
            conditions.add(condition(d, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now));
        } else {
            conditions.add(condition(d, "Progressing", "True", complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                    complete ? "ReplicaSet \"" + newRs.getMetadata().getName() + "\" has successfully progressed."
                            : "ReplicaSet \"" + newRs.getMetadata().getName() + "\" is progressing.", now));
        }
        status.setConditions(conditions);
        if (!Objects.equals(Json.tree(status), Json.tree(d.getStatus()))) {
            api.mutate(Deployment.class, d.getMetadata().getNamespace(), d.getMetadata().getName(), dep -> {
                dep.setStatus(status);
                return dep;
            });
        }
    }

    /** A condition, keeping its timestamps when nothing about it changed. */
    private static DeploymentCondition condition(Deployment d, String type, String status, String reason, String message, String now) {
        if (d.getStatus() != null && d.getStatus().getConditions() != null) {
            for (DeploymentCondition c : d.getStatus().getConditions()) {
                if (type.equals(c.getType()) && status.equals(c.getStatus()) && reason.equals(c.getReason())) {
                    return c;
                }
            }
        }
        DeploymentCondition c = new DeploymentCondition();
        c.setType(type);
        c.setStatus(status);
        c.setReason(reason);
        c.setMessage(message);
        c.setLastUpdateTime(now);
        c.setLastTransitionTime(now);
        return c;
    }

    private boolean oldPodsGone(List<ReplicaSet> old) {
        for (ReplicaSet rs : old) {
            for (var p : store.list(io.fabric8.kubernetes.api.model.Pod.class, rs.getMetadata().getNamespace())) {
                if (Pods.isControlledBy(p, rs) && !Pods.isTerminal(p)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The pod-template-hash: FNV-1a of the template (maps in key order), then of the collision
     * count when there is one (as kube's ComputeHash: 8 bytes, the count little-endian), spelled
     * with the characters Kubernetes uses for generated names.
     */
    public static String templateHash(PodTemplateSpec template, Integer collisionCount) {
        byte[] bytes;
        try {
            bytes = HASH_MAPPER.writeValueAsString(template).getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        if (collisionCount != null) {
            bytes = java.util.Arrays.copyOf(bytes, bytes.length + 8);
            java.nio.ByteBuffer.wrap(bytes, bytes.length - 8, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(collisionCount);
        }
        int hash = 0x811c9dc5;
        for (byte b : bytes) {
            hash ^= (b & 0xff);
            hash *= 0x01000193;
        }
        String digits = Long.toString(hash & 0xffffffffL);
        StringBuilder sb = new StringBuilder();
        for (char c : digits.toCharArray()) {
            sb.append(SAFE_CHARS.charAt(c % SAFE_CHARS.length()));
        }
        return sb.toString();
    }

    private static int nextRevision(List<ReplicaSet> old) {
        int max = 0;
        for (ReplicaSet rs : old) {
            max = Math.max(max, revision(rs));
        }
        return max + 1;
    }

    private static int revision(ReplicaSet rs) {
        String r = rs.getMetadata().getAnnotations() == null ? null : rs.getMetadata().getAnnotations().get(REVISION);
        try {
            return r == null ? 0 : Integer.parseInt(r);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static int replicas(ReplicaSet rs) {
        return rs.getSpec().getReplicas() == null ? 0 : rs.getSpec().getReplicas();
    }

    private static int available(ReplicaSet rs) {
        return rs.getStatus() == null ? 0 : nz(rs.getStatus().getAvailableReplicas());
    }

    private static Map<String, String> labels(ObjectMeta meta) {
        return meta == null || meta.getLabels() == null ? Map.of() : meta.getLabels();
    }

    private static List<ReplicaSet> append(List<ReplicaSet> list, ReplicaSet rs) {
        List<ReplicaSet> all = new ArrayList<>(list);
        all.add(rs);
        return all;
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
