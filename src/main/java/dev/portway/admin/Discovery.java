package dev.portway.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.KubernetesVersion;
import dev.portway.api.ResourceKind;
import dev.portway.api.VersionPriority;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The API server's discovery documents, which every Kubernetes client reads to map a name like
 * {@code svc} to a REST path: {@code /version}, {@code /api}, {@code /apis}, each group
 * version's {@code APIResourceList}, and the aggregated discovery documents
 * ({@code apidiscovery.k8s.io/v2}) that kubectl asks for first. A group lists every version any
 * of its kinds is served at, each with the kinds served there, in kube-apiserver's order
 * ({@link VersionPriority}); the first is the preferred version, the one kubectl maps a bare
 * resource name to.
 */
final class Discovery {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** The media type of aggregated discovery, as the API server labels its answer. */
    static final String AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    private static final String AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

    private static final List<String> VERBS = List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");
    /** Namespaces are deleted one by one (kube's namespace storage has no collection delete). */
    private static final List<String> NAMESPACE_VERBS = List.of("create", "delete", "get", "list", "patch", "update", "watch");
    private static final Set<ResourceKind> IN_ALL = Set.of(ResourceKind.SERVICE, ResourceKind.POD, ResourceKind.DEPLOYMENT,
            ResourceKind.REPLICA_SET);
    private static final Set<ResourceKind> WITH_STATUS = Set.of(ResourceKind.SERVICE, ResourceKind.POD, ResourceKind.NODE,
            ResourceKind.NAMESPACE, ResourceKind.DEPLOYMENT, ResourceKind.REPLICA_SET, ResourceKind.IP_ADDRESS_POOL,
            ResourceKind.GATEWAY_CLASS, ResourceKind.GATEWAY, ResourceKind.HTTP_ROUTE, ResourceKind.INGRESS, ResourceKind.ACCESS_POLICY);
    /** The Gateway API's CRDs put their kinds in this category ({@code kubectl get gateway-api}). */
    private static final Set<ResourceKind> GATEWAY_API = Set.of(ResourceKind.GATEWAY_CLASS, ResourceKind.GATEWAY,
            ResourceKind.HTTP_ROUTE, ResourceKind.REFERENCE_GRANT);
    /** Portway's own kinds, as an implementation's CRDs put theirs in its category (Envoy Gateway's {@code envoy-gateway}). */
    private static final Set<ResourceKind> PORTWAY = Set.of(ResourceKind.ACCESS_POLICY);
    private static final Set<ResourceKind> WITH_SCALE = Set.of(ResourceKind.DEPLOYMENT, ResourceKind.REPLICA_SET);

    private Discovery() {
    }

    static boolean hasStatus(ResourceKind kind) {
        return WITH_STATUS.contains(kind);
    }

    static boolean hasScale(ResourceKind kind) {
        return WITH_SCALE.contains(kind);
    }

    /** The one category a kind is in ({@code kubectl get all}, {@code kubectl get gateway-api}), if any. */
    private static Optional<String> category(ResourceKind kind) {
        if (IN_ALL.contains(kind)) {
            return Optional.of("all");
        }
        if (GATEWAY_API.contains(kind)) {
            return Optional.of("gateway-api");
        }
        return PORTWAY.contains(kind) ? Optional.of("portway") : Optional.empty();
    }

    static ObjectNode version() {
        ObjectNode v = NODES.objectNode();
        v.put("major", KubernetesVersion.MAJOR);
        v.put("minor", KubernetesVersion.MINOR);
        v.put("gitVersion", KubernetesVersion.GIT_VERSION);
        v.put("gitCommit", "");
        v.put("gitTreeState", "clean");
        v.put("buildDate", "");
        v.put("goVersion", "");
        v.put("compiler", "");
        v.put("platform", "linux/" + System.getProperty("os.arch").replace("x86_64", "amd64"));
        return v;
    }

    /** {@code /api} or {@code /apis}: aggregated when the client asks for it (as kubectl does), else the legacy lists. */
    static HttpResponses.Response root(boolean apis, String accept) {
        String wanted = aggregated(accept);
        if (wanted != null) {
            String version = wanted.contains("v=v2beta1") ? "v2beta1" : "v2";
            return HttpResponses.of(HttpResponseStatus.OK, wanted, dev.portway.api.Json.writeBytes(aggregatedList(apis, version)));
        }
        return HttpResponses.json(HttpResponseStatus.OK, apis ? apiGroups() : apiVersions());
    }

