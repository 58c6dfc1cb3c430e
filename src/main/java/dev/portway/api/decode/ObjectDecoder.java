package dev.portway.api.decode;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBase;
import com.fasterxml.jackson.databind.deser.DefaultDeserializationContext;
import com.fasterxml.jackson.databind.deser.SettableBeanProperty;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.FieldPath;
import dev.portway.api.GoValues;
import dev.portway.api.Json;
import dev.portway.api.Quantities;
import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.AnyType;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Turns a {@link Document} into a typed API object the way the API server's strict decoder does:
 * an unknown field is an error naming its full path, a value of the wrong JSON type is an error
 * in Go's words. Where an unknown field is a field of a neighbouring object (a YAML indentation
 * slip), the problem carries a hint saying where it belongs. An object at any version its kind
 * is served at decodes, to the kind's storage version (see {@link ResourceKind}).
 */
public final class ObjectDecoder {

    private static final Map<Class<?>, Map<String, JavaType>> PROPERTIES = new ConcurrentHashMap<>();

    private ObjectDecoder() {
    }

    /** A decoded object and what it came from. */
    public record Decoded(Document document, String path, ResourceKind kind, HasMetadata object, List<String> warnings) {
    }

    /** What one document decoded to: objects (several for a {@code kind: List}) and problems. */
    public record Result(List<Decoded> objects, List<DecodeProblem> problems) {
    }

    public static Result decode(Document document) {
        List<Decoded> objects = new ArrayList<>();
        List<DecodeProblem> problems = new ArrayList<>();
        decodeInto(document, document.tree(), "", objects, problems);
        return new Result(objects, problems);
    }

    /** Decodes a JSON tree that has no source file (a REST request body). */
    public static Result decode(JsonNode tree, String source) {
        return decode(new Document(source, 1, tree, Map.of()));
    }

    /**
     * Decodes a request body as the API server does for its {@code fieldValidation}: with {@code
     * Strict}, an unknown field or what the body's reading found ({@code strictErrors}: its
     * duplicate fields, see {@link RequestJson}) is an error; with {@code Warn} each is a warning ({@code unknown field
     * "spec.app"}, {@code duplicate field "metadata.name"}) and unknown fields are dropped; with
     * {@code Ignore} they are dropped without a word. A value of the wrong type is an error
     * whatever the setting. {@code tree} is changed.
     */
    public static Result decodeRequest(JsonNode tree, String fieldValidation, List<String> strictErrors) {
        List<Decoded> objects = new ArrayList<>();
        List<DecodeProblem> problems = new ArrayList<>();
        Document doc = new Document("request body", 1, tree, Map.of());
        boolean strict = "Strict".equals(fieldValidation);
        decodeInto(doc, tree, "", objects, problems, strict, strictErrors);
        if ("Ignore".equals(fieldValidation)) {
            objects.replaceAll(o -> new Decoded(o.document(), o.path(), o.kind(), o.object(), o.warnings().stream()
                    .filter(w -> !w.startsWith("unknown field ") && !w.startsWith("duplicate field ")).toList()));
        }
        return new Result(objects, problems);
    }

    private static void decodeInto(Document doc, JsonNode tree, String path, List<Decoded> objects, List<DecodeProblem> problems) {
        decodeInto(doc, tree, path, objects, problems, true, List.of());
    }

