package dev.portway.control;

import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.Selectors;
import dev.portway.store.Store;
import dev.portway.store.WatchEvent;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The EndpointSlice controller: for every Service with a selector, the pods it selects become
 * endpoints with ready/serving/terminating conditions, grouped into slices by their resolved
 * ports (a named targetPort may resolve to different numbers on different pods; a pod without
 * the named port is left out of that port). Services without a selector keep the slices users
 * write themselves.
 *
 * <p>Like kube-controller-manager's, it syncs only the Services something happened to, found from
 * the store's events (a work queue of keys), so that a change among 10,000 Services costs one
 * Service's sync, not 10,000. The first pass syncs every Service.
 */
public final class EndpointSliceController implements Controller {

    public static final String LABEL_SERVICE_NAME = "kubernetes.io/service-name";
    public static final String LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
    public static final String MANAGER = "endpointslice-controller.k8s.io";
    private static final int MAX_ENDPOINTS_PER_SLICE = 100;

    private final ApiServer api;
    private final Store store;
    /** The Services ({@code namespace/name}) whose slices the next pass syncs; every Service when {@link #all}. */
    private final Set<String> dirty = new HashSet<>();
    /** The label sets of pods that changed since the last pass, by namespace: the Services selecting any of them are synced. */
    private final Map<String, List<Map<String, String>>> podLabels = new HashMap<>();
    /** The next pass syncs every Service and reads the managed slices afresh (the first pass). */
    private boolean all = true;
    /** The slices this controller manages, by Service ({@code namespace/name}), then by name; kept from the store's events. */
    private final Map<String, Map<String, EndpointSlice>> managed = new HashMap<>();

    public EndpointSliceController(ControlPlane control) {
        this.api = control.api();
        this.store = control.store();
        store.watch(this::changed);
    }

    /**
     * Notes what a committed batch touches (on the control thread): a Service, a slice this
     * controller manages (its own write, or someone else's edit to undo), or a pod, whose old and
     * new labels decide which Services select it.
     */
    private void changed(List<WatchEvent> events) {
        if (all) {
            return; // the next pass reads everything anyway
        }
        for (WatchEvent e : events) {
            switch (e.kind()) {
                case SERVICE -> {
                    dirty.add(key(e.object().getMetadata()));
                }
                case ENDPOINT_SLICE -> {
                    if (e.old() instanceof EndpointSlice old && isManaged(old)) {
                        String svc = serviceOf(old);
                        dirty.add(svc);
                        Map<String, EndpointSlice> byName = managed.get(svc);
                        if (byName != null && byName.remove(old.getMetadata().getName()) != null && byName.isEmpty()) {
                            managed.remove(svc);
                        }
                    }
                    if (e.type() != WatchEvent.Type.DELETED && e.object() instanceof EndpointSlice now && isManaged(now)) {
                        String svc = serviceOf(now);
                        dirty.add(svc);
                        managed.computeIfAbsent(svc, k -> new HashMap<>()).put(now.getMetadata().getName(), now);
                    }
                }
                case POD -> {
                    List<Map<String, String>> labels = podLabels.computeIfAbsent(e.object().getMetadata().getNamespace(), k -> new ArrayList<>());
                    labels.add(labelsOf(e.object()));
                    if (e.old() != null) {
                        labels.add(labelsOf(e.old()));
                    }
                }
                default -> {
                }
            }
        }
    }

    /**
     * Syncs the Services something happened to since the last pass: those changed, those whose
     * managed slices changed, those selecting a pod that changed (before or after the change).
     * The first pass syncs them all, and removes the managed slices of Services that are gone.
     */
    @Override
    public void reconcile() {
        if (all) {
            resyncAll();
            return;
        }
        for (Map.Entry<String, List<Map<String, String>>> ns : podLabels.entrySet()) {
            for (Service svc : store.list(Service.class, ns.getKey())) {
                Map<String, String> selector = svc.getSpec().getSelector();
                if (selector != null && !selector.isEmpty() && ns.getValue().stream().anyMatch(l -> Selectors.matches(selector, l))) {
                    dirty.add(key(svc.getMetadata()));
                }
            }
        }
        podLabels.clear();
        if (dirty.isEmpty()) {
            return;
        }
        // syncing writes slices, whose events mark their Services for the next pass: take this pass's set first
        List<String> keys = new ArrayList<>(dirty);
        dirty.clear();
        int done = 0;
        try {
            for (String key : keys) {
                int slash = key.indexOf('/');
                Service svc = store.get(Service.class, key.substring(0, slash), key.substring(slash + 1)).orElse(null);
                syncOrClear(key, svc, List.copyOf(managed.getOrDefault(key, Map.of()).values()));
                done++;
            }
        } finally {
            // a sync that failed is tried again on the next pass, with those it kept from their turn
            dirty.addAll(keys.subList(done, keys.size()));
        }
    }

