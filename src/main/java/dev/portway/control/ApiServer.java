package dev.portway.control;

import dev.portway.api.ApiException;
import dev.portway.api.CustomResource;
import dev.portway.api.Defaults;
import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.GoValues;
import dev.portway.api.validation.MetalLbValidation;
import dev.portway.api.Json;
import dev.portway.api.Keys;
import dev.portway.api.ResourceKind;
import dev.portway.api.Times;
import dev.portway.api.gateway.GatewayStatuses;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.policy.AccessPolicy;
import dev.portway.api.validation.Validator;
import dev.portway.control.alloc.IpAllocator;
import dev.portway.control.alloc.PortAllocator;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerStatus;
import io.fabric8.kubernetes.api.model.networking.v1.IngressStatus;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * The API server: every write goes through here, in the API server's order: default, prepare,
 * validate, allocate, store. Reads go to the {@link Store} directly.
 *
 * <p>Not thread-safe: the control thread owns it (see {@link ControlPlane}).
 */
public final class ApiServer {

    /** The annotation {@code kubectl apply} keeps the last applied manifest in. */
    public static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    /** What kube-apiserver's NamespaceLifecycle admission never lets be deleted. */
    private static final Set<String> IMMORTAL_NAMESPACES = Set.of("default", "kube-system", "kube-public");
    private static final String GENERATE_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";

    private final Store store;
    private final ClusterConfig config;
    private final Validator validator;
    private final ServiceRegistry services;
    private final Random random;
    private final GarbageCollector gc;
    private final StatusWrites statusWrites;

    public ApiServer(Store store, ClusterConfig config, Random random) {
        this.store = store;
        this.statusWrites = new StatusWrites(store, config);
        this.config = config;
        this.validator = new Validator(config.validation());
        this.random = random;
        this.services = new ServiceRegistry(new IpAllocator(config.serviceCidr(), random),
                new PortAllocator(config.nodePortRange(), random));
        this.gc = new GarbageCollector(store, config.clock(), removed -> {
            if (removed instanceof Service svc) {
                services.releaseAll(svc);
            }
        });
        for (Service svc : store.list(Service.class)) {
            services.restore(svc);
        }
    }

    public Store store() {
        return store;
    }

    public ClusterConfig config() {
        return config;
    }

    public PortAllocator nodePorts() {
        return services.nodePorts();
    }

    public IpAllocator clusterIps() {
        return services.clusterIps();
    }

    /** What applying one object did, in kubectl's words. */
    public enum Action {
        CREATED("created"), CONFIGURED("configured"), UNCHANGED("unchanged");

        private final String word;

        Action(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }
    }

    /** One object of an apply: what was done, the object as stored, and what it replaced (null: created). */
    public record Applied(Keys key, Action action, HasMetadata object, HasMetadata old) {
    }

    /** The objects of an apply that failed (nothing of the apply was stored). */
    public static final class ApplyException extends RuntimeException {
        private final List<Failure> failures;

        public ApplyException(List<Failure> failures) {
            super(String.join("\n", failures.stream().map(f -> f.error().kubectlMessage()).toList()));
            this.failures = List.copyOf(failures);
        }

        public List<Failure> failures() {
            return failures;
        }
    }

    /** @param index the position of the object in the apply */
    public record Failure(int index, Keys key, ApiException error) {
    }

    /**
     * Creates or updates every object, all or nothing: if any object is invalid or cannot get
     * its allocations, nothing is stored and nothing stays allocated.
     *
     * @param defaultNamespace the namespace for objects that name none
     * @param dryRun           validate and allocate, then undo everything
     */
    public List<Applied> apply(List<? extends HasMetadata> objects, String defaultNamespace, boolean dryRun) {
        return write(objects, defaultNamespace, dryRun, Mode.APPLY);
    }

    /**
     * How a write treats what the object does not say. APPLY is Portway's own {@code apply}:
     * the manifest is recorded as kubectl's last-applied configuration, and labels, annotations,
     * owner references and finalizers others added survive. REPLACE is REST's PUT (and POST):
     * the object is stored as sent.
     */
    private enum Mode {
        APPLY, REPLACE
    }

