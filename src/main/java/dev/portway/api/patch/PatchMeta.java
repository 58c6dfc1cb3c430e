package dev.portway.api.patch;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import dev.portway.api.Json;
import io.fabric8.kubernetes.api.model.AnyType;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How Kubernetes merges each field of an object, as the struct tags of its Go types say
 * ({@code patchStrategy}, {@code patchMergeKey}, {@code listType}, {@code listMapKey}): which lists
 * merge item by item and on what key, which are sets, which keep only the keys a patch names
 * ({@code retainKeys}), and which are replaced whole (atomic, the default). The strategic merge
 * patch, server-side apply and the OpenAPI documents all read this one table.
 *
 * <p>Types are fabric8's model classes; a position in an object is a Jackson {@link JavaType},
 * walked field by field with {@link #child}.
 */
public final class PatchMeta {

    /**
     * How one list or object field merges.
     *
     * @param mergeKey    the strategic merge key of a list of objects ({@code name}); null for a set of scalars or atomic
     * @param listMapKeys the keys that identify an item in server-side apply ({@code [port, protocol]})
     * @param merge       {@code patchStrategy: merge}: item by item (or, for scalars, as a set)
     * @param retainKeys  {@code patchStrategy: retainKeys}: the patch names every key to keep
     */
    public record Strategy(String mergeKey, List<String> listMapKeys, boolean merge, boolean retainKeys) {

        static final Strategy ATOMIC = new Strategy(null, List.of(), false, false);

        public boolean isMapList() {
            return merge && mergeKey != null;
        }

        public boolean isSet() {
            return merge && mergeKey == null;
        }
    }

    private static final Map<String, Strategy> STRATEGIES = new HashMap<>();

    private static void mapList(String owner, String field, String mergeKey, String... listMapKeys) {
        STRATEGIES.put(owner + "." + field, new Strategy(mergeKey, listMapKeys.length == 0 ? List.of(mergeKey) : List.of(listMapKeys),
                true, false));
    }

    static {
        // k8s.io/apimachinery/pkg/apis/meta/v1
        STRATEGIES.put("ObjectMeta.finalizers", new Strategy(null, List.of(), true, false));
        mapList("ObjectMeta", "ownerReferences", "uid");
        // k8s.io/api/core/v1
        for (String spec : List.of("PodSpec")) {
            mapList(spec, "containers", "name");
            mapList(spec, "initContainers", "name");
            mapList(spec, "ephemeralContainers", "name");
            mapList(spec, "imagePullSecrets", "name");
            mapList(spec, "hostAliases", "ip");
            mapList(spec, "schedulingGates", "name");
            mapList(spec, "topologySpreadConstraints", "topologyKey", "topologyKey", "whenUnsatisfiable");
            STRATEGIES.put(spec + ".volumes", new Strategy("name", List.of("name"), true, true));
            STRATEGIES.put(spec + ".resourceClaims", new Strategy("name", List.of("name"), true, true));
        }
        for (String container : List.of("Container", "EphemeralContainer")) {
            mapList(container, "ports", "containerPort", "containerPort", "protocol");
            mapList(container, "env", "name");
            mapList(container, "volumeMounts", "mountPath");
            mapList(container, "volumeDevices", "devicePath");
        }
        mapList("ServiceSpec", "ports", "port", "port", "protocol");
        mapList("ServiceStatus", "conditions", "type");
        STRATEGIES.put("NodeSpec.podCIDRs", new Strategy(null, List.of(), true, false));
        mapList("NodeStatus", "conditions", "type");
        mapList("NodeStatus", "addresses", "type");
        mapList("PodStatus", "conditions", "type");
        mapList("PodStatus", "podIPs", "ip");
        mapList("PodStatus", "hostIPs", "ip");
        mapList("PodStatus", "resourceClaimStatuses", "name");
        mapList("NamespaceStatus", "conditions", "type");
        // k8s.io/api/apps/v1
        STRATEGIES.put("DeploymentSpec.strategy", new Strategy(null, List.of(), false, true));
        mapList("DeploymentStatus", "conditions", "type");
        mapList("ReplicaSetStatus", "conditions", "type");
    }

    private static final Map<Class<?>, Map<String, JavaType>> PROPERTIES = new ConcurrentHashMap<>();

    private PatchMeta() {
    }

    /** The strategy of field {@code field} of an object of type {@code owner}; atomic for lists the table does not name. */
    public static Strategy strategy(JavaType owner, String field) {
        if (owner == null) {
            return Strategy.ATOMIC;
        }
        return STRATEGIES.getOrDefault(owner.getRawClass().getSimpleName() + "." + field, Strategy.ATOMIC);
    }

    /** The type of field {@code field} of {@code owner} (a bean, or a map's values); null when unknown or free-form. */
    public static JavaType child(JavaType owner, String field) {
        if (owner == null) {
            return null;
        }
        if (owner.isMapLikeType()) {
            return owner.getContentType();
        }
        if (isLeaf(owner)) {
            return null;
        }
        return properties(owner).get(field);
    }

    /** The element type of a list type. */
    public static JavaType element(JavaType list) {
        return list != null && (list.isCollectionLikeType() || list.isArrayType()) ? list.getContentType() : null;
    }

    /** The Jackson type of a model class ({@code Service.class}). */
    public static JavaType type(Class<?> modelClass) {
        return Json.mapper().constructType(modelClass);
    }

    /** A type with named fields: one of the model's own classes. */
    public static boolean isBean(JavaType t) {
        return t != null && !isLeaf(t) && !t.isContainerType() && KubernetesResource.class.isAssignableFrom(t.getRawClass());
    }

    static boolean isLeaf(JavaType t) {
        Class<?> raw = t.getRawClass();
        return raw.isPrimitive() || raw == String.class || Number.class.isAssignableFrom(raw) || raw == Boolean.class
                || raw == IntOrString.class || raw == Quantity.class || raw == AnyType.class || raw == Object.class
                || raw.isEnum() || com.fasterxml.jackson.databind.JsonNode.class.isAssignableFrom(raw)
                || raw == io.fabric8.kubernetes.api.model.FieldsV1.class;
    }

    /** The JSON properties of a bean type, by JSON name, in declaration order. */
    public static Map<String, JavaType> properties(JavaType type) {
        return PROPERTIES.computeIfAbsent(type.getRawClass(), c -> {
            BeanDescription bd = Json.mapper().getSerializationConfig().introspect(type);
            Map<String, JavaType> out = new LinkedHashMap<>();
            for (BeanPropertyDefinition p : bd.findProperties()) {
                if (p.getName().equals("additionalProperties")) {
                    continue;
                }
                JavaType t = p.getPrimaryType();
                if (t != null) {
                    out.put(p.getName(), t);
                }
            }
            return out;
        });
    }
}
