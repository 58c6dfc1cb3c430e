package dev.portway.api.validation;

import static dev.portway.api.validation.MetaValidation.nz;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.GoValues;
import dev.portway.net.Ipv4;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.SessionAffinityConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Service validation, rule for rule and message for message as the API server's
 * {@code ValidateService} / {@code ValidateServiceUpdate} ({@code pkg/apis/core/validation}).
 * Runs after defaulting, as it does in the API server.
 */
public final class ServiceValidation {

    public static final String CLUSTER_IP = "ClusterIP";
    public static final String NODE_PORT = "NodePort";
    public static final String LOAD_BALANCER = "LoadBalancer";
    public static final String EXTERNAL_NAME = "ExternalName";
    public static final int MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

    private static final FieldPath SPEC = FieldPath.of("spec");

    private ServiceValidation() {
    }

    /** The annotation that replaced {@link #TOPOLOGY_AWARE_HINTS_ANNOTATION}. */
    public static final String TOPOLOGY_MODE_ANNOTATION = "service.kubernetes.io/topology-mode";
    public static final String TOPOLOGY_AWARE_HINTS_ANNOTATION = "service.kubernetes.io/topology-aware-hints";

    /**
     * {@code ValidateServiceCreate}: metadata (names are DNS-1035 labels; the
     * RelaxedServiceNameValidation gate is alpha and off in 1.34), then {@code validateService}.
     */
    public static List<FieldError> validate(Service service, ValidationOptions options) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(service.getMetadata(), true, MetaValidation.DNS1035_LABEL, FieldPath.of("metadata")));
        errs.addAll(validateService(service, null, options));
        return errs;
    }

    /** {@code validateService}: everything but the metadata, which create and update check differently. */
    private static List<FieldError> validateService(Service service, Service old, ValidationOptions options) {
        if (service.getSpec() == null) {
            service.setSpec(new ServiceSpec());
        }
        ServiceSpec spec = service.getSpec();
        List<FieldError> errs = new ArrayList<>();
        var annotations = annotations(service);
        if (annotations.containsKey(TOPOLOGY_MODE_ANNOTATION) && annotations.containsKey(TOPOLOGY_AWARE_HINTS_ANNOTATION)
                && !Objects.equals(annotations.get(TOPOLOGY_MODE_ANNOTATION), annotations.get(TOPOLOGY_AWARE_HINTS_ANNOTATION))) {
            errs.add(FieldError.invalid(FieldPath.of("metadata", "annotations").key(TOPOLOGY_MODE_ANNOTATION),
                    nz(annotations.get(TOPOLOGY_MODE_ANNOTATION)),
                    "must match annotations[" + TOPOLOGY_AWARE_HINTS_ANNOTATION + "] when both are specified"));
        }
        if (options.allowLoopback()) {
            // local mode: Portway is the API server of its own annotations, and refuses what it cannot read
            errs.addAll(dev.portway.api.ServiceAnnotations.validate(service));
        }
        String type = nz(spec.getType());
        List<ServicePort> ports = spec.getPorts() == null ? List.of() : spec.getPorts();
        boolean headless = isHeadless(spec);

        if (ports.isEmpty() && !headless && !EXTERNAL_NAME.equals(type)) {
            errs.add(FieldError.required(SPEC.child("ports"), ""));
        }
        switch (type) {
            case LOAD_BALANCER -> {
                if (headless) {
                    errs.add(FieldError.invalid(SPEC.child("clusterIPs").index(0), spec.getClusterIPs().getFirst(),
                            "may not be set to 'None' for LoadBalancer services"));
                }
            }
            case NODE_PORT -> {
                if (headless) {
                    errs.add(FieldError.invalid(SPEC.child("clusterIPs").index(0), spec.getClusterIPs().getFirst(),
                            "may not be set to 'None' for NodePort services"));
                }
            }
            case EXTERNAL_NAME -> {
                if (!list(spec.getClusterIPs()).isEmpty()) {
                    errs.add(FieldError.forbidden(SPEC.child("clusterIPs"), "may not be set for ExternalName services"));
                }
                if (!list(spec.getIpFamilies()).isEmpty()) {
                    errs.add(FieldError.forbidden(SPEC.child("ipFamilies"), "may not be set for ExternalName services"));
                }
                if (spec.getIpFamilyPolicy() != null) {
                    errs.add(FieldError.forbidden(SPEC.child("ipFamilyPolicy"), "may not be set for ExternalName services"));
                }
                String cname = nz(spec.getExternalName());
                if (cname.endsWith(".")) {
                    cname = cname.substring(0, cname.length() - 1);
                }
                if (!cname.isEmpty()) {
                    for (String msg : Names.dns1123Subdomain(cname)) {
                        errs.add(FieldError.invalid(SPEC.child("externalName"), cname, msg));
                    }
                } else {
                    errs.add(FieldError.required(SPEC.child("externalName"), ""));
                }
            }
            default -> {
            }
        }

        Set<String> portNames = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            errs.addAll(servicePort(ports.get(i), ports.size() > 1, portNames, SPEC.child("ports").index(i)));
        }

        if (spec.getSelector() != null) {
            errs.addAll(MetaValidation.labels(spec.getSelector(), SPEC.child("selector")));
        }

        String affinity = nz(spec.getSessionAffinity());
        if (affinity.isEmpty()) {
            errs.add(FieldError.required(SPEC.child("sessionAffinity"), ""));
        } else if (!affinity.equals("ClientIP") && !affinity.equals("None")) {
            errs.add(FieldError.notSupported(SPEC.child("sessionAffinity"), affinity, "ClientIP", "None"));
        }
        if (affinity.equals("ClientIP")) {
            errs.addAll(clientIpAffinityConfig(spec.getSessionAffinityConfig(), SPEC.child("sessionAffinityConfig")));
        } else if (affinity.equals("None") && spec.getSessionAffinityConfig() != null) {
            errs.add(FieldError.forbidden(SPEC.child("sessionAffinityConfig"), "must not be set when session affinity is None"));
        }

        errs.addAll(clusterIpsRelatedFields(spec));

        List<String> externalIps = list(spec.getExternalIPs());
        for (int i = 0; i < externalIps.size(); i++) {
            FieldPath p = SPEC.child("externalIPs").index(i);
            String ip = externalIps.get(i);
            List<String> ipErrs = Names.ip(ip);
            if (!ipErrs.isEmpty()) {
                ipErrs.forEach(msg -> errs.add(FieldError.invalid(p, ip, msg)));
            } else {
                errs.addAll(nonSpecialIp(ip, p, options));
            }
        }

        if (type.isEmpty()) {
            errs.add(FieldError.required(SPEC.child("type"), ""));
        } else if (!Set.of(CLUSTER_IP, NODE_PORT, LOAD_BALANCER, EXTERNAL_NAME).contains(type)) {
            errs.add(FieldError.notSupported(SPEC.child("type"), type, CLUSTER_IP, EXTERNAL_NAME, LOAD_BALANCER, NODE_PORT));
        }

        if (CLUSTER_IP.equals(type)) {
            for (int i = 0; i < ports.size(); i++) {
                if (nz(ports.get(i).getNodePort()) != 0) {
                    errs.add(FieldError.forbidden(SPEC.child("ports").index(i).child("nodePort"),
                            "may not be used when `type` is 'ClusterIP'"));
                }
            }
        }

        // Duplicate nodePorts, keyed by (protocol, nodePort).
        Set<String> nodePorts = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            int nodePort = nz(ports.get(i).getNodePort());
            if (nodePort == 0) {
                continue;
            }
            if (!nodePorts.add(nz(ports.get(i).getProtocol()) + "/" + nodePort)) {
                errs.add(FieldError.duplicate(SPEC.child("ports").index(i).child("nodePort"), nodePort));
            }
        }

        // Duplicate ports, keyed by (protocol, port): 53/TCP and 53/UDP may coexist.
        Set<String> seenPorts = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            ServicePort port = ports.get(i);
            if (!seenPorts.add(nz(port.getProtocol()) + "/" + nz(port.getPort()))) {
                errs.add(FieldError.duplicate(SPEC.child("ports").index(i), servicePortKey(port)));
            }
        }

        List<String> sourceRanges = list(spec.getLoadBalancerSourceRanges());
        if (!sourceRanges.isEmpty()) {
            FieldPath p = SPEC.child("LoadBalancerSourceRanges");
            if (!LOAD_BALANCER.equals(type)) {
                errs.add(FieldError.forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
            }
            for (int i = 0; i < sourceRanges.size(); i++) {
                String value = nz(sourceRanges.get(i)).trim();
                for (String msg : Names.cidr(value)) {
                    errs.add(FieldError.invalid(p.index(i), value, msg));
                }
            }
        } else if (annotations(service).containsKey(SOURCE_RANGES_ANNOTATION)) {
            FieldPath p = FieldPath.of("metadata", "annotations").key(SOURCE_RANGES_ANNOTATION);
            if (!LOAD_BALANCER.equals(type)) {
                errs.add(FieldError.forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
            }
            String value = nz(annotations(service).get(SOURCE_RANGES_ANNOTATION)).trim();
            if (!value.isEmpty()) {
                for (String cidr : value.split(",")) {
                    for (String msg : Names.cidr(cidr.trim())) {
                        errs.add(FieldError.invalid(p, cidr.trim(), msg));
                    }
                }
            }
        }

        if (spec.getAllocateLoadBalancerNodePorts() != null && !LOAD_BALANCER.equals(type)) {
            errs.add(FieldError.forbidden(SPEC.child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"));
        }
        if (LOAD_BALANCER.equals(type) && spec.getAllocateLoadBalancerNodePorts() == null) {
            errs.add(FieldError.required(FieldPath.of("allocateLoadBalancerNodePorts"), ""));
        }

        errs.addAll(loadBalancerClass(null, service));
        errs.addAll(externalTrafficPolicy(service, options));
        errs.addAll(internalTrafficPolicy(spec));

        // PreferSameTrafficDistribution is beta and on in 1.34; the values print unsorted, as listed.
        if (spec.getTrafficDistribution() != null && !TRAFFIC_DISTRIBUTIONS.contains(spec.getTrafficDistribution())) {
            errs.add(FieldError.notSupported(SPEC.child("trafficDistribution"), spec.getTrafficDistribution(),
                    TRAFFIC_DISTRIBUTIONS.toArray(String[]::new)));
        }
        return errs;
    }

    private static final List<String> TRAFFIC_DISTRIBUTIONS = List.of("PreferClose", "PreferSameZone", "PreferSameNode");

    /** The annotation older clients used instead of {@code spec.loadBalancerSourceRanges}. */
    public static final String SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

    /** {@code ValidateServiceUpdate}. */
    public static List<FieldError> validateUpdate(Service updated, Service old, ValidationOptions options) {
        if (updated.getSpec() == null) {
            updated.setSpec(new ServiceSpec());
        }
        ServiceSpec oldSpec = old.getSpec() == null ? new ServiceSpec() : old.getSpec();
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        errs.addAll(upgradeDowngradeClusterIps(oldSpec, updated.getSpec()));
        errs.addAll(upgradeDowngradeIpFamilies(oldSpec, updated.getSpec()));
        errs.addAll(loadBalancerClass(old, updated));
        if (needsHealthCheck(oldSpec) && needsHealthCheck(updated.getSpec())
                && !Objects.equals(nz(updated.getSpec().getHealthCheckNodePort()), nz(oldSpec.getHealthCheckNodePort()))) {
            errs.add(FieldError.forbidden(SPEC.child("healthCheckNodePort"), "field is immutable"));
        }
        // Portway's update checks the new object's metadata as on create too; the messages are the same.
        errs.addAll(validate(updated, options));
        return errs;
    }

    /** {@code status.loadBalancer}: what a LoadBalancer implementation may write. */
    public static List<FieldError> validateStatus(Service service) {
        List<FieldError> errs = new ArrayList<>();
        FieldPath ingressPath = FieldPath.of("status", "loadBalancer", "ingress");
        List<LoadBalancerIngress> ingress = service.getStatus() == null || service.getStatus().getLoadBalancer() == null
                ? List.of() : list(service.getStatus().getLoadBalancer().getIngress());
        String type = service.getSpec() == null ? "" : nz(service.getSpec().getType());
        if (!LOAD_BALANCER.equals(type) && !ingress.isEmpty()) {
            errs.add(FieldError.forbidden(ingressPath, "may only be used when `spec.type` is 'LoadBalancer'"));
            return errs;
        }
        for (int i = 0; i < ingress.size(); i++) {
            LoadBalancerIngress in = ingress.get(i);
            FieldPath p = ingressPath.index(i);
            String ip = nz(in.getIp());
            if (!ip.isEmpty()) {
                Names.ip(ip).forEach(msg -> errs.add(FieldError.invalid(p.child("ip"), ip, msg)));
            }
            if (in.getIpMode() == null) {
                if (!ip.isEmpty()) {
                    errs.add(FieldError.required(p.child("ipMode"), "must be specified when `ip` is set"));
                }
            } else if (ip.isEmpty()) {
                errs.add(FieldError.forbidden(p.child("ipMode"), "may not be specified when `ip` is not set"));
            } else if (!Set.of("Proxy", "VIP").contains(in.getIpMode())) {
                errs.add(FieldError.notSupported(p.child("ipMode"), in.getIpMode(), "Proxy", "VIP"));
            }
            String hostname = nz(in.getHostname());
            if (!hostname.isEmpty()) {
                Names.dns1123Subdomain(hostname).forEach(msg -> errs.add(FieldError.invalid(p.child("hostname"), hostname, msg)));
                if (Names.isIp(hostname)) {
                    errs.add(FieldError.invalid(p.child("hostname"), hostname, "must be a DNS name, not an IP address"));
                }
            }
        }
        return errs;
    }

    private static List<FieldError> servicePort(ServicePort port, boolean requireName, Set<String> allNames, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        String name = nz(port.getName());
        if (requireName && name.isEmpty()) {
            errs.add(FieldError.required(path.child("name"), ""));
        } else if (!name.isEmpty()) {
            for (String msg : Names.dns1123Label(name)) {
                errs.add(FieldError.invalid(path.child("name"), name, msg));
            }
            if (!allNames.add(name)) {
                errs.add(FieldError.duplicate(path.child("name"), name));
            }
        }
        for (String msg : Names.portNum(nz(port.getPort()))) {
            errs.add(FieldError.invalid(path.child("port"), nz(port.getPort()), msg));
        }
        String protocol = nz(port.getProtocol());
        if (protocol.isEmpty()) {
            errs.add(FieldError.required(path.child("protocol"), ""));
        } else if (!Set.of("TCP", "UDP", "SCTP").contains(protocol)) {
            errs.add(FieldError.notSupported(path.child("protocol"), protocol, "SCTP", "TCP", "UDP"));
        }
        errs.addAll(portNumOrName(port.getTargetPort(), path.child("targetPort")));
        if (port.getAppProtocol() != null) {
            for (String msg : Names.qualifiedName(port.getAppProtocol())) {
                errs.add(FieldError.invalid(path.child("appProtocol"), port.getAppProtocol(), msg));
            }
        }
        return errs;
    }

    /** {@code ValidatePortNumOrName}: a port number 1-65535, or an IANA service name. */
    public static List<FieldError> portNumOrName(IntOrString port, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (port == null || (port.getIntVal() == null && port.getStrVal() == null)) {
            for (String msg : Names.portNum(0)) {
                errs.add(FieldError.invalid(path, 0, msg));
            }
        } else if (port.getIntVal() != null) {
            for (String msg : Names.portNum(port.getIntVal())) {
                errs.add(FieldError.invalid(path, port.getIntVal(), msg));
            }
        } else {
            for (String msg : Names.portName(port.getStrVal())) {
                errs.add(FieldError.invalid(path, port.getStrVal(), msg));
            }
        }
        return errs;
    }

    private static List<FieldError> clientIpAffinityConfig(SessionAffinityConfig config, FieldPath path) {
        String when = "when session affinity type is ClientIP";
        if (config == null) {
            return List.of(FieldError.required(path, when));
        }
        if (config.getClientIP() == null) {
            return List.of(FieldError.required(path.child("clientIP"), when));
        }
        Integer timeout = config.getClientIP().getTimeoutSeconds();
        FieldPath timeoutPath = path.child("clientIP").child("timeoutSeconds");
        if (timeout == null) {
            return List.of(FieldError.required(timeoutPath, when));
        }
        if (timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS) {
            return List.of(FieldError.invalid(timeoutPath, timeout,
                    "must be greater than 0 and less than " + MAX_CLIENT_IP_AFFINITY_SECONDS));
        }
        return List.of();
    }

    /** {@code ValidateServiceClusterIPsRelatedFields}. */
    public static List<FieldError> clusterIpsRelatedFields(ServiceSpec spec) {
        List<FieldError> errs = new ArrayList<>();
        if (EXTERNAL_NAME.equals(spec.getType())) {
            return errs;
        }
        FieldPath clusterIpsField = SPEC.child("clusterIPs");
        FieldPath ipFamiliesField = SPEC.child("ipFamilies");
        String clusterIp = nz(spec.getClusterIP());
        List<String> clusterIps = list(spec.getClusterIPs());
        if (!clusterIp.isEmpty()) {
            if (clusterIps.isEmpty()) {
                errs.add(FieldError.required(clusterIpsField, ""));
            } else if (!clusterIps.getFirst().equals(clusterIp)) {
                errs.add(FieldError.invalid(clusterIpsField, clusterIps, "first value must match `clusterIP`"));
            }
        } else if (!clusterIps.isEmpty()) {
            errs.add(FieldError.invalid(clusterIpsField, clusterIps, "must be empty when `clusterIP` is not specified"));
        }

        Set<String> seenFamilies = new HashSet<>();
        List<String> families = list(spec.getIpFamilies());
        for (int i = 0; i < families.size(); i++) {
            String family = families.get(i);
            if (!family.equals("IPv4") && !family.equals("IPv6")) {
                errs.add(FieldError.notSupported(ipFamiliesField.index(i), family, "IPv4", "IPv6"));
            }
            if (!seenFamilies.add(family)) {
                errs.add(FieldError.duplicate(ipFamiliesField.index(i), family));
            }
        }
        String policy = spec.getIpFamilyPolicy();
        if (policy != null && !Set.of("PreferDualStack", "RequireDualStack", "SingleStack").contains(policy)) {
            errs.add(FieldError.notSupported(SPEC.child("ipFamilyPolicy"), policy, "PreferDualStack", "RequireDualStack", "SingleStack"));
        }

        boolean invalidIps = false;
        for (int i = 0; i < clusterIps.size(); i++) {
            String ip = clusterIps.get(i);
            if (i == 0 && "None".equals(ip)) {
                if (clusterIps.size() > 1) {
                    invalidIps = true;
                    errs.add(FieldError.invalid(clusterIpsField, clusterIps, "'None' must be the first and only value"));
                }
                continue;
            }
            List<String> msgs = Names.ip(ip);
            if (!msgs.isEmpty()) {
                invalidIps = true;
                FieldPath p = clusterIpsField.index(i);
                msgs.forEach(msg -> errs.add(FieldError.invalid(p, ip, msg)));
            }
        }
        if (clusterIps.size() > 2) {
            errs.add(FieldError.invalid(clusterIpsField, clusterIps, "may only hold up to 2 values"));
        }
        if (invalidIps) {
            return errs;
        }
        if (clusterIps.size() > 1) {
            boolean dualStack = clusterIps.size() == 2 && Names.isIpv6(clusterIps.get(0)) != Names.isIpv6(clusterIps.get(1));
            if (!dualStack) {
                errs.add(FieldError.invalid(clusterIpsField, clusterIps, "may specify no more than one IP for each IP family"));
            }
        }
        if (!isHeadless(spec) && !clusterIps.isEmpty() && !families.isEmpty()) {
            for (int i = 0; i < clusterIps.size() && i < families.size(); i++) {
                String ip = clusterIps.get(i);
                if (families.get(i).equals("IPv4") && Names.isIpv6(ip)) {
                    errs.add(FieldError.invalid(clusterIpsField.index(i), ip,
                            "expected an IPv4 value as indicated by `ipFamilies[" + i + "]`"));
                }
                if (families.get(i).equals("IPv6") && !Names.isIpv6(ip)) {
                    errs.add(FieldError.invalid(clusterIpsField.index(i), ip,
                            "expected an IPv6 value as indicated by `ipFamilies[" + i + "]`"));
                }
            }
        }
        return errs;
    }

    private static List<FieldError> upgradeDowngradeClusterIps(ServiceSpec old, ServiceSpec updated) {
        List<FieldError> errs = new ArrayList<>();
        if (EXTERNAL_NAME.equals(updated.getType()) || EXTERNAL_NAME.equals(old.getType())) {
            return errs;
        }
        if (isHeadless(old) && isHeadless(updated)) {
            return errs;
        }
        List<String> oldIps = list(old.getClusterIPs());
        List<String> newIps = list(updated.getClusterIPs());
        FieldPath path = SPEC.child("clusterIPs");
        if (oldIps.size() == newIps.size()) {
            for (int i = 0; i < oldIps.size(); i++) {
                if (!oldIps.get(i).equals(newIps.get(i))) {
                    errs.add(FieldError.invalid(path.index(i), newIps, "may not change once set"));
                }
            }
        } else if (oldIps.size() > newIps.size()) {
            if (newIps.isEmpty()) {
                errs.add(FieldError.invalid(path.index(0), newIps, "primary clusterIP can not be unset"));
            } else if (!oldIps.getFirst().equals(newIps.getFirst())) {
                errs.add(FieldError.invalid(path.index(0), newIps, "may not change once set"));
            }
            if (newIps.size() == 1 && !"SingleStack".equals(updated.getIpFamilyPolicy())) {
                errs.add(FieldError.invalid(SPEC.child("ipFamilyPolicy"), updated.getIpFamilyPolicy(),
                        "must be set to 'SingleStack' when releasing the secondary clusterIP"));
            }
        } else if (!oldIps.isEmpty() && !oldIps.getFirst().equals(newIps.getFirst())) {
            errs.add(FieldError.invalid(path.index(0), newIps, "may not change once set"));
        }
        return errs;
    }

    /** {@code validateUpgradeDowngradeIPFamilies}, with its quirks (index 0, clusterIPs as the value). */
    private static List<FieldError> upgradeDowngradeIpFamilies(ServiceSpec old, ServiceSpec updated) {
        List<FieldError> errs = new ArrayList<>();
        if (EXTERNAL_NAME.equals(updated.getType()) || EXTERNAL_NAME.equals(old.getType())) {
            return errs;
        }
        if (isHeadless(old) != isHeadless(updated) || isHeadless(updated)) {
            return errs;
        }
        List<String> oldFamilies = list(old.getIpFamilies());
        List<String> newFamilies = list(updated.getIpFamilies());
        FieldPath path = SPEC.child("ipFamilies").index(0);
        if (oldFamilies.size() == newFamilies.size()) {
            for (int i = 0; i < oldFamilies.size(); i++) {
                if (!Objects.equals(oldFamilies.get(i), newFamilies.get(i))) {
                    errs.add(FieldError.invalid(path, newFamilies, "may not change once set"));
                }
            }
        } else if (oldFamilies.size() > newFamilies.size()) {
            if (list(updated.getClusterIPs()).isEmpty()) {
                errs.add(FieldError.invalid(path, newFamilies, "primary ipFamily can not be unset"));
            }
            if (!newFamilies.isEmpty() && !Objects.equals(newFamilies.getFirst(), oldFamilies.getFirst())) {
                errs.add(FieldError.invalid(path, list(updated.getClusterIPs()), "may not change once set"));
            }
            if (newFamilies.size() == 1 && !"SingleStack".equals(updated.getIpFamilyPolicy())) {
                errs.add(FieldError.invalid(SPEC.child("ipFamilyPolicy"), updated.getIpFamilyPolicy(),
                        "must be set to 'SingleStack' when releasing the secondary ipFamily"));
            }
        } else if (!oldFamilies.isEmpty() && !newFamilies.isEmpty() && !Objects.equals(newFamilies.getFirst(), oldFamilies.getFirst())) {
            errs.add(FieldError.invalid(path, list(updated.getClusterIPs()), "may not change once set"));
        }
        return errs;
    }

    private static List<FieldError> loadBalancerClass(Service old, Service service) {
        List<FieldError> errs = new ArrayList<>();
        String cls = service.getSpec().getLoadBalancerClass();
        if (old != null && LOAD_BALANCER.equals(old.getSpec().getType()) && LOAD_BALANCER.equals(service.getSpec().getType())
                && !Objects.equals(old.getSpec().getLoadBalancerClass(), cls)) {
            errs.add(FieldError.invalid(SPEC.child("loadBalancerClass"), cls, "may not change once set"));
        }
        if (LOAD_BALANCER.equals(service.getSpec().getType())) {
            if (cls != null) {
                for (String msg : Names.qualifiedName(cls)) {
                    errs.add(FieldError.invalid(SPEC.child("loadBalancerClass"), cls, msg));
                }
            }
        } else if (cls != null) {
            errs.add(FieldError.forbidden(SPEC.child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"));
        }
        return errs;
    }

    private static List<FieldError> externalTrafficPolicy(Service service, ValidationOptions options) {
        List<FieldError> errs = new ArrayList<>();
        ServiceSpec spec = service.getSpec();
        String policy = nz(spec.getExternalTrafficPolicy());
        if (!externallyAccessible(spec)) {
            if (!policy.isEmpty()) {
                errs.add(FieldError.invalid(SPEC.child("externalTrafficPolicy"), policy,
                        "may only be set for externally-accessible services"));
            }
        } else if (policy.isEmpty()) {
            errs.add(FieldError.required(SPEC.child("externalTrafficPolicy"), ""));
        } else if (!policy.equals("Cluster") && !policy.equals("Local")) {
            errs.add(FieldError.notSupported(SPEC.child("externalTrafficPolicy"), policy, "Cluster", "Local"));
        }
        int hcnp = nz(spec.getHealthCheckNodePort());
        if (!needsHealthCheck(spec)) {
            if (hcnp != 0) {
                errs.add(FieldError.invalid(SPEC.child("healthCheckNodePort"), hcnp,
                        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
            }
        } else if (hcnp != 0) {
            // 0 is not an error here: Portway validates before allocating, and the allocator fills it in.
            for (String msg : Names.portNum(hcnp)) {
                errs.add(FieldError.invalid(SPEC.child("healthCheckNodePort"), hcnp, msg));
            }
        }
        return errs;
    }

    private static List<FieldError> internalTrafficPolicy(ServiceSpec spec) {
        List<FieldError> errs = new ArrayList<>();
        String type = nz(spec.getType());
        if (spec.getInternalTrafficPolicy() == null) {
            if (type.equals(NODE_PORT) || type.equals(LOAD_BALANCER) || type.equals(CLUSTER_IP)) {
                errs.add(FieldError.required(SPEC.child("internalTrafficPolicy"), ""));
            }
        } else if (!spec.getInternalTrafficPolicy().equals("Cluster") && !spec.getInternalTrafficPolicy().equals("Local")) {
            errs.add(FieldError.notSupported(SPEC.child("internalTrafficPolicy"), spec.getInternalTrafficPolicy(), "Cluster", "Local"));
        }
        return errs;
    }

    /** {@code ValidateNonSpecialIP}; loopback is allowed where the cluster network itself is loopback. */
    static List<FieldError> nonSpecialIp(String ip, FieldPath path, ValidationOptions options) {
        List<FieldError> errs = new ArrayList<>();
        var v4 = Ipv4.parse(ip);
        if (v4.isPresent()) {
            long a = v4.get();
            if (a == 0) {
                errs.add(FieldError.invalid(path, ip, "may not be unspecified (" + ip + ")"));
            }
            if (Ipv4.isLoopback(a) && !options.allowLoopback()) {
                errs.add(FieldError.invalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
            }
            if ((a >>> 16) == ((169L << 8) | 254)) {
                errs.add(FieldError.invalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
            }
            if ((a >>> 8) == ((224L << 16))) {
                errs.add(FieldError.invalid(path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
            }
        } else if (Names.isIpv6(ip)) {
            byte[] b = ipv6Bytes(ip);
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= b[i] == 0;
            }
            mapped &= (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
            if (mapped) {
                // Go's net.IP treats ::ffff:a.b.c.d as the IPv4 address a.b.c.d.
                String dotted = (b[12] & 0xff) + "." + (b[13] & 0xff) + "." + (b[14] & 0xff) + "." + (b[15] & 0xff);
                for (FieldError e : nonSpecialIp(dotted, path, options)) {
                    errs.add(FieldError.invalid(path, ip, e.detail().replace("(" + dotted + ")", "(" + ip + ")")));
                }
                return errs;
            }
            boolean zero = true;
            for (byte x : b) {
                zero &= x == 0;
            }
            boolean loopback = true;
            for (int i = 0; i < 15; i++) {
                loopback &= b[i] == 0;
            }
            loopback &= b[15] == 1;
            if (zero) {
                errs.add(FieldError.invalid(path, ip, "may not be unspecified (" + ip + ")"));
            }
            if (loopback && !options.allowLoopback()) {
                errs.add(FieldError.invalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
            }
            if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) {
                errs.add(FieldError.invalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
            }
            if ((b[0] & 0xff) == 0xff && (b[1] & 0x0f) == 0x02) {
                errs.add(FieldError.invalid(path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
            }
        }
        return errs;
    }

    /**
     * The key the API server reports for a duplicate port: an internal core.ServicePort with only
     * protocol and port set, which json.Marshal prints with Go field names (no JSON tags).
     */
    private static GoValues.Struct servicePortKey(ServicePort port) {
        return GoValues.Struct.builder()
                .put("Name", "")
                .put("Protocol", nz(port.getProtocol()))
                .put("AppProtocol", null)
                .put("Port", nz(port.getPort()))
                .put("TargetPort", 0)
                .put("NodePort", 0)
                .build();
    }

    private static byte[] ipv6Bytes(String ip) {
        try {
            // isIpv6 checked the syntax: no name lookup happens for an IPv6 literal.
            byte[] b = java.net.InetAddress.getByName(ip).getAddress();
            if (b.length == 4) {
                byte[] mapped = new byte[16];
                mapped[10] = (byte) 0xff;
                mapped[11] = (byte) 0xff;
                System.arraycopy(b, 0, mapped, 12, 4);
                return mapped;
            }
            return b;
        } catch (java.net.UnknownHostException e) {
            return new byte[16];
        }
    }

    public static boolean isHeadless(ServiceSpec spec) {
        List<String> ips = list(spec.getClusterIPs());
        return ips.size() == 1 && "None".equals(ips.getFirst());
    }

    /** NodePort, LoadBalancer, or ClusterIP with externalIPs. */
    public static boolean externallyAccessible(ServiceSpec spec) {
        String type = nz(spec.getType());
        return type.equals(LOAD_BALANCER) || type.equals(NODE_PORT)
                || (type.equals(CLUSTER_IP) && !list(spec.getExternalIPs()).isEmpty());
    }

    /** LoadBalancer with externalTrafficPolicy Local: the one case with a healthCheckNodePort. */
    public static boolean needsHealthCheck(ServiceSpec spec) {
        return LOAD_BALANCER.equals(spec.getType()) && externallyAccessible(spec) && "Local".equals(spec.getExternalTrafficPolicy());
    }

    private static java.util.Map<String, String> annotations(Service service) {
        var a = service.getMetadata() == null ? null : service.getMetadata().getAnnotations();
        return a == null ? java.util.Map.of() : a;
    }

    private static <T> List<T> list(List<T> list) {
        return list == null ? List.of() : list;
    }
}
