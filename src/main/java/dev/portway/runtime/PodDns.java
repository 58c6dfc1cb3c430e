package dev.portway.runtime;

import dev.portway.plan.DnsZone;
import io.fabric8.kubernetes.api.model.HostAlias;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodDNSConfig;
import io.fabric8.kubernetes.api.model.PodDNSConfigOption;
import io.fabric8.kubernetes.api.model.PodSpec;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A pod's {@code /etc/resolv.conf} and {@code /etc/hosts}, written as the kubelet writes them
 * ({@code pkg/kubelet/network/dns} and the kubelet's managed hosts file): {@code dnsPolicy},
 * {@code dnsConfig}, {@code hostname}/{@code subdomain} and {@code hostAliases} honoured.
 *
 * <p>Where Portway serves cluster DNS, the pod's resolver asks it. Where it cannot (the DNS port
 * is privileged), the hosts file also carries every cluster name the pod could ask for, in each
 * form its search path would complete ({@code svc}, {@code svc.ns}, {@code svc.ns.svc} and the
 * full name), and is rewritten in place as Services change: resolvers read {@code /etc/hosts}
 * before DNS, and the search path never applies to it.
 */
final class PodDns {

    /** The resolver settings of the machine, which {@code dnsPolicy: Default} pods get. */
    record HostResolver(List<String> nameservers, List<String> searches, List<String> options) {

        static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");

