package dev.portway.control;

import dev.portway.api.GoValues;
import dev.portway.api.Times;
import dev.portway.api.gateway.ClassInfo;
import dev.portway.api.gateway.GatewayInfo;
import dev.portway.api.gateway.GatewayModel;
import dev.portway.api.gateway.GatewayStatuses;
import dev.portway.api.gateway.IngressClasses;
import dev.portway.api.gateway.ListenerInfo;
import dev.portway.api.gateway.RouteInfo;
import dev.portway.api.gateway.RouteParentInfo;
import dev.portway.api.gateway.StatusCondition;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.control.alloc.LoadBalancerAllocationException;
import dev.portway.control.alloc.LoadBalancerAllocator;
import dev.portway.net.Ipv4;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddress;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerStatus;
import io.fabric8.kubernetes.api.model.networking.v1.IngressStatus;
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
 * Portway's Gateway API and Ingress controller, the configuration half of the L7 gateway: from
 * {@link GatewayModel} it writes the status the Gateway API specification defines (GatewayClass
 * {@code Accepted} and {@code SupportedVersion}; Gateway {@code Accepted}, {@code Programmed},
 * {@code addresses} and {@code listeners}; HTTPRoute {@code parents}), and gives every Portway
 * Gateway an address from the IPAddressPools as a LoadBalancer Service gets one (the MetalLB
 * annotations {@code metallb.io/address-pool}, {@code metallb.io/loadBalancerIPs} and
 * {@code metallb.io/allow-shared-ip} work the same, and so does {@code spec.addresses}). An address
 * stays with its Gateway while the Gateway lives.
 *
 * <p>Ingress: an IngressClass whose controller is {@value #INGRESS_CONTROLLER} gets one address
 * (ports 80 and 443) while any Ingress uses it, and every Ingress of the class, or with no class when
 * the class is the default one ({@value #DEFAULT_CLASS_ANNOTATION}), shows it in
 * {@code status.loadBalancer.ingress}.
 *
 * <p>"Programmed" means the configuration is complete and valid for the data plane: the Gateway has
 * its address and at least one listener is ready.
 */
public final class GatewayController implements Controller {

    /** The IngressClass controller Portway answers to. */
    public static final String INGRESS_CONTROLLER = IngressClasses.CONTROLLER;
    /** Marks the IngressClass that Ingresses without a class use. */
    public static final String DEFAULT_CLASS_ANNOTATION = IngressClasses.DEFAULT_CLASS_ANNOTATION;
    static final String COMPONENT = "portway-gateway-controller";
    private static final String GATEWAY_KEY = "gateway:";
    private static final String INGRESS_CLASS_KEY = "ingressclass:";

    private final ApiServer api;
    private final Store store;
    private final EventRecorder events;
    private final LoadBalancerAllocator allocator;
    private final String controllerName;
    /** The last allocation failure reported per key, so that a pending Gateway does not flood its events. */
    private final Map<String, String> lastFailure = new HashMap<>();
    /** Ingresses whose status this controller wrote (so that it clears it when one leaves the class). */
    private final Set<String> ingressesWritten = new HashSet<>();
    private GatewayModel model;

    public GatewayController(ControlPlane control) {
        this(control.api(), control.events(), control.addresses(), GatewayModel.CONTROLLER_NAME);
    }

    GatewayController(ApiServer api, EventRecorder events, LoadBalancerAllocator allocator, String controllerName) {
        this.api = api;
        this.store = api.store();
        this.events = events;
        this.allocator = allocator;
        this.controllerName = controllerName;
    }

    /**
     * What takes again the addresses Gateways and Ingress classes hold (their status names them)
     * and may keep, oldest Gateway first; what cannot be kept is left to the pass, which says why.
     * Registered with the allocator by the control plane as it is made, before any controller runs:
     * this controller is added later, and the Services' controller's first pass must not hand out
     * a Gateway's address meanwhile.
     */
    static Runnable keeper(Store store, LoadBalancerAllocator allocator) {
        return () -> keepAll(store, allocator);
    }

    private static void keepAll(Store store, LoadBalancerAllocator allocator) {
        List<Gateway> held = new ArrayList<>(store.list(Gateway.class));
        held.removeIf(gw -> currentIp(gw) == null);
        held.sort(Comparator.comparing((Gateway gw) -> Objects.toString(gw.getMetadata().getCreationTimestamp(), ""))
                .thenComparing(gw -> gw.getMetadata().getNamespace() + "/" + gw.getMetadata().getName()));
        for (Gateway gw : held) {
            List<String> ports = new ArrayList<>();
            if (gw.getSpec() != null && gw.getSpec().getListeners() != null) {
                gw.getSpec().getListeners().forEach(l -> {
                    String p = "TCP/" + l.getPort();
                    if (l.getPort() != null && !ports.contains(p)) {
                        ports.add(p);
                    }
                });
            }
            keep(allocator, gatewayRequest(gw, ports), currentIp(gw));
        }
        ingressesByClass(store).forEach((cls, ingresses) -> ingresses.stream().map(GatewayController::currentIp).filter(Objects::nonNull)
                .findFirst().ifPresent(ip -> keep(allocator, ingressRequest(cls), ip)));
    }

    private static void keep(LoadBalancerAllocator allocator, LoadBalancerAllocator.Request req, long ip) {
        try {
            allocator.assign(req, ip);
        } catch (LoadBalancerAllocationException e) {
            // not allowed any more: the pass says so, and gives it another
        }
    }

    private static LoadBalancerAllocator.Request gatewayRequest(Gateway gw, List<String> ports) {
        Map<String, String> labels = gw.getMetadata().getLabels() == null ? Map.of() : gw.getMetadata().getLabels();
        return new LoadBalancerAllocator.Request(GATEWAY_KEY + gw.getMetadata().getNamespace() + "/" + gw.getMetadata().getName(),
                gw.getMetadata().getNamespace(), labels, ports, nz(annotation(gw, LoadBalancerController.ANNOTATION_ALLOW_SHARED_IP)), "");
    }

    private static LoadBalancerAllocator.Request ingressRequest(String ingressClass) {
        return new LoadBalancerAllocator.Request(INGRESS_CLASS_KEY + ingressClass, "", Map.of(), List.of("TCP/80", "TCP/443"), "", "");
    }

    /** The model of the last pass (for the data plane's tests and for describe). */
    public GatewayModel model() {
        return model;
    }

    @Override
    public void reconcile() {
        model = GatewayModel.build(controllerName, store.list(GatewayClass.class), store.list(Gateway.class),
                store.list(HTTPRoute.class), store.list(ReferenceGrant.class), () -> store.list(Service.class), store.list(Namespace.class),
                store.list(Secret.class));
        List<IPAddressPool> pools = store.list(IPAddressPool.class);
        allocator.setPools(pools, store.list(Namespace.class));
        allocator.keepHeld(); // before any Gateway or Ingress class is given a new address
        String now = Times.format(api.config().clock().instant());
        for (ClassInfo c : model.gatewayClasses()) {
            writeClassStatus(c, now);
        }
        Set<String> ours = new HashSet<>();
        model.gateways().forEach(g -> ours.add(GATEWAY_KEY + g.namespace() + "/" + g.name()));
        for (String key : allocator.allocatedKeys()) {
            if (key.startsWith(GATEWAY_KEY) && !ours.contains(key)) {
                allocator.unassign(key);
            }
        }
        lastFailure.keySet().removeIf(k -> k.startsWith(GATEWAY_KEY) && !ours.contains(k));
        // Gateways that hold an address go first, oldest first, so that they keep it.
        List<GatewayInfo> ordered = new ArrayList<>(model.gateways());
        ordered.sort(Comparator.comparing((GatewayInfo g) -> currentIp(g.gateway()) == null)
                .thenComparing(g -> Objects.toString(g.gateway().getMetadata().getCreationTimestamp(), ""))
                .thenComparing(g -> g.namespace() + "/" + g.name()));
        for (GatewayInfo g : ordered) {
            String ip = g.accepted().holds() ? address(g, !pools.isEmpty()) : release(g);
            writeGatewayStatus(g, ip, now);
        }
        for (HTTPRoute route : store.list(HTTPRoute.class)) {
            writeRouteStatus(route, model.route(route.getMetadata().getNamespace(), route.getMetadata().getName()).orElse(null), now);
        }
        reconcileIngresses(!pools.isEmpty());
    }

    // ---- GatewayClass ---------------------------------------------------------------------------

    private void writeClassStatus(ClassInfo c, String now) {
        long generation = generation(c.gatewayClass());
        api.mutate(GatewayClass.class, null, c.name(), gc -> {
            GatewayClassStatus status = gc.getStatus() == null ? new GatewayClassStatus() : gc.getStatus();
            status.setConditions(GatewayStatuses.merge(status.getConditions(), c.conditions(), generation, now));
            gc.setStatus(status);
            return gc;
        });
    }

    // ---- Gateway addresses ----------------------------------------------------------------------

    /** Assigns (or keeps) the Gateway's address; null when it has none. */
    private String address(GatewayInfo g, boolean havePools) {
        Gateway gw = g.gateway();
        String key = GATEWAY_KEY + g.namespace() + "/" + g.name();
        if (!havePools) {
            allocator.unassign(key);
            fail(gw, key, "no IPAddressPool is configured");
            return null;
        }
        List<String> ports = new ArrayList<>();
        for (ListenerInfo l : g.listeners()) {
            String p = "TCP/" + l.port();
            if (!ports.contains(p)) {
                ports.add(p);
            }
        }
        LoadBalancerAllocator.Request req = gatewayRequest(gw, ports);
        Long desired;
        try {
            desired = desiredIp(g);
        } catch (IllegalArgumentException e) {
            fail(gw, key, e.getMessage());
            return null;
        }
        String desiredPool = annotation(gw, LoadBalancerController.ANNOTATION_ADDRESS_POOL);
        Long current = allocator.ipOf(key);
        if (current == null) {
            current = currentIp(gw);
        }
        if (current != null) {
            try {
                allocator.assign(req, current);
            } catch (LoadBalancerAllocationException e) {
                allocator.unassign(key);
                current = null;
            }
            if (current != null && ((desiredPool != null && !desiredPool.equals(allocator.poolOf(key)))
                    || (desired != null && !desired.equals(current)))) {
                allocator.unassign(key);
                current = null;
            }
        }
        if (current == null) {
            try {
                current = allocator.allocateNew(req, desired, desiredPool, "IP");
            } catch (LoadBalancerAllocationException e) {
                fail(gw, key, e.getMessage());
                return null;
            }
            lastFailure.remove(key);
            events.normal(gw, "IPAllocated", "Assigned IP [" + GoValues.quote(Ipv4.format(current)) + "]", COMPONENT);
        }
        return Ipv4.format(current);
    }

    private String release(GatewayInfo g) {
        allocator.unassign(GATEWAY_KEY + g.namespace() + "/" + g.name());
        return null;
    }

    private void fail(HasMetadata object, String key, String reason) {
        String message = "Failed to allocate IP for " + GoValues.quote(key.substring(key.indexOf(':') + 1)) + ": " + reason;
        if (!message.equals(lastFailure.put(key, message))) {
            events.warning(object, "AllocationFailed", message, COMPONENT);
        }
    }

    /** The address asked for by {@code metallb.io/loadBalancerIPs} or {@code spec.addresses}, if any. */
    private static Long desiredIp(GatewayInfo g) {
        String annotation = annotation(g.gateway(), LoadBalancerController.ANNOTATION_LOAD_BALANCER_IPS);
        if (annotation != null) {
            String[] ips = annotation.split(",");
            if (ips.length != 1) {
                throw new IllegalArgumentException("invalid " + LoadBalancerController.ANNOTATION_LOAD_BALANCER_IPS + ": "
                        + GoValues.quote(annotation) + " (Portway's addresses are IPv4 only: one address)");
            }
            return Ipv4.parse(ips[0].trim()).orElseThrow(() -> new IllegalArgumentException("invalid "
                    + LoadBalancerController.ANNOTATION_LOAD_BALANCER_IPS + ": " + GoValues.quote(annotation)));
        }
        return g.requestedAddress().flatMap(Ipv4::parse).orElse(null);
    }

    private static Long currentIp(Gateway gw) {
        if (gw.getStatus() == null || gw.getStatus().getAddresses() == null) {
            return null;
        }
        for (GatewayStatusAddress a : gw.getStatus().getAddresses()) {
            if (a.getType() == null || "IPAddress".equals(a.getType())) {
                var ip = Ipv4.parse(nz(a.getValue()));
                if (ip.isPresent()) {
                    return ip.get();
                }
            }
        }
        return null;
    }

    // ---- Gateway status -------------------------------------------------------------------------

    private void writeGatewayStatus(GatewayInfo g, String ip, String now) {
        long generation = generation(g.gateway());
        List<StatusCondition> gatewayConditions = new ArrayList<>();
        gatewayConditions.add(g.accepted());
        boolean anyReady = g.listeners().stream().anyMatch(ListenerInfo::ready);
        if (!g.accepted().holds()) {
            gatewayConditions.add(StatusCondition.isFalse("Programmed", "Invalid", "Gateway is not accepted: " + g.accepted().message()));
        } else if (ip == null) {
            String why = lastFailure.get(GATEWAY_KEY + g.namespace() + "/" + g.name());
            gatewayConditions.add(StatusCondition.isFalse("Programmed", "AddressNotAssigned",
                    "No address from the IPAddressPools" + (why == null ? "" : ": " + why)));
        } else if (!anyReady) {
            gatewayConditions.add(StatusCondition.isFalse("Programmed", "Invalid", "No listener is ready"));
        } else {
            gatewayConditions.add(StatusCondition.isTrue("Programmed", "Programmed", "Address " + ip + " is assigned"));
        }
        api.mutate(Gateway.class, g.namespace(), g.name(), gw -> {
            GatewayStatus status = gw.getStatus() == null ? new GatewayStatus() : gw.getStatus();
            status.setConditions(GatewayStatuses.merge(status.getConditions(), gatewayConditions, generation, now));
            List<GatewayStatusAddress> addresses = new ArrayList<>();
            if (ip != null) {
                addresses.add(new GatewayStatusAddress("IPAddress", ip));
            }
            status.setAddresses(addresses);
            Map<String, ListenerStatus> existing = new LinkedHashMap<>();
            for (ListenerStatus ls : status.getListeners() == null ? List.<ListenerStatus>of() : status.getListeners()) {
                existing.put(ls.getName(), ls);
            }
            List<ListenerStatus> listeners = new ArrayList<>();
            for (ListenerInfo l : g.listeners()) {
                ListenerStatus old = existing.get(l.name());
                List<StatusCondition> conditions = new ArrayList<>(l.conditions());
                if (!g.accepted().holds() || !l.ready()) {
                    conditions.add(StatusCondition.isFalse("Programmed", "Invalid", "Listener is not ready"));
                } else if (ip == null) {
                    conditions.add(StatusCondition.isFalse("Programmed", "Pending", "Waiting for the Gateway's address"));
                } else {
                    conditions.add(StatusCondition.isTrue("Programmed", "Programmed", "Listener is programmed"));
                }
                List<Condition> previous = old == null ? List.of() : old.getConditions();
                if (l.condition("OverlappingTLSConfig").isEmpty()) {
                    previous = GatewayStatuses.without(previous, List.of("OverlappingTLSConfig"));
                }
                List<RouteGroupKind> kinds = new ArrayList<>();
                for (ListenerInfo.RouteKind k : l.supportedKinds()) {
                    kinds.add(new RouteGroupKind(k.group(), k.kind()));
                }
                ListenerStatus ls = new ListenerStatus();
                ls.setName(l.name());
                ls.setSupportedKinds(kinds);
                ls.setAttachedRoutes((int) l.routes().stream().map(r -> r.route().getMetadata().getUid()).distinct().count());
                ls.setConditions(GatewayStatuses.merge(previous, conditions, generation, now));
                listeners.add(ls);
            }
            status.setListeners(listeners);
            gw.setStatus(status);
            return gw;
        });
    }

    // ---- HTTPRoute status -----------------------------------------------------------------------

    private void writeRouteStatus(HTTPRoute route, RouteInfo info, String now) {
        boolean hasOurs = route.getStatus() != null && route.getStatus().getParents() != null
                && route.getStatus().getParents().stream().anyMatch(p -> controllerName.equals(p.getControllerName()));
        if (info == null && !hasOurs) {
            return;
        }
        long generation = generation(route);
        api.mutate(HTTPRoute.class, route.getMetadata().getNamespace(), route.getMetadata().getName(), r -> {
            List<RouteParentStatus> old = r.getStatus() == null || r.getStatus().getParents() == null ? List.of() : r.getStatus().getParents();
            List<RouteParentStatus> parents = new ArrayList<>();
            for (RouteParentStatus p : old) {
                if (!controllerName.equals(p.getControllerName())) {
                    parents.add(p); // another controller's entry: not ours to touch
                }
            }
            for (RouteParentInfo p : info == null ? List.<RouteParentInfo>of() : info.parents()) {
                List<Condition> previous = old.stream()
                        .filter(o -> controllerName.equals(o.getControllerName()) && Objects.equals(o.getParentRef(), p.parentRef().spec()))
                        .findFirst().map(RouteParentStatus::getConditions).orElse(List.of());
                RouteParentStatus s = new RouteParentStatus();
                s.setParentRef(p.parentRef().spec());
                s.setControllerName(controllerName);
                s.setConditions(GatewayStatuses.merge(previous, List.of(p.accepted(), p.resolvedRefs()), generation, now));
                parents.add(s);
            }
            r.setStatus(parents.isEmpty() ? null : new HTTPRouteStatus(parents));
            return r;
        });
    }

    // ---- Ingress --------------------------------------------------------------------------------

    /** This controller's IngressClasses, by name. */
    private static Map<String, IngressClass> ourIngressClasses(Store store) {
        return IngressClasses.ours(store.list(IngressClass.class));
    }

    /** The Ingresses of each of this controller's IngressClasses, by class name (the default class's too). */
    private static Map<String, List<Ingress>> ingressesByClass(Store store) {
        return IngressClasses.byClass(store.list(IngressClass.class), store.list(Ingress.class));
    }

    private void reconcileIngresses(boolean havePools) {
        Map<String, List<Ingress>> byClass = ingressesByClass(store);
        Map<String, IngressClass> classes = ourIngressClasses(store);
        for (String key : allocator.allocatedKeys()) {
            if (key.startsWith(INGRESS_CLASS_KEY) && !byClass.containsKey(key.substring(INGRESS_CLASS_KEY.length()))) {
                allocator.unassign(key);
            }
        }
        Set<String> written = new HashSet<>();
        for (Map.Entry<String, List<Ingress>> e : byClass.entrySet()) {
            IngressClass ic = classes.get(e.getKey());
            String ip = ingressAddress(ic, e.getValue(), havePools);
            for (Ingress ing : e.getValue()) {
                String k = ing.getMetadata().getNamespace() + "/" + ing.getMetadata().getName();
                written.add(k);
                writeIngressStatus(ing, ip);
            }
        }
        for (String k : ingressesWritten) {
            if (!written.contains(k)) {
                String[] nn = k.split("/", 2);
                store.get(Ingress.class, nn[0], nn[1]).ifPresent(ing -> writeIngressStatus(ing, null));
            }
        }
        ingressesWritten.clear();
        ingressesWritten.addAll(written);
    }

    private String ingressAddress(IngressClass ic, List<Ingress> ingresses, boolean havePools) {
        String key = INGRESS_CLASS_KEY + ic.getMetadata().getName();
        if (!havePools) {
            allocator.unassign(key);
            fail(ingresses.getFirst(), key, "no IPAddressPool is configured");
            return null;
        }
        LoadBalancerAllocator.Request req = ingressRequest(ic.getMetadata().getName());
        Long current = allocator.ipOf(key);
        if (current == null) {
            for (Ingress ing : ingresses) {
                current = currentIp(ing);
                if (current != null) {
                    break;
                }
            }
        }
        try {
            if (current != null) {
                try {
                    allocator.assign(req, current);
                    return Ipv4.format(current);
                } catch (LoadBalancerAllocationException e) {
                    allocator.unassign(key);
                }
            }
            long ip = allocator.allocate(req);
            lastFailure.remove(key);
            for (Ingress ing : ingresses) {
                events.normal(ing, "IPAllocated", "Assigned IP [" + GoValues.quote(Ipv4.format(ip)) + "]", COMPONENT);
            }
            return Ipv4.format(ip);
        } catch (LoadBalancerAllocationException e) {
            fail(ingresses.getFirst(), key, e.getMessage());
            return null;
        }
    }

    private static Long currentIp(Ingress ing) {
        if (ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null || ing.getStatus().getLoadBalancer().getIngress() == null) {
            return null;
        }
        for (IngressLoadBalancerIngress in : ing.getStatus().getLoadBalancer().getIngress()) {
            var ip = Ipv4.parse(nz(in.getIp()));
            if (ip.isPresent()) {
                return ip.get();
            }
        }
        return null;
    }

    private void writeIngressStatus(Ingress ing, String ip) {
        api.mutate(Ingress.class, ing.getMetadata().getNamespace(), ing.getMetadata().getName(), i -> {
            List<IngressLoadBalancerIngress> list = new ArrayList<>();
            if (ip != null) {
                IngressLoadBalancerIngress in = new IngressLoadBalancerIngress();
                in.setIp(ip);
                list.add(in);
            }
            i.setStatus(new IngressStatus(new IngressLoadBalancerStatus(list)));
            return i;
        });
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static long generation(HasMetadata o) {
        return o.getMetadata().getGeneration() == null ? 0 : o.getMetadata().getGeneration();
    }

    private static String annotation(HasMetadata o, String name) {
        Map<String, String> a = o.getMetadata().getAnnotations();
        if (a == null) {
            return null;
        }
        if (a.containsKey(name)) {
            return a.get(name);
        }
        return a.get("metallb.universe.tf/" + name.substring(name.indexOf('/') + 1));
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
