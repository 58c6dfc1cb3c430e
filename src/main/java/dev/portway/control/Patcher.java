package dev.portway.control;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.Times;
import dev.portway.api.decode.DocumentParser;
import dev.portway.api.decode.ManifestSyntaxException;
import dev.portway.api.decode.ObjectDecoder;
import dev.portway.api.decode.RequestJson;
import dev.portway.api.patch.MergePatch;
import dev.portway.api.patch.PatchMeta;
import dev.portway.api.patch.ServerSideApply;
import dev.portway.api.patch.StrategicMerge;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.zjsonpatch.JsonPatch;
import io.fabric8.zjsonpatch.JsonPatchException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * REST PATCH, as the API server handles it: the patch is applied to the stored object, the result
 * is decoded and validated like a PUT, and it is stored only if the object did not change in
 * between (the control thread makes the read and the write one step). Four patch types:
 * JSON patch, JSON merge patch, strategic merge patch (what client-side {@code kubectl apply}
 * sends) and server-side apply (which may also create). On the {@code status} subresource only
 * the status of the result is kept; on {@code scale}, the patch applies to the Scale object.
 * The patch applies to the object at the version of the request's path (for a server-side apply
 * that is the version the applied configuration must name), and the result is stored at the
 * storage version.
 *
 * <p>Runs on the control thread.
 */
public final class Patcher {

    /** The patch types by content type. */
    public enum Type {
        JSON("application/json-patch+json"),
        MERGE("application/merge-patch+json"),
        STRATEGIC("application/strategic-merge-patch+json"),
        APPLY("application/apply-patch+yaml");

        private final String contentType;

        Type(String contentType) {
            this.contentType = contentType;
        }

        public static Type of(String contentType) {
            for (Type t : values()) {
                if (t.contentType.equals(contentType)) {
                    return t;
                }
            }
            throw ApiException.badRequest("unsupported patch type " + contentType);
        }
    }

    /** What a patch did: the stored object, whether it was created (server-side apply), warnings. */
    public record Result(HasMetadata object, boolean created, List<String> warnings) {
    }

    private final ApiServer api;

    public Patcher(ApiServer api) {
        this.api = api;
    }

    /** @param version the version of the request's path, one {@code kind} is served at */
    public Result patch(ResourceKind kind, String version, String namespace, String name, String subresource, Type type, byte[] body,
                        WriteOptions options) {
        String ns = kind.namespaced() ? namespace : null;
        HasMetadata current = api.store().get(kind, ns, name).orElse(null);
        if (type == Type.STRATEGIC && kind.customResource()) {
            throw new ApiException(new io.fabric8.kubernetes.api.model.StatusBuilder().withNewMetadata().endMetadata()
                    .withStatus("Failure").withReason("UnsupportedMediaType").withCode(415)
                    .withMessage("the body of the request was in an unknown format - accepted media types include: "
                            + "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml").build());
        }
        if (current == null) {
            if (type == Type.APPLY && subresource == null) {
                return applyCreate(kind, version, ns, name, body, options);
            }
            throw ApiException.notFound(kind, name);
        }
        if ("scale".equals(subresource)) {
            return scale(kind, ns, name, current, type, body, options);
        }
        JavaType javaType = PatchMeta.type(kind.type());
        ObjectNode live = (ObjectNode) Json.tree(kind.toVersion(current, version));
        RequestJson.Parsed parsed = parse(type, body);
        JsonNode patch = parsed.tree();
        // as the API server words what its strict reading of the patch found
        List<String> strictErrors = type == Type.JSON
                ? parsed.strictErrors().stream().map(e -> "json patch " + e).toList() : parsed.strictErrors();
        ObjectNode patched = switch (type) {
            case JSON -> jsonPatch(live, patch);
            case MERGE -> asObject(MergePatch.apply(live, patch));
            case STRATEGIC -> strategic(live, patch, javaType);
            case APPLY -> serverSideApply(kind, version, name, live, asObject(patch), javaType, options);
        };
        String requestedVersion = patch.path("metadata").path("resourceVersion").asText("");
        if (type != Type.JSON && !requestedVersion.isEmpty()) {
            ApiServer.checkVersion(kind, requestedVersion, current);
        }
        patched.put("apiVersion", kind.apiVersion()); // back to the storage version
        patched.put("kind", kind.kind());
        if (type == Type.APPLY) {
            // identity fields the applied configuration need not repeat
            ObjectNode meta = patched.withObjectProperty("metadata");
            meta.put("name", name);
        }
        checkNamespace(patched, ns);
        Decoded d = decode(patched, kind, options.fieldValidation(), strictErrors);
        if (!name.equals(d.object.getMetadata().getName())) {
            throw ApiException.badRequest("metadata.name: Invalid value: " + Json.write(d.object.getMetadata().getName())
                    + ": field is immutable");
        }
        // the patched object carries the stored resourceVersion: no conflict can be reported on our own read
        d.object.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
        HasMetadata stored = "status".equals(subresource) ? api.updatePatchedStatus(d.object, ns, options)
                : api.update(d.object, ns, options, false);
        return new Result(stored, false, d.warnings);
    }

