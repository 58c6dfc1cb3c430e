package dev.portway.plan;

import dev.portway.api.gateway.AttachedRoute;
import dev.portway.api.gateway.BackendInfo;
import dev.portway.api.gateway.CertificateRefInfo;
import dev.portway.api.gateway.GatewayAnnotations;
import dev.portway.api.gateway.GatewayInfo;
import dev.portway.api.gateway.GatewayModel;
import dev.portway.api.gateway.IngressClasses;
import dev.portway.api.gateway.ListenerInfo;
import dev.portway.api.gateway.RouteInfo;
import dev.portway.api.policy.AccessPolicyModel.Target;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeader;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathModifier;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPQueryParamMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLS;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The L7 half of the plan: Portway's Gateways (through {@link GatewayModel}) and Ingresses of
 * Portway's IngressClass become {@link Plan.HttpListener}s, one per address and port, their
 * routes merged into virtual hosts and ordered as the specifications order them.
 *
 * <p>A Gateway listens on the address its controller wrote in {@code status.addresses}; an Ingress
 * on the address in its {@code status.loadBalancer}, on the Ingress controller's HTTP port (and
 * HTTPS port when it has {@code tls}). Within a virtual host the rules are ordered as the Gateway
 * API's HTTPRoute precedence says: an Exact path, then a regular expression (longest first; the
 * spec leaves its rank to implementations), then the longest PathPrefix; then a method match, the
 * most header matches, the most query parameter matches; ties go to the oldest route, then the
 * first by namespace and name, then the first rule and match. Virtual hosts: exact names first,
 * then wildcards (longest first), then the one for any host. Ingress paths are ordered the same
 * way, which gives Kubernetes' "longest path wins, Exact over Prefix". A port of a Gateway's
 * HTTPS listeners also carries their hostnames, ordered as virtual hosts are, by which the data
 * plane tells a request misdirected to a connection another listener's SNI name set up (421).
 *
 * <p>Every rule of an HTTPRoute or Ingress that an AccessPolicy guards carries that policy
 * ({@link AccessPolicyPlans}).
 */
final class GatewayPlans {

    private static final Pattern DURATION_PART = Pattern.compile("([0-9]+)(h|ms|m|s)");

    private final Store store;
    private final Map<String, Plan.Cluster> clusters;
    private final AccessPolicyPlans policies;

    private GatewayPlans(Store store, Map<String, Plan.Cluster> clusters) {
        this.store = store;
        this.clusters = clusters;
        this.policies = AccessPolicyPlans.of(store);
    }

    /** The L7 listeners of the store's Gateways and Ingresses, with the plan's clusters as backends. */
    static List<Plan.HttpListener> build(Store store, Map<String, Plan.Cluster> clusters, IngressPorts ingressPorts) {
        GatewayPlans p = new GatewayPlans(store, clusters);
        Map<Plan.ListenerKey, Draft> drafts = new LinkedHashMap<>();
        p.gateways(drafts);
        p.ingresses(drafts, ingressPorts);
        List<Plan.HttpListener> out = new ArrayList<>();
        for (Draft d : drafts.values()) {
            out.add(d.build());
        }
        return out;
    }

    /** A rule on its way into a virtual host, with what orders it. */
    private record Entry(Plan.HttpRule rule, String created, String routeKey, int ruleIndex, int matchIndex) {
    }

    /** The owner of the listeners of Ingresses (a Gateway's are the Gateway's). */
    private static final String INGRESS_OWNER = "ingress";

    /** An L7 listener being assembled. */
    private static final class Draft {
        final Plan.ListenerKey key;
        final String owner;
        final List<Plan.Certificate> certificates = new ArrayList<>();
        /** The hostnames of the Gateway's HTTPS listeners on this port ("*" for none). */
        final Set<String> httpsListeners = new LinkedHashSet<>();
        /** By the Gateway listener's hostname ("*" for none), then by the route's effective hostname. */
        final Map<String, Map<String, List<Entry>>> hosts = new LinkedHashMap<>();
        final Set<String> seen = new LinkedHashSet<>();
        final Set<String> trustedProxies = new LinkedHashSet<>();
        boolean accessLog;

        Draft(Plan.ListenerKey key, String owner) {
            this.key = key;
            this.owner = owner;
        }

        /**
         * A Gateway listener's hostname on this port: requests for it are that listener's alone,
         * even when none of its routes matches them (listener isolation).
         */
        void listener(String hostname) {
            String l = name(hostname);
            hosts.computeIfAbsent(l, k -> new LinkedHashMap<>()).computeIfAbsent(l, k -> new ArrayList<>());
        }