    /** {@code strictErrors}: what the body's reading found (its duplicate fields), before the unknown fields. */
    private static void decodeInto(Document doc, JsonNode tree, String path, List<Decoded> objects, List<DecodeProblem> problems,
                                   boolean strict, List<String> strictErrors) {
        if (!tree.isObject()) {
            problems.add(problem(doc, path, "expected an object with apiVersion and kind, found " + jsonType(tree), List.of()));
            return;
        }
        JsonNode apiVersionNode = tree.get("apiVersion");
        JsonNode kindNode = tree.get("kind");
        String apiVersion = apiVersionNode != null && apiVersionNode.isTextual() ? apiVersionNode.asText() : "";
        String kind = kindNode != null && kindNode.isTextual() ? kindNode.asText() : "";
        if (kind.isEmpty()) {
            problems.add(problem(doc, path, "error validating data: kind not set", List.of()));
            return;
        }
        if (apiVersion.isEmpty()) {
            problems.add(problem(doc, path, "error validating data: apiVersion not set", List.of()));
            return;
        }
        if ("List".equals(kind) && "v1".equals(apiVersion)) {
            JsonNode items = tree.get("items");
            if (items != null && items.isArray()) {
                for (int i = 0; i < items.size(); i++) {
                    decodeInto(doc, items.get(i), join(path, "items") + "[" + i + "]", objects, problems, strict, List.of());
                }
            }
            return;
        }
        ResourceKind resourceKind = ResourceKind.byApiVersionAndKind(apiVersion, kind).orElse(null);
        if (resourceKind == null) {
            problems.add(problem(doc, path, "no matches for kind " + quote(kind) + " in version " + quote(apiVersion),
                    unknownKindHints(apiVersion, kind)));
            return;
        }

        Walker walker = new Walker(doc, path);
        JavaType type = Json.mapper().constructType(resourceKind.type());
        walker.walk(tree, type, null, null, "", null);
        String prefix = kind + " in version " + quote(apiVersion) + " cannot be handled as a " + kind + ": ";
        if (!walker.mismatches.isEmpty()) {
            Mismatch first = walker.mismatches.getFirst();
            problems.add(problem(doc, first.location, prefix + first.message, List.of()));
            return;
        }
        List<String> dropped = new ArrayList<>(strictErrors);
        for (Unknown u : walker.unknown) {
            dropped.add("unknown field " + GoValues.quote(u.path.toString()));
        }
        if (!strict) {
            walker.unknown.forEach(u -> u.parent.remove(u.name));
        } else if (!dropped.isEmpty()) {
            List<String> hints = walker.unknown.stream().flatMap(u -> u.hints.stream()).toList();
            String location = walker.unknown.isEmpty() ? path : walker.unknown.getFirst().location;
            problems.add(problem(doc, location, prefix + "strict decoding error: " + String.join(", ", dropped), hints));
            return;
        }
        HasMetadata object;
        try {
            object = Json.mapper().treeToValue(tree, resourceKind.type());
        } catch (JsonProcessingException e) {
            problems.add(problem(doc, path, prefix + e.getOriginalMessage(), List.of()));
            return;
        }
        // converted to the storage version, as the API server converts what it is sent (the schemas are the same)
        object.setApiVersion(resourceKind.apiVersion());
        List<String> warnings = new ArrayList<>(dropped);
        warnings.addAll(warnings(resourceKind, tree));
        objects.add(new Decoded(doc, path, resourceKind, object, warnings));
    }

    private static List<String> unknownKindHints(String apiVersion, String kind) {
        List<String> hints = new ArrayList<>();
        ResourceKind.byKind(kind).ifPresentOrElse(
                k -> hints.add(kind + " is served as apiVersion " + k.servedVersions().stream().map(v -> quote(k.apiVersion(v)))
                        .collect(Collectors.joining(" or ")) + ", not " + quote(apiVersion)),
                () -> hints.add("Portway serves: " + Arrays.stream(ResourceKind.values())
                        .filter(k -> k != ResourceKind.EVENT)
                        .flatMap(k -> k.servedVersions().stream().map(v -> k.apiVersion(v) + " " + k.kind()))
                        .collect(Collectors.joining(", "))));
        return hints;
    }

