package dev.portway.control;

import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.Selectors;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The EndpointSlice controller: for every Service with a selector, the pods it selects become
 * endpoints with ready/serving/terminating conditions, grouped into slices by their resolved
 * ports (a named targetPort may resolve to different numbers on different pods; a pod without
 * the named port is left out of that port). Services without a selector keep the slices users
 * write themselves.
 */
public final class EndpointSliceController implements Controller {

    public static final String LABEL_SERVICE_NAME = "kubernetes.io/service-name";
    public static final String LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
    public static final String MANAGER = "endpointslice-controller.k8s.io";
    private static final int MAX_ENDPOINTS_PER_SLICE = 100;

    private final ApiServer api;
    private final Store store;

    public EndpointSliceController(ControlPlane control) {
        this.api = control.api();
        this.store = control.store();
    }

    @Override
    public void reconcile() {
        Map<String, List<EndpointSlice>> managed = new HashMap<>();
        for (EndpointSlice slice : store.list(EndpointSlice.class)) {
            Map<String, String> labels = slice.getMetadata().getLabels();
            if (labels != null && MANAGER.equals(labels.get(LABEL_MANAGED_BY))) {
                managed.computeIfAbsent(slice.getMetadata().getNamespace() + "/" + labels.get(LABEL_SERVICE_NAME),
                        k -> new ArrayList<>()).add(slice);
            }
        }
        for (Service svc : store.list(Service.class)) {
            String key = svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName();
            List<EndpointSlice> existing = managed.getOrDefault(key, List.of());
            managed.remove(key);
            if (svc.getSpec().getSelector() == null || svc.getSpec().getSelector().isEmpty()
                    || "ExternalName".equals(svc.getSpec().getType())) {
                existing.forEach(s -> api.deleteInternal(ResourceKind.ENDPOINT_SLICE, s.getMetadata().getNamespace(), s.getMetadata().getName()));
                continue;
            }
            sync(svc, existing);
        }
        // Slices of Services that are gone (the garbage collector usually got them first).
        managed.values().forEach(list -> list.forEach(s ->
                api.deleteInternal(ResourceKind.ENDPOINT_SLICE, s.getMetadata().getNamespace(), s.getMetadata().getName())));
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
            if (resolved.isEmpty() && !ports.isEmpty()) {
                continue;
            }
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
            pod.getSpec().getInitContainers().stream().filter(c -> "Always".equals(c.getRestartPolicy())).forEach(containers::add);
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