    /** Reads every managed slice and syncs every Service, as a level-triggered controller does each pass. */
    void resyncAll() {
        try {
            syncAll();
        } catch (RuntimeException | Error e) {
            all = true; // the next pass starts over
            throw e;
        }
    }

    private void syncAll() {
        all = false;
        dirty.clear();
        podLabels.clear();
        managed.clear();
        for (EndpointSlice slice : store.list(EndpointSlice.class)) {
            if (isManaged(slice)) {
                managed.computeIfAbsent(serviceOf(slice), k -> new HashMap<>()).put(slice.getMetadata().getName(), slice);
            }
        }
        Map<String, List<EndpointSlice>> left = new HashMap<>();
        managed.forEach((svc, byName) -> left.put(svc, List.copyOf(byName.values())));
        for (Service svc : store.list(Service.class)) {
            String key = key(svc.getMetadata());
            List<EndpointSlice> existing = left.remove(key);
            syncOrClear(key, svc, existing == null ? List.of() : existing);
        }
        // Slices of Services that are gone (the garbage collector usually got them first).
        left.forEach((key, slices) -> syncOrClear(key, null, slices));
    }

    /** Syncs one Service's slices; a Service that is gone, has no selector or is an ExternalName has none. */
    private void syncOrClear(String key, Service svc, List<EndpointSlice> existing) {
        if (svc == null || svc.getSpec().getSelector() == null || svc.getSpec().getSelector().isEmpty()
                || "ExternalName".equals(svc.getSpec().getType())) {
            existing.forEach(s -> api.deleteInternal(ResourceKind.ENDPOINT_SLICE, s.getMetadata().getNamespace(), s.getMetadata().getName()));
            return;
        }
        sync(svc, existing);
    }

    /**
     * Whether this controller made the slice: its label, and a Service as its controller (kube's
     * ownedBy). A slice written by hand with the label (copied from a real cluster's) is the
     * user's, and stays.
     */
    private static boolean isManaged(EndpointSlice slice) {
        Map<String, String> labels = slice.getMetadata().getLabels();
        var controller = ControllerRefs.controllerOf(slice);
        return labels != null && MANAGER.equals(labels.get(LABEL_MANAGED_BY))
                && controller != null && "Service".equals(controller.getKind()) && "v1".equals(controller.getApiVersion());
    }

    /** The Service a managed slice belongs to; one that lost its service-name label belongs to none, and is deleted. */
    private static String serviceOf(EndpointSlice slice) {
        String name = slice.getMetadata().getLabels().get(LABEL_SERVICE_NAME);
        return slice.getMetadata().getNamespace() + "/" + (name == null ? "" : name);
    }

    private static String key(ObjectMeta meta) {
        return meta.getNamespace() + "/" + meta.getName();
    }

    private static Map<String, String> labelsOf(HasMetadata object) {
        Map<String, String> labels = object.getMetadata().getLabels();
        return labels == null ? Map.of() : labels;
    }

