package dev.portway.control;

import dev.portway.api.GoValues;
import dev.portway.api.ResourceKind;
import dev.portway.api.ServiceAnnotations;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.metallb.IPAddressPoolStatus;
import dev.portway.control.alloc.LoadBalancerAllocationException;
import dev.portway.control.alloc.LoadBalancerAllocator;
import dev.portway.net.Ipv4;
import dev.portway.store.Store;
import dev.portway.store.WatchEvent;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerStatus;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The LoadBalancer implementation's controller, as MetalLB's: assigns an address from the
 * IPAddressPools to each LoadBalancer Service of its class and writes it to
 * {@code status.loadBalancer.ingress}.
 *
 * <p>An address, once assigned, stays with its Service for the Service's life: every pass
 * re-assigns the addresses Services already hold before handing out new ones, so neither a
 * restart nor the order of events can move it. Services that get no address stay
 * {@code <pending>} and are retried on every pass, so they get one as soon as one frees.
 */
final class LoadBalancerController implements Controller {

    static final String COMPONENT = "portway-controller";
    static final String ANNOTATION_ADDRESS_POOL = "metallb.io/address-pool";
    static final String ANNOTATION_LOAD_BALANCER_IPS = "metallb.io/loadBalancerIPs";
    static final String ANNOTATION_ALLOW_SHARED_IP = "metallb.io/allow-shared-ip";
    static final String ANNOTATION_ALLOCATED_FROM_POOL = "metallb.io/ip-allocated-from-pool";
    private static final String DEPRECATED_PREFIX = "metallb.universe.tf/";

    private final ApiServer api;
    private final Store store;
    private final EventRecorder events;
    private final String loadBalancerClass;
    private final LoadBalancerAllocator allocator;
    /** The last failure reported per Service, so a pending Service does not flood its events. */
    private final Map<String, String> lastFailure = new HashMap<>();
    /**
     * The Services of this implementation's class, by {@code namespace/name}: read once, then kept
     * from the store's events, so that a pass does not read thousands of other Services; null
     * until the first pass.
     */
    private Map<String, Service> ours;
    /**
     * The ranges of the cluster's pools that are not valid and have no valid version known (refused
     * since the controller started): an address a Service holds in one of them, and in no known pool,
     * stays as it is, neither cleared nor moved, where it would have been; the known pools serve
     * meanwhile. Any other address in no pool is released, as a deleted pool's addresses are.
     */
    private volatile List<dev.portway.net.AddressRange> unknownPools = List.of();

    void waitForPools(List<dev.portway.net.AddressRange> ranges) {
        unknownPools = List.copyOf(ranges);
    }