        void add(String listenerHostname, String hostname, Entry e) {
            String l = name(listenerHostname);
            String h = name(hostname);
            if (seen.add(l + " " + h + " " + e.routeKey + " " + e.ruleIndex + " " + e.matchIndex)) {
                hosts.computeIfAbsent(l, k -> new LinkedHashMap<>()).computeIfAbsent(h, k -> new ArrayList<>()).add(e);
            }
        }

        private static String name(String hostname) {
            return hostname == null || hostname.isEmpty() ? "*" : hostname.toLowerCase(Locale.ROOT);
        }

        /**
         * Virtual hosts, the most specific listener's first and, within one listener, the most
         * specific route hostname first; a listener's own hostname closes its group, so that a
         * request for it never reaches a less specific listener's routes.
         */
        Plan.HttpListener build() {
            List<String> listeners = new ArrayList<>(hosts.keySet());
            listeners.sort(HOSTS);
            List<Plan.VirtualHost> vhosts = new ArrayList<>();
            for (String l : listeners) {
                Map<String, List<Entry>> byHost = hosts.get(l);
                List<String> names = new ArrayList<>(byHost.keySet());
                names.sort(HOSTS);
                boolean ingress = owner.equals(INGRESS_OWNER);
                for (int i = 0; i < names.size(); i++) {
                    String n = names.get(i);
                    List<Entry> entries = new ArrayList<>(byHost.get(n));
                    entries.sort(PRECEDENCE);
                    java.util.LinkedHashSet<Plan.HttpRule> rules = new java.util.LinkedHashSet<>();
                    entries.forEach(e -> rules.add(e.rule()));
                    if (!ingress) {
                        // the Gateway API ranks rules, not hosts: a request for n that none of n's own rules matches
                        // goes by the rules of the listener's less specific route hostnames that cover n (a wildcard,
                        // then none), in that order, as they would have taken it without n's route. Never past the
                        // listener's group: a more specific listener's requests are its own (listener isolation)
                        for (String wider : names.subList(i + 1, names.size())) {
                            if (covers(wider, n)) {
                                List<Entry> more = new ArrayList<>(byHost.get(wider));
                                more.sort(PRECEDENCE);
                                more.forEach(e -> rules.add(e.rule()));
                            }
                        }
                    }
                    // an Ingress's wildcard host covers one label ("*.foo.com" is not "a.b.foo.com"), a Gateway API one any number
                    vhosts.add(new Plan.VirtualHost(n.equals("*") ? null : n, List.copyOf(rules), ingress));
                }
            }
            List<String> sni = new ArrayList<>(httpsListeners);
            sni.sort(HOSTS);
            return new Plan.HttpListener(key, owner, certificates, sni, vhosts, List.copyOf(trustedProxies), accessLog);
        }
    }

    /**
     * Whether every request for {@code host} (a name or a wildcard) is one for {@code wider} in the
     * Gateway API's sense: {@code *} covers all; {@code *.example.com} covers the names and wildcards
     * below it, one label or more.
     */
    static boolean covers(String wider, String host) {
        if (wider.equals("*")) {
            return true;
        }
        if (!wider.startsWith("*.") || wider.equals(host)) {
            return false;
        }
        String suffix = wider.substring(1);
        String name = host.startsWith("*.") ? host.substring(1) : host;
        return name.length() > suffix.length() && name.endsWith(suffix);
    }

    /** Exact hostnames, then wildcards with the longest suffix first, then any host. */
    static final Comparator<String> HOSTS = Comparator.<String>comparingInt(h -> h.equals("*") ? 2 : h.startsWith("*.") ? 1 : 0)
            .thenComparing(Comparator.comparingInt(String::length).reversed())
            .thenComparing(Comparator.naturalOrder());

    /** The HTTPRoute precedence (see the type's description). */
    static final Comparator<Entry> PRECEDENCE = Comparator.<Entry>comparingInt(e -> switch (e.rule.path().type()) {
        case EXACT -> 0;
        case REGULAR_EXPRESSION -> 1;
        case PREFIX -> 2;
    })
            .thenComparing(Comparator.<Entry>comparingInt(e -> e.rule.path().value().length()).reversed())
            .thenComparingInt(e -> e.rule.method() != null ? 0 : 1)
            .thenComparing(Comparator.<Entry>comparingInt(e -> e.rule.headers().size()).reversed())
            .thenComparing(Comparator.<Entry>comparingInt(e -> e.rule.queryParams().size()).reversed())
            .thenComparing(Entry::created)
            .thenComparing(Entry::routeKey)
            .thenComparingInt(Entry::ruleIndex)
            .thenComparingInt(Entry::matchIndex);

