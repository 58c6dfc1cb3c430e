package dev.portway.admin;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.KubernetesVersion;
import dev.portway.api.ResourceKind;
import dev.portway.api.patch.PatchMeta;
import io.fabric8.kubernetes.api.model.AnyType;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Quantity;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The OpenAPI v3 documents ({@code /openapi/v3} and one per group version), built from the same
 * model classes Portway decodes objects into (fabric8's), not typed by hand. They carry what
 * kubectl reads: {@code x-kubernetes-group-version-kind} to find a kind's schema
 * ({@code kubectl explain}), the PATCH operation's {@code fieldValidation} parameter (which tells
 * {@code kubectl apply} the server validates fields itself), and the merge strategies of
 * {@link PatchMeta} ({@code x-kubernetes-patch-merge-key}, {@code x-kubernetes-list-type}) that
 * client-side apply computes its strategic merge patch with. Descriptions are the API's own, as
 * fabric8 wrote them into its model's sources ({@link ModelDescriptions}). Every version a kind is
 * served at has its document, its group-version-kind saying that version; the schemas are named
 * after the model classes, which are the storage version's (the versions' schemas are the same).
 */
final class OpenApi {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Set<String> META = Set.of("ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement",
            "OwnerReference", "ManagedFieldsEntry", "FieldsV1", "Condition", "Status", "StatusDetails", "StatusCause", "MicroTime",
            "Time", "Duration", "TypeMeta", "DeleteOptions", "Preconditions", "WatchEvent");

    private static final ModelDescriptions DESCRIPTIONS = new ModelDescriptions();

    private final Map<String, byte[]> documents = new ConcurrentHashMap<>();
    private volatile byte[] index;

    /** {@code /openapi/v3} or {@code /openapi/v3/api/v1}, {@code /openapi/v3/apis/apps/v1}... */
    HttpResponses.Response serve(String path) {
        if (path.equals("/openapi/v3") || path.equals("/openapi/v3/")) {
            return HttpResponses.of(HttpResponseStatus.OK, "application/json", index());
        }
        String gv = path.substring("/openapi/v3/".length());
        byte[] doc = document(gv);
        if (doc == null) {
            throw new ApiException(Statuses.notFound());
        }
        return HttpResponses.of(HttpResponseStatus.OK, "application/json", doc);
    }