    private List<Applied> write(List<? extends HasMetadata> objects, String defaultNamespace, boolean dryRun, Mode mode) {
        List<Failure> failures = new ArrayList<>();
        List<Planned> planned = new ArrayList<>();
        Map<Keys, HasMetadata> pending = new LinkedHashMap<>();
        Transaction batch = new Transaction();
        for (int i = 0; i < objects.size(); i++) {
            HasMetadata input = objects.get(i);
            Keys key = null;
            Transaction txn = new Transaction();
            try {
                HasMetadata object = Json.copy(input);
                ResourceKind kind = ResourceKind.of(object);
                normalizeMetadata(kind, object, defaultNamespace);
                key = Keys.of(object);
                HasMetadata existing = pending.containsKey(key) ? pending.get(key) : store.get(kind, key.namespace(), key.name()).orElse(null);
                checkNamespace(kind, object, pending, existing == null);
                if (mode == Mode.APPLY) {
                    LastAppliedMerge.record(input, object);
                }
                Planned plan = existing == null ? planCreate(kind, object) : planUpdate(kind, object, existing, mode);
                if (plan.action != Action.UNCHANGED) {
                    // As in the API server, allocation comes before validation.
                    allocate(plan, pending, txn);
                    List<FieldError> errs = plan.old == null ? validator.validateCreate(plan.object)
                            : validator.validateUpdate(plan.object, plan.old);
                    if (!errs.isEmpty()) {
                        throw ApiException.invalid(kind, plan.object.getMetadata().getName(), errs);
                    }
                    checkStoredSize(plan.object);
                }
                batch.absorb(txn);
                pending.put(key, plan.object);
                planned.add(plan);
            } catch (ApiException e) {
                txn.revert();
                failures.add(new Failure(i, key, e));
            }
        }
        if (!failures.isEmpty()) {
            batch.revert();
            throw new ApplyException(failures);
        }
        if (dryRun) {
            batch.revert();
        } else {
            batch.commit();
            Store.Batch writes = store.begin();
            for (Planned plan : planned) {
                if (plan.action != Action.UNCHANGED) {
                    writes.put(plan.object);
                }
            }
            writes.commit();
        }
        List<Applied> applied = new ArrayList<>();
        for (Planned plan : planned) {
            applied.add(new Applied(Keys.of(plan.object), plan.action, plan.object, plan.old));
        }
        return applied;
    }

    /** REST POST: create, or AlreadyExists. */
    public HasMetadata create(HasMetadata object, String namespace) {
        return create(object, namespace, WriteOptions.DEFAULT);
    }

    public HasMetadata create(HasMetadata object, String namespace, WriteOptions options) {
        ResourceKind kind = ResourceKind.of(object);
        HasMetadata copy = Json.copy(object);
        normalizeMetadata(kind, copy, namespace);
        if (copy.getMetadata().getName() != null
                && store.get(kind, copy.getMetadata().getNamespace(), copy.getMetadata().getName()).isPresent()) {
            throw ApiException.alreadyExists(kind, copy.getMetadata().getName());
        }
        return writeOne(copy, namespace, options.dryRun());
    }

    /** REST PUT: replace an existing object; a stale resourceVersion is a Conflict. */
    public HasMetadata update(HasMetadata object, String namespace) {
        return update(object, namespace, WriteOptions.DEFAULT);
    }

    public HasMetadata update(HasMetadata object, String namespace, WriteOptions options) {
        return update(object, namespace, options, true);
    }