    /** The aggregated media type the client prefers, or null if it asks for plain JSON first. */
    private static String aggregated(String accept) {
        if (accept == null) {
            return null;
        }
        for (String entry : accept.split(",")) {
            String e = entry.replace(" ", "");
            if (e.contains("g=apidiscovery.k8s.io") && e.contains("as=APIGroupDiscoveryList")) {
                if (e.contains("v=v2beta1")) {
                    return AGGREGATED_V2BETA1;
                }
                if (e.contains("v=v2")) {
                    return AGGREGATED_V2;
                }
            } else if (e.startsWith("application/json") || e.startsWith("*/*")) {
                return null;
            }
        }
        return null;
    }

    private static ObjectNode apiVersions() {
        ObjectNode v = NODES.objectNode();
        v.put("kind", "APIVersions");
        v.putArray("versions").add("v1");
        v.putArray("serverAddressByClientCIDRs");
        return v;
    }

    /** Groups other than core, each with the versions its kinds are served at, the preferred first. */
    static Map<String, List<String>> groups() {
        Map<String, Set<String>> versions = new LinkedHashMap<>();
        for (ResourceKind k : ResourceKind.values()) {
            if (!k.group().isEmpty()) {
                versions.computeIfAbsent(k.group(), g -> new TreeSet<>(VersionPriority.PREFERRED_FIRST)).addAll(k.servedVersions());
            }
        }
        Map<String, List<String>> groups = new LinkedHashMap<>();
        versions.forEach((group, v) -> groups.put(group, List.copyOf(v)));
        return groups;
    }

    private static ObjectNode apiGroups() {
        ObjectNode list = NODES.objectNode();
        list.put("kind", "APIGroupList");
        list.put("apiVersion", "v1");
        ArrayNode items = list.putArray("groups");
        groups().forEach((group, versions) -> {
            ObjectNode g = items.addObject();
            g.put("name", group);
            ArrayNode versionList = g.putArray("versions");
            for (String version : versions) {
                versionList.addObject().put("groupVersion", group + "/" + version).put("version", version);
            }
            g.set("preferredVersion", versionList.get(0).deepCopy());
        });
        return list;
    }

    private static ObjectNode aggregatedList(boolean apis, String version) {
        ObjectNode list = NODES.objectNode();
        list.put("kind", "APIGroupDiscoveryList");
        list.put("apiVersion", "apidiscovery.k8s.io/" + version);
        list.putObject("metadata");
        ArrayNode items = list.putArray("items");
        Map<String, List<String>> groups = apis ? groups() : Map.of("", List.of("v1"));
        groups.forEach((group, versions) -> {
            ObjectNode g = items.addObject();
            ObjectNode meta = g.putObject("metadata");
            if (!group.isEmpty()) {
                meta.put("name", group);
            }
            meta.putNull("creationTimestamp");
            ArrayNode versionList = g.putArray("versions");
            for (String v : versions) {
                aggregatedVersion(versionList.addObject(), group, v);
            }
        });
        return list;
    }

    /** One version of a group in aggregated discovery: its resources, each answering at this version. */
    private static void aggregatedVersion(ObjectNode ver, String group, String v) {
        ver.put("version", v);
        ArrayNode resources = ver.putArray("resources");
        for (ResourceKind k : kinds(group, v)) {
            ObjectNode r = resources.addObject();
            r.put("resource", k.plural());
            r.set("responseKind", gvk(k.group(), v, k.kind()));
            r.put("scope", k.namespaced() ? "Namespaced" : "Cluster");
            r.put("singularResource", k.singular());
            verbsNamesAndCategory(r, k);
            ArrayNode subs = NODES.arrayNode();
            for (Sub sub : subresources(k, v)) {
                ObjectNode s = subs.addObject();
                s.put("subresource", sub.name);
                s.set("responseKind", gvk(sub.group, sub.version, sub.kind));
                ArrayNode verbs = s.putArray("verbs");
                sub.verbs.forEach(verbs::add);
            }
            if (!subs.isEmpty()) {
                r.set("subresources", subs);
            }
        }
        ver.put("freshness", "Current");
    }