    // ---- Gateway API

    private void gateways(Map<Plan.ListenerKey, Draft> drafts) {
        GatewayModel model = GatewayModel.build(GatewayModel.CONTROLLER_NAME, store.list(GatewayClass.class), store.list(Gateway.class),
                store.list(HTTPRoute.class), store.list(ReferenceGrant.class), () -> store.list(Service.class), store.list(Namespace.class),
                store.list(Secret.class));
        Map<String, RouteInfo> routes = new LinkedHashMap<>();
        for (RouteInfo r : model.routes()) {
            routes.put(r.namespace() + "/" + r.name(), r);
        }
        for (GatewayInfo g : model.gateways()) {
            String ip = address(g.gateway());
            if (ip == null || !g.accepted().holds()) {
                continue;
            }
            for (ListenerInfo l : g.listeners()) {
                if (!l.ready()) {
                    continue;
                }
                Plan.ListenerKey key = new Plan.ListenerKey(Plan.Protocol.TCP, new InetSocketAddress(ip, l.port()));
                Draft d = drafts.computeIfAbsent(key, k -> new Draft(k, "gateway " + g.namespace() + "/" + g.name()));
                d.accessLog |= GatewayAnnotations.accessLog(g.gateway());
                d.trustedProxies.addAll(GatewayAnnotations.trustedProxies(g.gateway()));
                if ("HTTPS".equals(l.protocol())) {
                    d.httpsListeners.add(Draft.name(l.hostname().orElse(null)));
                    for (CertificateRefInfo c : l.certificateRefs()) {
                        if (c.resolved() && c.secret() != null) {
                            certificate(c.secret(), l.hostname().map(List::of).orElse(List.of())).ifPresent(d.certificates::add);
                        }
                    }
                }
                d.listener(l.hostname().orElse(null));
                for (AttachedRoute ar : l.routes()) {
                    HTTPRoute route = ar.route();
                    String routeKey = route.getMetadata().getNamespace() + "/" + route.getMetadata().getName();
                    RouteInfo info = routes.get(routeKey);
                    if (info == null) {
                        continue;
                    }
                    List<Entry> entries = routeEntries(route, info);
                    List<String> hostnames = ar.hostnames().isEmpty() ? java.util.Collections.singletonList(null) : ar.hostnames();
                    for (String h : hostnames) {
                        entries.forEach(e -> d.add(l.hostname().orElse(null), h, e));
                    }
                }
            }
        }
    }

    private static String address(Gateway g) {
        if (g.getStatus() == null || g.getStatus().getAddresses() == null) {
            return null;
        }
        return g.getStatus().getAddresses().stream().map(a -> a.getValue()).filter(Objects::nonNull).findFirst().orElse(null);
    }

    private List<Entry> routeEntries(HTTPRoute route, RouteInfo info) {
        String routeKey = route.getMetadata().getNamespace() + "/" + route.getMetadata().getName();
        String created = Objects.toString(route.getMetadata().getCreationTimestamp(), "");
        Plan.AccessPolicy policy = policies.guarding(Target.httpRoute(route.getMetadata().getNamespace(), route.getMetadata().getName()));
        List<Entry> out = new ArrayList<>();
        List<HTTPRouteRule> rules = route.getSpec().getRules() == null ? List.of() : route.getSpec().getRules();
        for (int ri = 0; ri < rules.size(); ri++) {
            HTTPRouteRule rule = rules.get(ri);
            List<Plan.HttpFilter> filters = filters(rule.getFilters(), info, ri, -1);
            List<Plan.HttpBackend> backends = new ArrayList<>();
            List<HTTPBackendRef> refs = rule.getBackendRefs() == null ? List.of() : rule.getBackendRefs();
            for (int bi = 0; bi < refs.size(); bi++) {
                HTTPBackendRef ref = refs.get(bi);
                Optional<BackendInfo> b = info.backend(ri, bi);
                int weight = b.map(BackendInfo::weight).orElse(ref.getWeight() == null ? 1 : ref.getWeight());
                backends.add(new Plan.HttpBackend(b.map(this::cluster).orElse(null), weight, filters(ref.getFilters(), info, ri, bi)));
            }
            Duration request = null;
            Duration backend = null;
            if (rule.getTimeouts() != null) {
                request = duration(rule.getTimeouts().getRequest());
                backend = duration(rule.getTimeouts().getBackendRequest());
            }
            List<HTTPRouteMatch> matches = rule.getMatches() == null || rule.getMatches().isEmpty()
                    ? List.of(new HTTPRouteMatch()) : rule.getMatches();
            for (int mi = 0; mi < matches.size(); mi++) {
                HTTPRouteMatch m = matches.get(mi);
                Plan.HttpRule r = new Plan.HttpRule(routeKey, ri, path(m), headers(m.getHeaders()), query(m.getQueryParams()),
                        m.getMethod(), filters, backends, request, backend, policy);
                out.add(new Entry(r, created, routeKey, ri, mi));
            }
        }
        return out;
    }

