package dev.portway.api.validation;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.net.Cidr;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetStatus;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a write to a {@code status} subresource may say, kind by kind, as kube-apiserver's
 * {@code ValidateXStatusUpdate} functions check it; plus one rule of Portway's own: in local
 * mode a Node's addresses are where Portway opens NodePort listeners, so they must lie in the
 * node range.
 */
public final class StatusValidation {

    private static final Set<String> NODE_ADDRESS_TYPES = Set.of("Hostname", "InternalIP", "ExternalIP", "InternalDNS", "ExternalDNS");

    private StatusValidation() {
    }

    /**
     * @param nodeRange where node addresses must lie (null: anywhere)
     */
    public static List<FieldError> validate(HasMetadata updated, HasMetadata old, Cidr nodeRange) {
        return switch (updated) {
            case Service s -> ServiceValidation.validateStatus(s);
            case Node n -> node(n, nodeRange);
            case Pod p -> pod(p);
            case Namespace ns -> namespace(ns);
            case Deployment d -> deployment(d.getStatus());
            case ReplicaSet rs -> replicaSet(rs.getStatus());
            default -> List.of();
        };
    }

    private static List<FieldError> node(Node n, Cidr nodeRange) {
        List<FieldError> errs = new ArrayList<>();
        if (n.getStatus() == null) {
            return errs;
        }
        FieldPath addresses = FieldPath.of("status", "addresses");
        List<NodeAddress> list = n.getStatus().getAddresses() == null ? List.of() : n.getStatus().getAddresses();
        for (int i = 0; i < list.size(); i++) {
            NodeAddress a = list.get(i);
            FieldPath p = addresses.index(i);
            String type = a.getType() == null ? "" : a.getType();
            if (!NODE_ADDRESS_TYPES.contains(type)) {
                errs.add(FieldError.notSupported(p.child("type"), type, "ExternalDNS", "ExternalIP", "Hostname", "InternalDNS", "InternalIP"));
                continue;
            }
            String address = a.getAddress() == null ? "" : a.getAddress();
            if (type.endsWith("IP")) {
                if (!isIp(address)) {
                    errs.add(FieldError.invalid(p.child("address"), address, "must be a valid IP address"));
                } else if (nodeRange != null && !inRange(nodeRange, address)) {
                    errs.add(FieldError.invalid(p.child("address"), address,
                            "must be in the node range " + nodeRange + " (Portway listens for NodePorts on node addresses)"));
                }
            } else {
                for (String msg : Names.dns1123Subdomain(address)) {
                    errs.add(FieldError.invalid(p.child("address"), address, msg));
                }
            }
        }
        resources(errs, FieldPath.of("status", "capacity"), n.getStatus().getCapacity());
        resources(errs, FieldPath.of("status", "allocatable"), n.getStatus().getAllocatable());
        return errs;
    }