    /**
     * @param uidPrecondition whether a uid the object names must be the stored one's (a PUT: the
     *                        API server makes it a precondition, a Conflict); a patch that changes
     *                        it is judged as any update is (the uid is immutable: Invalid)
     */
    HasMetadata update(HasMetadata object, String namespace, WriteOptions options, boolean uidPrecondition) {
        ResourceKind kind = ResourceKind.of(object);
        HasMetadata copy = Json.copy(object);
        normalizeMetadata(kind, copy, namespace);
        HasMetadata existing = store.get(kind, copy.getMetadata().getNamespace(), copy.getMetadata().getName())
                .orElseThrow(() -> ApiException.notFound(kind, copy.getMetadata().getName()));
        if (uidPrecondition) {
            checkUid(kind, copy, existing);
        }
        checkVersion(kind, copy.getMetadata().getResourceVersion(), existing);
        return writeOne(copy, namespace, options.dryRun());
    }

    /**
     * A PUT whose object names a uid writes only over the object of that uid: one deleted and made
     * again meanwhile is not overwritten with what was meant for the one before it (the API server's
     * {@code defaultUpdatedObjectInfo.Preconditions}, checked before the resourceVersion).
     */
    static void checkUid(ResourceKind kind, HasMetadata object, HasMetadata existing) {
        String uid = object.getMetadata().getUid();
        String stored = existing.getMetadata().getUid();
        if (uid != null && !uid.isEmpty() && !uid.equals(stored)) {
            throw ApiException.uidPrecondition(kind, existing.getMetadata().getNamespace(), existing.getMetadata().getName(), uid, stored);
        }
    }

    /** A write that names a resourceVersion applies only to that version (optimistic concurrency). */
    static void checkVersion(ResourceKind kind, String rv, HasMetadata existing) {
        if (rv != null && !rv.isEmpty() && !rv.equals(existing.getMetadata().getResourceVersion())) {
            throw ApiException.conflict(kind, existing.getMetadata().getName(),
                    "the object has been modified; please apply your changes to the latest version and try again");
        }
    }

    private HasMetadata writeOne(HasMetadata object, String namespace, boolean dryRun) {
        try {
            return write(List.of(object), namespace, dryRun, Mode.REPLACE).getFirst().object();
        } catch (ApplyException e) {
            throw e.failures().getFirst().error();
        }
    }

    /** {@code PUT .../status}: see {@link StatusWrites#update}. */
    public HasMetadata updateStatus(HasMetadata object, String namespace, WriteOptions options) {
        return statusWrites.update(object, namespace, options, true);
    }

    /** A status patch's write: a uid it changes is Invalid (immutable), not a failed precondition. */
    HasMetadata updatePatchedStatus(HasMetadata object, String namespace, WriteOptions options) {
        return statusWrites.update(object, namespace, options, false);
    }

    /** The {@code scale} subresource: sets {@code spec.replicas} of a Deployment or ReplicaSet. */
    public HasMetadata scale(ResourceKind kind, String namespace, String name, int replicas, String resourceVersion, WriteOptions options) {
        HasMetadata existing = store.get(kind, namespace, name).orElseThrow(() -> ApiException.notFound(kind, name));
        checkVersion(kind, resourceVersion, existing);
        HasMetadata copy = Json.copy(existing);
        switch (copy) {
            case Deployment d -> d.getSpec().setReplicas(replicas);
            case ReplicaSet rs -> rs.getSpec().setReplicas(replicas);
            default -> throw ApiException.notFound(kind, name);
        }
        return writeOne(copy, namespace, options.dryRun());
    }

    private record Planned(ResourceKind kind, HasMetadata object, HasMetadata old, Action action) {
    }

    private void normalizeMetadata(ResourceKind kind, HasMetadata object, String defaultNamespace) {
        if (object.getMetadata() == null) {
            object.setMetadata(new ObjectMeta());
        }
        ObjectMeta meta = object.getMetadata();
        if (kind.namespaced()) {
            if (meta.getNamespace() == null || meta.getNamespace().isEmpty()) {
                meta.setNamespace(defaultNamespace == null ? "default" : defaultNamespace);
            }
        } else {
            meta.setNamespace(null);
        }
        if ((meta.getName() == null || meta.getName().isEmpty()) && meta.getGenerateName() != null && !meta.getGenerateName().isEmpty()) {
            meta.setName(generateName(kind, meta));
        }
        object.setApiVersion(kind.apiVersion());
        if (object instanceof CustomResource resource) {
            resource.setKind(kind.kind());
        }
    }