    private record Sub(String name, String group, String version, String kind, List<String> verbs) {
    }

    private static final List<String> PROXY_VERBS = List.of("create", "delete", "get", "patch", "update");

    /** The subresources of a kind served at {@code version}. */
    private static List<Sub> subresources(ResourceKind k, String version) {
        List<Sub> subs = new ArrayList<>();
        if (WITH_STATUS.contains(k)) {
            subs.add(new Sub("status", k.group(), version, k.kind(), List.of("get", "patch", "update")));
        }
        if (WITH_SCALE.contains(k)) {
            subs.add(new Sub("scale", "autoscaling", "v1", "Scale", List.of("get", "patch", "update")));
        }
        if (k == ResourceKind.POD) {
            subs.add(new Sub("attach", "", "v1", "PodAttachOptions", List.of("create", "get")));
            subs.add(new Sub("eviction", "policy", "v1", "Eviction", List.of("create")));
            subs.add(new Sub("exec", "", "v1", "PodExecOptions", List.of("create", "get")));
            subs.add(new Sub("log", "", "v1", "Pod", List.of("get")));
            subs.add(new Sub("portforward", "", "v1", "PodPortForwardOptions", List.of("create", "get")));
            subs.add(new Sub("proxy", "", "v1", "PodProxyOptions", PROXY_VERBS));
        }
        if (k == ResourceKind.SERVICE) {
            subs.add(new Sub("proxy", "", "v1", "ServiceProxyOptions", PROXY_VERBS));
        }
        return subs;
    }

    /**
     * The kinds served at a group version, sorted by resource name as kube-apiserver lists them
     * (kubectl get all follows this order).
     */
    static List<ResourceKind> kinds(String group, String version) {
        List<ResourceKind> kinds = new ArrayList<>();
        for (ResourceKind k : ResourceKind.values()) {
            if (k.group().equals(group) && k.servedAt(version)) {
                kinds.add(k);
            }
        }
        kinds.sort(java.util.Comparator.comparing(ResourceKind::plural));
        return kinds;
    }

    private static ObjectNode gvk(String group, String version, String kind) {
        ObjectNode n = NODES.objectNode();
        n.put("group", group);
        n.put("version", version);
        n.put("kind", kind);
        return n;
    }

    /** What both forms of discovery say of a resource alike: its verbs, short names and category. */
    private static void verbsNamesAndCategory(ObjectNode r, ResourceKind k) {
        (k == ResourceKind.NAMESPACE ? NAMESPACE_VERBS : VERBS).forEach(r.putArray("verbs")::add);
        if (!k.shortNames().isEmpty()) {
            ArrayNode shortNames = r.putArray("shortNames");
            k.shortNames().forEach(shortNames::add);
        }
        category(k).ifPresent(c -> r.putArray("categories").add(c));
    }

    /** {@code /api/v1}, {@code /apis/apps/v1}: the legacy {@code APIResourceList}. */
    static HttpResponses.Response groupVersion(String group, String version) {
        List<ResourceKind> kinds = kinds(group, version);
        if (kinds.isEmpty()) {
            throw new ApiException(Statuses.notFound());
        }
        ObjectNode list = NODES.objectNode();
        list.put("kind", "APIResourceList");
        list.put("apiVersion", "v1");
        list.put("groupVersion", group.isEmpty() ? version : group + "/" + version);
        ArrayNode resources = list.putArray("resources");
        for (ResourceKind k : kinds) {
            ObjectNode r = resources.addObject();
            r.put("name", k.plural());
            r.put("singularName", k.singular());
            r.put("namespaced", k.namespaced());
            r.put("kind", k.kind());
            verbsNamesAndCategory(r, k);
            for (Sub sub : subresources(k, version)) {
                ObjectNode s = resources.addObject();
                s.put("name", k.plural() + "/" + sub.name);
                s.put("singularName", "");
                s.put("namespaced", k.namespaced());
                if (!sub.group.equals(k.group())) {
                    s.put("group", sub.group);
                    s.put("version", sub.version);
                }
                s.put("kind", sub.kind);
                ArrayNode verbs = s.putArray("verbs");
                sub.verbs.forEach(verbs::add);
            }
        }
        return HttpResponses.json(HttpResponseStatus.OK, list);
    }
}
