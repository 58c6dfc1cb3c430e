package dev.portway.control;

import dev.portway.api.ApiException;
import dev.portway.api.Defaults;
import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.GoValues;
import dev.portway.api.Json;
import dev.portway.api.Keys;
import dev.portway.api.ResourceKind;
import dev.portway.api.Times;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.validation.Validator;
import dev.portway.control.alloc.IpAllocator;
import dev.portway.control.alloc.PortAllocator;
import dev.portway.net.AddressRange;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
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

    private static final String GENERATE_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";

    private final Store store;
    private final ClusterConfig config;
    private final Validator validator;
    private final ServiceRegistry services;
    private final Random random;

    public ApiServer(Store store, ClusterConfig config, Random random) {
        this.store = store;
        this.config = config;
        this.validator = new Validator(config.validation());
        this.random = random;
        this.services = new ServiceRegistry(new IpAllocator(config.serviceCidr(), random),
                new PortAllocator(config.nodePortRange(), random));
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

    /** One applied object. */
    public record Applied(Keys key, Action action, HasMetadata object) {
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
                checkNamespace(kind, object, pending);
                HasMetadata existing = pending.containsKey(key) ? pending.get(key) : store.get(kind, key.namespace(), key.name()).orElse(null);
                recordLastApplied(input, object);
                Planned plan = existing == null ? planCreate(kind, object) : planUpdate(kind, object, existing);
                if (plan.action != Action.UNCHANGED) {
                    // As in the API server, allocation comes before validation.
                    allocate(plan, pending, txn);
                    List<FieldError> errs = plan.old == null ? validator.validateCreate(plan.object)
                            : validator.validateUpdate(plan.object, plan.old);
                    if (!errs.isEmpty()) {
                        throw ApiException.invalid(kind, plan.object.getMetadata().getName(), errs);
                    }
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
            applied.add(new Applied(Keys.of(plan.object), plan.action, plan.object));
        }
        return applied;
    }

    /** REST POST: create, or AlreadyExists. */
    public HasMetadata create(HasMetadata object, String namespace) {
        ResourceKind kind = ResourceKind.of(object);
        HasMetadata copy = Json.copy(object);
        normalizeMetadata(kind, copy, namespace);
        if (store.get(kind, copy.getMetadata().getNamespace(), copy.getMetadata().getName()).isPresent()) {
            throw ApiException.alreadyExists(kind, copy.getMetadata().getName());
        }
        return applyOne(copy, namespace);
    }

    /** REST PUT: replace an existing object; a stale resourceVersion is a Conflict. */
    public HasMetadata update(HasMetadata object, String namespace) {
        ResourceKind kind = ResourceKind.of(object);
        HasMetadata copy = Json.copy(object);
        normalizeMetadata(kind, copy, namespace);
        HasMetadata existing = store.get(kind, copy.getMetadata().getNamespace(), copy.getMetadata().getName())
                .orElseThrow(() -> ApiException.notFound(kind, copy.getMetadata().getName()));
        String rv = copy.getMetadata().getResourceVersion();
        if (rv != null && !rv.isEmpty() && !rv.equals(existing.getMetadata().getResourceVersion())) {
            throw ApiException.conflict(kind, copy.getMetadata().getName(),
                    "the object has been modified; please apply your changes to the latest version and try again");
        }
        return applyOne(copy, namespace);
    }

    private HasMetadata applyOne(HasMetadata object, String namespace) {
        try {
            return apply(List.of(object), namespace, false).getFirst().object();
        } catch (ApplyException e) {
            throw e.failures().getFirst().error();
        }
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
        if (object instanceof IPAddressPool pool) {
            pool.setKind(kind.kind());
        }
    }

    private String generateName(ResourceKind kind, ObjectMeta meta) {
        for (int attempt = 0; attempt < 16; attempt++) {
            StringBuilder sb = new StringBuilder(meta.getGenerateName());
            for (int i = 0; i < 5; i++) {
                sb.append(GENERATE_NAME_CHARS.charAt(random.nextInt(GENERATE_NAME_CHARS.length())));
            }
            if (store.get(kind, meta.getNamespace(), sb.toString()).isEmpty()) {
                return sb.toString();
            }
        }
        throw ApiException.internal("could not generate a unique name for " + meta.getGenerateName());
    }

    private void checkNamespace(ResourceKind kind, HasMetadata object, Map<Keys, HasMetadata> pending) {
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
        if (namespace.get().getMetadata().getDeletionTimestamp() != null) {
            throw ApiException.forbidden(kind.qualifiedResource() + " " + GoValues.quote(object.getMetadata().getName())
                    + " is forbidden: unable to create new content in namespace " + ns + " because it is being terminated");
        }
    }

    /** Keeps what the user applied, so a later apply can tell their fields from everyone else's. */
    private static void recordLastApplied(HasMetadata input, HasMetadata object) {
        ObjectNode tree = (ObjectNode) Json.tree(input);
        if (tree.get("metadata") instanceof ObjectNode meta) {
            if (meta.get("annotations") instanceof ObjectNode annotations) {
                annotations.remove(LAST_APPLIED);
                if (annotations.isEmpty()) {
                    meta.remove("annotations");
                }
            }
            meta.remove(List.of("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"));
        }
        tree.remove("status");
        annotations(object).put(LAST_APPLIED, Json.write(tree));
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
            case Pod pod -> pod.setStatus(new PodStatusBuilder().withPhase("Pending").build());
            case Deployment d -> d.setStatus(null);
            case ReplicaSet rs -> rs.setStatus(null);
            default -> {
            }
        }
        return new Planned(kind, object, null, Action.CREATED);
    }

    private Planned planUpdate(ResourceKind kind, HasMetadata object, HasMetadata existing) {
        ObjectMeta meta = object.getMetadata();
        ObjectMeta old = existing.getMetadata();
        meta.setUid(old.getUid());
        meta.setCreationTimestamp(old.getCreationTimestamp());
        meta.setResourceVersion(old.getResourceVersion());
        meta.setGeneration(old.getGeneration());
        meta.setDeletionTimestamp(old.getDeletionTimestamp());
        meta.setDeletionGracePeriodSeconds(old.getDeletionGracePeriodSeconds());
        if (meta.getOwnerReferences() == null || meta.getOwnerReferences().isEmpty()) {
            meta.setOwnerReferences(old.getOwnerReferences());
        }
        if (meta.getFinalizers() == null || meta.getFinalizers().isEmpty()) {
            meta.setFinalizers(old.getFinalizers());
        }
        keepOthersKeys(meta, old);
        Defaults.apply(object);
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

    /**
     * A three-way merge for labels and annotations, as {@code kubectl apply} does: keys someone
     * else added (absent from the last applied manifest) survive a re-apply.
     */
    private static void keepOthersKeys(ObjectMeta meta, ObjectMeta old) {
        JsonNode lastApplied = null;
        if (old.getAnnotations() != null && old.getAnnotations().get(LAST_APPLIED) != null) {
            lastApplied = Json.readTree(old.getAnnotations().get(LAST_APPLIED).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        JsonNode lastMeta = lastApplied == null ? null : lastApplied.path("metadata");
        meta.setLabels(mergeKeys(meta.getLabels(), old.getLabels(), lastMeta == null ? null : lastMeta.path("labels")));
        meta.setAnnotations(mergeKeys(meta.getAnnotations(), old.getAnnotations(), lastMeta == null ? null : lastMeta.path("annotations")));
    }

    private static Map<String, String> mergeKeys(Map<String, String> desired, Map<String, String> live, JsonNode lastApplied) {
        Map<String, String> merged = new LinkedHashMap<>(desired == null ? Map.of() : desired);
        if (live != null && lastApplied != null) {
            live.forEach((k, v) -> {
                if (!merged.containsKey(k) && !lastApplied.has(k)) {
                    merged.put(k, v);
                }
            });
        }
        return merged;
    }

    private static JsonNode specOf(HasMetadata object) {
        JsonNode tree = Json.tree(object);
        return tree.path("spec");
    }

    private static boolean tracksGeneration(ResourceKind kind) {
        return kind == ResourceKind.DEPLOYMENT || kind == ResourceKind.REPLICA_SET || kind == ResourceKind.IP_ADDRESS_POOL
                || kind == ResourceKind.L2_ADVERTISEMENT;
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
        List<String> entries = pool.getSpec() == null ? List.of() : pool.getSpec().getAddresses();
        for (int i = 0; i < entries.size(); i++) {
            AddressRange range = parseOrNull(entries.get(i));
            if (range == null) {
                continue; // validation reports it
            }
            for (IPAddressPool other : others.values()) {
                for (String otherEntry : other.getSpec().getAddresses()) {
                    AddressRange otherRange = parseOrNull(otherEntry);
                    if (otherRange != null && range.overlaps(otherRange)) {
                        throw ApiException.invalid(ResourceKind.IP_ADDRESS_POOL, pool.getMetadata().getName(), List.of(
                                FieldError.invalid(FieldPath.of("spec", "addresses").index(i), entries.get(i),
                                        "CIDR " + GoValues.quote(entries.get(i)) + " in pool " + GoValues.quote(pool.getMetadata().getName())
                                                + " overlaps with already defined CIDR " + GoValues.quote(otherEntry)
                                                + " (pool " + GoValues.quote(other.getMetadata().getName()) + ")")));
                    }
                }
            }
        }
    }

    private static AddressRange parseOrNull(String entry) {
        try {
            return AddressRange.parse(entry);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** How a delete should proceed. */
    public record DeleteOptions(Long gracePeriodSeconds) {
        public static final DeleteOptions DEFAULT = new DeleteOptions(null);
        public static final DeleteOptions NOW = new DeleteOptions(0L);
    }

    /**
     * Deletes an object and, in the background as the garbage collector would, everything it
     * owns. Running pods terminate gracefully: they are marked with a deletionTimestamp and
     * removed by the node once their processes have stopped.
     *
     * @return the object as it was
     */
    public HasMetadata delete(ResourceKind kind, String namespace, String name, DeleteOptions options) {
        HasMetadata object = store.get(kind, kind.namespaced() ? namespace : null, name)
                .orElseThrow(() -> ApiException.notFound(kind, name));
        Store.Batch batch = store.begin();
        deleteInto(batch, object, options);
        batch.commit();
        return object;
    }

    private void deleteInto(Store.Batch batch, HasMetadata object, DeleteOptions options) {
        ResourceKind kind = ResourceKind.of(object);
        ObjectMeta meta = object.getMetadata();
        if (object instanceof Namespace) {
            for (ResourceKind k : ResourceKind.values()) {
                if (k.namespaced()) {
                    for (HasMetadata o : store.list(k, meta.getName())) {
                        deleteInto(batch, o, DeleteOptions.NOW);
                    }
                }
            }
        }
        if (object instanceof Pod pod && isGraceful(pod, options)) {
            if (meta.getDeletionTimestamp() == null) {
                Pod terminating = Json.copy(pod);
                long grace = options.gracePeriodSeconds() != null ? options.gracePeriodSeconds()
                        : pod.getSpec().getTerminationGracePeriodSeconds() == null ? 30 : pod.getSpec().getTerminationGracePeriodSeconds();
                terminating.getMetadata().setDeletionTimestamp(Times.format(now().plusSeconds(grace)));
                terminating.getMetadata().setDeletionGracePeriodSeconds(grace);
                batch.put(terminating);
            }
        } else {
            batch.remove(kind, meta.getNamespace(), meta.getName());
            if (object instanceof Service svc) {
                services.releaseAll(svc);
            }
        }
        // Garbage collection of dependents.
        String uid = meta.getUid();
        if (uid != null) {
            for (ResourceKind k : ResourceKind.values()) {
                for (HasMetadata dependent : store.list(k, meta.getNamespace())) {
                    List<OwnerReference> refs = dependent.getMetadata().getOwnerReferences();
                    if (refs != null && refs.stream().anyMatch(r -> uid.equals(r.getUid()))
                            && store.get(k, dependent.getMetadata().getNamespace(), dependent.getMetadata().getName()).isPresent()) {
                        deleteInto(batch, dependent, DeleteOptions.DEFAULT);
                    }
                }
            }
        }
    }

    private static boolean isGraceful(Pod pod, DeleteOptions options) {
        if (options.gracePeriodSeconds() != null && options.gracePeriodSeconds() == 0) {
            return false;
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return pod.getSpec() != null && pod.getSpec().getNodeName() != null
                && !"Succeeded".equals(phase) && !"Failed".equals(phase);
    }

    /** Removes a pod for good once its node has stopped it (the kubelet's final delete). */
    public void finalizePodDeletion(String namespace, String name) {
        Store.Batch batch = store.begin();
        batch.remove(ResourceKind.POD, namespace, name);
        batch.commit();
    }

    /**
     * A controller's write: applies {@code change} to a copy of the stored object and stores the
     * result if anything changed. Status and controller-owned fields only; no user validation.
     *
     * @return the stored object, changed or not; empty if it no longer exists
     */
    @SuppressWarnings("unchecked")
    public <T extends HasMetadata> Optional<T> mutate(Class<T> type, String namespace, String name, UnaryOperator<T> change) {
        Optional<T> current = store.get(type, namespace, name);
        if (current.isEmpty()) {
            return Optional.empty();
        }
        T copy = Json.copy(current.get());
        T changed = change.apply(copy);
        if (changed == null || Json.tree(changed).equals(Json.tree(current.get()))) {
            return current;
        }
        if (changed instanceof Service svc) {
            List<FieldError> errs = dev.portway.api.validation.ServiceValidation.validateStatus(svc);
            if (!errs.isEmpty()) {
                throw ApiException.invalid(ResourceKind.SERVICE, name, errs);
            }
        }
        Store.Batch batch = store.begin();
        batch.put(changed);
        batch.commit();
        return Optional.of((T) changed);
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
        Store.Batch batch = store.begin();
        batch.put(plan.object);
        batch.commit();
        return plan.object;
    }

    /** A controller's delete of an object it owns (immediate, no grace). */
    public void deleteInternal(ResourceKind kind, String namespace, String name) {
        store.get(kind, namespace, name).ifPresent(o -> {
            Store.Batch batch = store.begin();
            deleteInto(batch, o, DeleteOptions.NOW);
            batch.commit();
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