    private Result scale(ResourceKind kind, String ns, String name, HasMetadata current, Type type, byte[] body, WriteOptions options) {
        JsonNode patch = parse(type, body).tree();
        ObjectNode scale = Json.mapper().createObjectNode();
        ObjectNode spec = scale.putObject("spec");
        int replicas = switch (current) {
            case io.fabric8.kubernetes.api.model.apps.Deployment d -> d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
            case io.fabric8.kubernetes.api.model.apps.ReplicaSet rs -> rs.getSpec().getReplicas() == null ? 1 : rs.getSpec().getReplicas();
            default -> throw ApiException.notFound(kind, name);
        };
        spec.put("replicas", replicas);
        ObjectNode patched = switch (type) {
            case JSON -> jsonPatch(scale, patch);
            case MERGE, STRATEGIC, APPLY -> asObject(MergePatch.apply(scale, patch));
        };
        JsonNode r = patched.path("spec").path("replicas");
        if (!r.canConvertToInt()) {
            throw ApiException.badRequest("spec.replicas must be an integer");
        }
        HasMetadata stored = api.scale(kind, ns, name, r.asInt(), null, options);
        return new Result(stored, false, List.of());
    }

    private Result applyCreate(ResourceKind kind, String version, String ns, String name, byte[] body, WriteOptions options) {
        ObjectNode applied = asObject(parse(Type.APPLY, body).tree());
        checkApplied(kind, version, name, applied);
        checkNamespace(applied, ns);
        JavaType javaType = PatchMeta.type(kind.type());
        ObjectNode object = applied.deepCopy();
        setManagedFields(object, options.fieldManager(), kind.apiVersion(version), ServerSideApply.FieldsV1.of(applied, javaType));
        Decoded d = decode(object, kind, options.fieldValidation(), List.of());
        return new Result(api.create(d.object, ns, options), true, d.warnings);
    }

    private ObjectNode serverSideApply(ResourceKind kind, String version, String name, ObjectNode live, ObjectNode applied,
                                       JavaType javaType, WriteOptions options) {
        checkApplied(kind, version, name, applied);
        String manager = options.fieldManager();
        ObjectNode previous = null;
        for (JsonNode entry : live.path("metadata").path("managedFields")) {
            if (manager.equals(entry.path("manager").asText()) && "Apply".equals(entry.path("operation").asText())
                    && entry.get("fieldsV1") instanceof ObjectNode f) {
                previous = f;
            }
        }
        ObjectNode merged = ServerSideApply.apply(live, applied, previous, javaType);
        setManagedFields(merged, manager, kind.apiVersion(version), ServerSideApply.FieldsV1.of(applied, javaType));
        return merged;
    }

