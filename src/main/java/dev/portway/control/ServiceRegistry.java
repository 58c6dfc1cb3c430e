package dev.portway.control;

import static dev.portway.api.validation.ServiceValidation.needsHealthCheck;

import dev.portway.api.ApiException;
import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.ResourceKind;
import dev.portway.api.validation.ServiceValidation;
import dev.portway.control.alloc.AllocationException;
import dev.portway.control.alloc.IpAllocator;
import dev.portway.control.alloc.PortAllocator;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What the API server's Service registry does around validation: prepare a create or update
 * ({@code strategy.go}), keep values the server allocated when a manifest is re-applied
 * ({@code patchAllocatedValues}), and allocate and release ClusterIPs, nodePorts and
 * healthCheckNodePorts ({@code alloc.go}), all inside a {@link Transaction}.
 */
final class ServiceRegistry {

    private final IpAllocator clusterIps;
    private final PortAllocator nodePorts;

    ServiceRegistry(IpAllocator clusterIps, PortAllocator nodePorts) {
        this.clusterIps = clusterIps;
        this.nodePorts = nodePorts;
    }

    IpAllocator clusterIps() {
        return clusterIps;
    }

    PortAllocator nodePorts() {
        return nodePorts;
    }

    /** {@code PrepareForCreate} + {@code normalizeClusterIPs}. */
    void prepareForCreate(Service svc) {
        svc.setStatus(new ServiceStatus());
        ServiceSpec spec = svc.getSpec();
        if (!empty(spec.getClusterIP()) && list(spec.getClusterIPs()).isEmpty()) {
            spec.setClusterIPs(new ArrayList<>(List.of(spec.getClusterIP())));
        }
    }

    /** {@code PrepareForUpdate} + {@code patchAllocatedValues} + {@code normalizeClusterIPs}. */
    void prepareForUpdate(Service svc, Service old) {
        svc.setStatus(dev.portway.api.Json.copy(old.getStatus()));
        dropTypeDependentFields(svc, old);
        patchAllocatedValues(svc, old);
        normalizeClusterIps(svc, old);
        initIpFamilies(svc, old);
    }

    private static void dropTypeDependentFields(Service svc, Service old) {
        ServiceSpec n = svc.getSpec();
        ServiceSpec o = old.getSpec();
        if (needsClusterIp(o) && !needsClusterIp(n)) {
            if (Objects.equals(nz(o.getClusterIP()), nz(n.getClusterIP())) && list(o.getClusterIPs()).equals(list(n.getClusterIPs()))) {
                n.setClusterIP(null);
                n.setClusterIPs(new ArrayList<>());
            }
            if (list(o.getIpFamilies()).equals(list(n.getIpFamilies()))) {
                n.setIpFamilies(new ArrayList<>());
            }
            if (Objects.equals(o.getIpFamilyPolicy(), n.getIpFamilyPolicy())) {
                n.setIpFamilyPolicy(null);
            }
        }
        if (needsNodePort(o) && !needsNodePort(n) && nodePortsOf(o).containsAll(nodePortsOf(n))) {
            list(n.getPorts()).forEach(p -> p.setNodePort(null));
        }
        if (needsHealthCheck(o) && !needsHealthCheck(n) && Objects.equals(nz(o.getHealthCheckNodePort()), nz(n.getHealthCheckNodePort()))) {
            n.setHealthCheckNodePort(null);
        }
        if ("LoadBalancer".equals(o.getType()) && !"LoadBalancer".equals(n.getType())
                && n.getAllocateLoadBalancerNodePorts() != null && o.getAllocateLoadBalancerNodePorts() != null
                && o.getAllocateLoadBalancerNodePorts().equals(n.getAllocateLoadBalancerNodePorts())) {
            n.setAllocateLoadBalancerNodePorts(null);
        }
        if ("LoadBalancer".equals(o.getType()) && !"LoadBalancer".equals(n.getType())
                && Objects.equals(o.getLoadBalancerClass(), n.getLoadBalancerClass())) {
            n.setLoadBalancerClass(null);
        }
        if (ServiceValidation.externallyAccessible(o) && !ServiceValidation.externallyAccessible(n)
                && Objects.equals(o.getExternalTrafficPolicy(), n.getExternalTrafficPolicy())) {
            n.setExternalTrafficPolicy(null);
        }
        if (!"LoadBalancer".equals(n.getType()) && svc.getStatus() != null) {
            svc.getStatus().setLoadBalancer(null);
        }
    }

