package dev.portway.control.alloc;

import dev.portway.api.GoValues;
import dev.portway.api.Selectors;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.metallb.ServiceAllocation;
import dev.portway.net.AddressRange;
import dev.portway.net.Ipv4;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * LoadBalancer addresses from IPAddressPools, with MetalLB's rules and messages
 * ({@code internal/allocator}): lowest free address first, pools pinned by {@code serviceAllocation}
 * tried by priority before the auto-assign pools, {@code avoidBuggyIPs} skipping .0 and .255, and
 * address sharing only between Services with the same {@code allow-shared-ip} key whose
 * ports do not clash (and, with {@code externalTrafficPolicy: Local}, the same selector).
 * Not thread-safe: owned by the control thread.
 */
public final class LoadBalancerAllocator {

    /** What a Service asks for and offers, derived from its spec and annotations. */
    public record Request(String key, String namespace, Map<String, String> labels, List<String> ports,
                          String sharingKey, String backendKey) {

        public static Request of(Service svc, String sharingKey) {
            List<String> ports = new ArrayList<>();
            for (ServicePort p : svc.getSpec().getPorts() == null ? List.<ServicePort>of() : svc.getSpec().getPorts()) {
                ports.add(p.getProtocol() + "/" + p.getPort());
            }
            String backend = "Local".equals(svc.getSpec().getExternalTrafficPolicy())
                    ? Selectors.format(svc.getSpec().getSelector()) : "";
            return new Request(svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName(),
                    svc.getMetadata().getNamespace(), svc.getMetadata().getLabels() == null ? Map.of() : svc.getMetadata().getLabels(),
                    ports, sharingKey == null ? "" : sharingKey, backend);
        }
    }

    /**
     * A pool as the allocator sees it. {@code namespaces}: MetalLB's set for {@code serviceAllocation},
     * the namespaces it lists and those its {@code namespaceSelectors} select (empty: any namespace).
     */
    record Pool(String name, List<AddressRange> ranges, boolean autoAssign, boolean avoidBuggyIps, ServiceAllocation allocation,
                Set<String> namespaces) {

        /**
         * Whether MetalLB pins the pool to Services by their labels: it has {@code serviceSelectors},
         * or a {@code serviceAllocation} that names nothing, which selects every Service.
         */
        boolean selectsServices() {
            return allocation != null && (!empty(allocation.getServiceSelectors())
                    || empty(allocation.getNamespaces()) && empty(allocation.getNamespaceSelectors()));
        }

        private static boolean empty(List<?> list) {
            return list == null || list.isEmpty();
        }

        boolean contains(long ip) {
            if (avoidBuggyIps && buggy(ip)) {
                return false;
            }
            return ranges.stream().anyMatch(r -> r.contains(ip));
        }

        long size() {
            long n = 0;
            for (AddressRange r : ranges) {
                n += r.size();
                if (avoidBuggyIps) {
                    n -= countEndingIn(r, 0) + countEndingIn(r, 255);
                }
            }
            return n;
        }

        /** How many addresses of {@code r} have {@code lastOctet} as their last octet. */
        private static long countEndingIn(AddressRange r, int lastOctet) {
            return Math.floorDiv(r.last() - lastOctet, 256) - Math.floorDiv(r.first() - 1 - lastOctet, 256);
        }

        int priority() {
            return allocation == null || allocation.getPriority() == null ? 0 : allocation.getPriority();
        }
    }

    private record Allocation(String pool, long ip, List<String> ports, String sharingKey, String backendKey) {
    }

    private final Map<String, Pool> pools = new TreeMap<>();
    private final Map<String, Allocation> allocated = new HashMap<>();           // service key -> allocation
    private final Map<Long, Map<String, String>> portsInUse = new HashMap<>();    // ip -> port -> service key
    private final Map<Long, String[]> sharingKeyForIp = new HashMap<>();          // ip -> {sharing, backend}
    private final Map<Long, Set<String>> servicesOnIp = new HashMap<>();