    private static void resources(List<FieldError> errs, FieldPath path, Map<String, Quantity> list) {
        if (list == null) {
            return;
        }
        list.forEach((name, q) -> {
            try {
                if (q != null && Quantity.getAmountInBytes(q).signum() < 0) {
                    errs.add(FieldError.invalid(path.key(name), q.toString(), "must be greater than or equal to 0"));
                }
            } catch (IllegalArgumentException e) {
                errs.add(FieldError.invalid(path.key(name), String.valueOf(q), "quantities must match the regular expression "
                        + "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
            }
        });
    }

    private static List<FieldError> pod(Pod p) {
        List<FieldError> errs = new ArrayList<>();
        var status = p.getStatus();
        if (status == null) {
            return errs;
        }
        if (status.getNominatedNodeName() != null && !status.getNominatedNodeName().isEmpty()) {
            for (String msg : Names.dns1123Subdomain(status.getNominatedNodeName())) {
                errs.add(FieldError.invalid(FieldPath.of("status", "nominatedNodeName"), status.getNominatedNodeName(), msg));
            }
        }
        ips(errs, FieldPath.of("status", "podIPs"), status.getPodIPs());
        if (status.getPodIP() != null && !status.getPodIP().isEmpty() && !isIp(status.getPodIP())) {
            errs.add(FieldError.invalid(FieldPath.of("status", "podIP"), status.getPodIP(), "must be a valid IP address"));
        }
        if (status.getHostIP() != null && !status.getHostIP().isEmpty() && !isIp(status.getHostIP())) {
            errs.add(FieldError.invalid(FieldPath.of("status", "hostIP"), status.getHostIP(), "must be a valid IP address"));
        }
        Set<String> containers = new HashSet<>();
        if (p.getSpec() != null && p.getSpec().getContainers() != null) {
            p.getSpec().getContainers().forEach(c -> containers.add(c.getName()));
        }
        List<ContainerStatus> statuses = status.getContainerStatuses() == null ? List.of() : status.getContainerStatuses();
        for (int i = 0; i < statuses.size(); i++) {
            String name = statuses.get(i).getName();
            if (!containers.contains(name)) {
                errs.add(FieldError.notFound(FieldPath.of("status", "containerStatuses").index(i).child("name"), name));
            }
        }
        return errs;
    }

    private static void ips(List<FieldError> errs, FieldPath path, List<PodIP> ips) {
        if (ips == null) {
            return;
        }
        boolean v4 = false;
        boolean v6 = false;
        for (int i = 0; i < ips.size(); i++) {
            String ip = ips.get(i).getIp() == null ? "" : ips.get(i).getIp();
            if (!isIp(ip)) {
                errs.add(FieldError.invalid(path.index(i), ip, "must be a valid IP address"));
                continue;
            }
            boolean six = ip.contains(":");
            if ((six && v6) || (!six && v4)) {
                errs.add(FieldError.invalid(path, ips.stream().map(PodIP::getIp).toList(),
                        "may specify no more than one IP for each IP family"));
            }
            v4 |= !six;
            v6 |= six;
        }
    }

    private static List<FieldError> namespace(Namespace ns) {
        List<FieldError> errs = new ArrayList<>();
        String phase = ns.getStatus() == null || ns.getStatus().getPhase() == null ? "" : ns.getStatus().getPhase();
        FieldPath p = FieldPath.of("status", "Phase");
        if (ns.getMetadata().getDeletionTimestamp() == null) {
            if (!phase.equals("Active")) {
                errs.add(FieldError.invalid(p, phase, "may only be 'Active' if `deletionTimestamp` is empty"));
            }
        } else if (!phase.equals("Terminating")) {
            errs.add(FieldError.invalid(p, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"));
        }
        return errs;
    }

    private static List<FieldError> deployment(DeploymentStatus s) {
        List<FieldError> errs = new ArrayList<>();
        if (s == null) {
            return errs;
        }
        FieldPath st = FieldPath.of("status");
        nonNegative(errs, st.child("observedGeneration"), s.getObservedGeneration());
        nonNegative(errs, st.child("replicas"), s.getReplicas());
        nonNegative(errs, st.child("updatedReplicas"), s.getUpdatedReplicas());
        nonNegative(errs, st.child("readyReplicas"), s.getReadyReplicas());
        nonNegative(errs, st.child("availableReplicas"), s.getAvailableReplicas());
        nonNegative(errs, st.child("unavailableReplicas"), s.getUnavailableReplicas());
        nonNegative(errs, st.child("terminatingReplicas"), s.getTerminatingReplicas());
        nonNegative(errs, st.child("collisionCount"), s.getCollisionCount());
        notAbove(errs, st.child("updatedReplicas"), s.getUpdatedReplicas(), s.getReplicas(), "status.replicas");
        replicaCounts(errs, st, s.getReplicas(), s.getReadyReplicas(), s.getAvailableReplicas());
        return errs;
    }

    private static List<FieldError> replicaSet(ReplicaSetStatus s) {
        List<FieldError> errs = new ArrayList<>();
        if (s == null) {
            return errs;
        }
        FieldPath st = FieldPath.of("status");
        nonNegative(errs, st.child("replicas"), s.getReplicas());
        nonNegative(errs, st.child("fullyLabeledReplicas"), s.getFullyLabeledReplicas());
        nonNegative(errs, st.child("readyReplicas"), s.getReadyReplicas());
        nonNegative(errs, st.child("availableReplicas"), s.getAvailableReplicas());
        nonNegative(errs, st.child("terminatingReplicas"), s.getTerminatingReplicas());
        nonNegative(errs, st.child("observedGeneration"), s.getObservedGeneration());
        notAbove(errs, st.child("fullyLabeledReplicas"), s.getFullyLabeledReplicas(), s.getReplicas(), "status.replicas");
        replicaCounts(errs, st, s.getReplicas(), s.getReadyReplicas(), s.getAvailableReplicas());
        return errs;
    }

    /** What ReplicaSets and Deployments both check: ready and available within replicas, available within ready. */
    private static void replicaCounts(List<FieldError> errs, FieldPath st, Integer replicas, Integer ready, Integer available) {
        notAbove(errs, st.child("readyReplicas"), ready, replicas, "status.replicas");
        notAbove(errs, st.child("availableReplicas"), available, replicas, "status.replicas");
        notAbove(errs, st.child("availableReplicas"), available, ready, "readyReplicas");
    }

    private static void notAbove(List<FieldError> errs, FieldPath path, Integer value, Integer bound, String boundName) {
        if (n(value) > n(bound)) {
            errs.add(FieldError.invalid(path, n(value), "cannot be greater than " + boundName));
        }
    }

    private static void nonNegative(List<FieldError> errs, FieldPath path, Number value) {
        if (value != null && value.longValue() < 0) {
            errs.add(FieldError.invalid(path, value.longValue(), "must be greater than or equal to 0"));
        }
    }

    private static int n(Integer i) {
        return i == null ? 0 : i;
    }

    private static boolean isIp(String s) {
        if (s == null || s.isEmpty()) {
            return false;
        }
        boolean literal = s.indexOf(':') >= 0 || s.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))
                && s.chars().filter(c -> c == '.').count() == 3;
        if (!literal) {
            return false;
        }
        try {
            InetAddress.getByName(s);
            return true;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static boolean inRange(Cidr range, String ip) {
        return dev.portway.net.Ipv4.parse(ip).map(range::contains).orElse(false);
    }
}