    /** Warnings for objects that are valid but almost certainly not what the user meant. */
    private static List<String> warnings(ResourceKind kind, JsonNode tree) {
        List<String> warnings = new ArrayList<>();
        if (kind == ResourceKind.SERVICE) {
            JsonNode spec = tree.get("spec");
            if (spec != null && spec.has("selector") && (spec.get("selector").isNull() || spec.get("selector").isEmpty())
                    && !"ExternalName".equals(spec.path("type").asText())) {
                warnings.add("spec.selector is present but empty: the Service selects no pods and gets endpoints "
                        + "only from EndpointSlices you create");
            }
            if (spec != null && "Local".equals(spec.path("internalTrafficPolicy").asText())) {
                warnings.add("spec.internalTrafficPolicy: Local is valid, but Portway's data plane does not apply it:"
                        + " connections to the ClusterIP go to ready endpoints on every node");
            }
            JsonNode ports = spec == null ? null : spec.get("ports");
            for (int i = 0; ports != null && ports.isArray() && i < ports.size(); i++) {
                if ("SCTP".equals(ports.get(i).path("protocol").asText())) {
                    warnings.add("spec.ports[" + i + "].protocol: SCTP is valid but Portway's data plane carries only TCP and UDP:"
                            + " this port gets no listener");
                }
            }
        }
        return warnings;
    }

    /**
     * What Go's JSON decoder leaves in a slice element or map value that is {@code null}: the zero
     * value of its type ({@code ports: [null]} is {@code ports: [{}]}, {@code labels: {a: null}} is
     * {@code labels: {a: ""}}). Validation then judges the zero value, as the API server does.
     */
    private static JsonNode zeroValue(JavaType type) {
        Class<?> raw = type.getRawClass();
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        if (raw == String.class || raw.isEnum() || raw == Quantity.class) {
            return nodes.textNode(raw == Quantity.class ? "0" : "");
        }
        if (raw == Integer.class || raw == int.class || raw == Short.class || raw == short.class
                || raw == Long.class || raw == long.class || raw == IntOrString.class) {
            return nodes.numberNode(0);
        }
        if (raw == Double.class || raw == double.class || raw == Float.class || raw == float.class) {
            return nodes.numberNode(0.0);
        }
        if (raw == Boolean.class || raw == boolean.class) {
            return nodes.booleanNode(false);
        }
        if (type.isCollectionLikeType() || type.isArrayType() || type.isMapLikeType() || isAny(raw)) {
            return nodes.nullNode();
        }
        return nodes.objectNode();
    }

    private static DecodeProblem problem(Document doc, String locationPath, String message, List<String> hints) {
        return new DecodeProblem(doc.where(locationPath), doc.index(), message, hints);
    }