    /** The longest base a generated name keeps (kube's MaxGeneratedNameLength: 63 less the 5 random characters). */
    static final int MAX_GENERATED_NAME_BASE = 58;

    /** etcd's default --max-request-bytes: the largest object kube-apiserver can store. */
    static final int MAX_STORED_OBJECT_BYTES = 1536 * 1024;

    /**
     * Refuses an object larger than etcd would store, as kube-apiserver passes etcd's refusal on (a
     * 500 with etcd's words). Without it, patches of a few megabytes each grew one object without
     * bound, and each write of it cost its size several times over, in the watch history too.
     */
    static void checkStoredSize(HasMetadata object) {
        if (Json.writeBytes(object).length > MAX_STORED_OBJECT_BYTES) {
            throw new ApiException(new io.fabric8.kubernetes.api.model.StatusBuilder().withNewMetadata().endMetadata()
                    .withStatus("Failure").withCode(500).withMessage("etcdserver: request is too large").build());
        }
    }

    private String generateName(ResourceKind kind, ObjectMeta meta) {
        // cut as kube's name generator cuts it: a long base (a ReplicaSet's name, for its pods) still gives a valid name
        String base = meta.getGenerateName().length() > MAX_GENERATED_NAME_BASE
                ? meta.getGenerateName().substring(0, MAX_GENERATED_NAME_BASE) : meta.getGenerateName();
        for (int attempt = 0; attempt < 16; attempt++) {
            StringBuilder sb = new StringBuilder(base);
            for (int i = 0; i < 5; i++) {
                sb.append(GENERATE_NAME_CHARS.charAt(random.nextInt(GENERATE_NAME_CHARS.length())));
            }
            if (store.get(kind, meta.getNamespace(), sb.toString()).isEmpty()) {
                return sb.toString();
            }
        }
        throw ApiException.internal("could not generate a unique name for " + meta.getGenerateName());
    }

    /** NamespaceLifecycle admission: the namespace must exist, and a terminating one takes no new objects (updates are fine). */
    private void checkNamespace(ResourceKind kind, HasMetadata object, Map<Keys, HasMetadata> pending, boolean creating) {
        if (!kind.namespaced()) {
            return;
        }
        String ns = object.getMetadata().getNamespace();
        Keys nsKey = new Keys(ResourceKind.NAMESPACE, null, ns);
        Optional<HasMetadata> namespace = pending.containsKey(nsKey) ? Optional.of(pending.get(nsKey))
                : store.get(ResourceKind.NAMESPACE, null, ns);
        if (namespace.isEmpty()) {
            throw ApiException.namespaceNotFound(ns);
        }
        if (creating && namespace.get().getMetadata().getDeletionTimestamp() != null) {
            throw ApiException.forbidden(kind.qualifiedResource() + " " + GoValues.quote(object.getMetadata().getName())
                    + " is forbidden: unable to create new content in namespace " + ns + " because it is being terminated");
        }
    }

    private Planned planCreate(ResourceKind kind, HasMetadata object) {
        ObjectMeta meta = object.getMetadata();
        meta.setUid(UUID.randomUUID().toString());
        meta.setCreationTimestamp(Times.format(now()));
        meta.setResourceVersion(null);
        meta.setDeletionTimestamp(null);
        meta.setDeletionGracePeriodSeconds(null);
        if (tracksGeneration(kind)) {
            meta.setGeneration(1L);
        } else {
            meta.setGeneration(null);
        }
        Defaults.apply(object);
        switch (object) {
            case Service svc -> services.prepareForCreate(svc);
            case Pod pod -> {
                pod.setStatus(new PodStatusBuilder().withPhase("Pending").build());
                PodAdmission.admit(pod);
                PodAdmission.schedulingGated(pod, meta.getCreationTimestamp());
                PodAdmission.mergeLabelKeys(pod);
            }
            case Deployment d -> d.setStatus(null);
            case ReplicaSet rs -> rs.setStatus(null);
            // Custom resources with a status subresource: create cannot set status, and reads show
            // the CRD's status default (the conditions "Waiting for controller").
            case GatewayClass gc -> gc.setStatus(GatewayStatuses.pendingClass());
            case Gateway gw -> gw.setStatus(GatewayStatuses.pendingGateway());
            case HTTPRoute route -> route.setStatus(null);
            case AccessPolicy policy -> policy.setStatus(null);
            case Ingress ing -> ing.setStatus(new IngressStatus(new IngressLoadBalancerStatus()));
            default -> {
            }
        }
        return new Planned(kind, object, null, Action.CREATED);
    }

