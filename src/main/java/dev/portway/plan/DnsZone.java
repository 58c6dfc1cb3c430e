package dev.portway.plan;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The names cluster DNS answers for, as Kubernetes' DNS specification gives them: a Service's
 * {@code <svc>.<ns>.svc.<domain>} (its ClusterIP, or a headless Service's ready pod IPs), a
 * headless Service's pods' {@code <hostname>.<svc>.<ns>.svc.<domain>}, SRV records
 * {@code _<port>._<proto>.<svc>.<ns>.svc.<domain>} for named ports, an ExternalName Service's
 * name as a CNAME of its {@code externalName}, and each Gateway's
 * {@code <gateway>-<class>.<ns>.svc.<domain>} (the Service name GEP-1762 gives an in-cluster
 * Gateway). Immutable; a new zone replaces the old one whole.
 *
 * <p>Names are kept fully qualified, in lower case, without the trailing dot.
 *
 * @param domain    the cluster domain, {@code cluster.local}
 * @param addresses each name's A and AAAA records, in a stable order
 * @param services  each SRV name's records
 * @param aliases   each CNAME's target (an ExternalName Service's {@code externalName})
 */
public record DnsZone(String domain, Map<String, List<InetAddress>> addresses, Map<String, List<Srv>> services,
                      Map<String, String> aliases) {

    public static final String DEFAULT_DOMAIN = "cluster.local";

    /** One SRV record; {@code target} is a fully qualified name of this zone, without the trailing dot. */
    public record Srv(int priority, int weight, int port, String target) {
    }

    public DnsZone {
        domain = normalize(domain);
        addresses = copy(addresses);
        services = copy(services);
        Map<String, String> a = new java.util.HashMap<>();
        aliases.forEach((k, v) -> a.put(normalize(k), normalize(v)));
        aliases = Map.copyOf(a);
    }

    /** A zone without aliases. */
    public DnsZone(String domain, Map<String, List<InetAddress>> addresses, Map<String, List<Srv>> services) {
        this(domain, addresses, services, Map.of());
    }

    public static DnsZone empty() {
        return new DnsZone(DEFAULT_DOMAIN, Map.of(), Map.of());
    }

    /** Whether {@code name} (with or without its trailing dot, any case) is under this zone's domain. */
    public boolean contains(String name) {
        String n = normalize(name);
        return n.equals(domain) || n.endsWith("." + domain);
    }

    /** The addresses of {@code name} (with or without its trailing dot, any case); empty if none. */
    public List<InetAddress> lookup(String name) {
        return addresses.getOrDefault(normalize(name), List.of());
    }

    /** The SRV records of {@code name}; empty if none. */
    public List<Srv> lookupSrv(String name) {
        return services.getOrDefault(normalize(name), List.of());
    }

    /** The target of {@code name}'s CNAME, or null if it has none. */
    public String alias(String name) {
        return aliases.get(normalize(name));
    }

    /** Whether {@code name} exists in the zone with some record (else a DNS server answers NXDOMAIN). */
    public boolean exists(String name) {
        String n = normalize(name);
        return addresses.containsKey(n) || services.containsKey(n) || aliases.containsKey(n);
    }

    private static <T> Map<String, List<T>> copy(Map<String, List<T>> m) {
        Map<String, List<T>> copy = new java.util.HashMap<>();
        m.forEach((k, v) -> copy.put(normalize(k), List.copyOf(v)));
        return Map.copyOf(copy);
    }

    static String normalize(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