    private void sync(Service svc, List<EndpointSlice> existing) {
        List<ServicePort> ports = svc.getSpec().getPorts() == null ? List.of() : svc.getSpec().getPorts();
        boolean publishNotReady = Boolean.TRUE.equals(svc.getSpec().getPublishNotReadyAddresses());
        // Group endpoints by their resolved port list.
        Map<String, List<EndpointPort>> portSets = new LinkedHashMap<>();
        Map<String, List<Endpoint>> groups = new LinkedHashMap<>();
        List<Pod> pods = new ArrayList<>(store.list(Pod.class, svc.getMetadata().getNamespace()));
        pods.sort(Comparator.comparing(p -> p.getMetadata().getName()));
        for (Pod pod : pods) {
            if (!Selectors.matches(svc.getSpec().getSelector(), pod.getMetadata().getLabels())
                    || Pods.podIp(pod) == null || Pods.isTerminal(pod)) {
                continue;
            }
            List<EndpointPort> resolved = new ArrayList<>();
            for (ServicePort sp : ports) {
                Integer port = resolvePort(pod, sp);
                if (port == null) {
                    continue;
                }
                EndpointPort ep = new EndpointPort();
                ep.setName(sp.getName() == null ? "" : sp.getName());
                ep.setProtocol(sp.getProtocol());
                ep.setPort(port);
                ep.setAppProtocol(sp.getAppProtocol());
                resolved.add(ep);
            }
            // a pod none of whose ports resolve still has an endpoint, in a slice with no ports (kube's reconciler groups
            // it under the empty port list): no listener uses it, but a headless Service's DNS names it
            boolean serving = Pods.isReady(pod);
            boolean terminating = Pods.isTerminating(pod);
            Endpoint e = new Endpoint();
            e.setAddresses(new ArrayList<>(List.of(Pods.podIp(pod))));
            e.setConditions(new EndpointConditions(publishNotReady || (serving && !terminating), serving, terminating));
            e.setNodeName(pod.getSpec().getNodeName());
            e.setTargetRef(new ObjectReferenceBuilder().withKind("Pod").withNamespace(pod.getMetadata().getNamespace())
                    .withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid()).build());
            String key = Json.write(resolved);
            portSets.putIfAbsent(key, resolved);
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(e);
        }
        if (groups.isEmpty()) {
            portSets.put("", List.of());
            groups.put("", new ArrayList<>());
        }
        List<EndpointSlice> desired = new ArrayList<>();
        for (Map.Entry<String, List<Endpoint>> g : groups.entrySet()) {
            List<Endpoint> endpoints = g.getValue();
            for (int i = 0; i < Math.max(1, endpoints.size()); i += MAX_ENDPOINTS_PER_SLICE) {
                EndpointSlice slice = new EndpointSlice();
                slice.setAddressType("IPv4");
                slice.setPorts(new ArrayList<>(portSets.get(g.getKey())));
                slice.setEndpoints(new ArrayList<>(endpoints.subList(Math.min(i, endpoints.size()),
                        Math.min(i + MAX_ENDPOINTS_PER_SLICE, endpoints.size()))));
                desired.add(slice);
            }
        }
        // Reuse existing slices in order (stable names), create or delete the difference.
        List<EndpointSlice> current = new ArrayList<>(existing);
        current.sort(Comparator.comparing(s -> s.getMetadata().getName()));
        for (int i = 0; i < desired.size(); i++) {
            EndpointSlice want = desired.get(i);
            if (i < current.size()) {
                EndpointSlice have = current.get(i);
                if (!Objects.equals(Json.tree(want.getEndpoints()), Json.tree(have.getEndpoints()))
                        || !Objects.equals(Json.tree(want.getPorts()), Json.tree(have.getPorts()))) {
                    api.mutate(EndpointSlice.class, have.getMetadata().getNamespace(), have.getMetadata().getName(), s -> {
                        s.setEndpoints(want.getEndpoints());
                        s.setPorts(want.getPorts());
                        return s;
                    });
                }
            } else {
                ObjectMeta meta = new ObjectMeta();
                meta.setGenerateName(svc.getMetadata().getName() + "-");
                meta.setNamespace(svc.getMetadata().getNamespace());
                meta.setLabels(new LinkedHashMap<>(Map.of(LABEL_SERVICE_NAME, svc.getMetadata().getName(), LABEL_MANAGED_BY, MANAGER)));
                meta.setOwnerReferences(new ArrayList<>(List.of(Pods.controllerRef(svc))));
                want.setMetadata(meta);
                api.createInternal(want);
            }
        }
        for (int i = desired.size(); i < current.size(); i++) {
            api.deleteInternal(ResourceKind.ENDPOINT_SLICE, current.get(i).getMetadata().getNamespace(), current.get(i).getMetadata().getName());
        }
    }

    /**
     * The port a pod serves a Service port on: a number as is (the pod need not declare it), a
     * name through the container port of that name and protocol; null when the pod has none.
     */
    static Integer resolvePort(Pod pod, ServicePort sp) {
        IntOrString target = sp.getTargetPort();
        if (target == null) {
            return sp.getPort();
        }
        if (target.getIntVal() != null) {
            return target.getIntVal();
        }
        String name = target.getStrVal();
        List<Container> containers = new ArrayList<>(pod.getSpec().getContainers() == null ? List.of() : pod.getSpec().getContainers());
        if (pod.getSpec().getInitContainers() != null) {
            pod.getSpec().getInitContainers().stream().filter(dev.portway.api.PodContainers::isSidecar).forEach(containers::add);
        }
        for (Container c : containers) {
            for (ContainerPort cp : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
                if (name.equals(cp.getName()) && Objects.equals(cp.getProtocol() == null ? "TCP" : cp.getProtocol(), sp.getProtocol())) {
                    return cp.getContainerPort();
                }
            }
        }
        return null;
    }
}