    /** What takes again the addresses each user of the pools holds (a Service's controller, a Gateway's): {@link #keepHeld}. */
    private final List<Runnable> keepers = new ArrayList<>();

    /** Registers what takes again, with {@link #assign}, the addresses one user of the pools holds and may keep. */
    public void addKeeper(Runnable keeper) {
        keepers.add(keeper);
    }

    /**
     * Takes again every address a user of the pools holds and may keep, before any new address is
     * handed out: after a restart the allocator holds none, and the first user to run would
     * otherwise hand another user's address to whatever asks for it (a pending Service asking for
     * the address a Gateway holds got it, and the Gateway moved).
     */
    public void keepHeld() {
        keepers.forEach(Runnable::run);
    }

    /**
     * Replaces the pool configuration; allocations stay until the caller re-checks them. A pool's
     * {@code namespaceSelectors} are matched against {@code namespaces}' labels, so a change to
     * them is seen at the next call.
     */
    public void setPools(List<IPAddressPool> configured, List<Namespace> namespaces) {
        pools.clear();
        for (IPAddressPool p : configured) {
            List<AddressRange> ranges = new ArrayList<>();
            for (String entry : p.getSpec().getAddresses()) {
                ranges.add(AddressRange.parse(entry));
            }
            ServiceAllocation allocation = p.getSpec().getServiceAllocation();
            Set<String> allowed = new TreeSet<>();
            if (allocation != null) {
                allowed.addAll(allocation.getNamespaces() == null ? List.of() : allocation.getNamespaces());
                for (LabelSelector selector : allocation.getNamespaceSelectors() == null ? List.<LabelSelector>of()
                        : allocation.getNamespaceSelectors()) {
                    for (Namespace ns : namespaces) {
                        if (Selectors.matches(selector, ns.getMetadata().getLabels() == null ? Map.of() : ns.getMetadata().getLabels())) {
                            allowed.add(ns.getMetadata().getName());
                        }
                    }
                }
            }
            pools.put(p.getMetadata().getName(), new Pool(p.getMetadata().getName(), ranges,
                    !Boolean.FALSE.equals(p.getSpec().getAutoAssign()), Boolean.TRUE.equals(p.getSpec().getAvoidBuggyIPs()),
                    allocation, Set.copyOf(allowed)));
        }
    }

    public boolean hasPools() {
        return !pools.isEmpty();
    }

    /** Assigns a specific address (a requested one, or the one the Service already has). */
    public void assign(Request req, long ip) throws LoadBalancerAllocationException {
        Pool pool = poolFor(ip);
        if (pool == null) {
            throw new LoadBalancerAllocationException("[" + GoValues.quote(Ipv4.format(ip)) + "] is not allowed in config");
        }
        if (!compatible(pool, req)) {
            throw new LoadBalancerAllocationException("pool " + pool.name + " not compatible for ip assignment");
        }
        String problem = checkSharing(req, ip);
        if (problem != null) {
            throw new LoadBalancerAllocationException(problem);
        }
        unassign(req.key);
        Allocation a = new Allocation(pool.name, ip, List.copyOf(req.ports), req.sharingKey, req.backendKey);
        allocated.put(req.key, a);
        sharingKeyForIp.put(ip, new String[] {req.sharingKey, req.backendKey});
        servicesOnIp.computeIfAbsent(ip, k -> new TreeSet<>()).add(req.key);
        Map<String, String> ports = portsInUse.computeIfAbsent(ip, k -> new HashMap<>());
        for (String port : req.ports) {
            ports.put(port, req.key);
        }
    }

