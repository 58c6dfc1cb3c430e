package dev.portway.api.validation;

import static dev.portway.api.validation.MetaValidation.nz;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.net.Ipv4;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointHints;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.ForNode;
import io.fabric8.kubernetes.api.model.discovery.v1.ForZone;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** EndpointSlice validation ({@code pkg/apis/discovery/validation}). */
public final class DiscoveryValidation {

    private static final int MAX_ADDRESSES = 100;
    private static final int MAX_PORTS = 20000;
    private static final int MAX_ENDPOINTS = 1000;
    private static final int MAX_TOPOLOGY_LABELS = 16;
    private static final int MAX_HINTS = 8;

    private DiscoveryValidation() {
    }

    public static List<FieldError> validate(EndpointSlice slice, ValidationOptions options) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(slice.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        String addressType = nz(slice.getAddressType());
        if (addressType.isEmpty()) {
            errs.add(FieldError.required(FieldPath.of("addressType"), ""));
        } else if (!Set.of("IPv4", "IPv6", "FQDN").contains(addressType)) {
            errs.add(FieldError.notSupported(FieldPath.of("addressType"), addressType, "FQDN", "IPv4", "IPv6"));
        }
        errs.addAll(endpoints(slice.getEndpoints(), addressType, FieldPath.of("endpoints"), options));
        errs.addAll(ports(slice.getPorts(), FieldPath.of("ports")));
        return errs;
    }

    public static List<FieldError> validateUpdate(EndpointSlice updated, EndpointSlice old, ValidationOptions options) {
        List<FieldError> errs = new ArrayList<>(validate(updated, options));
        if (!Objects.equals(updated.getAddressType(), old.getAddressType())) {
            errs.add(FieldError.invalid(FieldPath.of("addressType"), nz(updated.getAddressType()), MetaValidation.FIELD_IMMUTABLE));
        }
        return errs;
    }

    private static List<FieldError> endpoints(List<Endpoint> endpoints, String addressType, FieldPath path, ValidationOptions options) {
        List<FieldError> errs = new ArrayList<>();
        if (endpoints == null) {
            return errs;
        }
        if (endpoints.size() > MAX_ENDPOINTS) {
            errs.add(FieldError.tooMany(path, endpoints.size(), MAX_ENDPOINTS));
            return errs;
        }
        for (int i = 0; i < endpoints.size(); i++) {
            Endpoint e = endpoints.get(i);
            FieldPath p = path.index(i);
            FieldPath addressPath = p.child("addresses");
            List<String> addresses = e.getAddresses() == null ? List.of() : e.getAddresses();
            if (addresses.isEmpty()) {
                errs.add(FieldError.required(addressPath, "must contain at least 1 address"));
            } else if (addresses.size() > MAX_ADDRESSES) {
                errs.add(FieldError.tooMany(addressPath, addresses.size(), MAX_ADDRESSES));
            }
            for (int a = 0; a < addresses.size(); a++) {
                String address = nz(addresses.get(a));
                FieldPath ap = addressPath.index(a);
                switch (addressType) {
                    case "IPv4", "IPv6" -> {
                        // IsValidIPForLegacyField, then the family, then ValidateEndpointIP (1.33+;
                        // apimachinery no longer has IsValidIPv4Address and its "must be a valid IPv4 address").
                        List<String> ipErrs = Names.ip(address);
                        if (!ipErrs.isEmpty()) {
                            ipErrs.forEach(msg -> errs.add(FieldError.invalid(ap, address, msg)));
                        } else {
                            boolean v4 = Ipv4.parse(address).isPresent() || mappedIpv4(address);
                            if (addressType.equals("IPv4") && !v4) {
                                errs.add(FieldError.invalid(ap, address, "must be an IPv4 address"));
                            }
                            if (addressType.equals("IPv6") && v4) {
                                errs.add(FieldError.invalid(ap, address, "must be an IPv6 address"));
                            }
                            errs.addAll(ServiceValidation.nonSpecialIp(address, ap, options));
                        }
                    }
                    case "FQDN" -> errs.addAll(fullyQualifiedDomainName(address, ap));
                    default -> {
                    }
                }
            }
            if (e.getNodeName() != null) {
                for (String msg : Names.dns1123Subdomain(e.getNodeName())) {
                    errs.add(FieldError.invalid(p.child("nodeName"), e.getNodeName(), msg));
                }
            }
            Map<String, String> topology = e.getDeprecatedTopology();
            if (topology != null) {
                FieldPath topologyPath = p.child("deprecatedTopology");
                if (topology.size() > MAX_TOPOLOGY_LABELS) {
                    errs.add(FieldError.tooMany(topologyPath, topology.size(), MAX_TOPOLOGY_LABELS));
                }
                errs.addAll(MetaValidation.labels(topology, topologyPath));
            }
            if (e.getHostname() != null) {
                for (String msg : Names.dns1123Label(e.getHostname())) {
                    errs.add(FieldError.invalid(p.child("hostname"), e.getHostname(), msg));
                }
            }
            if (e.getHints() != null) {
                errs.addAll(hints(e.getHints(), p.child("hints")));
            }
        }
        return errs;
    }