    /** The cluster of a resolved backend, or null (its requests get 500). */
    private String cluster(BackendInfo b) {
        if (!b.resolved() || b.servicePort() == null) {
            return null;
        }
        String name = b.namespace() + "/" + b.name() + ":" + b.servicePort().getPort() + "/TCP";
        return clusters.containsKey(name) ? name : null;
    }

    private static Plan.PathMatch path(HTTPRouteMatch m) {
        if (m.getPath() == null) {
            return new Plan.PathMatch(Plan.MatchType.PREFIX, "/");
        }
        String value = m.getPath().getValue() == null ? "/" : m.getPath().getValue();
        Plan.MatchType type = matchType(m.getPath().getType());
        return new Plan.PathMatch(type, type == Plan.MatchType.REGULAR_EXPRESSION ? value : PathValues.canonical(value));
    }

    /** A Gateway API path match type: {@code Exact}, {@code RegularExpression}, else (and by default) {@code PathPrefix}. */
    static Plan.MatchType matchType(String type) {
        return switch (String.valueOf(type)) {
            case "Exact" -> Plan.MatchType.EXACT;
            case "RegularExpression" -> Plan.MatchType.REGULAR_EXPRESSION;
            default -> Plan.MatchType.PREFIX;
        };
    }

    private static List<Plan.HeaderMatch> headers(List<HTTPHeaderMatch> matches) {
        List<Plan.HeaderMatch> out = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (HTTPHeaderMatch h : matches == null ? List.<HTTPHeaderMatch>of() : matches) {
            // "If multiple entries specify equivalent header names, only the first entry ... MUST be considered"
            if (names.add(h.getName().toLowerCase(Locale.ROOT))) {
                out.add(new Plan.HeaderMatch("RegularExpression".equals(h.getType()) ? Plan.MatchType.REGULAR_EXPRESSION
                        : Plan.MatchType.EXACT, h.getName(), h.getValue()));
            }
        }
        return out;
    }

    private static List<Plan.HeaderMatch> query(List<HTTPQueryParamMatch> matches) {
        List<Plan.HeaderMatch> out = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (HTTPQueryParamMatch q : matches == null ? List.<HTTPQueryParamMatch>of() : matches) {
            if (names.add(q.getName())) {
                out.add(new Plan.HeaderMatch("RegularExpression".equals(q.getType()) ? Plan.MatchType.REGULAR_EXPRESSION
                        : Plan.MatchType.EXACT, q.getName(), q.getValue()));
            }
        }
        return out;
    }

