package dev.portway.api.gateway;

import com.google.re2j.Pattern;
import dev.portway.api.Selectors;
import dev.portway.net.Ipv4;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.AllowedRoutes;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewaySpecAddress;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPQueryParamMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ReferenceGrantFrom;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ReferenceGrantTo;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.SecretObjectReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Portway's Gateway API implementation as a pure function of the objects: which Gateways are
 * Portway's, their listeners' conditions, which HTTPRoutes attach where and with which hostnames,
 * and which references resolve, with the conditions and reasons of the Gateway API specification
 * ({@code apis/v1/*_types.go}; the conformance tests' expectations).
 *
 * <p>The rules, as implemented:
 * <ul>
 *   <li>A Gateway is Portway's when its GatewayClass's {@code controllerName} is the model's. A class
 *       with a {@code parametersRef} is not accepted ({@code InvalidParameters}), nor are its Gateways.</li>
 *   <li>Listeners: {@code HTTP} and {@code HTTPS} are served; any other protocol is
 *       {@code Accepted: False, UnsupportedProtocol} with no supported kinds. Listeners of different
 *       protocols on one port conflict ({@code Conflicted: True, ProtocolConflict}) and are not
 *       accepted. {@code allowedRoutes.kinds} naming anything but HTTPRoute is
 *       {@code ResolvedRefs: False, InvalidRouteKinds}. An HTTPS listener's certificateRefs must be
 *       core Secrets ({@code InvalidCertificateRef}), of type {@code kubernetes.io/tls} with a PEM
 *       certificate and key, in the Gateway's namespace or allowed by a ReferenceGrant
 *       ({@code RefNotPermitted}). HTTPS listeners on one port whose hostnames overlap get
 *       {@code OverlappingTLSConfig: True, OverlappingHostnames}.</li>
 *   <li>A route's parentRef to a Portway Gateway selects the listeners matching its
 *       {@code sectionName} and {@code port} (none: {@code NoMatchingParent}); of those, the ones
 *       that take HTTPRoutes from the route's namespace ({@code allowedRoutes}: {@code Same},
 *       {@code All}, {@code Selector} over the namespace's labels, which always include
 *       {@code kubernetes.io/metadata.name}) (none: {@code NotAllowedByListeners}); of those, the
 *       ones whose hostname intersects the route's (none: {@code NoMatchingListenerHostname}).
 *       A listener's own conditions do not prevent attachment, as the spec says.</li>
 *   <li>A route with a regular expression RE2 cannot compile, a {@code CORS} filter, or a
 *       header filter that would change a field of {@link #GATEWAY_OWNED_HEADERS}, is not accepted
 *       ({@code UnsupportedValue}).</li>
 *   <li>backendRefs (and RequestMirror backendRefs) must be core Services ({@code InvalidKind}), in
 *       the route's namespace or allowed by a ReferenceGrant ({@code RefNotPermitted}), exist and
 *       have the port ({@code BackendNotFound}), with an {@code appProtocol} Portway speaks
 *       ({@code UnsupportedProtocol}). An {@code ExtensionRef} filter is {@code InvalidKind}. The
 *       route's {@code ResolvedRefs} reports the first failure; a route with unresolved refs stays
 *       accepted (its unresolved backends get 500s).</li>
 * </ul>
 */
public final class GatewayModel {

    /** The {@code controllerName} of Portway's GatewayClass. */
    public static final String CONTROLLER_NAME = "portway.dev/gateway-controller";
    /** The Gateway API's group. */
    public static final String GROUP = "gateway.networking.k8s.io";
    /** The Gateway API release whose rules Portway follows (the SupportedVersion condition names it). */
    public static final String BUNDLE_VERSION = "v1.6.1";
    /** The label the API server puts on every namespace. */
    public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
    /** Service {@code appProtocol}s an HTTP/1.1 proxy can send to (absent means plain HTTP). */
    public static final Set<String> SUPPORTED_APP_PROTOCOLS = Set.of("http", "HTTP", "kubernetes.io/http");
    /**
     * The fields that frame a message or belong to one hop (lower case): the gateway's own, which
     * no {@code RequestHeaderModifier} or {@code ResponseHeaderModifier} may change. A route that set
     * {@code Content-Length} on requests without a body would leave a pooled upstream connection
     * waiting for bytes the next request supplies.
     */
    public static final Set<String> GATEWAY_OWNED_HEADERS = Set.of("content-length", "transfer-encoding", "connection", "keep-alive",
            "proxy-connection", "te", "trailer", "upgrade");

    /** Filter types Portway implements. */
    public static final Set<String> SUPPORTED_FILTERS = Set.of("RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror",
            "RequestRedirect", "URLRewrite");

    /** A PEM private key block, found in time linear in the Secret (a backtracking match was quadratic in it). */
    private static final Pattern PEM_PRIVATE_KEY = Pattern.compile(
            "(?s)-----BEGIN ([A-Z]+ )?PRIVATE KEY-----.+-----END ([A-Z]+ )?PRIVATE KEY-----");

    private static final ListenerInfo.RouteKind HTTP_ROUTE = new ListenerInfo.RouteKind(GROUP, "HTTPRoute");

    private final String controllerName;
    private final List<ClassInfo> classes;
    private final List<GatewayInfo> gateways;
    private final List<RouteInfo> routes;

    private GatewayModel(String controllerName, List<ClassInfo> classes, List<GatewayInfo> gateways, List<RouteInfo> routes) {
        this.controllerName = controllerName;
        this.classes = List.copyOf(classes);
        this.gateways = List.copyOf(gateways);
        this.routes = List.copyOf(routes);
    }

    /**
     * The model without Secrets: certificate references are resolved as far as kind and permission
     * go, and taken to exist. Use the overload with Secrets to check them.
     */
    public static GatewayModel build(String controllerName, List<GatewayClass> classes, List<Gateway> gateways, List<HTTPRoute> routes,
                                     List<ReferenceGrant> grants, List<Service> services, List<Namespace> namespaces) {
        return build(controllerName, classes, gateways, routes, grants, services, namespaces, null);
    }

    /**
     * Builds the model.
     *
     * @param controllerName the controller whose GatewayClasses count ({@link #CONTROLLER_NAME})
     * @param secrets        the Secrets certificate references may name; null to not check them
     */
    public static GatewayModel build(String controllerName, List<GatewayClass> classes, List<Gateway> gateways, List<HTTPRoute> routes,
                                     List<ReferenceGrant> grants, List<Service> services, List<Namespace> namespaces, List<Secret> secrets) {
        return build(controllerName, classes, gateways, routes, grants, () -> services, namespaces, secrets);
    }

    /** As {@link #build}, with the Services listed only if a route names one (a cluster may have thousands). */
    public static GatewayModel build(String controllerName, List<GatewayClass> classes, List<Gateway> gateways, List<HTTPRoute> routes,
                                     List<ReferenceGrant> grants, java.util.function.Supplier<List<Service>> services,
                                     List<Namespace> namespaces, List<Secret> secrets) {
        return new Builder(controllerName, grants, services, namespaces, secrets).build(classes, gateways, routes);
    }

    public String controllerName() {
        return controllerName;
    }

    /** GatewayClasses with this controller's name, by name. */
    public List<ClassInfo> gatewayClasses() {
        return classes;
    }

    /** Portway's Gateways, by namespace and name. */
    public List<GatewayInfo> gateways() {
        return gateways;
    }

    public Optional<GatewayInfo> gateway(String namespace, String name) {
        return gateways.stream().filter(g -> g.namespace().equals(namespace) && g.name().equals(name)).findFirst();
    }

    /** HTTPRoutes with at least one parentRef to a Portway Gateway, by namespace and name. */
    public List<RouteInfo> routes() {
        return routes;
    }

    public Optional<RouteInfo> route(String namespace, String name) {
        return routes.stream().filter(r -> r.namespace().equals(namespace) && r.name().equals(name)).findFirst();
    }

    // ---- building -----------------------------------------------------------------------------

    private static final class Builder {
        private final String controllerName;
        private final List<ReferenceGrant> grants;
        /** The Services routes may name, listed and indexed on the first lookup (most builds, with no route, never look). */
        private final java.util.function.Supplier<List<Service>> serviceList;
        private Map<String, Service> services;
        private final Map<String, Map<String, String>> namespaceLabels = new HashMap<>();
        private final Map<String, Secret> secrets;

        Builder(String controllerName, List<ReferenceGrant> grants, java.util.function.Supplier<List<Service>> services,
                List<Namespace> namespaces, List<Secret> secrets) {
            this.controllerName = controllerName;
            this.grants = grants == null ? List.of() : grants;
            this.serviceList = services;
            for (Namespace ns : namespaces == null ? List.<Namespace>of() : namespaces) {
                Map<String, String> labels = new HashMap<>(ns.getMetadata().getLabels() == null ? Map.of() : ns.getMetadata().getLabels());
                labels.put(NAMESPACE_NAME_LABEL, ns.getMetadata().getName());
                namespaceLabels.put(ns.getMetadata().getName(), labels);
            }
            if (secrets == null) {
                this.secrets = null;
            } else {
                this.secrets = new HashMap<>();
                for (Secret s : secrets) {
                    this.secrets.put(key(s.getMetadata().getNamespace(), s.getMetadata().getName()), s);
                }
            }
        }

        GatewayModel build(List<GatewayClass> classList, List<Gateway> gatewayList, List<HTTPRoute> routeList) {
            Map<String, ClassInfo> classes = new LinkedHashMap<>();
            for (GatewayClass gc : sorted(classList, c -> c.getMetadata().getName())) {
                if (gc.getSpec() != null && controllerName.equals(gc.getSpec().getControllerName())) {
                    classes.put(gc.getMetadata().getName(), classInfo(gc));
                }
            }
            List<Gateway> ours = new ArrayList<>();
            for (Gateway gw : sorted(gatewayList, g -> key(g.getMetadata().getNamespace(), g.getMetadata().getName()))) {
                if (gw.getSpec() != null && classes.containsKey(gw.getSpec().getGatewayClassName())) {
                    ours.add(gw);
                }
            }
            Map<String, List<ListenerDraft>> listeners = new HashMap<>();
            for (Gateway gw : ours) {
                listeners.put(gwKey(gw), listeners(gw));
            }
            // routes, oldest first: the order listeners list their routes in
            List<HTTPRoute> routes = new ArrayList<>(routeList == null ? List.of() : routeList);
            routes.sort(Comparator.comparing((HTTPRoute r) -> Objects.toString(r.getMetadata().getCreationTimestamp(), ""))
                    .thenComparing(r -> key(r.getMetadata().getNamespace(), r.getMetadata().getName())));
            List<RouteInfo> routeInfos = new ArrayList<>();
            Map<String, Gateway> byKey = new HashMap<>();
            ours.forEach(g -> byKey.put(gwKey(g), g));
            for (HTTPRoute route : routes) {
                RouteInfo info = route(route, byKey, listeners);
                if (info != null) {
                    routeInfos.add(info);
                }
            }
            routeInfos.sort(Comparator.comparing(r -> key(r.namespace(), r.name())));
            List<GatewayInfo> gateways = new ArrayList<>();
            for (Gateway gw : ours) {
                gateways.add(gatewayInfo(gw, classes.get(gw.getSpec().getGatewayClassName()), listeners.get(gwKey(gw))));
            }
            return new GatewayModel(controllerName, List.copyOf(classes.values()), gateways, routeInfos);
        }

        private ClassInfo classInfo(GatewayClass gc) {
            StatusCondition accepted = gc.getSpec().getParametersRef() != null
                    ? StatusCondition.isFalse("Accepted", "InvalidParameters", "Portway's Gateways take no parameters; remove spec.parametersRef")
                    : StatusCondition.isTrue("Accepted", "Accepted", "Portway's gateway controller accepts this class");
            StatusCondition version = StatusCondition.isTrue("SupportedVersion", "SupportedVersion",
                    "Gateway API " + BUNDLE_VERSION + " (standard channel) is supported");
            return new ClassInfo(gc, List.of(accepted, version));
        }

        // ---- listeners --------------------------------------------------------------------------

        /** A listener while routes attach to it. */
        private static final class ListenerDraft {
            final Listener spec;
            final List<StatusCondition> conditions = new ArrayList<>();
            final List<CertificateRefInfo> certificates = new ArrayList<>();
            final List<ListenerInfo.RouteKind> kinds = new ArrayList<>();
            final List<AttachedRoute> routes = new ArrayList<>();
            String from = "Same";
            LabelSelector selector;

            ListenerDraft(Listener spec) {
                this.spec = spec;
            }
        }

        private List<ListenerDraft> listeners(Gateway gw) {
            String ns = gw.getMetadata().getNamespace();
            List<Listener> specs = gw.getSpec().getListeners() == null ? List.of() : gw.getSpec().getListeners();
            List<ListenerDraft> drafts = new ArrayList<>();
            Map<Integer, Set<String>> protocolsByPort = new HashMap<>();
            for (Listener l : specs) {
                if (served(l.getProtocol())) {
                    protocolsByPort.computeIfAbsent(port(l), p -> new java.util.TreeSet<>()).add(l.getProtocol());
                }
            }
            for (Listener l : specs) {
                ListenerDraft d = new ListenerDraft(l);
                AllowedRoutes allowed = l.getAllowedRoutes();
                if (allowed != null && allowed.getNamespaces() != null) {
                    d.from = allowed.getNamespaces().getFrom() == null ? "Same" : allowed.getNamespaces().getFrom();
                    d.selector = allowed.getNamespaces().getSelector();
                }
                boolean served = served(l.getProtocol());
                boolean conflicted = served && protocolsByPort.get(port(l)).size() > 1;
                String invalidKinds = null;
                if (served) {
                    List<RouteGroupKind> wanted = allowed == null || allowed.getKinds() == null ? List.of() : allowed.getKinds();
                    if (wanted.isEmpty()) {
                        d.kinds.add(HTTP_ROUTE);
                    }
                    for (RouteGroupKind k : wanted) {
                        String group = k.getGroup() == null ? GROUP : k.getGroup();
                        if (group.equals(GROUP) && "HTTPRoute".equals(k.getKind())) {
                            if (!d.kinds.contains(HTTP_ROUTE)) {
                                d.kinds.add(HTTP_ROUTE);
                            }
                        } else if (invalidKinds == null) {
                            invalidKinds = "Route kind " + (group.isEmpty() ? "" : group + "/") + k.getKind()
                                    + " is not supported; this listener takes gateway.networking.k8s.io/HTTPRoute";
                        }
                    }
                }
                // Accepted
                if (!served) {
                    d.conditions.add(StatusCondition.isFalse("Accepted", "UnsupportedProtocol",
                            "Protocol \"" + l.getProtocol() + "\" is not supported: Portway's Gateways serve HTTP and HTTPS"));
                } else if (conflicted) {
                    d.conditions.add(StatusCondition.isFalse("Accepted", "ProtocolConflict",
                            "Port " + port(l) + " is used by listeners of protocols " + String.join(" and ", protocolsByPort.get(port(l)))));
                } else {
                    d.conditions.add(StatusCondition.isTrue("Accepted", "Accepted", "Listener is accepted"));
                }
                // ResolvedRefs
                StatusCondition resolved = StatusCondition.isTrue("ResolvedRefs", "ResolvedRefs", "All references are resolved");
                if (invalidKinds != null) {
                    resolved = StatusCondition.isFalse("ResolvedRefs", "InvalidRouteKinds", invalidKinds);
                }
                if ("HTTPS".equals(l.getProtocol())) {
                    List<SecretObjectReference> refs = l.getTls() == null || l.getTls().getCertificateRefs() == null
                            ? List.of() : l.getTls().getCertificateRefs();
                    for (SecretObjectReference ref : refs) {
                        d.certificates.add(certificate(ns, ref));
                    }
                    if (resolved.holds()) {
                        if (refs.isEmpty()) {
                            resolved = StatusCondition.isFalse("ResolvedRefs", "InvalidCertificateRef",
                                    "An HTTPS listener needs tls.certificateRefs to a kubernetes.io/tls Secret");
                        } else {
                            for (CertificateRefInfo c : d.certificates) {
                                if (!c.resolved()) {
                                    resolved = StatusCondition.isFalse("ResolvedRefs", c.reason(), c.message());
                                    break;
                                }
                            }
                        }
                    }
                }
                d.conditions.add(resolved);
                d.conditions.add(conflicted
                        ? StatusCondition.isTrue("Conflicted", "ProtocolConflict", "Listeners on port " + port(l) + " use different protocols")
                        : StatusCondition.isFalse("Conflicted", "NoConflicts", "No conflicts"));
                drafts.add(d);
            }
            // OverlappingTLSConfig: HTTPS listeners on one port whose hostnames share a host
            for (ListenerDraft a : drafts) {
                if (!"HTTPS".equals(a.spec.getProtocol())) {
                    continue;
                }
                List<String> overlapping = new ArrayList<>();
                for (ListenerDraft b : drafts) {
                    if (a != b && "HTTPS".equals(b.spec.getProtocol()) && port(a.spec) == port(b.spec)
                            && overlap(a.spec.getHostname(), b.spec.getHostname())) {
                        overlapping.add(b.spec.getName());
                    }
                }
                if (!overlapping.isEmpty()) {
                    a.conditions.add(StatusCondition.isTrue("OverlappingTLSConfig", "OverlappingHostnames",
                            "Hostname overlaps with listener(s) " + String.join(", ", overlapping) + " on port " + port(a.spec)));
                }
            }
            return drafts;
        }

        private static boolean overlap(String a, String b) {
            if (a == null || a.isEmpty() || b == null || b.isEmpty()) {
                return true;
            }
            return Hostnames.intersect(a, b).isPresent();
        }

        private static boolean served(String protocol) {
            return "HTTP".equals(protocol) || "HTTPS".equals(protocol);
        }

        private static int port(Listener l) {
            return l.getPort() == null ? 0 : l.getPort();
        }

        private CertificateRefInfo certificate(String gatewayNamespace, SecretObjectReference ref) {
            String group = ref.getGroup() == null ? "" : ref.getGroup();
            String kind = ref.getKind() == null ? "Secret" : ref.getKind();
            String ns = ref.getNamespace() == null || ref.getNamespace().isEmpty() ? gatewayNamespace : ref.getNamespace();
            String name = ref.getName();
            String target = "Secret \"" + ns + "/" + name + "\"";
            if (!group.isEmpty() || !"Secret".equals(kind)) {
                return new CertificateRefInfo(group, kind, ns, name, false, "InvalidCertificateRef",
                        "Unsupported certificate reference kind " + (group.isEmpty() ? "" : group + "/") + kind + ": only core Secrets are", null);
            }
            if (!ns.equals(gatewayNamespace) && !granted(GROUP, "Gateway", gatewayNamespace, "", "Secret", ns, name)) {
                return new CertificateRefInfo(group, kind, ns, name, false, "RefNotPermitted",
                        target + " is in another namespace and no ReferenceGrant there allows Gateways of namespace \""
                                + gatewayNamespace + "\" to use it", null);
            }
            if (secrets == null) {
                return new CertificateRefInfo(group, kind, ns, name, true, "ResolvedRefs", "", null);
            }
            Secret secret = secrets.get(key(ns, name));
            if (secret == null) {
                return new CertificateRefInfo(group, kind, ns, name, false, "InvalidCertificateRef", target + " not found", null);
            }
            String problem = tlsSecretProblem(secret);
            if (problem != null) {
                return new CertificateRefInfo(group, kind, ns, name, false, "InvalidCertificateRef", target + " " + problem, null);
            }
            return new CertificateRefInfo(group, kind, ns, name, true, "ResolvedRefs", "", secret);
        }

        /**
         * What {@link #checkTlsSecret} found for a Secret at a resourceVersion ("" for nothing wrong):
         * a model is built at every controller pass, and parsing every certificate and key each time
         * (a Gateway may name one Secret from 64 listeners, 64 times each) cost the control thread more
         * than the rest of the pass.
         */
        private static final Map<String, String> TLS_SECRET_PROBLEMS = java.util.Collections.synchronizedMap(
                new java.util.LinkedHashMap<>(64, 0.75f, true) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                        return size() > 1024;
                    }
                });

        /** Null when the Secret holds a usable PEM certificate and key; otherwise what is wrong. */
        private static String tlsSecretProblem(Secret secret) {
            var meta = secret.getMetadata();
            String version = meta == null || meta.getUid() == null || meta.getResourceVersion() == null ? null
                    : meta.getUid() + "/" + meta.getResourceVersion();
            if (version == null) {
                return checkTlsSecret(secret);
            }
            String problem = TLS_SECRET_PROBLEMS.get(version);
            if (problem == null) {
                String found = checkTlsSecret(secret);
                problem = found == null ? "" : found;
                TLS_SECRET_PROBLEMS.put(version, problem);
            }
            return problem.isEmpty() ? null : problem;
        }

        private static String checkTlsSecret(Secret secret) {
            if (!"kubernetes.io/tls".equals(secret.getType())) {
                return "is of type \"" + secret.getType() + "\", not kubernetes.io/tls";
            }
            Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
            if (!data.containsKey("tls.crt") || !data.containsKey("tls.key")) {
                return "lacks tls.crt or tls.key";
            }
            // both read as the data plane will read them (net.Tls): what it cannot use is no certificate
            try {
                String crt = new String(Base64.getDecoder().decode(data.get("tls.crt")), StandardCharsets.US_ASCII);
                if (crt.isBlank()) {
                    return "has no PEM certificate in tls.crt";
                }
                if (dev.portway.net.Tls.readChain(crt).isEmpty()) {
                    return "has no valid PEM certificate in tls.crt";
                }
            } catch (RuntimeException | java.io.IOException e) {
                return "has no valid PEM certificate in tls.crt";
            }
            String key;
            try {
                key = new String(Base64.getDecoder().decode(data.get("tls.key")), StandardCharsets.US_ASCII);
            } catch (IllegalArgumentException e) {
                return "has no valid PEM certificate in tls.crt";
            }
            if (!PEM_PRIVATE_KEY.matcher(key).find()) {
                return "has no PEM private key in tls.key";
            }
            try {
                dev.portway.net.Tls.readKey(key);
            } catch (java.io.IOException | RuntimeException e) {
                return "has a private key in tls.key that cannot be used (unencrypted PKCS#8, PKCS#1 or SEC1 PEM is needed)";
            }
            return null;
        }

        /** Whether a ReferenceGrant in {@code toNamespace} lets the {@code from} objects refer to the target. */
        private boolean granted(String fromGroup, String fromKind, String fromNamespace, String toGroup, String toKind,
                                String toNamespace, String toName) {
            for (ReferenceGrant g : grants) {
                if (!toNamespace.equals(g.getMetadata().getNamespace()) || g.getSpec() == null) {
                    continue;
                }
                boolean from = false;
                for (ReferenceGrantFrom f : g.getSpec().getFrom() == null ? List.<ReferenceGrantFrom>of() : g.getSpec().getFrom()) {
                    if (Objects.equals(nz(f.getGroup()), fromGroup) && Objects.equals(f.getKind(), fromKind)
                            && Objects.equals(f.getNamespace(), fromNamespace)) {
                        from = true;
                    }
                }
                if (!from) {
                    continue;
                }
                for (ReferenceGrantTo t : g.getSpec().getTo() == null ? List.<ReferenceGrantTo>of() : g.getSpec().getTo()) {
                    if (Objects.equals(nz(t.getGroup()), toGroup) && Objects.equals(t.getKind(), toKind)
                            && (t.getName() == null || t.getName().isEmpty() || t.getName().equals(toName))) {
                        return true;
                    }
                }
            }
            return false;
        }

        // ---- routes -----------------------------------------------------------------------------

        private RouteInfo route(HTTPRoute route, Map<String, Gateway> gateways, Map<String, List<ListenerDraft>> listeners) {
            String ns = route.getMetadata().getNamespace();
            List<ParentReference> refs = route.getSpec() == null || route.getSpec().getParentRefs() == null
                    ? List.of() : route.getSpec().getParentRefs();
            List<ParentRefInfo> ourRefs = new ArrayList<>();
            for (int i = 0; i < refs.size(); i++) {
                ParentReference ref = refs.get(i);
                String group = ref.getGroup() == null ? GROUP : ref.getGroup();
                String kind = ref.getKind() == null ? "Gateway" : ref.getKind();
                if (!group.equals(GROUP) || !kind.equals("Gateway")) {
                    continue;
                }
                String gwNs = ref.getNamespace() == null || ref.getNamespace().isEmpty() ? ns : ref.getNamespace();
                if (gateways.containsKey(key(gwNs, ref.getName()))) {
                    ourRefs.add(new ParentRefInfo(i, gwNs, ref.getName(), Optional.ofNullable(ref.getSectionName()).filter(s -> !s.isEmpty()),
                            Optional.ofNullable(ref.getPort()), ref));
                }
            }
            if (ourRefs.isEmpty()) {
                return null;
            }
            List<BackendInfo> backends = backends(route);
            StatusCondition resolvedRefs = StatusCondition.isTrue("ResolvedRefs", "ResolvedRefs", "All references are resolved");
            for (BackendInfo b : backends) {
                if (!b.resolved()) {
                    resolvedRefs = StatusCondition.isFalse("ResolvedRefs", b.reason(), b.message());
                    break;
                }
            }
            String extensionRef = extensionRefProblem(route);
            if (resolvedRefs.holds() && extensionRef != null) {
                resolvedRefs = StatusCondition.isFalse("ResolvedRefs", "InvalidKind", extensionRef);
            }
            String unsupported = unsupportedValue(route);
            List<String> hostnames = route.getSpec().getHostnames() == null ? List.of() : route.getSpec().getHostnames();
            List<RouteParentInfo> parents = new ArrayList<>();
            for (ParentRefInfo ref : ourRefs) {
                List<ListenerDraft> candidates = new ArrayList<>();
                for (ListenerDraft l : listeners.get(key(ref.namespace(), ref.name()))) {
                    if (ref.sectionName().map(s -> s.equals(l.spec.getName())).orElse(true)
                            && ref.port().map(p -> p == port(l.spec)).orElse(true)) {
                        candidates.add(l);
                    }
                }
                StatusCondition accepted;
                List<String> attachedTo = new ArrayList<>();
                if (candidates.isEmpty()) {
                    accepted = StatusCondition.isFalse("Accepted", "NoMatchingParent", "No listener of Gateway \"" + ref.namespace() + "/"
                            + ref.name() + "\" matches" + ref.sectionName().map(s -> " sectionName \"" + s + "\"").orElse("")
                            + ref.port().map(p -> (ref.sectionName().isPresent() ? " and" : "") + " port " + p).orElse(""));
                } else {
                    List<ListenerDraft> allowed = candidates.stream().filter(l -> allows(l, ref, ns)).toList();
                    if (allowed.isEmpty()) {
                        accepted = StatusCondition.isFalse("Accepted", "NotAllowedByListeners", "No listener of Gateway \"" + ref.namespace()
                                + "/" + ref.name() + "\" allows HTTPRoutes from namespace \"" + ns + "\"");
                    } else {
                        Map<ListenerDraft, List<String>> matched = new LinkedHashMap<>();
                        for (ListenerDraft l : allowed) {
                            Hostnames.effective(l.spec.getHostname(), hostnames).ifPresent(h -> matched.put(l, h));
                        }
                        if (matched.isEmpty()) {
                            accepted = StatusCondition.isFalse("Accepted", "NoMatchingListenerHostname",
                                    "No hostname of the route matches a listener hostname of Gateway \"" + ref.namespace() + "/" + ref.name() + "\"");
                        } else if (unsupported != null) {
                            accepted = StatusCondition.isFalse("Accepted", "UnsupportedValue", unsupported);
                        } else {
                            accepted = StatusCondition.isTrue("Accepted", "Accepted", "Route is accepted");
                            for (Map.Entry<ListenerDraft, List<String>> e : matched.entrySet()) {
                                attachedTo.add(e.getKey().spec.getName());
                                e.getKey().routes.add(new AttachedRoute(route, ref, e.getValue()));
                            }
                        }
                    }
                }
                parents.add(new RouteParentInfo(ref, accepted, resolvedRefs, List.copyOf(attachedTo)));
            }
            return new RouteInfo(route, parents, backends, resolvedRefs);
        }

        private boolean allows(ListenerDraft l, ParentRefInfo ref, String routeNamespace) {
            if (!l.kinds.contains(HTTP_ROUTE)) {
                return false;
            }
            return switch (l.from) {
                case "All" -> true;
                case "Selector" -> l.selector != null
                        && Selectors.matches(l.selector, namespaceLabels.getOrDefault(routeNamespace, Map.of(NAMESPACE_NAME_LABEL, routeNamespace)));
                default -> routeNamespace.equals(ref.namespace());
            };
        }

        private List<BackendInfo> backends(HTTPRoute route) {
            List<BackendInfo> out = new ArrayList<>();
            List<HTTPRouteRule> rules = route.getSpec().getRules() == null ? List.of() : route.getSpec().getRules();
            for (int r = 0; r < rules.size(); r++) {
                HTTPRouteRule rule = rules.get(r);
                List<HTTPRouteFilter> ruleFilters = rule.getFilters() == null ? List.of() : rule.getFilters();
                for (int f = 0; f < ruleFilters.size(); f++) {
                    mirror(route, r, -1, f, ruleFilters.get(f), out);
                }
                List<HTTPBackendRef> refs = rule.getBackendRefs() == null ? List.of() : rule.getBackendRefs();
                for (int b = 0; b < refs.size(); b++) {
                    HTTPBackendRef ref = refs.get(b);
                    out.add(backend(route, r, b, -1, ref.getGroup(), ref.getKind(), ref.getNamespace(), ref.getName(), ref.getPort(),
                            ref.getWeight() == null ? 1 : ref.getWeight()));
                    List<HTTPRouteFilter> filters = ref.getFilters() == null ? List.of() : ref.getFilters();
                    for (int f = 0; f < filters.size(); f++) {
                        mirror(route, r, b, f, filters.get(f), out);
                    }
                }
            }
            return out;
        }

        private void mirror(HTTPRoute route, int rule, int backendRef, int filter, HTTPRouteFilter f, List<BackendInfo> out) {
            if (f.getRequestMirror() != null && f.getRequestMirror().getBackendRef() != null) {
                var ref = f.getRequestMirror().getBackendRef();
                out.add(backend(route, rule, backendRef, filter, ref.getGroup(), ref.getKind(), ref.getNamespace(), ref.getName(),
                        ref.getPort(), 0));
            }
        }

        private BackendInfo backend(HTTPRoute route, int rule, int backendRef, int filter, String group, String kind, String namespace,
                                    String name, Integer port, int weight) {
            String routeNs = route.getMetadata().getNamespace();
            String g = group == null ? "" : group;
            String k = kind == null ? "Service" : kind;
            String ns = namespace == null || namespace.isEmpty() ? routeNs : namespace;
            String target = "Service \"" + ns + "/" + name + "\"";
            if (!g.isEmpty() || !"Service".equals(k)) {
                return new BackendInfo(rule, backendRef, filter, g, k, ns, name, port, weight, false, "InvalidKind",
                        "Unsupported backend kind " + (g.isEmpty() ? "" : g + "/") + k + ": only core Services are", null, null);
            }
            if (!ns.equals(routeNs) && !granted(GROUP, "HTTPRoute", routeNs, "", "Service", ns, name)) {
                return new BackendInfo(rule, backendRef, filter, g, k, ns, name, port, weight, false, "RefNotPermitted",
                        target + " is in another namespace and no ReferenceGrant there allows HTTPRoutes of namespace \""
                                + routeNs + "\" to use it", null, null);
            }
            if (services == null) {
                services = new HashMap<>();
                List<Service> listed = serviceList.get();
                for (Service s : listed == null ? List.<Service>of() : listed) {
                    services.put(key(s.getMetadata().getNamespace(), s.getMetadata().getName()), s);
                }
            }
            Service svc = services.get(key(ns, name));
            if (svc == null) {
                return new BackendInfo(rule, backendRef, filter, g, k, ns, name, port, weight, false, "BackendNotFound",
                        target + " not found", null, null);
            }
            ServicePort sp = null;
            for (ServicePort p : svc.getSpec() == null || svc.getSpec().getPorts() == null ? List.<ServicePort>of() : svc.getSpec().getPorts()) {
                if (port != null && port.equals(p.getPort())) {
                    sp = p;
                }
            }
            if (sp == null) {
                return new BackendInfo(rule, backendRef, filter, g, k, ns, name, port, weight, false, "BackendNotFound",
                        target + " has no port " + port, svc, null);
            }
            if (sp.getAppProtocol() != null && !sp.getAppProtocol().isEmpty() && !SUPPORTED_APP_PROTOCOLS.contains(sp.getAppProtocol())) {
                return new BackendInfo(rule, backendRef, filter, g, k, ns, name, port, weight, false, "UnsupportedProtocol",
                        target + " port " + port + " has appProtocol \"" + sp.getAppProtocol() + "\", which Portway does not speak", svc, sp);
            }
            return new BackendInfo(rule, backendRef, filter, g, k, ns, name, port, weight, true, "ResolvedRefs", "", svc, sp);
        }

        private static String extensionRefProblem(HTTPRoute route) {
            for (HTTPRouteRule rule : route.getSpec().getRules() == null ? List.<HTTPRouteRule>of() : route.getSpec().getRules()) {
                List<HTTPRouteFilter> all = new ArrayList<>(rule.getFilters() == null ? List.of() : rule.getFilters());
                for (HTTPBackendRef b : rule.getBackendRefs() == null ? List.<HTTPBackendRef>of() : rule.getBackendRefs()) {
                    all.addAll(b.getFilters() == null ? List.of() : b.getFilters());
                }
                for (HTTPRouteFilter f : all) {
                    if ("ExtensionRef".equals(f.getType()) && f.getExtensionRef() != null) {
                        var e = f.getExtensionRef();
                        return "Unsupported filter extensionRef " + (nz(e.getGroup()).isEmpty() ? "" : e.getGroup() + "/") + e.getKind()
                                + " \"" + e.getName() + "\": Portway has no filter extensions";
                    }
                }
            }
            return null;
        }

        /** Null when Portway can serve every rule; otherwise the first thing it cannot. */
        private static String unsupportedValue(HTTPRoute route) {
            List<HTTPRouteRule> rules = route.getSpec().getRules() == null ? List.of() : route.getSpec().getRules();
            for (int r = 0; r < rules.size(); r++) {
                HTTPRouteRule rule = rules.get(r);
                String at = "spec.rules[" + r + "]";
                List<HTTPRouteMatch> matches = rule.getMatches() == null ? List.of() : rule.getMatches();
                for (int m = 0; m < matches.size(); m++) {
                    HTTPRouteMatch match = matches.get(m);
                    if (match.getPath() != null && "RegularExpression".equals(match.getPath().getType())) {
                        String problem = regexProblem(match.getPath().getValue());
                        if (problem != null) {
                            return at + ".matches[" + m + "].path.value: " + problem;
                        }
                    }
                    List<HTTPHeaderMatch> headers = match.getHeaders() == null ? List.of() : match.getHeaders();
                    for (int h = 0; h < headers.size(); h++) {
                        if ("RegularExpression".equals(headers.get(h).getType())) {
                            String problem = regexProblem(headers.get(h).getValue());
                            if (problem != null) {
                                return at + ".matches[" + m + "].headers[" + h + "].value: " + problem;
                            }
                        }
                    }
                    List<HTTPQueryParamMatch> params = match.getQueryParams() == null ? List.of() : match.getQueryParams();
                    for (int q = 0; q < params.size(); q++) {
                        if ("RegularExpression".equals(params.get(q).getType())) {
                            String problem = regexProblem(params.get(q).getValue());
                            if (problem != null) {
                                return at + ".matches[" + m + "].queryParams[" + q + "].value: " + problem;
                            }
                        }
                    }
                }
                List<HTTPRouteFilter> filters = new ArrayList<>(rule.getFilters() == null ? List.of() : rule.getFilters());
                for (HTTPBackendRef b : rule.getBackendRefs() == null ? List.<HTTPBackendRef>of() : rule.getBackendRefs()) {
                    filters.addAll(b.getFilters() == null ? List.of() : b.getFilters());
                }
                for (HTTPRouteFilter f : filters) {
                    if (f.getType() != null && !SUPPORTED_FILTERS.contains(f.getType()) && !"ExtensionRef".equals(f.getType())) {
                        return at + ": filter type " + f.getType() + " is not supported by Portway";
                    }
                    String unsendable = unsendable(f);
                    if (unsendable != null) {
                        return at + ": a " + f.getType() + " filter " + unsendable;
                    }
                    String owned = gatewayOwned(f.getRequestHeaderModifier());
                    owned = owned != null ? owned : gatewayOwned(f.getResponseHeaderModifier());
                    if (owned != null) {
                        return at + ": a " + f.getType() + " filter cannot change " + owned
                                + ": the gateway frames messages itself and keeps hop-by-hop fields to their hop";
                    }
                }
            }
            return null;
        }

        /**
         * What of a filter cannot go into an HTTP message as written: a header value with a control
         * character (CR and LF would start a field of their own), a path or hostname with a space or
         * one. The schema lets them through (it bounds only their length); each request through the
         * route would fail in the gateway's HTTP codec, so the route is not accepted (Envoy refuses
         * such config too, for CR, LF and NUL).
         */
        private static String unsendable(HTTPRouteFilter f) {
            for (var modifier : java.util.Arrays.asList(f.getRequestHeaderModifier(), f.getResponseHeaderModifier())) {
                if (modifier == null) {
                    continue;
                }
                for (List<io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeader> headers : java.util.Arrays.asList(modifier.getSet(),
                        modifier.getAdd())) {
                    for (var h : headers == null ? List.<io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeader>of() : headers) {
                        if (!fieldValue(h.getValue())) {
                            return "cannot send the value of " + h.getName() + ": it holds a control character, or starts with a space";
                        }
                    }
                }
            }
            List<String> tokens = new ArrayList<>();
            if (f.getUrlRewrite() != null) {
                tokens.add(f.getUrlRewrite().getHostname());
                if (f.getUrlRewrite().getPath() != null) {
                    tokens.add(f.getUrlRewrite().getPath().getReplaceFullPath());
                    tokens.add(f.getUrlRewrite().getPath().getReplacePrefixMatch());
                }
            }
            if (f.getRequestRedirect() != null) {
                tokens.add(f.getRequestRedirect().getHostname());
                if (f.getRequestRedirect().getPath() != null) {
                    tokens.add(f.getRequestRedirect().getPath().getReplaceFullPath());
                    tokens.add(f.getRequestRedirect().getPath().getReplacePrefixMatch());
                }
            }
            for (String t : tokens) {
                if (t != null && !token(t)) {
                    return "cannot send " + dev.portway.api.GoValues.quote(t) + ": a path or hostname has no spaces or control characters";
                }
            }
            return null;
        }

        /**
         * RFC 9110 field-value: visible characters (obs-text too), spaces and tabs inside; the
         * gateway's HTTP codec refuses a value that starts with one (it trims none at the end).
         */
        private static boolean fieldValue(String v) {
            if (v == null) {
                return true;
            }
            if (!v.isEmpty() && blank(v.charAt(0))) {
                return false;
            }
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    return false;
                }
            }
            return true;
        }

        private static boolean blank(char c) {
            return c == ' ' || c == '\t';
        }

        private static boolean token(String v) {
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c <= 0x20 || c == 0x7f) {
                    return false;
                }
            }
            return true;
        }

        /** The first field of {@link #GATEWAY_OWNED_HEADERS} a header filter sets, adds or removes; null if none. */
        private static String gatewayOwned(io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderFilter filter) {
            if (filter == null) {
                return null;
            }
            List<String> names = new ArrayList<>();
            for (List<io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeader> headers : java.util.Arrays.asList(filter.getSet(), filter.getAdd())) {
                for (io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeader h : headers == null
                        ? List.<io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeader>of() : headers) {
                    names.add(h.getName());
                }
            }
            names.addAll(filter.getRemove() == null ? List.of() : filter.getRemove());
            for (String name : names) {
                if (name != null && GATEWAY_OWNED_HEADERS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                    return name;
                }
            }
            return null;
        }

        private static String regexProblem(String regex) {
            String problem = dev.portway.api.RegularExpressions.problem(regex, false);
            return problem == null ? null : "regular expression \"" + regex + "\" is not supported: " + problem;
        }

        // ---- gateways ---------------------------------------------------------------------------

        private GatewayInfo gatewayInfo(Gateway gw, ClassInfo cls, List<ListenerDraft> drafts) {
            List<ListenerInfo> listeners = new ArrayList<>();
            for (ListenerDraft d : drafts) {
                Listener l = d.spec;
                Optional<String> tlsMode = "HTTPS".equals(l.getProtocol()) && l.getTls() != null
                        ? Optional.of(l.getTls().getMode() == null ? "Terminate" : l.getTls().getMode()) : Optional.empty();
                listeners.add(new ListenerInfo(l.getName(), port(l), l.getProtocol(),
                        Optional.ofNullable(l.getHostname()).filter(h -> !h.isEmpty()), tlsMode, List.copyOf(d.certificates),
                        d.from, "Selector".equals(d.from) ? d.selector : null, List.copyOf(d.kinds), List.copyOf(d.conditions),
                        List.copyOf(d.routes)));
            }
            Optional<String> requested = Optional.empty();
            StatusCondition accepted = null;
            if (!cls.accepted()) {
                accepted = StatusCondition.isFalse("Accepted", "Invalid", "GatewayClass \"" + cls.name() + "\" is not accepted");
            } else if (gw.getSpec().getInfrastructure() != null && gw.getSpec().getInfrastructure().getParametersRef() != null) {
                accepted = StatusCondition.isFalse("Accepted", "InvalidParameters",
                        "Portway's Gateways take no parameters; remove spec.infrastructure.parametersRef");
            }
            List<GatewaySpecAddress> addresses = gw.getSpec().getAddresses() == null ? List.of() : gw.getSpec().getAddresses();
            if (accepted == null && !addresses.isEmpty()) {
                GatewaySpecAddress a = addresses.getFirst();
                String type = a.getType() == null ? "IPAddress" : a.getType();
                if (addresses.size() > 1) {
                    accepted = StatusCondition.isFalse("Accepted", "UnsupportedAddress", "Portway gives a Gateway one IPv4 address; "
                            + addresses.size() + " are requested");
                } else if (!"IPAddress".equals(type)) {
                    accepted = StatusCondition.isFalse("Accepted", "UnsupportedAddress", "Address type \"" + type
                            + "\" is not supported: Portway assigns IPAddress addresses from its IPAddressPools");
                } else if (a.getValue() != null && !a.getValue().isEmpty()) {
                    if (Ipv4.parse(a.getValue()).isEmpty()) {
                        accepted = StatusCondition.isFalse("Accepted", "UnsupportedAddress", "Address \"" + a.getValue()
                                + "\" is not an IPv4 address: Portway's address pools are IPv4");
                    } else {
                        requested = Optional.of(a.getValue());
                    }
                }
            }
            if (accepted == null) {
                long valid = listeners.stream().filter(l -> l.condition("Accepted").map(StatusCondition::holds).orElse(false)).count();
                List<String> invalid = listeners.stream().filter(l -> !l.condition("Accepted").map(StatusCondition::holds).orElse(false))
                        .map(ListenerInfo::name).toList();
                if (valid == 0) {
                    accepted = StatusCondition.isFalse("Accepted", "ListenersNotValid", "No listener is valid: " + String.join(", ", invalid));
                } else if (!invalid.isEmpty()) {
                    accepted = StatusCondition.isTrue("Accepted", "ListenersNotValid", "Listener(s) " + String.join(", ", invalid)
                            + " are invalid; the others are accepted");
                } else {
                    accepted = StatusCondition.isTrue("Accepted", "Accepted", "Gateway is accepted");
                }
            }
            return new GatewayInfo(gw, gw.getSpec().getGatewayClassName(), accepted, requested, listeners);
        }

        private static String gwKey(Gateway g) {
            return key(g.getMetadata().getNamespace(), g.getMetadata().getName());
        }
    }

    static String key(String namespace, String name) {
        return namespace + "/" + name;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static <T> List<T> sorted(List<T> items, java.util.function.Function<T, String> key) {
        List<T> out = new ArrayList<>(items == null ? List.of() : items);
        out.sort(Comparator.comparing(key));
        return out;
    }
}