    /** The object's namespace, if it names one, must be the one in the URL (as for POST and PUT). */
    private static void checkNamespace(ObjectNode object, String urlNamespace) {
        String ns = object.path("metadata").path("namespace").asText("");
        if (!ns.isEmpty() && urlNamespace != null && !ns.equals(urlNamespace)) {
            throw ApiException.badRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
    }

    /** An applied configuration names the path's version and kind, as the API server's field manager requires. */
    private static void checkApplied(ResourceKind kind, String version, String name, ObjectNode applied) {
        String apiVersion = kind.apiVersion(version);
        if (!apiVersion.equals(applied.path("apiVersion").asText()) || !kind.kind().equals(applied.path("kind").asText())) {
            throw ApiException.badRequest("the API version in the data (" + applied.path("apiVersion").asText() + ") and kind ("
                    + applied.path("kind").asText() + ") do not match the expected " + apiVersion + " " + kind.kind());
        }
        String appliedName = applied.path("metadata").path("name").asText("");
        if (!appliedName.isEmpty() && !appliedName.equals(name)) {
            throw ApiException.badRequest("the name of the object (" + appliedName + ") does not match the name on the URL (" + name + ")");
        }
    }

    /** Replaces this manager's Apply entry in {@code metadata.managedFields}, keeping the others; it records the applied version. */
    private void setManagedFields(ObjectNode object, String manager, String apiVersion, ObjectNode fields) {
        ObjectNode meta = object.withObjectProperty("metadata");
        ArrayNode entries = meta.putArray("managedFields");
        JsonNode old = object.path("metadata").path("managedFields");
        ArrayNode previous = old instanceof ArrayNode a ? a.deepCopy() : Json.mapper().createArrayNode();
        for (JsonNode e : previous) {
            if (!(manager.equals(e.path("manager").asText()) && "Apply".equals(e.path("operation").asText()))) {
                entries.add(e);
            }
        }
        ManagedFieldsEntry entry = new ManagedFieldsEntry();
        entry.setManager(manager);
        entry.setOperation("Apply");
        entry.setApiVersion(apiVersion);
        entry.setTime(Times.format(api.config().clock().instant()));
        entry.setFieldsType("FieldsV1");
        ObjectNode e = (ObjectNode) Json.tree(entry);
        e.set("fieldsV1", fields);
        entries.add(e);
    }

    /** kube-apiserver's cap on the operations of one JSON patch. */
    static final int MAX_JSON_PATCH_OPERATIONS = 10_000;
    /** kube-apiserver's cap on what a JSON patch's {@code copy} operations may add, in bytes (JSONPatchMaxCopyBytes). */
    static final long MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;
    /** The most copy operations measured one by one (see {@link #jsonPatch}); each costs a copy of the object. */
    private static final int MAX_MEASURED_COPIES = 100;
    /** RFC 6902's operations, spelled as it spells them (zjsonpatch would take {@code COPY} for {@code copy}). */
    private static final java.util.Set<String> OPERATIONS = java.util.Set.of("add", "remove", "replace", "move", "copy", "test");

    /**
     * RFC 6902, with kube-apiserver's limits: at most {@value #MAX_JSON_PATCH_OPERATIONS}
     * operations (413), and {@code copy} operations adding at most 3 MiB in all (422). Each copy
     * can double the object, so a 2 KB patch of 30 copies would need terabytes. A patch whose
     * copies cannot add that much even if each copied the whole object is applied at once;
     * otherwise it is applied in runs that each start at a copy, the value each copy takes
     * measured first (as kube's library measures it), up to {@value #MAX_MEASURED_COPIES} copies.
     */
    private static ObjectNode jsonPatch(ObjectNode live, JsonNode patch) {
        if (!patch.isArray()) {
            throw ApiException.badRequest("json: cannot unmarshal " + (patch.isObject() ? "object" : "value")
                    + " into Go value of type jsonpatch.Patch");
        }
        if (patch.size() > MAX_JSON_PATCH_OPERATIONS) {
            throw ApiException.requestEntityTooLarge("The allowed maximum operations in a JSON patch is " + MAX_JSON_PATCH_OPERATIONS
                    + ", got " + patch.size());
        }
        for (JsonNode op : patch) {
            if (!OPERATIONS.contains(op.path("op").asText())) {
                throw unprocessable("the server rejected our request due to an error in our request: Unexpected kind: "
                        + op.path("op").asText());
            }
        }
        try {
            if (copiesMayAdd(live, patch) <= MAX_JSON_PATCH_COPY_BYTES) {
                return asObject(JsonPatch.apply(patch, live));
            }
            List<com.fasterxml.jackson.databind.node.ArrayNode> runs = new ArrayList<>();
            for (JsonNode op : patch) {
                if (runs.isEmpty() || "copy".equals(op.path("op").asText())) {
                    runs.add(Json.mapper().createArrayNode());
                }
                runs.getLast().add(op);
            }
            if (runs.size() > MAX_MEASURED_COPIES + 1) {
                throw unprocessable("the server rejected our request due to an error in our request: a JSON patch whose copy "
                        + "operations may add more than " + MAX_JSON_PATCH_COPY_BYTES + " bytes can have at most "
                        + MAX_MEASURED_COPIES + " of them, not " + (runs.size() - 1));
            }
            JsonNode doc = live;
            long copied = 0;
            for (var run : runs) {
                JsonNode first = run.get(0);
                if ("copy".equals(first.path("op").asText())) {
                    JsonNode value = doc.at(com.fasterxml.jackson.core.JsonPointer.compile(first.path("from").asText()));
                    copied += value.isMissingNode() ? 0 : Json.write(value).length();
                    if (copied > MAX_JSON_PATCH_COPY_BYTES) {
                        throw unprocessable("the server rejected our request due to an error in our request: Unable to complete "
                                + "the copy, the accumulated size increase of copy is " + copied + ", exceeding the limit "
                                + MAX_JSON_PATCH_COPY_BYTES);
                    }
                }
                doc = JsonPatch.apply(run, doc);
            }
            return asObject(doc);
        } catch (JsonPatchException | IllegalArgumentException | IllegalStateException e) {
            // an index on an object or a member name on an array (zjsonpatch's IllegalStateException) is the request's fault
            throw unprocessable("the server rejected our request due to an error in our request: " + e.getMessage());
        }
    }

    /** The most a patch's copy operations could add: each may copy the whole object as it is by then. */
    private static long copiesMayAdd(JsonNode live, JsonNode patch) {
        int lastCopy = -1;
        for (int i = 0; i < patch.size(); i++) {
            if ("copy".equals(patch.get(i).path("op").asText())) {
                lastCopy = i;
            }
        }
        if (lastCopy < 0) {
            return 0; // nothing copied: no object or value is serialised to find out
        }
        long size = Json.write(live).length();
        long added = 0;
        for (int i = 0; i <= lastCopy; i++) { // what is added after the last copy is never copied
            JsonNode op = patch.get(i);
            switch (op.path("op").asText()) {
                case "copy" -> {
                    added += size;
                    size *= 2;
                }
                case "add", "replace" -> size += Json.write(op.path("value")).length();
                default -> {
                }
            }
            if (added > MAX_JSON_PATCH_COPY_BYTES) {
                return added;
            }
        }
        return added;
    }

    private static ObjectNode strategic(ObjectNode live, JsonNode patch, JavaType type) {
        try {
            return StrategicMerge.apply(live, patch, type);
        } catch (StrategicMerge.PatchException e) {
            throw unprocessable(e.getMessage());
        }
    }

    private static ApiException unprocessable(String message) {
        return new ApiException(new io.fabric8.kubernetes.api.model.StatusBuilder().withNewMetadata().endMetadata()
                .withStatus("Failure").withReason("Invalid").withCode(422).withMessage(message).build());
    }

    /** The patch as a tree; a JSON patch's duplicate keys are noted (see {@link RequestJson}), YAML refuses them. */
    private static RequestJson.Parsed parse(Type type, byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest("the request body is empty");
        }
        try {
            if (type == Type.APPLY) {
                var docs = DocumentParser.parse("request body", new String(body, StandardCharsets.UTF_8));
                if (docs.size() != 1) {
                    throw ApiException.badRequest("the request body must hold one YAML document, not " + docs.size());
                }
                return RequestJson.Parsed.of(docs.getFirst().tree());
            }
            return RequestJson.read(body, false);
        } catch (IOException | ManifestSyntaxException e) {
            String m = String.valueOf(e.getMessage());
            int nl = m.indexOf('\n');
            throw ApiException.badRequest("error decoding patch: " + (nl < 0 ? m : m.substring(0, nl)));
        }
    }

    private static ObjectNode asObject(JsonNode n) {
        if (n instanceof ObjectNode o) {
            return o;
        }
        throw ApiException.badRequest("the patched object is not a JSON object");
    }

    private record Decoded(HasMetadata object, List<String> warnings) {
    }

    private static Decoded decode(ObjectNode tree, ResourceKind kind, String fieldValidation, List<String> strictErrors) {
        ObjectDecoder.Result result = ObjectDecoder.decodeRequest(tree, fieldValidation, strictErrors);
        if (!result.problems().isEmpty()) {
            throw ApiException.badRequest(result.problems().getFirst().message());
        }
        var decoded = result.objects().getFirst();
        if (decoded.kind() != kind) {
            throw ApiException.badRequest("the kind of the patched object does not match " + kind.kind());
        }
        return new Decoded(decoded.object(), decoded.warnings());
    }
}