    private static String quote(String s) {
        return '"' + s + '"';
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    private record Unknown(FieldPath path, String location, List<String> hints, ObjectNode parent, String name) {
    }

    private record Mismatch(String location, String message) {
    }

    /** The frame of an object being walked: its type, its JSON, its path, and the frame around it. */
    private record Frame(JavaType type, ObjectNode node, FieldPath path, String location, Frame parent) {
    }

    /** Walks a JSON tree alongside the Java type it must become. */
    private static final class Walker {
        private final Document doc;
        private final String root;
        final List<Unknown> unknown = new ArrayList<>();
        final List<Mismatch> mismatches = new ArrayList<>();

        Walker(Document doc, String root) {
            this.doc = doc;
            this.root = root;
        }

        /**
         * @param goPath the path Go prints in type errors: field names only ({@code spec.ports.port})
         */
        void walk(JsonNode node, JavaType type, FieldPath path, Frame frame, String goPath, Class<?> owner) {
            if (node == null || node.isNull()) {
                return;
            }
            Class<?> raw = type.getRawClass();
            String location = locationOf(path);
            if (isAny(raw)) {
                return;
            }
            if (raw == String.class) {
                expect(node.isTextual(), node, type, location, goPath, owner);
            } else if (raw == Integer.class || raw == int.class || raw == Short.class || raw == short.class) {
                expect(node.isIntegralNumber() && node.canConvertToInt(), node, type, location, goPath, owner);
            } else if (raw == Long.class || raw == long.class) {
                expect(node.isIntegralNumber() && node.canConvertToLong(), node, type, location, goPath, owner);
            } else if (raw == Double.class || raw == double.class || raw == Float.class || raw == float.class) {
                expect(node.isNumber(), node, type, location, goPath, owner);
            } else if (raw == Boolean.class || raw == boolean.class) {
                expect(node.isBoolean(), node, type, location, goPath, owner);
            } else if (raw == IntOrString.class) {
                expect(node.isTextual() || (node.isIntegralNumber() && node.canConvertToInt()), node, type, location, goPath, owner);
            } else if (raw == Quantity.class) {
                if (expect(node.isTextual() || node.isNumber(), node, type, location, goPath, owner)
                        && node.isTextual() && Quantities.parse(node.asText()).isEmpty()) {
                    // resource.ParseQuantity's error, which the API server's decoder returns as is.
                    mismatches.add(new Mismatch(location, Quantities.SYNTAX_ERROR));
                }
            } else if (raw.isEnum()) {
                expect(node.isTextual(), node, type, location, goPath, owner);
            } else if (type.isCollectionLikeType() || type.isArrayType()) {
                if (expect(node.isArray(), node, type, location, goPath, owner)) {
                    JavaType element = type.getContentType();
                    for (int i = 0; i < node.size(); i++) {
                        if (node.get(i).isNull()) {
                            ((ArrayNode) node).set(i, zeroValue(element));
                        }
                        walk(node.get(i), element, path.index(i), frame, goPath, owner);
                    }
                }
            } else if (type.isMapLikeType()) {
                if (expect(node.isObject(), node, type, location, goPath, owner)) {
                    JavaType value = type.getContentType();
                    for (Map.Entry<String, JsonNode> e : List.copyOf(node.properties())) {
                        if (e.getValue().isNull()) {
                            ((ObjectNode) node).set(e.getKey(), zeroValue(value));
                        }
                    }
                    node.properties().forEach(e ->
                            walk(e.getValue(), value, keyPath(path, e.getKey()), frame, goPath, owner));
                }
            } else if (expect(node.isObject(), node, type, location, goPath, owner)) {
                walkObject((ObjectNode) node, type, path, frame, goPath);
            }
        }

        private void walkObject(ObjectNode node, JavaType type, FieldPath path, Frame parent, String goPath) {
            Map<String, JavaType> properties = properties(type);
            Frame frame = new Frame(type, node, path, locationOf(path), parent);
            node.properties().forEach(e -> {
                String name = e.getKey();
                FieldPath child = path == null ? FieldPath.of(name) : path.child(name);
                JavaType propertyType = properties.get(name);
                if (propertyType == null) {
                    unknown.add(new Unknown(child, locationOf(child), hints(frame, name, e.getValue()), node, name));
                } else {
                    String childGo = goPath.isEmpty() ? name : goPath + "." + name;
                    walk(e.getValue(), propertyType, child, frame, childGo, type.getRawClass());
                }
            });
        }

        private boolean expect(boolean ok, JsonNode node, JavaType type, String location, String goPath, Class<?> owner) {
            if (!ok) {
                String value = jsonType(node);
                if (node.isFloatingPointNumber() && isIntegral(type.getRawClass())) {
                    value = "number " + node.asText();
                } else if (node.isIntegralNumber() && isIntegral(type.getRawClass())) {
                    value = "number " + node.asText();
                }
                String field = owner == null ? "" : " into Go struct field " + owner.getSimpleName() + "." + goPath;
                mismatches.add(new Mismatch(location, "json: cannot unmarshal " + value + field + " of type " + goType(type)));
            }
            return ok;
        }

        private String locationOf(FieldPath path) {
            if (path == null) {
                return root.isEmpty() ? null : root;
            }
            String p = dotted(path);
            return root.isEmpty() ? p : root + "." + p;
        }

        /** Hints for an unknown field {@code name} found in {@code frame}. */
        private List<String> hints(Frame frame, String name, JsonNode value) {
            List<String> hints = new ArrayList<>();
            String written = name + (value.isValueNode() ? ": " + value.asText() : ":");
            // A neighbouring field that is empty and accepts this key: the classic selector slip.
            for (Map.Entry<String, JavaType> sibling : properties(frame.type).entrySet()) {
                JsonNode siblingNode = frame.node.get(sibling.getKey());
                JavaType siblingType = sibling.getValue();
                FieldPath siblingPath = frame.path == null ? FieldPath.of(sibling.getKey()) : frame.path.child(sibling.getKey());
                boolean presentAndEmpty = frame.node.has(sibling.getKey()) && (siblingNode.isNull() || siblingNode.isEmpty());
                if (siblingType.isMapLikeType() && presentAndEmpty && siblingType.getContentType().getRawClass() == String.class
                        && value.isValueNode()) {
                    Document.Location at = doc.locate(locationOf(siblingPath));
                    String line = at == null ? "" : " (line " + at.line() + ")";
                    String hint = quote(written) + " sits beside the empty " + quote(sibling.getKey() + ":") + line
                            + ": indent it under " + siblingPath + " to make it " + article(sibling.getKey());
                    if ("selector".equals(sibling.getKey()) && frame.type.getRawClass().getSimpleName().equals("ServiceSpec")) {
                        hint += "; as written, " + siblingPath + " is empty and the Service selects no pods";
                    }
                    hints.add(hint);
                } else if (!isLeaf(siblingType) && properties(elementType(siblingType)).containsKey(name)) {
                    String target = siblingType.isCollectionLikeType() ? siblingPath + "[*]" : siblingPath.toString();
                    hints.add(quote(name) + " is a field of " + target + ": indent it under " + quote(sibling.getKey() + ":"));
                }
            }
            // One level too deep: the field belongs to the enclosing object.
            if (frame.parent != null && properties(frame.parent.type).containsKey(name)) {
                String target = frame.parent.path == null ? name : frame.parent.path + "." + name;
                hints.add(quote(name) + " is a field of " + (frame.parent.path == null ? "the object itself" : frame.parent.path.toString())
                        + ", one level up: indent it less (as " + target + ")");
            }
            return hints;
        }
    }

    private static String article(String mapField) {
        return switch (mapField) {
            case "selector", "matchLabels", "nodeSelector" -> "a selector label";
            case "labels" -> "a label";
            case "annotations" -> "an annotation";
            default -> "an entry of " + mapField;
        };
    }

    private static FieldPath keyPath(FieldPath path, String key) {
        return path.key(key);
    }

    /** {@code spec.ports[0].port} for a FieldPath; map keys become {@code .key} as in Document locations. */
    private static String dotted(FieldPath path) {
        FieldPath parent = path.parent();
        String self;
        if (!path.isSubscript()) {
            self = path.lastName();
            return parent == null ? self : dotted(parent) + "." + self;
        }
        String text = path.toString();
        String subscript = text.substring(text.lastIndexOf('['));
        String inner = subscript.substring(1, subscript.length() - 1);
        boolean index = !inner.isEmpty() && inner.chars().allMatch(Character::isDigit);
        return index ? dotted(parent) + subscript : dotted(parent) + "." + inner;
    }

    /**
     * The JSON properties of {@code type}, by name. For a bean they come from the deserializer
     * that {@code treeToValue} then uses (Jackson builds and caches it once): introspecting the
     * class a second time for the walk was the larger part of decoding a first object of a kind
     * (tens of milliseconds of each start).
     */
    static Map<String, JavaType> properties(JavaType type) {
        return PROPERTIES.computeIfAbsent(type.getRawClass(), c -> {
            Map<String, JavaType> properties = new LinkedHashMap<>();
            if (deserializer(type) instanceof BeanDeserializerBase bean) {
                // in the order the model declares (hints name neighbouring fields in it); the deserializer keeps them hashed
                JsonPropertyOrder order = c.getAnnotation(JsonPropertyOrder.class);
                for (String name : order == null ? new String[0] : order.value()) {
                    SettableBeanProperty p = bean.findProperty(name);
                    if (p != null) {
                        properties.put(name, p.getType());
                    }
                }
                bean.properties().forEachRemaining(p -> properties.putIfAbsent(p.getName(), p.getType()));
                return properties;
            }
            BeanDescription description = Json.mapper().getDeserializationConfig().introspect(type);
            for (BeanPropertyDefinition p : description.findProperties()) {
                if (p.couldDeserialize() || p.hasField()) {
                    properties.put(p.getName(), p.getPrimaryType());
                }
            }
            return properties;
        });
    }

    /** The mapper's deserializer for {@code type}, or null when it has none. */
    private static JsonDeserializer<Object> deserializer(JavaType type) {
        ObjectMapper mapper = Json.mapper();
        DefaultDeserializationContext context = ((DefaultDeserializationContext) mapper.getDeserializationContext())
                .createDummyInstance(mapper.getDeserializationConfig());
        try {
            return context.findRootValueDeserializer(type);
        } catch (JsonMappingException e) {
            return null;
        }
    }

    private static JavaType elementType(JavaType type) {
        return type.isCollectionLikeType() || type.isArrayType() ? type.getContentType() : type;
    }

    private static boolean isLeaf(JavaType type) {
        Class<?> raw = elementType(type).getRawClass();
        return isAny(raw) || raw.isPrimitive() || raw.isEnum() || raw == String.class || Number.class.isAssignableFrom(raw)
                || raw == Boolean.class || raw == IntOrString.class || raw == Quantity.class
                || elementType(type).isMapLikeType();
    }

    /** Free-form JSON: anything goes (managed fields' FieldsV1 is a trie of field names). */
    private static boolean isAny(Class<?> raw) {
        return raw == Object.class || JsonNode.class.isAssignableFrom(raw) || raw == AnyType.class
                || raw == KubernetesResource.class || raw == HasMetadata.class || raw == io.fabric8.kubernetes.api.model.FieldsV1.class;
    }

    private static boolean isIntegral(Class<?> raw) {
        return raw == Integer.class || raw == int.class || raw == Long.class || raw == long.class
                || raw == Short.class || raw == short.class;
    }

    static String jsonType(JsonNode node) {
        if (node.isTextual()) {
            return "string";
        }
        if (node.isNumber()) {
            return "number";
        }
        if (node.isBoolean()) {
            return "bool";
        }
        if (node.isArray()) {
            return "array";
        }
        if (node.isObject()) {
            return "object";
        }
        return "null";
    }

    /** The Go type a Kubernetes field has, for messages: int32, []v1.ServicePort, map[string]string. */
    static String goType(JavaType type) {
        Class<?> raw = type.getRawClass();
        if (raw == String.class || raw.isEnum()) {
            return "string";
        }
        if (raw == Integer.class || raw == int.class) {
            return "int32";
        }
        if (raw == Long.class || raw == long.class) {
            return "int64";
        }
        if (raw == Short.class || raw == short.class) {
            return "int16";
        }
        if (raw == Double.class || raw == double.class || raw == Float.class || raw == float.class) {
            return "float64";
        }
        if (raw == Boolean.class || raw == boolean.class) {
            return "bool";
        }
        if (raw == IntOrString.class) {
            return "intstr.IntOrString";
        }
        if (raw == Quantity.class) {
            return "resource.Quantity";
        }
        if (type.isCollectionLikeType() || type.isArrayType()) {
            return "[]" + goType(type.getContentType());
        }
        if (type.isMapLikeType()) {
            return "map[string]" + goType(type.getContentType());
        }
        String pkg = raw.getPackageName();
        String version = pkg.substring(pkg.lastIndexOf('.') + 1);
        if (version.equals("model") || version.equals("apps")) {
            version = "v1";
        } else if (version.equals("metallb")) {
            version = "v1beta1";
        }
        return version + "." + raw.getSimpleName();
    }
}