    private static void patchAllocatedValues(Service svc, Service old) {
        ServiceSpec n = svc.getSpec();
        ServiceSpec o = old.getSpec();
        if (needsClusterIp(o) && needsClusterIp(n)) {
            if (empty(n.getClusterIP())) {
                n.setClusterIP(o.getClusterIP());
            }
            if (list(n.getClusterIPs()).isEmpty() && !list(o.getClusterIPs()).isEmpty()) {
                n.setClusterIPs(new ArrayList<>(o.getClusterIPs()));
            }
        }
        if (needsNodePort(o) && needsNodePort(n)) {
            Set<Integer> used = nodePortsOf(o);
            used.retainAll(nodePortsOf(n));
            Map<String, Integer> byName = new HashMap<>();
            for (ServicePort p : list(o.getPorts())) {
                byName.put(nz(p.getName()), nz(p.getNodePort()));
            }
            for (ServicePort p : list(n.getPorts())) {
                if (nz(p.getNodePort()) == 0) {
                    int oldValue = byName.getOrDefault(nz(p.getName()), 0);
                    if (!used.contains(oldValue) && oldValue != 0) {
                        p.setNodePort(oldValue);
                    }
                }
            }
        }
        if (needsHealthCheck(o) && needsHealthCheck(n) && nz(n.getHealthCheckNodePort()) == 0) {
            n.setHealthCheckNodePort(o.getHealthCheckNodePort());
        }
    }

    private static void normalizeClusterIps(Service svc, Service old) {
        ServiceSpec n = svc.getSpec();
        ServiceSpec o = old.getSpec();
        if (!list(o.getClusterIPs()).isEmpty() && list(n.getClusterIPs()).isEmpty()
                && Objects.equals(nz(o.getClusterIP()), nz(n.getClusterIP()))) {
            n.setClusterIPs(new ArrayList<>(o.getClusterIPs()));
        }
        if (!Objects.equals(nz(o.getClusterIP()), nz(n.getClusterIP()))) {
            boolean sameIps = list(o.getClusterIPs()).equals(list(n.getClusterIPs()));
            if (!empty(o.getClusterIP()) && empty(n.getClusterIP())) {
                if (sameIps) {
                    n.setClusterIPs(new ArrayList<>());
                }
            } else if (sameIps) {
                n.setClusterIPs(new ArrayList<>(List.of(nz(n.getClusterIP()))));
            }
        }
    }