        static HostResolver read(Path file) {
            List<String> ns = new ArrayList<>();
            List<String> search = new ArrayList<>();
            List<String> options = new ArrayList<>();
            List<String> lines;
            try {
                lines = Files.readAllLines(file);
            } catch (IOException e) {
                lines = List.of();
            }
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 2 || f[0].startsWith("#") || f[0].startsWith(";")) {
                    continue;
                }
                switch (f[0]) {
                    case "nameserver" -> ns.add(f[1]);
                    case "search", "domain" -> {
                        search.clear();
                        search.addAll(Arrays.asList(f).subList(1, f.length));
                    }
                    case "options" -> options.addAll(Arrays.asList(f).subList(1, f.length));
                    default -> {
                    }
                }
            }
            return new HostResolver(List.copyOf(ns), List.copyOf(search), List.copyOf(options));
        }
    }

    private PodDns() {
    }

    /**
     * The pod's resolv.conf.
     *
     * @param clusterDns the cluster DNS server's address, or null when there is none (hosts mode): then
     *                   ClusterFirst pods keep the cluster's search path and ask the machine's nameservers
     */
    static String resolvConf(Pod pod, HostResolver host, InetAddress clusterDns, String domain) {
        PodSpec spec = pod.getSpec();
        String policy = spec.getDnsPolicy() == null ? "ClusterFirst" : spec.getDnsPolicy();
        boolean hostNetwork = Boolean.TRUE.equals(spec.getHostNetwork());
        if ("ClusterFirst".equals(policy) && hostNetwork) {
            policy = "Default";
        }
        Set<String> nameservers = new LinkedHashSet<>();
        Set<String> searches = new LinkedHashSet<>();
        Map<String, String> options = new LinkedHashMap<>();
        switch (policy) {
            case "ClusterFirst", "ClusterFirstWithHostNet" -> {
                if (clusterDns != null) {
                    nameservers.add(clusterDns.getHostAddress());
                } else {
                    nameservers.addAll(host.nameservers());
                }
                String ns = pod.getMetadata().getNamespace();
                searches.add(ns + ".svc." + domain);
                searches.add("svc." + domain);
                searches.add(domain);
                searches.addAll(host.searches());
                options.put("ndots", "5");
            }
            case "Default" -> {
                nameservers.addAll(host.nameservers());
                searches.addAll(host.searches());
                host.options().forEach(o -> putOption(options, o));
            }
            default -> {
                // None: only dnsConfig
            }
        }
        PodDNSConfig config = spec.getDnsConfig();
        if (config != null) {
            if (config.getNameservers() != null) {
                nameservers.addAll(config.getNameservers());
            }
            if (config.getSearches() != null) {
                searches.addAll(config.getSearches());
            }
            for (PodDNSConfigOption o : config.getOptions() == null ? List.<PodDNSConfigOption>of() : config.getOptions()) {
                options.put(o.getName(), o.getValue());
            }
        }
        StringBuilder out = new StringBuilder();
        if (!searches.isEmpty()) {
            out.append("search ").append(String.join(" ", searches)).append('\n');
        }
        for (String n : nameservers) {
            out.append("nameserver ").append(n).append('\n');
        }
        if (!options.isEmpty()) {
            List<String> opts = new ArrayList<>();
            options.forEach((k, v) -> opts.add(v == null ? k : k + ":" + v));
            out.append("options ").append(String.join(" ", opts)).append('\n');
        }
        return out.toString();
    }

    private static void putOption(Map<String, String> options, String o) {
        int colon = o.indexOf(':');
        options.put(colon < 0 ? o : o.substring(0, colon), colon < 0 ? null : o.substring(colon + 1));
    }

    /**
     * The pod's hosts file: the kubelet's, and in hosts mode ({@code zone} not null) the cluster's
     * names as the pod's search path would complete them.
     */
    static String hostsFile(Pod pod, String podIp, DnsZone zone) {
        PodSpec spec = pod.getSpec();
        StringBuilder out = new StringBuilder();
        out.append("# Kubernetes-managed hosts file.\n");
        out.append("127.0.0.1\tlocalhost\n");
        out.append("::1\tlocalhost ip6-localhost ip6-loopback\n");
        out.append("fe00::0\tip6-localnet\n");
        out.append("fe00::0\tip6-mcastprefix\n");
        out.append("fe00::1\tip6-allnodes\n");
        out.append("fe00::2\tip6-allrouters\n");
        String hostname = hostname(pod);
        String subdomain = spec.getSubdomain();
        String domain = zone == null ? DnsZone.DEFAULT_DOMAIN : zone.domain();
        if (subdomain != null && !subdomain.isEmpty()) {
            out.append(podIp).append('\t').append(hostname).append('.').append(subdomain).append('.')
                    .append(pod.getMetadata().getNamespace()).append(".svc.").append(domain).append('\t').append(hostname).append('\n');
        } else {
            out.append(podIp).append('\t').append(hostname).append('\n');
        }
        List<HostAlias> aliases = spec.getHostAliases();
        if (aliases != null && !aliases.isEmpty()) {
            out.append("\n# Entries added by HostAliases.\n");
            for (HostAlias a : aliases) {
                if (a.getHostnames() != null && !a.getHostnames().isEmpty()) {
                    out.append(a.getIp()).append('\t').append(String.join("\t", a.getHostnames())).append('\n');
                }
            }
        }
        if (zone != null && !"Default".equals(spec.getDnsPolicy()) && !"None".equals(spec.getDnsPolicy())) {
            appendClusterNames(out, zone, pod.getMetadata().getNamespace());
        }
        return out.toString();
    }

    /** The pod's hostname: {@code spec.hostname}, else its name (at most 63 characters, as the kubelet cuts it). */
    static String hostname(Pod pod) {
        String h = pod.getSpec().getHostname();
        if (h == null || h.isEmpty()) {
            h = pod.getMetadata().getName();
        }
        return h.length() > 63 ? h.substring(0, 63).replaceAll("[-.]+$", "") : h;
    }

    private static void appendClusterNames(StringBuilder out, DnsZone zone, String namespace) {
        out.append("\n# Cluster names (Portway serves no DNS here; docs/dns.md).\n");
        String suffix = "." + zone.domain();
        String ownSuffix = "." + namespace + ".svc" + suffix;
        // address -> its names, one line per address (a headless Service's name is on each of its pods' lines)
        Map<String, List<String>> lines = new TreeMap<>();
        new TreeMap<>(zone.addresses()).forEach((name, addresses) -> {
            List<String> names = new ArrayList<>();
            names.add(name);
            if (name.endsWith(suffix)) {
                String relative = name.substring(0, name.length() - suffix.length());
                if (relative.endsWith(".svc")) {
                    names.add(relative);                                          // svc.ns.svc + cluster.local
                    names.add(relative.substring(0, relative.length() - 4));      // svc.ns + svc.cluster.local
                    if (name.endsWith(ownSuffix)) {
                        names.add(name.substring(0, name.length() - ownSuffix.length())); // svc + ns.svc.cluster.local
                    }
                } else {
                    names.add(relative);
                }
            }
            for (InetAddress a : addresses) {
                lines.computeIfAbsent(a.getHostAddress(), k -> new ArrayList<>()).addAll(names);
            }
        });
        // an address with many names is written on several lines, each short (glibc's parser caps aliases per line)
        lines.forEach((ip, names) -> {
            for (int i = 0; i < names.size(); i += 8) {
                out.append(ip).append('\t').append(String.join(" ", names.subList(i, Math.min(names.size(), i + 8)))).append('\n');
            }
        });
    }
}