    private Planned planUpdate(ResourceKind kind, HasMetadata object, HasMetadata existing, Mode mode) {
        ObjectMeta meta = object.getMetadata();
        ObjectMeta old = existing.getMetadata();
        if (meta.getUid() == null || meta.getUid().isEmpty()) {
            meta.setUid(old.getUid()); // as rest.BeforeUpdate: another one is judged immutable, below
        }
        meta.setCreationTimestamp(old.getCreationTimestamp());
        meta.setResourceVersion(old.getResourceVersion());
        meta.setGeneration(old.getGeneration());
        meta.setDeletionTimestamp(old.getDeletionTimestamp());
        meta.setDeletionGracePeriodSeconds(old.getDeletionGracePeriodSeconds());
        if (meta.getManagedFields() == null || meta.getManagedFields().isEmpty()) {
            meta.setManagedFields(old.getManagedFields());
        }
        if (mode == Mode.APPLY) {
            if (meta.getOwnerReferences() == null || meta.getOwnerReferences().isEmpty()) {
                meta.setOwnerReferences(old.getOwnerReferences());
            }
            if (meta.getFinalizers() == null || meta.getFinalizers().isEmpty()) {
                meta.setFinalizers(old.getFinalizers());
            }
            LastAppliedMerge.keepOthersKeys(meta, old);
            object = LastAppliedMerge.threeWaySpec(kind, object, existing);
            meta = object.getMetadata();
        }
        Defaults.apply(object);
        if (object instanceof Pod pod) {
            PodAdmission.defaultTolerations(pod);
        }
        if (object instanceof Service svc) {
            services.prepareForUpdate(svc, (Service) existing);
        } else {
            object = withStatusOf(object, existing);
            meta = object.getMetadata();
        }
        if (tracksGeneration(kind) && !specOf(object).equals(specOf(existing))) {
            meta.setGeneration((old.getGeneration() == null ? 0 : old.getGeneration()) + 1);
        }
        if (Json.tree(object).equals(Json.tree(existing))) {
            return new Planned(kind, existing, existing, Action.UNCHANGED);
        }
        return new Planned(kind, object, existing, Action.CONFIGURED);
    }

    private static JsonNode specOf(HasMetadata object) {
        JsonNode tree = Json.tree(object);
        return tree.path("spec");
    }

    private static boolean tracksGeneration(ResourceKind kind) {
        return switch (kind) {
            case DEPLOYMENT, REPLICA_SET, IP_ADDRESS_POOL, L2_ADVERTISEMENT, GATEWAY_CLASS, GATEWAY, HTTP_ROUTE, REFERENCE_GRANT,
                 INGRESS, INGRESS_CLASS, ACCESS_POLICY -> true;
            default -> false;
        };
    }

    /** The object with the stored object's status: users write spec, controllers write status. */
    private static HasMetadata withStatusOf(HasMetadata object, HasMetadata existing) {
        JsonNode status = Json.tree(existing).get("status");
        ObjectNode tree = (ObjectNode) Json.tree(object);
        if (status == null) {
            tree.remove("status");
        } else {
            tree.set("status", status);
        }
        return Json.convert(tree, object.getClass());
    }

    private void allocate(Planned plan, Map<Keys, HasMetadata> pending, Transaction txn) {
        if (plan.object instanceof Service svc) {
            if (plan.old == null) {
                services.allocateCreate(svc, txn);
            } else {
                services.allocateUpdate(svc, (Service) plan.old, txn);
            }
        } else if (plan.object instanceof IPAddressPool pool) {
            checkPoolOverlap(pool, pending);
        }
    }

