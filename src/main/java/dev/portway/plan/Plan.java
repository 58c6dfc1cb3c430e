package dev.portway.plan;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One immutable snapshot of what the data plane must do: the listeners to hold open, the
 * clusters (upstream endpoint sets) they send traffic to, and the health servers the nodes run.
 * The control thread builds it; the data plane applies it as a diff.
 *
 * @param version  increases with every plan
 * @param listeners every address to listen on
 * @param clusters  by name
 * @param healthServers the kube-proxy style health endpoints of the nodes
 */
public record Plan(long version, List<Listener> listeners, Map<String, Cluster> clusters, List<HealthServer> healthServers,
                   List<HttpListener> httpListeners) {

    public Plan {
        listeners = List.copyOf(listeners);
        clusters = Map.copyOf(clusters);
        healthServers = List.copyOf(healthServers);
        httpListeners = List.copyOf(httpListeners);
    }

    /** A plan with no L7 listeners. */
    public Plan(long version, List<Listener> listeners, Map<String, Cluster> clusters, List<HealthServer> healthServers) {
        this(version, listeners, clusters, healthServers, List.of());
    }

    public static Plan empty() {
        return new Plan(0, List.of(), Map.of(), List.of(), List.of());
    }

    /**
     * What one plan changes against the one before it (of version {@code from}): the clusters and
     * the L4 listeners added, changed or removed, each mapped to what it is now, or to null when
     * it is gone. A data plane that holds plan {@code from} applies these and nothing else; one
     * that holds another plan diffs the whole plan instead.
     */
    public record Changes(long from, Map<String, Cluster> clusters, Map<ListenerKey, Listener> listeners) {
        public Changes {
            clusters = java.util.Collections.unmodifiableMap(clusters);
            listeners = java.util.Collections.unmodifiableMap(listeners);
        }

        public boolean isEmpty() {
            return clusters.isEmpty() && listeners.isEmpty();
        }
    }

    public enum Protocol {
        TCP, UDP
    }

    /** What kind of Service address a listener is. */
    public enum Role {
        /** {@code clusterIP:port}. */
        CLUSTER_IP,
        /** {@code externalIP:port} from {@code spec.externalIPs}. */
        EXTERNAL_IP,
        /** {@code nodeIP:nodePort} on one node. */
        NODE_PORT,
        /** {@code loadBalancerIP:port}, balancing to the nodes. */
        LOAD_BALANCER,
        /** An L7 listener of a Gateway (or of the Ingress controller): HTTP routed by {@link HttpListener}. */
        GATEWAY,
        /**
         * {@code nodeIP:hostPort} of a pod's container port on its node, as the CNI portmap plugin
         * maps it (local mode): not a Service's, so {@code service} names the pod.
         */
        HOST_PORT
    }

    /** Where an upstream connection comes from, as kube-proxy's NAT rules decide it. */
    public enum Source {
        /** The client's own address (no SNAT): ClusterIP, Local policy, LoadBalancer to node. */
        CLIENT,
        /** The node's address (masquerade): NodePort with Cluster policy. */
        NODE
    }

    /** Identifies a listener: protocol and address. */
    public record ListenerKey(Protocol protocol, InetSocketAddress address) {
        @Override
        public String toString() {
            return protocol.name().toLowerCase() + "/" + address.getAddress().getHostAddress() + ":" + address.getPort();
        }
    }

    /**
     * An address to accept traffic on.
     *
     * @param key          protocol and address
     * @param role         what Service address this is
     * @param service      {@code namespace/name}
     * @param cluster      the name of the cluster traffic goes to
     * @param nodeName     for NODE_PORT: the node (selects local endpoints with Local policy)
     * @param nodeIp       for NODE_PORT: the node's address (the SNAT source); for EXTERNAL_IP with the
     *                     Cluster policy, the external IP itself
     * @param localOnly    only endpoints on {@code nodeName} (externalTrafficPolicy Local)
     * @param source       where upstream connections come from
     * @param sourceRanges for LOAD_BALANCER: the client CIDRs allowed (empty: all)
     * @param active       false when there is nowhere to send traffic: the address is closed, so
     *                     connections are refused (kube-proxy's REJECT)
     */
    public record Listener(ListenerKey key, Role role, String service, String cluster, String nodeName, String nodeIp,
                           boolean localOnly, Source source, List<String> sourceRanges, boolean active) {
        public Listener {
            Objects.requireNonNull(key, "key");
            sourceRanges = List.copyOf(sourceRanges);
        }
    }

    /** How a cluster picks an endpoint. */
    public enum Balancer {
        ROUND_ROBIN, RANDOM
    }

    /**
     * A set of upstream endpoints and how to use them.
     *
     * @param name              unique: {@code default/web:http} (pods) or {@code lb:default/web:http} (nodes)
     * @param service           {@code namespace/name}
     * @param endpoints         every endpoint, with its conditions
     * @param balancer          round robin or random
     * @param affinityTimeout   ClientIP session affinity, or null for none
     * @param proxyProtocol     write a PROXY protocol v2 header before the client's bytes
     * @param drainTimeout      how long connections to a removed endpoint may go on
     * @param udpIdleTimeout    how long a UDP flow lives without traffic
     * @param tcpIdleTimeout    how long a TCP connection lives with no byte either way (zero: forever)
     * @param maxConnections    how many connections (UDP: flows) each listener of this cluster holds at once
     * @param healthCheck       for clusters of nodes (LoadBalancer): how nodes are checked, else null
     */
    public record Cluster(String name, String service, Protocol protocol, List<Endpoint> endpoints, Balancer balancer,
                          Duration affinityTimeout, boolean proxyProtocol, Duration drainTimeout, Duration udpIdleTimeout,
                          Duration tcpIdleTimeout, int maxConnections, HealthCheck healthCheck) {
        public Cluster {
            endpoints = List.copyOf(endpoints);
        }

        /** Endpoints a listener may use now: ready ones, or else the serving-and-terminating ones (kube-proxy's rule). */
        public boolean hasUsableEndpoints(String localNode) {
            boolean ready = false;
            boolean servingTerminating = false;
            for (Endpoint e : endpoints) {
                if (localNode != null && !localNode.equals(e.nodeName())) {
                    continue;
                }
                ready |= e.ready();
                servingTerminating |= e.serving() && e.terminating();
            }
            return ready || servingTerminating;
        }

        /** Whether an endpoint is ready (on {@code localNode}, unless null): what a node's health check port counts. */
        public boolean hasReadyEndpoints(String localNode) {
            for (Endpoint e : endpoints) {
                if (e.ready() && (localNode == null || localNode.equals(e.nodeName()))) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * One upstream endpoint.
     *
     * @param address     where to connect
     * @param nodeName    the node it runs on
     * @param target      the pod name (or node name, for LoadBalancer clusters)
     * @param ready       ready (serving and not terminating)
     * @param serving     passing its readiness checks
     * @param terminating on its way out
     * @param healthyAtFirst for a health-checked cluster (a LoadBalancer's nodes): whether the
     *                    endpoint counts as healthy until its first checks say (a node with the
     *                    Local policy and no local endpoint does not); then the checks decide
     */
    public record Endpoint(InetSocketAddress address, String nodeName, String target, boolean ready, boolean serving,
                           boolean terminating, boolean healthyAtFirst) {

        public Endpoint(InetSocketAddress address, String nodeName, String target, boolean ready, boolean serving, boolean terminating) {
            this(address, nodeName, target, ready, serving, terminating, ready);
        }
    }

    /**
     * How a LoadBalancer checks the nodes behind it, like a cloud load balancer: an HTTP GET to
     * each node every {@code interval}; {@code unhealthyThreshold} failures take a node out,
     * {@code healthyThreshold} passes bring it back.
     *
     * @param port     the port on each node ({@code healthCheckNodePort}, or kube-proxy's 10256)
     * @param path     the path ({@code /healthz} for kube-proxy's port)
     */
    public record HealthCheck(int port, String path, Duration interval, Duration timeout, int healthyThreshold,
                              int unhealthyThreshold) {
    }

    /**
     * A health endpoint a node serves.
     *
     * @param address          where
     * @param service          null for kube-proxy's node health ({@code /healthz}); else the
     *                         {@code namespace/name} whose healthCheckNodePort this is
     * @param localEndpoints   for a service: its ready endpoints on this node
     */
    public record HealthServer(InetSocketAddress address, String nodeName, String service, int localEndpoints) {
    }

    // ---- L7: Gateway API and Ingress ----

    /**
     * An L7 listener: one address and port of a Gateway (or of the Ingress listener), speaking
     * HTTP, or HTTPS (see {@link #tls}), and the routes of every Gateway listener on it,
     * grouped into virtual hosts.
     *
     * @param key          TCP and the address
     * @param owner        what it belongs to: {@code gateway default/web} or {@code ingress}
     * @param certificates for HTTPS: the certificates, chosen by SNI (empty: plain HTTP)
     * @param listenerHostnames for a Gateway's HTTPS listeners on this port: their hostnames, most
     *                     specific first ({@code *} for one without): a TLS connection belongs to the
     *                     listener its SNI name falls to, and a request on it for a host another of
     *                     them takes is misdirected (421). Empty: requests are routed by Host alone
     *                     (plain HTTP, Ingress)
     * @param virtualHosts most specific hostname first; the request's Host picks the first that matches
     * @param trustedProxies CIDRs of the proxies in front whose {@code X-Forwarded-*} and {@code Forwarded}
     *                       headers are kept and appended to (from anyone else they are replaced)
     * @param accessLog    one JSON line per request to the log
     */
    public record HttpListener(ListenerKey key, String owner, List<Certificate> certificates, List<String> listenerHostnames,
                               List<VirtualHost> virtualHosts, List<String> trustedProxies, boolean accessLog) {
        public HttpListener {
            Objects.requireNonNull(key, "key");
            certificates = List.copyOf(certificates);
            listenerHostnames = List.copyOf(listenerHostnames);
            virtualHosts = List.copyOf(virtualHosts);
            trustedProxies = List.copyOf(trustedProxies);
        }

        /** The synthetic L4 listener this L7 listener is bound as. */
        public Listener asListener() {
            return new Listener(key, Role.GATEWAY, owner, null, null, null, false, Source.CLIENT, List.of(), true);
        }

        /**
         * HTTPS: it has certificates, or a Gateway's HTTPS listeners are on it. Such a listener that
         * has lost its certificates on the way is still HTTPS: the data plane refuses its
         * connections rather than serve them in clear text.
         */
        public boolean tls() {
            return !certificates.isEmpty() || !listenerHostnames.isEmpty();
        }
    }

    /**
     * A TLS certificate and key (PEM), for the hostnames it serves (SNI); empty hostnames: the default.
     */
    public record Certificate(List<String> hostnames, String certificatePem, String keyPem) {
        public Certificate {
            hostnames = List.copyOf(hostnames);
        }
    }

    /**
     * The routes for requests whose Host matches {@code hostname}: exact ({@code a.example.com}),
     * a wildcard ({@code *.example.com}: one or more labels in front), or null for any host.
     *
     * @param rules in precedence order: the first that matches a request takes it
     */
    public record VirtualHost(String hostname, List<HttpRule> rules, boolean oneLabelWildcard) {
        public VirtualHost {
            rules = List.copyOf(rules);
        }

        /** A Gateway API hostname: {@code *.example.com} takes any number of labels before {@code .example.com}. */
        public VirtualHost(String hostname, List<HttpRule> rules) {
            this(hostname, rules, false);
        }
    }

    /**
     * One match of one rule of a route (a rule with several matches becomes several), with what
     * happens to a request that matches it.
     *
     * @param route          {@code namespace/name} of the HTTPRoute (or Ingress)
     * @param ruleIndex      the rule's index in its route (metrics, access log)
     * @param path           the path match
     * @param headers        every one must match
     * @param queryParams    every one must match
     * @param method         the method, or null for any
     * @param filters        applied in order, before the backend's own
     * @param backends       weighted; empty with a filter that answers (a redirect) is fine
     * @param requestTimeout the whole request, from the first byte to the last of the response (null: none)
     * @param backendTimeout one attempt at a backend (null: none)
     * @param policy         the access policy that guards this rule, or null
     */
    public record HttpRule(String route, int ruleIndex, PathMatch path, List<HeaderMatch> headers, List<HeaderMatch> queryParams,
                           String method, List<HttpFilter> filters, List<HttpBackend> backends, Duration requestTimeout,
                           Duration backendTimeout, AccessPolicy policy) {
        public HttpRule {
            Objects.requireNonNull(path, "path");
            headers = List.copyOf(headers);
            queryParams = List.copyOf(queryParams);
            filters = List.copyOf(filters);
            backends = List.copyOf(backends);
        }
    }

    public enum MatchType {
        EXACT, PREFIX, REGULAR_EXPRESSION
    }

    /** A path match ({@code PathPrefix /}: everything). Prefixes match whole segments: {@code /foo} matches {@code /foo/bar}, not {@code /foobar}. */
    public record PathMatch(MatchType type, String value) {
    }

    /** A header (names compare case-insensitively) or query parameter match: exact or a regular expression. */
    public record HeaderMatch(MatchType type, String name, String value) {
    }

    /** What a rule does to a request or its response, as the Gateway API's HTTPRoute filters. */
    public sealed interface HttpFilter permits RequestHeaders, ResponseHeaders, UrlRewrite, RequestRedirect, RequestMirror, Unresolvable {
    }

    /** RequestHeaderModifier: set (replace), add (append) and remove headers of the request. */
    public record RequestHeaders(Map<String, String> set, Map<String, String> add, List<String> remove) implements HttpFilter {
        public RequestHeaders {
            set = Map.copyOf(set);
            add = Map.copyOf(add);
            remove = List.copyOf(remove);
        }
    }

    /** ResponseHeaderModifier: the same for the response. */
    public record ResponseHeaders(Map<String, String> set, Map<String, String> add, List<String> remove) implements HttpFilter {
        public ResponseHeaders {
            set = Map.copyOf(set);
            add = Map.copyOf(add);
            remove = List.copyOf(remove);
        }
    }

    /**
     * URLRewrite: the hostname (null: kept) and the path: {@code fullPath} replaces it whole,
     * {@code prefix} replaces the part the rule's PathPrefix matched (null: path kept).
     */
    public record UrlRewrite(String hostname, String fullPath, String prefix) implements HttpFilter {
    }

    /**
     * RequestRedirect: the answer is a redirect; null parts are the request's own. {@code port}
     * null: the scheme's default when the scheme changes, else the request's.
     */
    public record RequestRedirect(String scheme, String hostname, String fullPath, String prefix, Integer port, int statusCode)
            implements HttpFilter {
    }

    /** RequestMirror: a copy of the request goes to another cluster too; its answer is dropped. */
    public record RequestMirror(String cluster) implements HttpFilter {
    }

    /**
     * A filter the gateway cannot apply (an ExtensionRef: Portway has no filter extensions). Its
     * requests are answered 500, as the Gateway API requires ("the filter MUST NOT be skipped"): a
     * filter that was to authenticate must not leave its route open. The only filter of its list.
     */
    public record Unresolvable(String detail) implements HttpFilter {
    }

    /**
     * A weighted backend.
     *
     * @param cluster  the Service port's cluster, or null when the backendRef does not resolve
     *                 (requests that pick it get 500, as the Gateway API requires)
     * @param weight   its share (0: never picked)
     * @param filters  the backendRef's own filters, after the rule's
     */
    public record HttpBackend(String cluster, int weight, List<HttpFilter> filters) {
        public HttpBackend {
            filters = List.copyOf(filters);
        }
    }

    /**
     * Who may use a rule and how much: the plan of an AccessPolicy (see docs/access-policy.md).
     *
     * @param name             {@code namespace/name}, for logs, metrics and the realm of a challenge
     * @param basicAuth        user -> bcrypt hash (htpasswd); may be empty while {@link AuthScheme#BASIC} is asked for
     * @param bearerTokens     the tokens that pass; may be empty while {@link AuthScheme#BEARER} is asked for
     * @param schemes          the credentials every method outside {@code anonymousMethods} must present, one of them
     *                         (empty: anyone passes). A scheme is asked for because the policy says so, not because
     *                         credentials of it are known: one whose Secret is missing stays asked for with nothing
     *                         that passes, so a broken reference fails closed instead of opening the route
     * @param anonymousMethods methods that need no credentials (the reads of a stack: GET, HEAD)
     * @param allowedMethods   methods allowed at all (empty: any)
     * @param deny             requests refused outright (403), whoever sends them
     * @param rateLimit        per client address, or null
     * @param maxBodyBytes     the largest request body (413), or null
     */
    public record AccessPolicy(String name, Map<String, String> basicAuth, List<String> bearerTokens, Set<AuthScheme> schemes,
                               List<String> anonymousMethods, List<String> allowedMethods, List<DenyRule> deny, RateLimit rateLimit,
                               Long maxBodyBytes) {
        public AccessPolicy {
            basicAuth = Map.copyOf(basicAuth);
            bearerTokens = List.copyOf(bearerTokens);
            schemes = Set.copyOf(schemes);
            anonymousMethods = List.copyOf(anonymousMethods);
            allowedMethods = List.copyOf(allowedMethods);
            deny = List.copyOf(deny);
            if (!basicAuth.isEmpty() && !schemes.contains(AuthScheme.BASIC)) {
                throw new IllegalArgumentException("schemes: " + schemes + " (expected: BASIC among them, as basicAuth has users)");
            }
            if (!bearerTokens.isEmpty() && !schemes.contains(AuthScheme.BEARER)) {
                throw new IllegalArgumentException("schemes: " + schemes + " (expected: BEARER among them, as bearerTokens has tokens)");
            }
        }

        /** A policy that asks for the credentials it has: Basic when it has users, Bearer when it has tokens. */
        public AccessPolicy(String name, Map<String, String> basicAuth, List<String> bearerTokens, List<String> anonymousMethods,
                            List<String> allowedMethods, List<DenyRule> deny, RateLimit rateLimit, Long maxBodyBytes) {
            this(name, basicAuth, bearerTokens, schemesOf(basicAuth, bearerTokens), anonymousMethods, allowedMethods, deny, rateLimit,
                    maxBodyBytes);
        }

        private static Set<AuthScheme> schemesOf(Map<String, String> basicAuth, List<String> bearerTokens) {
            Set<AuthScheme> schemes = EnumSet.noneOf(AuthScheme.class);
            if (!basicAuth.isEmpty()) {
                schemes.add(AuthScheme.BASIC);
            }
            if (!bearerTokens.isEmpty()) {
                schemes.add(AuthScheme.BEARER);
            }
            return schemes;
        }
    }

    /** The HTTP authentication schemes a policy takes (RFC 7617 Basic, RFC 6750 Bearer). */
    public enum AuthScheme {
        BASIC, BEARER
    }

    /** Refuse requests whose (normalized) path matches and whose method is one of {@code methods} (empty: any). */
    public record DenyRule(PathMatch path, List<String> methods) {
        public DenyRule {
            methods = List.copyOf(methods);
        }
    }

    /** A token bucket per client address: {@code requests} per {@code per}, up to {@code burst} at once. */
    public record RateLimit(int requests, Duration per, int burst) {
    }
}