    /** {@code initIPFamilyFields}: Portway's service network is single-stack IPv4. */
    private void initIpFamilies(Service svc, Service old) {
        ServiceSpec spec = svc.getSpec();
        if (ServiceValidation.EXTERNAL_NAME.equals(spec.getType())) {
            return;
        }
        boolean headlessSelectorless = "None".equals(spec.getClusterIP()) && (spec.getSelector() == null || spec.getSelector().isEmpty());
        if (spec.getIpFamilyPolicy() == null) {
            if (old != null && old.getSpec().getIpFamilyPolicy() != null) {
                spec.setIpFamilyPolicy(old.getSpec().getIpFamilyPolicy());
            } else {
                spec.setIpFamilyPolicy(headlessSelectorless ? "RequireDualStack" : "SingleStack");
            }
        }
        List<FieldError> errs = new ArrayList<>();
        String policy = spec.getIpFamilyPolicy();
        List<String> ips = list(spec.getClusterIPs());
        List<String> families = new ArrayList<>(list(spec.getIpFamilies()));
        if ("SingleStack".equals(policy)) {
            if (ips.size() == 2) {
                errs.add(FieldError.invalid(FieldPath.of("spec", "ipFamilyPolicy"), policy,
                        "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
            }
            if (families.size() == 2) {
                errs.add(FieldError.invalid(FieldPath.of("spec", "ipFamilyPolicy"), policy,
                        "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
            }
        }
        for (int i = 0; i < ips.size(); i++) {
            if (ips.get(i).equals("None")) {
                break;
            }
            String family = dev.portway.api.validation.Names.isIpv6(ips.get(i)) ? "IPv6" : "IPv4";
            if (i >= families.size()) {
                if (family.equals("IPv6")) {
                    errs.add(FieldError.invalid(FieldPath.of("spec", "clusterIPs").index(i), ips, "IPv6 is not configured on this cluster"));
                } else {
                    families.add(family);
                }
            }
        }
        if (!errs.isEmpty()) {
            throw ApiException.invalid(ResourceKind.SERVICE, svc.getMetadata().getName(), errs);
        }
        if (headlessSelectorless) {
            if (families.isEmpty()) {
                families.add("IPv4");
            }
            if (families.size() < 2 && !"SingleStack".equals(policy)) {
                families.add(families.getFirst().equals("IPv4") ? "IPv6" : "IPv4");
            }
            spec.setIpFamilies(families);
            return;
        }
        if ("RequireDualStack".equals(policy)) {
            errs.add(FieldError.invalid(FieldPath.of("spec", "ipFamilyPolicy"), policy, "this cluster is not configured for dual-stack services"));
        }
        for (int i = 0; i < families.size(); i++) {
            if (!families.get(i).equals("IPv4")) {
                errs.add(FieldError.invalid(FieldPath.of("spec", "ipFamilies").index(i), families.get(i), "not configured on this cluster"));
            }
        }
        if (!errs.isEmpty()) {
            throw ApiException.invalid(ResourceKind.SERVICE, svc.getMetadata().getName(), errs);
        }
        if (families.isEmpty()) {
            families.add("IPv4");
        }
        spec.setIpFamilies(families);
    }

    /** {@code allocateCreate}: ClusterIP, then nodePorts, then the healthCheckNodePort. */
    void allocateCreate(Service svc, Transaction txn) {
        checkClusterIpFields(svc);
        initIpFamilies(svc, null);
        allocateClusterIp(svc, txn);
        ServiceSpec spec = svc.getSpec();
        if (needsNodePort(spec)) {
            initNodePorts(svc, txn);
        }
        if (needsHealthCheck(spec)) {
            allocateHealthCheckNodePort(svc, txn);
        }
    }

    /** {@code allocateUpdate}. */
    void allocateUpdate(Service svc, Service old, Transaction txn) {
        checkClusterIpFields(svc);
        initIpFamilies(svc, old);
        ServiceSpec n = svc.getSpec();
        ServiceSpec o = old.getSpec();
        boolean oldExternalName = ServiceValidation.EXTERNAL_NAME.equals(o.getType());
        boolean newExternalName = ServiceValidation.EXTERNAL_NAME.equals(n.getType());
        if (oldExternalName && !newExternalName) {
            allocateClusterIp(svc, txn);
        } else if (!oldExternalName && newExternalName && !ServiceValidation.isHeadless(o)) {
            for (String ip : list(o.getClusterIPs())) {
                txn.onCommit(() -> clusterIps.release(ip));
            }
        }

        if (needsNodePort(o) && !needsNodePort(n)) {
            for (int port : nodePortsOf(o)) {
                txn.onCommit(() -> nodePorts.release(port));
            }
        }
        if (needsNodePort(n)) {
            updateNodePorts(svc, old, txn);
        }
        boolean needed = needsHealthCheck(o);
        boolean needs = needsHealthCheck(n);
        if (!needed && needs) {
            allocateHealthCheckNodePort(svc, txn);
        } else if (needed && !needs) {
            int port = nz(o.getHealthCheckNodePort());
            txn.onCommit(() -> nodePorts.release(port));
        }
    }

    /** The allocator refuses malformed ClusterIP fields with their validation errors, as the API server's does. */
    private static void checkClusterIpFields(Service svc) {
        List<FieldError> errs = ServiceValidation.clusterIpsRelatedFields(svc.getSpec());
        if (!errs.isEmpty()) {
            throw ApiException.invalid(ResourceKind.SERVICE, svc.getMetadata().getName(), errs);
        }
    }

    /** Releases everything a Service holds, on delete. */
    void releaseAll(Service svc) {
        ServiceSpec spec = svc.getSpec();
        if (!ServiceValidation.EXTERNAL_NAME.equals(spec.getType()) && !ServiceValidation.isHeadless(spec)) {
            list(spec.getClusterIPs()).forEach(clusterIps::release);
        }
        nodePortsOf(spec).forEach(nodePorts::release);
        if (needsHealthCheck(spec) && nz(spec.getHealthCheckNodePort()) > 0) {
            nodePorts.release(spec.getHealthCheckNodePort());
        }
    }

    /** Re-marks what a stored Service holds (when the allocators are rebuilt from the store). */
    void restore(Service svc) {
        ServiceSpec spec = svc.getSpec();
        try {
            if (!ServiceValidation.EXTERNAL_NAME.equals(spec.getType()) && !ServiceValidation.isHeadless(spec)) {
                for (String ip : list(spec.getClusterIPs())) {
                    if (!clusterIps.isAllocated(ip)) {
                        clusterIps.allocate(ip);
                    }
                }
            }
            for (int port : nodePortsOf(spec)) {
                if (!nodePorts.isAllocated(port)) {
                    nodePorts.allocate(port);
                }
            }
            if (needsHealthCheck(spec) && nz(spec.getHealthCheckNodePort()) > 0 && !nodePorts.isAllocated(spec.getHealthCheckNodePort())) {
                nodePorts.allocate(spec.getHealthCheckNodePort());
            }
        } catch (AllocationException e) {
            throw new IllegalStateException("stored Service " + svc.getMetadata().getName() + " holds an address it cannot have: " + e.getMessage(), e);
        }
    }

    private void allocateClusterIp(Service svc, Transaction txn) {
        ServiceSpec spec = svc.getSpec();
        if (ServiceValidation.EXTERNAL_NAME.equals(spec.getType()) || ServiceValidation.isHeadless(spec)) {
            return;
        }
        List<String> ips = new ArrayList<>(list(spec.getClusterIPs()));
        String requested = ips.isEmpty() ? "" : ips.getFirst();
        String ip;
        if (requested.isEmpty()) {
            try {
                ip = clusterIps.allocateNext();
            } catch (AllocationException e) {
                throw ApiException.internal("failed to allocate a serviceIP: " + e.getMessage());
            }
        } else {
            try {
                clusterIps.allocate(requested);
            } catch (AllocationException e) {
                throw ApiException.invalid(ResourceKind.SERVICE, svc.getMetadata().getName(), List.of(FieldError.invalid(
                        FieldPath.of("spec", "clusterIPs"), ips, "failed to allocate IP " + requested + ": " + e.getMessage())));
            }
            ip = requested;
        }
        txn.onRevert(() -> clusterIps.release(ip));
        if (ips.isEmpty()) {
            ips.add(ip);
        } else {
            ips.set(0, ip);
        }
        spec.setClusterIPs(ips);
        spec.setClusterIP(ip);
    }

    /** {@code initNodePorts}: ports that share a port number (53/TCP, 53/UDP) share a nodePort. */
    private void initNodePorts(Service svc, Transaction txn) {
        ServiceSpec spec = svc.getSpec();
        List<ServicePort> ports = list(spec.getPorts());
        Map<Integer, Integer> byServicePort = new HashMap<>();
        for (int i = 0; i < ports.size(); i++) {
            ServicePort port = ports.get(i);
            int servicePort = nz(port.getPort());
            if (nz(port.getNodePort()) == 0 && !shouldAllocateNodePorts(spec)) {
                continue;
            }
            int allocated = byServicePort.getOrDefault(servicePort, 0);
            if (allocated == 0) {
                int requested = requestedNodePort(servicePort, ports);
                if (requested != 0) {
                    allocateNodePort(svc, i, requested, txn);
                    port.setNodePort(requested);
                    byServicePort.put(servicePort, requested);
                } else {
                    int next = allocateNextNodePort(txn);
                    port.setNodePort(next);
                    byServicePort.put(servicePort, next);
                }
            } else if (nz(port.getNodePort()) != allocated) {
                if (nz(port.getNodePort()) == 0) {
                    port.setNodePort(allocated);
                } else {
                    allocateNodePort(svc, i, port.getNodePort(), txn);
                }
            }
        }
    }

    /** {@code updateNodePorts}: allocate what is new, release (on commit) what is gone. */
    private void updateNodePorts(Service svc, Service old, Transaction txn) {
        ServiceSpec spec = svc.getSpec();
        Set<Integer> oldPorts = needsNodePort(old.getSpec()) ? nodePortsOf(old.getSpec()) : Set.of();
        Set<Integer> allocatedNow = new HashSet<>();
        List<ServicePort> ports = list(spec.getPorts());
        for (int i = 0; i < ports.size(); i++) {
            ServicePort port = ports.get(i);
            int nodePort = nz(port.getNodePort());
            if (nodePort == 0 && !shouldAllocateNodePorts(spec)) {
                continue;
            }
            if (nodePort != 0) {
                if (!oldPorts.contains(nodePort) && allocatedNow.add(nodePort)) {
                    allocateNodePort(svc, i, nodePort, txn);
                }
            } else {
                port.setNodePort(allocateNextNodePort(txn));
            }
        }
        Set<Integer> newPorts = nodePortsOf(spec);
        for (int oldPort : oldPorts) {
            if (!newPorts.contains(oldPort)) {
                txn.onCommit(() -> nodePorts.release(oldPort));
            }
        }
    }

    private void allocateNodePort(Service svc, int index, int port, Transaction txn) {
        try {
            nodePorts.allocate(port);
        } catch (AllocationException e) {
            throw ApiException.invalid(ResourceKind.SERVICE, svc.getMetadata().getName(), List.of(FieldError.invalid(
                    FieldPath.of("spec", "ports").index(index).child("nodePort"), port, e.getMessage())));
        }
        txn.onRevert(() -> nodePorts.release(port));
    }

    private int allocateNextNodePort(Transaction txn) {
        try {
            int port = nodePorts.allocateNext();
            txn.onRevert(() -> nodePorts.release(port));
            return port;
        } catch (AllocationException e) {
            throw ApiException.internal("failed to allocate a nodePort: " + e.getMessage());
        }
    }

    private void allocateHealthCheckNodePort(Service svc, Transaction txn) {
        ServiceSpec spec = svc.getSpec();
        int requested = nz(spec.getHealthCheckNodePort());
        if (requested != 0) {
            try {
                nodePorts.allocate(requested);
            } catch (AllocationException e) {
                throw ApiException.internal("failed to allocate requested HealthCheck NodePort " + requested + ": " + e.getMessage());
            }
            txn.onRevert(() -> nodePorts.release(requested));
        } else {
            try {
                int port = nodePorts.allocateNext();
                txn.onRevert(() -> nodePorts.release(port));
                spec.setHealthCheckNodePort(port);
            } catch (AllocationException e) {
                throw ApiException.internal("failed to allocate a HealthCheck NodePort 0: " + e.getMessage());
            }
        }
    }

    private static int requestedNodePort(int servicePort, List<ServicePort> ports) {
        for (ServicePort p : ports) {
            if (nz(p.getPort()) == servicePort && nz(p.getNodePort()) != 0) {
                return p.getNodePort();
            }
        }
        return 0;
    }

    private static boolean shouldAllocateNodePorts(ServiceSpec spec) {
        if ("NodePort".equals(spec.getType())) {
            return true;
        }
        return "LoadBalancer".equals(spec.getType()) && !Boolean.FALSE.equals(spec.getAllocateLoadBalancerNodePorts());
    }

    static boolean needsNodePort(ServiceSpec spec) {
        return "NodePort".equals(spec.getType()) || "LoadBalancer".equals(spec.getType());
    }

    private static boolean needsClusterIp(ServiceSpec spec) {
        return !ServiceValidation.EXTERNAL_NAME.equals(spec.getType());
    }

    static Set<Integer> nodePortsOf(ServiceSpec spec) {
        Set<Integer> ports = new HashSet<>();
        for (ServicePort p : list(spec.getPorts())) {
            if (nz(p.getNodePort()) != 0) {
                ports.add(p.getNodePort());
            }
        }
        return ports;
    }

    private static <T> List<T> list(List<T> list) {
        return list == null ? List.of() : list;
    }

    private static boolean empty(String s) {
        return s == null || s.isEmpty();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static int nz(Integer i) {
        return i == null ? 0 : i;
    }
}