    private byte[] index() {
        byte[] i = index;
        if (i == null) {
            ObjectNode root = NODES.objectNode();
            ObjectNode paths = root.putObject("paths");
            for (String gv : groupVersions()) {
                paths.putObject(gv).put("serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + hash(document(gv)));
            }
            i = Json.writeBytes(root);
            index = i;
        }
        return i;
    }

    private static List<String> groupVersions() {
        Map<String, Boolean> gvs = new LinkedHashMap<>();
        for (ResourceKind k : ResourceKind.values()) {
            for (String version : k.servedVersions()) {
                gvs.put(groupVersion(k, version), true);
            }
        }
        return List.copyOf(gvs.keySet());
    }

    /** The document's name for a kind's group version: {@code api/v1}, {@code apis/apps/v1}. */
    private static String groupVersion(ResourceKind k, String version) {
        return k.group().isEmpty() ? "api/" + version : "apis/" + k.group() + "/" + version;
    }

    private byte[] document(String gv) {
        if (!groupVersions().contains(gv)) {
            return null;
        }
        return documents.computeIfAbsent(gv, g -> Json.writeBytes(build(g)));
    }

    private static ObjectNode build(String gv) {
        ObjectNode doc = NODES.objectNode();
        doc.put("openapi", "3.0.0");
        ObjectNode info = doc.putObject("info");
        info.put("title", "Kubernetes");
        info.put("version", KubernetesVersion.GIT_VERSION);
        ObjectNode paths = doc.putObject("paths");
        ObjectNode schemas = doc.putObject("components").putObject("schemas");
        for (ResourceKind k : ResourceKind.values()) {
            String version = k.servedVersions().stream().filter(v -> groupVersion(k, v).equals(gv)).findFirst().orElse(null);
            if (version == null) {
                continue;
            }
            String ref = schema(Json.mapper().constructType(k.type()), schemas);
            ObjectNode kindSchema = (ObjectNode) schemas.get(ref);
            ArrayNode gvk = kindSchema.putArray("x-kubernetes-group-version-kind");
            gvk.add(gvk(k, version));
            String base = "/" + gv + (k.namespaced() ? "/namespaces/{namespace}/" : "/") + k.plural();
            paths.set(base, collection(k, version, ref));
            paths.set(base + "/{name}", item(k, version, ref, false));
            if (Discovery.hasStatus(k)) {
                paths.set(base + "/{name}/status", item(k, version, ref, true));
            }
        }
        return doc;
    }

    private static ObjectNode gvk(ResourceKind k, String version) {
        ObjectNode n = NODES.objectNode();
        n.put("group", k.group());
        n.put("kind", k.kind());
        n.put("version", version);
        return n;
    }

    private static ObjectNode collection(ResourceKind k, String version, String ref) {
        ObjectNode path = NODES.objectNode();
        path.set("get", op(k, version, "list", ref, List.of("labelSelector", "fieldSelector", "resourceVersion", "watch",
                "timeoutSeconds", "allowWatchBookmarks", "limit", "continue")));
        path.set("post", op(k, version, "post", ref, List.of("dryRun", "fieldManager", "fieldValidation")));
        pathParams(path, k, false);
        return path;
    }

    private static ObjectNode item(ResourceKind k, String version, String ref, boolean status) {
        ObjectNode path = NODES.objectNode();
        path.set("get", op(k, version, "get", ref, List.of()));
        path.set("put", op(k, version, "put", ref, List.of("dryRun", "fieldManager", "fieldValidation")));
        path.set("patch", op(k, version, "patch", ref, List.of("dryRun", "fieldManager", "fieldValidation", "force")));
        if (!status) {
            path.set("delete", op(k, version, "delete", ref, List.of("dryRun", "gracePeriodSeconds", "propagationPolicy")));
        }
        pathParams(path, k, true);
        return path;
    }

    private static void pathParams(ObjectNode path, ResourceKind k, boolean named) {
        ArrayNode params = path.putArray("parameters");
        if (named) {
            params.add(param("name", "path", true));
        }
        if (k.namespaced()) {
            params.add(param("namespace", "path", true));
        }
    }

    private static ObjectNode op(ResourceKind k, String version, String action, String ref, List<String> query) {
        ObjectNode op = NODES.objectNode();
        op.put("operationId", action + k.kind());
        op.put("x-kubernetes-action", action);
        op.set("x-kubernetes-group-version-kind", gvk(k, version));
        ArrayNode params = op.putArray("parameters");
        for (String q : query) {
            params.add(param(q, "query", false));
        }
        if (Set.of("post", "put", "patch").contains(action)) {
            ObjectNode body = op.putObject("requestBody").putObject("content");
            String type = action.equals("patch") ? "application/merge-patch+json" : "application/json";
            body.putObject(type).putObject("schema").put("$ref", "#/components/schemas/" + ref);
            op.withObjectProperty("requestBody").put("required", true);
        }
        ObjectNode ok = op.putObject("responses").putObject("200");
        ok.put("description", "OK");
        ok.putObject("content").putObject("application/json").putObject("schema").put("$ref", "#/components/schemas/" + ref);
        return op;
    }

    private static ObjectNode param(String name, String in, boolean required) {
        ObjectNode p = NODES.objectNode();
        p.put("name", name);
        p.put("in", in);
        if (required) {
            p.put("required", true);
        }
        String type = Set.of("watch", "allowWatchBookmarks", "force").contains(name) ? "boolean"
                : Set.of("timeoutSeconds", "limit", "gracePeriodSeconds").contains(name) ? "integer" : "string";
        p.putObject("schema").put("type", type).put("uniqueItems", true);
        return p;
    }

    /** Adds the schema of a model class (and the classes it uses) to {@code schemas}; returns its name. */
    private static String schema(JavaType type, ObjectNode schemas) {
        String name = schemaName(type.getRawClass());
        if (schemas.has(name)) {
            return name;
        }
        ObjectNode s = schemas.putObject(name);
        ModelDescriptions.Described described = DESCRIPTIONS.of(type.getRawClass());
        if (described.type() != null) {
            s.put("description", described.type());
        }
        s.put("type", "object");
        ObjectNode props = s.putObject("properties");
        PatchMeta.properties(type).forEach((field, fieldType) -> {
            ObjectNode p = property(fieldType, schemas);
            String description = described.properties().get(field);
            if (description != null) {
                p.put("description", description);
            }
            PatchMeta.Strategy strategy = PatchMeta.strategy(type, field);
            if (fieldType.isCollectionLikeType()) {
                if (strategy.isMapList()) {
                    p.put("x-kubernetes-list-type", "map");
                    ArrayNode keys = p.putArray("x-kubernetes-list-map-keys");
                    strategy.listMapKeys().forEach(keys::add);
                    p.put("x-kubernetes-patch-merge-key", strategy.mergeKey());
                    p.put("x-kubernetes-patch-strategy", strategy.retainKeys() ? "merge,retainKeys" : "merge");
                } else if (strategy.isSet()) {
                    p.put("x-kubernetes-list-type", "set");
                    p.put("x-kubernetes-patch-strategy", "merge");
                } else {
                    p.put("x-kubernetes-list-type", "atomic");
                }
            } else if (strategy.retainKeys()) {
                p.put("x-kubernetes-patch-strategy", "retainKeys");
            }
            props.set(field, p);
        });
        return name;
    }

    private static ObjectNode property(JavaType t, ObjectNode schemas) {
        ObjectNode p = NODES.objectNode();
        Class<?> raw = t.getRawClass();
        if (raw == String.class) {
            p.put("type", "string");
        } else if (raw == Integer.class || raw == int.class || raw == Short.class) {
            p.put("type", "integer").put("format", "int32");
        } else if (raw == Long.class || raw == long.class) {
            p.put("type", "integer").put("format", "int64");
        } else if (raw == Boolean.class || raw == boolean.class) {
            p.put("type", "boolean");
        } else if (raw == Double.class || raw == Float.class || raw == double.class) {
            p.put("type", "number").put("format", "double");
        } else if (raw == IntOrString.class) {
            p.put("type", "string").put("format", "int-or-string").put("x-kubernetes-int-or-string", true);
        } else if (raw == Quantity.class) {
            p.put("type", "string").put("format", "quantity");
        } else if (t.isCollectionLikeType() || t.isArrayType()) {
            p.put("type", "array");
            p.set("items", property(t.getContentType(), schemas));
        } else if (t.isMapLikeType()) {
            p.put("type", "object");
            p.set("additionalProperties", property(t.getContentType(), schemas));
        } else if (PatchMeta.isBean(t)) {
            String ref = schema(t, schemas);
            p.putArray("allOf").addObject().put("$ref", "#/components/schemas/" + ref);
            p.putObject("default");
        } else if (raw == AnyType.class || raw == Object.class) {
            p.put("x-kubernetes-preserve-unknown-fields", true);
        } else {
            p.put("type", "object").put("x-kubernetes-preserve-unknown-fields", true);
        }
        return p;
    }

    private static String schemaName(Class<?> c) {
        String pkg = c.getPackageName();
        String simple = c.getSimpleName();
        if (pkg.equals("io.fabric8.kubernetes.api.model")) {
            return META.contains(simple) ? "io.k8s.apimachinery.pkg.apis.meta.v1." + simple : "io.k8s.api.core.v1." + simple;
        }
        if (pkg.equals("io.fabric8.kubernetes.api.model.apps")) {
            return "io.k8s.api.apps.v1." + simple;
        }
        if (pkg.equals("io.fabric8.kubernetes.api.model.discovery.v1")) {
            return "io.k8s.api.discovery.v1." + simple;
        }
        if (pkg.startsWith("io.fabric8.kubernetes.api.model.gatewayapi.")) {
            return "io.k8s.sigs.gateway-api.apis." + pkg.substring("io.fabric8.kubernetes.api.model.gatewayapi.".length()) + "." + simple;
        }
        if (pkg.equals("io.fabric8.kubernetes.api.model.networking.v1")) {
            return "io.k8s.api.networking.v1." + simple;
        }
        if (pkg.equals("dev.portway.api.metallb")) {
            return "io.metallb.v1beta1." + simple;
        }
        if (pkg.equals("dev.portway.api.policy")) {
            return "dev.portway.policy.v1alpha1." + simple;
        }
        return pkg + "." + simple;
    }

    private static String hash(byte[] doc) {
        try {
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-512").digest(doc));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
