package dev.portway.api.validation;

import static dev.portway.api.validation.MetaValidation.nz;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.net.Ipv4;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/** EndpointSlice validation ({@code pkg/apis/discovery/validation}). */
public final class DiscoveryValidation {

    private static final int MAX_ADDRESSES = 100;
    private static final int MAX_PORTS = 20000;
    private static final int MAX_ENDPOINTS = 1000;

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
                    case "IPv4" -> {
                        if (Ipv4.parse(address).isEmpty()) {
                            errs.add(FieldError.invalid(ap, address, "must be a valid IPv4 address"));
                        } else {
                            errs.addAll(ServiceValidation.nonSpecialIp(address, ap, options));
                        }
                    }
                    case "IPv6" -> {
                        if (!Names.isIpv6(address)) {
                            errs.add(FieldError.invalid(ap, address, "must be a valid IPv6 address"));
                        } else {
                            errs.addAll(ServiceValidation.nonSpecialIp(address, ap, options));
                        }
                    }
                    case "FQDN" -> {
                        Names.dns1123Subdomain(address).forEach(msg -> errs.add(FieldError.invalid(ap, address, msg)));
                    }
                    default -> {
                    }
                }
            }
            if (e.getNodeName() != null) {
                for (String msg : Names.dns1123Subdomain(e.getNodeName())) {
                    errs.add(FieldError.invalid(p.child("nodeName"), e.getNodeName(), msg));
                }
            }
            if (e.getHostname() != null) {
                for (String msg : Names.dns1123Label(e.getHostname())) {
                    errs.add(FieldError.invalid(p.child("hostname"), e.getHostname(), msg));
                }
            }
        }
        return errs;
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