    /**
     * Allocates from any suitable pool, as MetalLB's {@code Allocate}: first the auto-assign pools
     * pinned to the Service (those whose namespaces hold it, or that select Services by label and
     * select it), by priority; then the auto-assign pools with no {@code serviceAllocation}.
     */
    public long allocate(Request req) throws LoadBalancerAllocationException {
        Allocation existing = allocated.get(req.key);
        if (existing != null) {
            assign(req, existing.ip);
            return existing.ip;
        }
        List<Pool> pinned = new ArrayList<>();
        for (Pool p : pools.values()) {
            if (p.autoAssign && (p.namespaces.contains(req.namespace) || p.selectsServices()) && compatible(p, req)) {
                pinned.add(p);
            }
        }
        pinned.sort(Comparator.comparingInt((Pool p) -> p.priority() > 0 ? p.priority() : Integer.MAX_VALUE));
        Long ip = firstFree(pinned, req);
        if (ip == null) {
            List<Pool> auto = new ArrayList<>();
            for (Pool p : pools.values()) {
                if (p.autoAssign && p.allocation == null) {
                    auto.add(p);
                }
            }
            ip = firstFree(auto, req);
        }
        if (ip == null) {
            throw new LoadBalancerAllocationException("no available IPs");
        }
        assign(req, ip);
        return ip;
    }

    /**
     * A new address for {@code req}, as MetalLB chooses it: {@code desired} (which must lie in
     * {@code desiredPool} when both are asked for), else one from {@code desiredPool}, else one from
     * any pool that takes the object. {@code what} names the requested address in the error the way
     * MetalLB words it for the object's kind ({@code "IP"}, {@code "loadBalancer IP(s)"}).
     */
    public long allocateNew(Request req, Long desired, String desiredPool, String what) throws LoadBalancerAllocationException {
        if (desired != null) {
            assign(req, desired);
            if (desiredPool != null && !desiredPool.equals(poolOf(req.key))) {
                unassign(req.key);
                throw new LoadBalancerAllocationException("requested " + what + " [" + GoValues.quote(Ipv4.format(desired))
                        + "] is not compatible with requested address pool " + desiredPool);
            }
            return desired;
        }
        return desiredPool != null ? allocateFromPool(req, desiredPool) : allocate(req);
    }

    /** Allocates from the named pool ({@code metallb.io/address-pool}). */
    public long allocateFromPool(Request req, String poolName) throws LoadBalancerAllocationException {
        Allocation existing = allocated.get(req.key);
        if (existing != null) {
            assign(req, existing.ip);
            return existing.ip;
        }
        Pool pool = pools.get(poolName);
        if (pool == null) {
            throw new LoadBalancerAllocationException("unknown pool " + GoValues.quote(poolName));
        }
        Long ip = firstFree(List.of(pool), req);
        if (ip == null) {
            throw new LoadBalancerAllocationException("no available IPs in pool " + poolName + " for ipv4 IPFamily");
        }
        assign(req, ip);
        return ip;
    }

    public void unassign(String key) {
        Allocation a = allocated.remove(key);
        if (a == null) {
            return;
        }
        Map<String, String> ports = portsInUse.get(a.ip);
        if (ports != null) {
            ports.values().removeIf(key::equals);
        }
        Set<String> users = servicesOnIp.get(a.ip);
        if (users != null) {
            users.remove(key);
            if (users.isEmpty()) {
                servicesOnIp.remove(a.ip);
                portsInUse.remove(a.ip);
                sharingKeyForIp.remove(a.ip);
            }
        }
    }

    public String poolOf(String key) {
        Allocation a = allocated.get(key);
        return a == null ? null : a.pool;
    }

    public Long ipOf(String key) {
        Allocation a = allocated.get(key);
        return a == null ? null : a.ip;
    }

    public boolean isAllocated(String key) {
        return allocated.containsKey(key);
    }

    /** Distinct addresses in use in a pool (a shared address counts once). */
    public long assigned(String pool) {
        return servicesOnIp.keySet().stream().filter(ip -> {
            Pool p = poolFor(ip);
            return p != null && p.name.equals(pool);
        }).count();
    }

    public long available(String pool) {
        Pool p = pools.get(pool);
        return p == null ? 0 : p.size() - assigned(pool);
    }