    private boolean inUnknownPool(Long ip) {
        if (ip != null) {
            for (dev.portway.net.AddressRange r : unknownPools) {
                if (r.contains(ip)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * @param allocator the pools' allocator, shared with the other users of the pools (Gateways,
     *                  Ingresses); this controller manages only the Services' keys ({@code ns/name})
     */
    LoadBalancerController(ApiServer api, EventRecorder events, LoadBalancerAllocator allocator) {
        this.api = api;
        this.allocator = allocator;
        this.store = api.store();
        this.events = events;
        this.loadBalancerClass = api.config().loadBalancerClass();
        store.watch(this::changed);
        allocator.addKeeper(this::keepAll);
    }

    /** Takes again the addresses Services hold and may keep, oldest first (one of two that name one address keeps it). */
    private void keepAll() {
        if (ours == null) {
            return; // before the first pass: which pools there are is not set yet either
        }
        List<Service> ordered = new ArrayList<>(ours.values());
        ordered.removeIf(s -> currentIp(s) == null);
        ordered.sort(Comparator.comparing((Service s) -> Objects.toString(s.getMetadata().getCreationTimestamp(), ""))
                .thenComparing(LoadBalancerController::key));
        ordered.forEach(this::keep);
    }

    /** Keeps {@link #ours} up to date (on the control thread, as batches commit). */
    private void changed(List<WatchEvent> batch) {
        if (ours == null) {
            return; // the first pass reads them all
        }
        for (WatchEvent e : batch) {
            if (e.kind() == ResourceKind.SERVICE) {
                Service svc = (Service) e.object();
                if (e.type() != WatchEvent.Type.DELETED && isOurs(svc)) {
                    ours.put(key(svc), svc);
                } else {
                    ours.remove(key(svc));
                }
            }
        }
    }

    @Override
    public void reconcile() {
        List<IPAddressPool> pools = store.list(IPAddressPool.class);
        allocator.setPools(pools, store.list(io.fabric8.kubernetes.api.model.Namespace.class));
        if (ours == null) {
            ours = new HashMap<>();
            for (Service svc : store.list(Service.class)) {
                if (isOurs(svc)) {
                    ours.put(key(svc), svc);
                }
            }
        }
        for (String key : allocator.allocatedKeys()) {
            if (isServiceKey(key) && !ours.containsKey(key)) {
                allocator.unassign(key);
            }
        }
        lastFailure.keySet().retainAll(ours.keySet());
        // Services that hold an address go first, oldest first, so that they keep it.
        List<Service> ordered = new ArrayList<>(ours.values());
        ordered.sort(Comparator.comparing((Service s) -> currentIp(s) == null)
                .thenComparing(s -> Objects.toString(s.getMetadata().getCreationTimestamp(), ""))
                .thenComparing(LoadBalancerController::key));
        // Every address a Service (or a Gateway, an Ingress class) holds and may keep is taken before any
        // Service is given a new one: after a restart (an empty allocator) a Service whose address the pools
        // no longer allow would otherwise be given the lowest free one, a later Service's or a Gateway's
        allocator.keepHeld();
        for (Service svc : ordered) {
            converge(svc, !pools.isEmpty());
        }
        updatePoolStatus(pools);
    }

    private boolean isOurs(Service svc) {
        if (!"LoadBalancer".equals(svc.getSpec().getType())) {
            return false;
        }
        return ClusterConfig.handles(loadBalancerClass, svc.getSpec().getLoadBalancerClass());
    }

    /** Takes the address {@code svc} holds again, if the pools allow it; what cannot be kept is left to {@link #converge}. */
    private void keep(Service svc) {
        Long current = currentIp(svc);
        if (current == null || svc.getSpec().getClusterIP() == null || svc.getSpec().getClusterIP().isEmpty()) {
            return;
        }
        try {
            allocator.assign(LoadBalancerAllocator.Request.of(svc, annotation(svc, ANNOTATION_ALLOW_SHARED_IP)), current);
        } catch (LoadBalancerAllocationException e) {
            // not allowed any more: converge says so, and gives it another
        }
    }

    private void converge(Service svc, boolean havePools) {
        String key = key(svc);
        if (!havePools) {
            if (inUnknownPool(currentIp(svc))) {
                return; // its pool is one not known yet
            }
            allocator.unassign(key);
            fail(svc, "no IPAddressPool is configured");
            return;
        }
        if (svc.getSpec().getClusterIP() == null || svc.getSpec().getClusterIP().isEmpty()) {
            return;
        }
        String family = unservedFamily(svc);
        if (family != null) {
            // the pools are IPv4 alone: an IPv4 address on a Service that asked for none would be one its
            // clients never look for (as MetalLB fails it, with no pool of that family)
            allocator.unassign(key);
            fail(svc, "no available IPs for " + family + " IPFamily (Portway's pools are IPv4)");
            return;
        }
        LoadBalancerAllocator.Request req = LoadBalancerAllocator.Request.of(svc, annotation(svc, ANNOTATION_ALLOW_SHARED_IP));
        Long stated = currentIp(svc);
        // the address it holds: its status's, or the one the allocator holds for it when the status lost it (a write
        // that has not landed, overwritten by the cluster's copy), which must be judged as well, not reused unjudged
        Long current = stated != null ? stated : allocator.ipOf(key);
        // first, as MetalLB's convergeBalancer: is the address it holds still allowed?
        if (current != null) {
            try {
                allocator.assign(req, current);
            } catch (LoadBalancerAllocationException e) {
                if (stated != null && !allocator.inAnyPool(current) && inUnknownPool(current)) {
                    return; // in a refused pool with no valid version known yet; nobody else can be given it meanwhile
                }
                events.normal(svc, "ClearAssignment", "current IP for " + GoValues.quote(key)
                        + " not allowed by config, will attempt for new IP assignment: " + e.getMessage(), COMPONENT);
                allocator.unassign(key);
                current = null;
            }
        }
        Long desired;
        try {
            desired = desiredIp(svc);
        } catch (IllegalArgumentException e) {
            // an address it still may hold stays its own (its status names it, and the allocator holds it); one
            // it may not is cleared from its status: the allocator no longer holds it, and another Service may get it
            report(svc, "LoadBalancerFailed", "invalid requested loadbalancer IPs: " + e.getMessage());
            if (current == null && stated != null) {
                clearStatus(svc);
            }
            return;
        }
        String desiredPool = annotation(svc, ANNOTATION_ADDRESS_POOL);
        if (current != null && desiredPool != null && !desiredPool.equals(allocator.poolOf(key))) {
            allocator.unassign(key);
            current = null;
        }
        if (current != null && desired != null && !desired.equals(current)) {
            allocator.unassign(key);
            current = null;
        }
        if (current == null) {
            try {
                current = allocator.allocateNew(req, desired, desiredPool, "loadBalancer IP(s)");
            } catch (LoadBalancerAllocationException e) {
                fail(svc, e.getMessage());
                return;
            }
            lastFailure.remove(key);
            events.normal(svc, "IPAllocated", "Assigned IP [" + GoValues.quote(Ipv4.format(current)) + "]", COMPONENT);
        }
        String ip = Ipv4.format(current);
        String pool = allocator.poolOf(key);
        api.mutate(Service.class, svc.getMetadata().getNamespace(), svc.getMetadata().getName(), s -> {
            LoadBalancerIngress ingress = new LoadBalancerIngress();
            ingress.setIp(ip);
            // KEP-1860: "Proxy" sends in-cluster clients of the address through the load balancer, where kube-proxy would
            // take them straight to the pods; connections that must start with a PROXY protocol header cannot skip it
            ingress.setIpMode(ServiceAnnotations.proxyProtocol(s) ? "Proxy" : "VIP");
            if (s.getStatus() == null) {
                s.setStatus(new ServiceStatus());
            }
            s.getStatus().setLoadBalancer(new LoadBalancerStatus(new ArrayList<>(List.of(ingress))));
            if (s.getMetadata().getAnnotations() == null) {
                s.getMetadata().setAnnotations(new LinkedHashMap<>());
            }
            s.getMetadata().getAnnotations().put(ANNOTATION_ALLOCATED_FROM_POOL, pool);
            return s;
        });
    }

    /**
     * The family a Service needs that IPv4 pools cannot give: IPv6 for one whose families are IPv6
     * alone, or both for one that requires dual stack; null when an IPv4 address serves it.
     */
    private static String unservedFamily(Service svc) {
        List<String> families = svc.getSpec().getIpFamilies();
        if (families != null && !families.isEmpty() && !families.contains("IPv4")) {
            return String.join(",", families);
        }
        if ("RequireDualStack".equals(svc.getSpec().getIpFamilyPolicy())) {
            return "IPv6";
        }
        return null;
    }

    /** The Service stays pending: its status is cleared and the failure reported once. */
    private void fail(Service svc, String reason) {
        report(svc, "AllocationFailed", "Failed to allocate IP for " + GoValues.quote(key(svc)) + ": " + reason);
        clearStatus(svc);
    }

    /** Clears the address from the Service's status and its pool annotation. */
    private void clearStatus(Service svc) {
        api.mutate(Service.class, svc.getMetadata().getNamespace(), svc.getMetadata().getName(), s -> {
            if (s.getStatus() != null) {
                s.getStatus().setLoadBalancer(new LoadBalancerStatus());
            }
            if (s.getMetadata().getAnnotations() != null) {
                s.getMetadata().getAnnotations().remove(ANNOTATION_ALLOCATED_FROM_POOL);
            }
            return s;
        });
    }

    private void report(Service svc, String reason, String message) {
        if (!message.equals(lastFailure.put(key(svc), message))) {
            events.warning(svc, reason, message, COMPONENT);
        }
    }

    private void updatePoolStatus(List<IPAddressPool> pools) {
        Map<String, long[]> counters = allocator.counters();
        for (IPAddressPool pool : pools) {
            long[] c = counters.get(pool.getMetadata().getName());
            if (c == null) {
                continue;
            }
            api.mutate(IPAddressPool.class, pool.getMetadata().getNamespace(), pool.getMetadata().getName(), p -> {
                p.setStatus(new IPAddressPoolStatus(c[0], c[1]));
                return p;
            });
        }
    }

    /** The address requested by annotation or (deprecated) spec.loadBalancerIP, if any. */
    private static Long desiredIp(Service svc) {
        String annotation = annotation(svc, ANNOTATION_LOAD_BALANCER_IPS);
        String specIp = svc.getSpec().getLoadBalancerIP();
        boolean hasSpec = specIp != null && !specIp.isEmpty();
        if (annotation == null && !hasSpec) {
            return null;
        }
        if (annotation != null && hasSpec) {
            throw new IllegalArgumentException("service can not have both " + ANNOTATION_LOAD_BALANCER_IPS + " and svc.Spec.LoadBalancerIP");
        }
        if (annotation != null) {
            List<String> ips = List.of(annotation.split(",")).stream().map(String::trim).collect(Collectors.toList());
            if (ips.size() != 1) {
                throw new IllegalArgumentException("invalid " + ANNOTATION_LOAD_BALANCER_IPS + ": " + GoValues.quote(annotation)
                        + " (Portway's service network is IPv4 only: one address)");
            }
            return Ipv4.parse(ips.getFirst()).orElseThrow(() ->
                    new IllegalArgumentException("invalid " + ANNOTATION_LOAD_BALANCER_IPS + ": " + GoValues.quote(annotation)));
        }
        return Ipv4.parse(specIp).orElseThrow(() -> new IllegalArgumentException("invalid spec.loadBalancerIP " + GoValues.quote(specIp)));
    }

    private static Long currentIp(Service svc) {
        if (svc.getStatus() == null || svc.getStatus().getLoadBalancer() == null || svc.getStatus().getLoadBalancer().getIngress() == null) {
            return null;
        }
        for (LoadBalancerIngress in : svc.getStatus().getLoadBalancer().getIngress()) {
            if (in.getIp() != null) {
                var ip = Ipv4.parse(in.getIp());
                if (ip.isPresent()) {
                    return ip.get();
                }
            }
        }
        return null;
    }

    /** The stable annotation, or its deprecated {@code metallb.universe.tf/} twin. */
    private static String annotation(Service svc, String name) {
        Map<String, String> a = svc.getMetadata().getAnnotations();
        if (a == null) {
            return null;
        }
        if (a.containsKey(name)) {
            return a.get(name);
        }
        return a.get(DEPRECATED_PREFIX + name.substring(name.indexOf('/') + 1));
    }

    /** Service keys are {@code namespace/name}; other users of the allocator prefix theirs with {@code kind:}. */
    static boolean isServiceKey(String key) {
        return key.indexOf(':') < 0;
    }

    static String key(Service svc) {
        return svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName();
    }

    /** Keys of Services currently holding an address (for tests and status). */
    Set<String> allocatedKeys() {
        return allocator.allocatedKeys().stream().filter(LoadBalancerController::isServiceKey).collect(Collectors.toSet());
    }
}