    /** Filters of a rule ({@code backendRef} -1) or of one of its backendRefs. */
    private List<Plan.HttpFilter> filters(List<HTTPRouteFilter> filters, RouteInfo info, int rule, int backendRef) {
        List<Plan.HttpFilter> out = new ArrayList<>();
        if (filters == null) {
            return out;
        }
        for (int i = 0; i < filters.size(); i++) {
            HTTPRouteFilter f = filters.get(i);
            switch (String.valueOf(f.getType())) {
                case "RequestHeaderModifier" -> {
                    HTTPHeaderFilter h = f.getRequestHeaderModifier();
                    out.add(new Plan.RequestHeaders(headerMap(h.getSet()), headerMap(h.getAdd()), names(h.getRemove())));
                }
                case "ResponseHeaderModifier" -> {
                    HTTPHeaderFilter h = f.getResponseHeaderModifier();
                    out.add(new Plan.ResponseHeaders(headerMap(h.getSet()), headerMap(h.getAdd()), names(h.getRemove())));
                }
                case "URLRewrite" -> {
                    var u = f.getUrlRewrite();
                    HTTPPathModifier p = u.getPath();
                    out.add(new Plan.UrlRewrite(u.getHostname(), p != null && "ReplaceFullPath".equals(p.getType()) ? p.getReplaceFullPath() : null,
                            p != null && "ReplacePrefixMatch".equals(p.getType()) ? p.getReplacePrefixMatch() : null));
                }
                case "RequestRedirect" -> {
                    var r = f.getRequestRedirect();
                    HTTPPathModifier p = r.getPath();
                    out.add(new Plan.RequestRedirect(r.getScheme(), r.getHostname(),
                            p != null && "ReplaceFullPath".equals(p.getType()) ? p.getReplaceFullPath() : null,
                            p != null && "ReplacePrefixMatch".equals(p.getType()) ? p.getReplacePrefixMatch() : null,
                            r.getPort(), r.getStatusCode() == null ? 302 : r.getStatusCode()));
                }
                case "RequestMirror" -> info.mirror(rule, backendRef, i).map(this::cluster)
                        .ifPresent(c -> out.add(new Plan.RequestMirror(c)));
                default -> {
                    // an ExtensionRef, or a type this version does not know: never skipped (the route's status says why);
                    // the requests it was to process get 500, whatever the other filters would have done
                    return List.of(new Plan.Unresolvable("the route's " + f.getType() + " filter"
                            + (f.getExtensionRef() == null ? "" : " " + f.getExtensionRef().getKind() + " \"" + f.getExtensionRef().getName() + "\"")
                            + " cannot be applied: Portway has no filter extensions"));
                }
            }
        }
        return out;
    }

    private static Map<String, String> headerMap(List<HTTPHeader> headers) {
        Map<String, String> out = new LinkedHashMap<>();
        for (HTTPHeader h : headers == null ? List.<HTTPHeader>of() : headers) {
            out.putIfAbsent(h.getName(), h.getValue());
        }
        return out;
    }

    private static List<String> names(List<String> names) {
        return names == null ? List.of() : names;
    }