    /** MetalLB rejects pools whose addresses overlap another pool's. */
    private void checkPoolOverlap(IPAddressPool pool, Map<Keys, HasMetadata> pending) {
        Map<String, IPAddressPool> others = new HashMap<>();
        for (IPAddressPool p : store.list(IPAddressPool.class)) {
            others.put(p.getMetadata().getName(), p);
        }
        for (HasMetadata p : pending.values()) {
            if (p instanceof IPAddressPool other) {
                others.put(other.getMetadata().getName(), other);
            }
        }
        others.remove(pool.getMetadata().getName());
        List<FieldError> overlaps = MetalLbValidation.overlaps(pool, others.values());
        if (!overlaps.isEmpty()) {
            throw ApiException.invalid(ResourceKind.IP_ADDRESS_POOL, pool.getMetadata().getName(), List.of(overlaps.getFirst()));
        }
    }

    /**
     * Deletes an object and what it owns, as {@link GarbageCollector#delete} does.
     *
     * @return the object as it was, or as it now is when its deletion is still under way
     */
    public HasMetadata delete(ResourceKind kind, String namespace, String name, DeleteOptions options) {
        // NamespaceLifecycle admission: the namespaces the cluster itself lives in stay
        if (kind == ResourceKind.NAMESPACE && IMMORTAL_NAMESPACES.contains(name)) {
            throw ApiException.forbidden(kind, name, "this namespace may not be deleted");
        }
        return gc.delete(kind, namespace, name, options);
    }

    /** Removes objects whose deletion was waiting and is now done (see {@link GarbageCollector#finishDeletions}). */
    void finishDeletions() {
        gc.finishDeletions();
    }

    /** Removes a pod for good once its node has stopped it (the kubelet's final delete). */
    public void finalizePodDeletion(String namespace, String name) {
        gc.podStopped(namespace, name);
    }

    /** A controller's write of status and fields it owns: see {@link StatusWrites#mutate}. */
    public <T extends HasMetadata> Optional<T> mutate(Class<T> type, String namespace, String name, UnaryOperator<T> change) {
        return statusWrites.mutate(type, namespace, name, change);
    }

    /** A controller's create (pods of a ReplicaSet, EndpointSlices, events): validated, never allocating. */
    public HasMetadata createInternal(HasMetadata object) {
        String ns = object.getMetadata() == null ? null : object.getMetadata().getNamespace();
        return applyOneNew(object, ns);
    }

    private HasMetadata applyOneNew(HasMetadata object, String namespace) {
        ResourceKind kind = ResourceKind.of(object);
        HasMetadata copy = Json.copy(object);
        normalizeMetadata(kind, copy, namespace);
        Planned plan = planCreate(kind, copy);
        List<FieldError> errs = validator.validateCreate(plan.object);
        if (!errs.isEmpty()) {
            throw ApiException.invalid(kind, copy.getMetadata().getName(), errs);
        }
        // a create never replaces what is there (a ReplicaSet's name is fixed: its Deployment's and template's)
        if (store.get(kind, plan.object.getMetadata().getNamespace(), plan.object.getMetadata().getName()).isPresent()) {
            throw ApiException.alreadyExists(kind, plan.object.getMetadata().getName());
        }
        Store.Batch batch = store.begin();
        batch.put(plan.object);
        batch.commit();
        return plan.object;
    }

    /** A controller's delete of an object it owns (immediate, no grace). */
    public void deleteInternal(ResourceKind kind, String namespace, String name) {
        store.get(kind, namespace, name).ifPresent(o -> {
            gc.deleteNow(o);
        });
    }

    private Instant now() {
        return config.clock().instant();
    }

    private static Map<String, String> annotations(HasMetadata object) {
        if (object.getMetadata().getAnnotations() == null) {
            object.getMetadata().setAnnotations(new LinkedHashMap<>());
        }
        return object.getMetadata().getAnnotations();
    }
}