    /** {@code validateHints}: at most 8 zones and 8 nodes, each once, each a valid name. */
    private static List<FieldError> hints(EndpointHints hints, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        List<ForZone> zones = hints.getForZones() == null ? List.of() : hints.getForZones();
        FieldPath zonesPath = path.child("forZones");
        if (zones.size() > MAX_HINTS) {
            errs.add(FieldError.tooMany(zonesPath, zones.size(), MAX_HINTS));
            return errs;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < zones.size(); i++) {
            String zone = zones.get(i) == null ? "" : nz(zones.get(i).getName());
            FieldPath zp = zonesPath.index(i).child("name");
            if (!seen.add(zone)) {
                errs.add(FieldError.duplicate(zp, zone));
            }
            Names.labelValue(zone).forEach(msg -> errs.add(FieldError.invalid(zp, zone, msg)));
        }
        List<ForNode> nodes = hints.getForNodes() == null ? List.of() : hints.getForNodes();
        FieldPath nodesPath = path.child("forNodes");
        if (nodes.size() > MAX_HINTS) {
            errs.add(FieldError.tooMany(nodesPath, nodes.size(), MAX_HINTS));
            return errs;
        }
        seen.clear();
        for (int i = 0; i < nodes.size(); i++) {
            String node = nodes.get(i) == null ? "" : nz(nodes.get(i).getName());
            FieldPath np = nodesPath.index(i).child("name");
            if (!seen.add(node)) {
                errs.add(FieldError.duplicate(np, node));
            }
            Names.dns1123Subdomain(node).forEach(msg -> errs.add(FieldError.invalid(np, node, msg)));
        }
        return errs;
    }

    /**
     * {@code IsFullyQualifiedDomainName}: a trailing dot is allowed, the rest must be a DNS
     * subdomain of at least two labels. The first problem is the only one reported, with all its
     * messages joined by commas.
     */
    static List<FieldError> fullyQualifiedDomainName(String name, FieldPath path) {
        if (name.isEmpty()) {
            return List.of(FieldError.required(path, ""));
        }
        String trimmed = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        List<String> msgs = Names.dns1123Subdomain(trimmed);
        if (!msgs.isEmpty()) {
            return List.of(FieldError.invalid(path, trimmed, String.join(",", msgs)));
        }
        String[] labels = trimmed.split("\\.", -1);
        if (labels.length < 2) {
            return List.of(FieldError.invalid(path, trimmed, "should be a domain with at least two segments separated by dots"));
        }
        for (String label : labels) {
            List<String> labelMsgs = Names.dns1123Label(label);
            if (!labelMsgs.isEmpty()) {
                return List.of(FieldError.invalid(path, label, String.join(",", labelMsgs)));
            }
        }
        return List.of();
    }

    private static boolean mappedIpv4(String address) {
        try {
            return address.contains(":") && java.net.InetAddress.getByName(address) instanceof java.net.Inet4Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static List<FieldError> ports(List<EndpointPort> ports, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (ports == null) {
            return errs;
        }
        if (ports.size() > MAX_PORTS) {
            errs.add(FieldError.tooMany(path, ports.size(), MAX_PORTS));
            return errs;
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            EndpointPort port = ports.get(i);
            FieldPath p = path.index(i);
            String name = nz(port.getName());
            if (!name.isEmpty()) {
                Names.dns1123Label(name).forEach(msg -> errs.add(FieldError.invalid(p.child("name"), name, msg)));
            }
            if (!names.add(name)) {
                errs.add(FieldError.duplicate(p.child("name"), name));
            }
            if (port.getProtocol() == null) {
                errs.add(FieldError.required(p.child("protocol"), ""));
            } else if (!Set.of("TCP", "UDP", "SCTP").contains(port.getProtocol())) {
                errs.add(FieldError.notSupported(p.child("protocol"), port.getProtocol(), "SCTP", "TCP", "UDP"));
            }
            if (port.getPort() != null) {
                Names.portNum(port.getPort()).forEach(msg -> errs.add(FieldError.invalid(p.child("port"), port.getPort(), msg)));
            }
            if (port.getAppProtocol() != null) {
                Names.qualifiedName(port.getAppProtocol()).forEach(msg ->
                        errs.add(FieldError.invalid(p.child("appProtocol"), port.getAppProtocol(), msg)));
            }
        }
        return errs;
    }
}