    /** A Gateway API duration ({@code 1h}, {@code 10s}, {@code 500ms}, {@code 1m30s}); {@code 0s} and null mean none. */
    static Duration duration(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        Matcher m = DURATION_PART.matcher(text);
        Duration d = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            long n = Long.parseLong(m.group(1));
            d = d.plus(switch (m.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMillis(n);
            });
            end = m.end();
        }
        return end != text.length() || d.isZero() ? null : d;
    }

    private static Optional<Plan.Certificate> certificate(Secret s, List<String> hostnames) {
        Map<String, String> data = s.getData() == null ? Map.of() : s.getData();
        String crt = data.get("tls.crt");
        String key = data.get("tls.key");
        if (crt == null || key == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Plan.Certificate(hostnames, new String(Base64.getDecoder().decode(crt), StandardCharsets.US_ASCII),
                    new String(Base64.getDecoder().decode(key), StandardCharsets.US_ASCII)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    // ---- Ingress

    private void ingresses(Map<Plan.ListenerKey, Draft> drafts, IngressPorts ports) {
        // Portway's Ingresses only: another controller's may hold an address in its status (its own, or one
        // Portway wrote before the Ingress changed class), and must not be served by Portway's rules
        List<Ingress> ingresses = store.list(Ingress.class);
        List<IngressClass> classes = store.list(IngressClass.class);
        Map<String, IngressClass> ourClasses = IngressClasses.ours(classes);
        Map<Ingress, IngressClass> classOf = new java.util.IdentityHashMap<>();
        IngressClasses.byClass(classes, ingresses).forEach((name, list) -> list.forEach(i -> classOf.put(i, ourClasses.get(name))));
        for (Ingress ing : ingresses) {
            IngressClass ingressClass = classOf.get(ing);
            if (ingressClass == null) {
                continue;
            }
            String ip = ingressAddress(ing);
            if (ip == null || ing.getSpec() == null) {
                continue;
            }
            String ns = ing.getMetadata().getNamespace();
            String routeKey = ns + "/" + ing.getMetadata().getName();
            String created = Objects.toString(ing.getMetadata().getCreationTimestamp(), "");
            Plan.AccessPolicy policy = policies.guarding(Target.ingress(ns, ing.getMetadata().getName()));
            List<Entry> any = new ArrayList<>();
            Map<String, List<Entry>> byHost = new LinkedHashMap<>();
            List<IngressRule> rules = ing.getSpec().getRules() == null ? List.of() : ing.getSpec().getRules();
            for (int ri = 0; ri < rules.size(); ri++) {
                IngressRule rule = rules.get(ri);
                if (rule.getHttp() == null || rule.getHttp().getPaths() == null) {
                    continue;
                }
                List<HTTPIngressPath> paths = rule.getHttp().getPaths();
                for (int pi = 0; pi < paths.size(); pi++) {
                    HTTPIngressPath p = paths.get(pi);
                    Plan.PathMatch match = new Plan.PathMatch("Exact".equals(p.getPathType()) ? Plan.MatchType.EXACT : Plan.MatchType.PREFIX,
                            p.getPath() == null || p.getPath().isEmpty() ? "/" : PathValues.canonical(p.getPath()));
                    Entry e = new Entry(ingressRule(routeKey, ri, match, ns, p.getBackend(), policy), created, routeKey, ri, pi);
                    (rule.getHost() == null || rule.getHost().isEmpty() ? any : byHost.computeIfAbsent(rule.getHost(), h -> new ArrayList<>()))
                            .add(e);
                }
            }
            if (ing.getSpec().getDefaultBackend() != null) {
                // the default backend: what no rule takes, on every host
                Plan.PathMatch all = new Plan.PathMatch(Plan.MatchType.PREFIX, "/");
                Entry fallback = new Entry(ingressRule(routeKey, rules.size(), all, ns, ing.getSpec().getDefaultBackend(), policy), "~", routeKey,
                        Integer.MAX_VALUE, 0);
                any.add(fallback);
                byHost.values().forEach(list -> list.add(fallback));
            }
            List<Plan.Certificate> certificates = new ArrayList<>();
            for (IngressTLS tls : ing.getSpec().getTls() == null ? List.<IngressTLS>of() : ing.getSpec().getTls()) {
                if (tls.getSecretName() != null) {
                    store.get(Secret.class, ns, tls.getSecretName())
                            .flatMap(s -> certificate(s, tls.getHosts() == null ? List.of() : tls.getHosts()))
                            .ifPresent(certificates::add);
                }
            }
            List<Integer> listenPorts = certificates.isEmpty() ? List.of(ports.http()) : List.of(ports.http(), ports.https());
            for (int port : listenPorts) {
                Plan.ListenerKey key = new Plan.ListenerKey(Plan.Protocol.TCP, new InetSocketAddress(ip, port));
                Draft d = drafts.computeIfAbsent(key, k -> new Draft(k, INGRESS_OWNER));
                d.accessLog |= GatewayAnnotations.accessLog(ingressClass);
                d.trustedProxies.addAll(GatewayAnnotations.trustedProxies(ingressClass));
                if (port == ports.https()) {
                    certificates.stream().filter(c -> !d.certificates.contains(c)).forEach(d.certificates::add);
                }
                any.forEach(e -> d.add(null, null, e));
                byHost.forEach((h, list) -> list.forEach(e -> d.add(null, h, e)));
            }
        }
    }

    private static String ingressAddress(Ingress ing) {
        if (ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null || ing.getStatus().getLoadBalancer().getIngress() == null) {
            return null;
        }
        return ing.getStatus().getLoadBalancer().getIngress().stream().map(IngressLoadBalancerIngress::getIp).filter(Objects::nonNull)
                .findFirst().orElse(null);
    }

    private Plan.HttpRule ingressRule(String routeKey, int index, Plan.PathMatch match, String ns, IngressBackend backend,
                                      Plan.AccessPolicy policy) {
        String cluster = null;
        if (backend != null && backend.getService() != null) {
            String name = backend.getService().getName();
            var port = backend.getService().getPort();
            Optional<Service> svc = store.get(Service.class, ns, name);
            if (svc.isPresent() && port != null && svc.get().getSpec().getPorts() != null) {
                for (ServicePort sp : svc.get().getSpec().getPorts()) {
                    if ((port.getNumber() != null && port.getNumber().equals(sp.getPort()))
                            || (port.getName() != null && port.getName().equals(sp.getName()))) {
                        String c = ns + "/" + name + ":" + sp.getPort() + "/TCP";
                        cluster = clusters.containsKey(c) ? c : null;
                    }
                }
            }
        }
        return new Plan.HttpRule(routeKey, index, match, List.of(), List.of(), null, List.of(),
                List.of(new Plan.HttpBackend(cluster, 1, List.of())), null, null, policy);
    }
}
