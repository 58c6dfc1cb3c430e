package dev.portway.api;

import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.metallb.L2Advertisement;
import dev.portway.api.policy.AccessPolicy;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The kinds of objects Portway serves, with their REST names as the API server has them.
 * Adding a kind here makes it decodable, storable and reachable under its REST path.
 *
 * <p>A kind is stored at one version, its {@link #version() storage version}, and its model class
 * is that version's. It may be served at other versions of its group as well, when their schema
 * is the same (a CRD whose versions differ only in name, as ReferenceGrant's v1 and v1beta1): a
 * manifest or request at any {@link #servedVersions() served version} is decoded to the storage
 * version, and what is read back is {@link #toVersion converted} to the version that was asked
 * for, as kube-apiserver converts between a CRD's versions. Versions whose schemas differ would
 * need real conversion, which nothing here does.
 */
public enum ResourceKind {
    NAMESPACE("", "v1", "Namespace", "namespaces", false, Namespace.class, "ns"),
    NODE("", "v1", "Node", "nodes", false, Node.class, "no"),
    SERVICE("", "v1", "Service", "services", true, Service.class, "svc"),
    POD("", "v1", "Pod", "pods", true, Pod.class, "po"),
    CONFIG_MAP("", "v1", "ConfigMap", "configmaps", true, ConfigMap.class, "cm"),
    SECRET("", "v1", "Secret", "secrets", true, Secret.class),
    EVENT("", "v1", "Event", "events", true, Event.class, "ev"),
    DEPLOYMENT("apps", "v1", "Deployment", "deployments", true, Deployment.class, "deploy"),
    REPLICA_SET("apps", "v1", "ReplicaSet", "replicasets", true, ReplicaSet.class, "rs"),
    ENDPOINT_SLICE("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, EndpointSlice.class),
    IP_ADDRESS_POOL("metallb.io", "v1beta1", "IPAddressPool", "ipaddresspools", true, IPAddressPool.class),
    L2_ADVERTISEMENT("metallb.io", "v1beta1", "L2Advertisement", "l2advertisements", true, L2Advertisement.class),
    GATEWAY_CLASS("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", false, GatewayClass.class, "gc"),
    GATEWAY("gateway.networking.k8s.io", "v1", "Gateway", "gateways", true, Gateway.class, "gtw"),
    HTTP_ROUTE("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", true, HTTPRoute.class),
    // Gateway API v1.5 serves ReferenceGrant at v1 too, with the same schema; v1beta1 stays its storage version
    REFERENCE_GRANT("gateway.networking.k8s.io", "v1beta1", List.of("v1"), "ReferenceGrant", "referencegrants", true,
            ReferenceGrant.class, "refgrant"),
    INGRESS_CLASS("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, IngressClass.class),
    INGRESS("networking.k8s.io", "v1", "Ingress", "ingresses", true, Ingress.class, "ing"),
    ACCESS_POLICY("policy.portway.dev", "v1alpha1", "AccessPolicy", "accesspolicies", true, AccessPolicy.class, "apol");

    private final String group;
    private final String version;
    private final List<String> servedVersions;
    private final String kind;
    private final String plural;
    private final boolean namespaced;
    private final Class<? extends HasMetadata> type;
    private final List<String> shortNames;

    ResourceKind(String group, String version, String kind, String plural, boolean namespaced,
                 Class<? extends HasMetadata> type, String... shortNames) {
        this(group, version, List.of(), kind, plural, namespaced, type, shortNames);
    }

    ResourceKind(String group, String version, List<String> alsoServedAt, String kind, String plural, boolean namespaced,
                 Class<? extends HasMetadata> type, String... shortNames) {
        this.group = group;
        this.version = version;
        List<String> served = new ArrayList<>(alsoServedAt);
        served.add(version);
        served.sort(VersionPriority.PREFERRED_FIRST);
        this.servedVersions = List.copyOf(served);
        this.kind = kind;
        this.plural = plural;
        this.namespaced = namespaced;
        this.type = type;
        this.shortNames = List.of(shortNames);
    }

    public String group() {
        return group;
    }

    /** The storage version: the one objects are decoded to, kept at, and the model class is of. */
    public String version() {
        return version;
    }

    /** Every version the kind is served at, the storage version among them, the most preferred first. */
    public List<String> servedVersions() {
        return servedVersions;
    }

    public boolean servedAt(String version) {
        return servedVersions.contains(version);
    }

    /** The storage version as objects carry it: {@code v1} for the core group, {@code apps/v1} otherwise. */
    public String apiVersion() {
        return apiVersion(version);
    }

    /** A version of this kind's group as objects carry it: {@code gateway.networking.k8s.io/v1}. */
    public String apiVersion(String version) {
        return group.isEmpty() ? version : group + "/" + version;
    }

    /**
     * A stored object as it is served at {@code version}: itself at the storage version, else a
     * copy that says that version (the schemas are the same, so nothing else changes).
     */
    public HasMetadata toVersion(HasMetadata stored, String version) {
        if (!servedAt(version)) {
            throw new IllegalArgumentException("version: " + version + " (expected: one of " + servedVersions + ")");
        }
        String apiVersion = apiVersion(version);
        if (apiVersion.equals(stored.getApiVersion())) {
            return stored;
        }
        HasMetadata served = Json.copy(stored);
        served.setApiVersion(apiVersion);
        return served;
    }

    public String kind() {
        return kind;
    }

    /** The REST resource name: {@code services}. */
    public String plural() {
        return plural;
    }

    /** The lower-case singular: {@code service}. */
    public String singular() {
        return kind.toLowerCase(Locale.ROOT);
    }

    /**
     * Whether a real cluster serves the kind from a CustomResourceDefinition (MetalLB's, the Gateway
     * API's, Portway's own), and so reads its objects untyped: no strategic merge patch, and a key
     * given twice in a body keeps its last value whole.
     */
    public boolean customResource() {
        return switch (this) {
            case IP_ADDRESS_POOL, L2_ADVERTISEMENT, ACCESS_POLICY, GATEWAY_CLASS, GATEWAY, HTTP_ROUTE, REFERENCE_GRANT -> true;
            default -> false;
        };
    }

    public boolean namespaced() {
        return namespaced;
    }

    public Class<? extends HasMetadata> type() {
        return type;
    }

    public List<String> shortNames() {
        return shortNames;
    }

    /** The kind as error messages qualify it: {@code Service}, {@code Deployment.apps}. */
    public String qualifiedKind() {
        return group.isEmpty() ? kind : kind + "." + group;
    }

    /** The resource as kubectl names it in messages: {@code services}, {@code deployments.apps}. */
    public String qualifiedResource() {
        return group.isEmpty() ? plural : plural + "." + group;
    }

    /**
     * Where kube-apiserver keeps an object of this kind in etcd, as its storage errors name it:
     * {@code /registry/<resource>/<namespace>/<name>}, with the prefixes compiled into it for some
     * ({@code services/specs}, {@code minions}, {@code ingress}) and the group before the resource
     * for custom resources.
     */
    public String storageKey(String namespace, String name) {
        String prefix = switch (this) {
            case SERVICE -> "services/specs";
            case NODE -> "minions";
            case INGRESS -> "ingress";
            default -> customResource() ? group + "/" + plural : plural;
        };
        return "/registry/" + prefix + (namespaced && namespace != null ? "/" + namespace : "") + "/" + name;
    }

    /** How kubectl prints an object of this kind in "created" lines: {@code deployment.apps/web}. */
    public String objectRef(String name) {
        return (group.isEmpty() ? singular() : singular() + "." + group) + "/" + name;
    }

    /** The REST path of the collection, at the storage version: {@code /api/v1/namespaces/default/services}. */
    public String collectionPath(String namespace) {
        String base = group.isEmpty() ? "/api/v1" : "/apis/" + group + "/" + version;
        return namespaced && namespace != null ? base + "/namespaces/" + namespace + "/" + plural : base + "/" + plural;
    }

    public String objectPath(String namespace, String name) {
        return collectionPath(namespace) + "/" + name;
    }

    /** The kind a manifest names, at any version it is served at. */
    public static Optional<ResourceKind> byApiVersionAndKind(String apiVersion, String kind) {
        for (ResourceKind k : values()) {
            if (k.kind.equals(kind) && k.servedVersions.stream().anyMatch(v -> k.apiVersion(v).equals(apiVersion))) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    /** Any kind with this {@code kind}, whatever its version (for "did you mean" messages). */
    public static Optional<ResourceKind> byKind(String kind) {
        for (ResourceKind k : values()) {
            if (k.kind.equals(kind)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    public static Optional<ResourceKind> byGroupAndPlural(String group, String plural) {
        for (ResourceKind k : values()) {
            if (k.group.equals(group) && k.plural.equals(plural)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    public static <T extends HasMetadata> ResourceKind of(T object) {
        for (ResourceKind k : values()) {
            if (k.type.isInstance(object)) {
                return k;
            }
        }
        throw new IllegalArgumentException("not a kind Portway serves: " + object.getClass().getName());
    }

    /**
     * Resolves what a user types after {@code get}: {@code svc}, {@code service}, {@code services},
     * {@code deploy}, {@code deployments.apps}, {@code Service}.
     */
    public static Optional<ResourceKind> byUserName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (ResourceKind k : values()) {
            if (k.plural.equals(n) || k.singular().equals(n) || k.shortNames.contains(n)
                    || k.qualifiedResource().equals(n) || (k.singular() + "." + k.group).equals(n)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }
}