    /** The services currently allocated, by key. */
    public Set<String> allocatedKeys() {
        return Set.copyOf(allocated.keySet());
    }

    private Long firstFree(List<Pool> candidates, Request req) {
        for (Pool pool : candidates) {
            for (AddressRange range : pool.ranges) {
                for (long ip = range.first(); ip <= range.last(); ip++) {
                    if (pool.avoidBuggyIps && buggy(ip)) {
                        continue;
                    }
                    if (checkSharing(req, ip) == null) {
                        return ip;
                    }
                }
            }
        }
        return null;
    }

    /** Null when {@code req} may use {@code ip}; otherwise MetalLB's reason why not. */
    private String checkSharing(Request req, long ip) {
        String[] existing = sharingKeyForIp.get(ip);
        if (existing == null) {
            return null;
        }
        String sharingProblem = sharingOk(existing, req);
        if (sharingProblem != null) {
            List<String> others = new ArrayList<>();
            for (String svc : servicesOnIp.getOrDefault(ip, Set.of())) {
                if (!svc.equals(req.key)) {
                    others.add(svc);
                }
            }
            if (!others.isEmpty()) {
                return "can't change sharing key for " + GoValues.quote(req.key) + ", address also in use by " + String.join(",", others);
            }
        }
        Map<String, String> inUse = portsInUse.getOrDefault(ip, Map.of());
        for (String port : req.ports) {
            String owner = inUse.get(port);
            if (owner != null && !owner.equals(req.key)) {
                return "port " + port + " is already in use on " + GoValues.quote(Ipv4.format(ip));
            }
        }
        return null;
    }

    private static String sharingOk(String[] existing, Request req) {
        if (existing[0].isEmpty()) {
            return "existing service does not allow sharing";
        }
        if (req.sharingKey.isEmpty()) {
            return "new service does not allow sharing";
        }
        if (!existing[0].equals(req.sharingKey)) {
            return "sharing key " + GoValues.quote(req.sharingKey) + " does not match existing sharing key " + GoValues.quote(existing[0]);
        }
        if (!existing[1].equals(req.backendKey)) {
            return "backend key " + GoValues.quote(req.backendKey) + " does not match existing sharing key " + GoValues.quote(existing[1]);
        }
        return null;
    }

    private static boolean compatible(Pool pool, Request req) {
        ServiceAllocation a = pool.allocation;
        if (a == null) {
            return true;
        }
        if (!pool.namespaces.isEmpty() && !pool.namespaces.contains(req.namespace)) {
            return false;
        }
        if (a.getServiceSelectors() != null && !a.getServiceSelectors().isEmpty()) {
            for (LabelSelector selector : a.getServiceSelectors()) {
                if (Selectors.matches(selector, req.labels)) {
                    return true;
                }
            }
            return false;
        }
        return true;
    }

    /** Whether {@code ip} lies in one of the pools. */
    public boolean inAnyPool(long ip) {
        return poolFor(ip) != null;
    }

    private Pool poolFor(long ip) {
        for (Pool p : pools.values()) {
            if (p.contains(ip)) {
                return p;
            }
        }
        return null;
    }

    static boolean buggy(long ip) {
        long last = ip & 0xff;
        return last == 0 || last == 255;
    }

    /**
     * Pool name to {assigned, available}, for IPAddressPool status: each address in use is looked
     * up once (this runs at every pass; per pool, looking up every address each time was cubic).
     */
    public Map<String, long[]> counters() {
        Map<String, Long> assigned = new java.util.HashMap<>();
        for (long ip : servicesOnIp.keySet()) {
            Pool p = poolFor(ip);
            if (p != null) {
                assigned.merge(p.name, 1L, Long::sum);
            }
        }
        Map<String, long[]> counters = new LinkedHashMap<>();
        for (Map.Entry<String, Pool> e : pools.entrySet()) {
            long used = assigned.getOrDefault(e.getKey(), 0L);
            counters.put(e.getKey(), new long[] {used, e.getValue().size() - used});
        }
        return counters;
    }
}
