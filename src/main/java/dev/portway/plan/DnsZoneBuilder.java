package dev.portway.plan;

import dev.portway.api.gateway.GatewayModel;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds the {@link DnsZone} of the store's objects, as Kubernetes' DNS-based service discovery
 * specification (and CoreDNS's kubernetes plugin) gives it:
 * <ul>
 * <li>a Service with a ClusterIP: {@code <svc>.<ns>.svc.<domain>} to its ClusterIPs, and for each named
 *     port {@code _<port>._<proto>.<svc>.<ns>.svc.<domain>} SRV to that name and the Service's port;</li>
 * <li>a headless Service: the same name to the addresses of its ready endpoints, each endpoint as
 *     {@code <hostname>.<svc>.<ns>.svc.<domain>} (the pod's {@code hostname} when its {@code subdomain}
 *     is the Service, else its IP with dashes), and SRV records to those names and the endpoints' ports;</li>
 * <li>an ExternalName Service: the same name as a CNAME of its {@code externalName};</li>
 * <li>a pod: {@code <ip-with-dashes>.<ns>.pod.<domain>};</li>
 * <li>a Gateway of one of Portway's classes with an address: {@code <gateway>-<class>.<ns>.svc.<domain>},
 *     the name GEP-1762 gives the Service of an in-cluster Gateway.</li>
 * </ul>
 */
public final class DnsZoneBuilder {

    private static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    private final String domain;
    private final Map<String, List<InetAddress>> addresses = new LinkedHashMap<>();
    private final Map<String, List<DnsZone.Srv>> services = new LinkedHashMap<>();
    private final Map<String, String> aliases = new LinkedHashMap<>();

    private DnsZoneBuilder(String domain) {
        this.domain = domain;
    }

    public static DnsZone build(Store store) {
        return build(store, DnsZone.DEFAULT_DOMAIN);
    }

    public static DnsZone build(Store store, String domain) {
        DnsZoneBuilder b = new DnsZoneBuilder(domain);
        Map<String, List<EndpointSlice>> slices = new HashMap<>();
        for (EndpointSlice s : store.list(EndpointSlice.class)) {
            Map<String, String> labels = s.getMetadata().getLabels();
            String svc = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
            if (svc != null) {
                slices.computeIfAbsent(s.getMetadata().getNamespace() + "/" + svc, k -> new ArrayList<>()).add(s);
            }
        }
        Map<String, Pod> pods = new HashMap<>();
        for (Pod p : store.list(Pod.class)) {
            pods.put(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName(), p);
            String ip = p.getStatus() == null ? null : p.getStatus().getPodIP();
            if (ip != null && !ip.isEmpty()) {
                b.addAddress(ip.replace('.', '-').replace(':', '-') + "." + p.getMetadata().getNamespace() + ".pod." + domain, ip);
            }
        }
        for (Service svc : store.list(Service.class)) {
            b.service(svc, slices.getOrDefault(svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName(), List.of()), pods);
        }
        b.gateways(store);
        return new DnsZone(domain, b.addresses, b.services, b.aliases);
    }

    private void service(Service svc, List<EndpointSlice> slices, Map<String, Pod> pods) {
        var spec = svc.getSpec();
        if (spec == null) {
            return;
        }
        String ns = svc.getMetadata().getNamespace();
        String name = svc.getMetadata().getName() + "." + ns + ".svc." + domain;
        if ("ExternalName".equals(spec.getType())) {
            // validated as a DNS-1123 subdomain (a trailing dot allowed), so it is a name a CNAME can hold
            if (spec.getExternalName() != null && !spec.getExternalName().isEmpty()) {
                aliases.put(name, spec.getExternalName());
            }
            return;
        }
        if (!"None".equals(spec.getClusterIP())) {
            List<String> ips = spec.getClusterIPs() != null && !spec.getClusterIPs().isEmpty() ? spec.getClusterIPs() : single(spec.getClusterIP());
            if (ips.isEmpty()) {
                return;
            }
            ips.forEach(ip -> addAddress(name, ip));
            for (ServicePort p : spec.getPorts() == null ? List.<ServicePort>of() : spec.getPorts()) {
                if (p.getName() != null && !p.getName().isEmpty() && p.getPort() != null) {
                    addSrv(srvName(p.getName(), p.getProtocol(), name), new DnsZone.Srv(0, 100, p.getPort(), name));
                }
            }
            return;
        }
        // headless: the ready endpoints (publishNotReadyAddresses is already in their ready condition)
        for (EndpointSlice slice : slices) {
            for (Endpoint e : slice.getEndpoints() == null ? List.<Endpoint>of() : slice.getEndpoints()) {
                if (e.getConditions() != null && Boolean.FALSE.equals(e.getConditions().getReady())) {
                    continue;
                }
                for (String ip : e.getAddresses() == null ? List.<String>of() : e.getAddresses()) {
                    addAddress(name, ip);
                    String host = hostname(e, svc, pods, ip);
                    String hostName = host + "." + name;
                    addAddress(hostName, ip);
                    for (EndpointPort p : slice.getPorts() == null ? List.<EndpointPort>of() : slice.getPorts()) {
                        if (p.getName() != null && !p.getName().isEmpty() && p.getPort() != null) {
                            addSrv(srvName(p.getName(), p.getProtocol(), name), new DnsZone.Srv(0, 100, p.getPort(), hostName));
                        }
                    }
                }
            }
        }
    }

    /** The endpoint's own name under a headless Service: its pod's hostname when the pod's subdomain is the Service. */
    private static String hostname(Endpoint e, Service svc, Map<String, Pod> pods, String ip) {
        if (e.getHostname() != null && !e.getHostname().isEmpty()) {
            return e.getHostname();
        }
        if (e.getTargetRef() != null && "Pod".equals(e.getTargetRef().getKind())) {
            Pod pod = pods.get(e.getTargetRef().getNamespace() + "/" + e.getTargetRef().getName());
            if (pod != null && pod.getSpec().getHostname() != null && !pod.getSpec().getHostname().isEmpty()
                    && svc.getMetadata().getName().equals(pod.getSpec().getSubdomain())) {
                return pod.getSpec().getHostname();
            }
        }
        return ip.replace('.', '-').replace(':', '-');
    }

    private void gateways(Store store) {
        Set<String> ours = new LinkedHashSet<>();
        for (GatewayClass c : store.list(GatewayClass.class)) {
            if (c.getSpec() != null && GatewayModel.CONTROLLER_NAME.equals(c.getSpec().getControllerName())) {
                ours.add(c.getMetadata().getName());
            }
        }
        for (Gateway g : store.list(Gateway.class)) {
            String cls = g.getSpec() == null ? null : g.getSpec().getGatewayClassName();
            if (cls == null || !ours.contains(cls) || g.getStatus() == null || g.getStatus().getAddresses() == null) {
                continue;
            }
            String first = g.getMetadata().getName() + "-" + cls;
            if (first.indexOf('.') >= 0 || first.length() > 63) {
                continue; // a Gateway's name may hold dots and be 253 long: not one label, so no name of GEP-1762's form
            }
            String name = first + "." + g.getMetadata().getNamespace() + ".svc." + domain;
            g.getStatus().getAddresses().forEach(a -> {
                if (a.getValue() != null && (a.getType() == null || a.getType().equals("IPAddress"))) {
                    addAddress(name, a.getValue());
                }
            });
        }
    }

    private static String srvName(String port, String protocol, String name) {
        return "_" + port.toLowerCase(Locale.ROOT) + "._" + (protocol == null ? "tcp" : protocol.toLowerCase(Locale.ROOT)) + "." + name;
    }

    private static List<String> single(String ip) {
        return ip == null || ip.isEmpty() ? List.of() : List.of(ip);
    }

    private void addAddress(String name, String ip) {
        InetAddress address = literal(ip);
        if (address == null) {
            return;
        }
        List<InetAddress> list = addresses.computeIfAbsent(DnsZone.normalize(name), k -> new ArrayList<>());
        if (!list.contains(address)) {
            list.add(address);
        }
    }

    private void addSrv(String name, DnsZone.Srv srv) {
        List<DnsZone.Srv> list = services.computeIfAbsent(DnsZone.normalize(name), k -> new ArrayList<>());
        if (!list.contains(srv)) {
            list.add(srv);
        }
    }

    /** An IP literal as an address, never looked up (null if it is not one). */
    private static InetAddress literal(String ip) {
        return ip == null ? null : NetUtil.createInetAddressFromIpAddressString(ip);
    }
}
