package dev.portway.api.decode;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.GoValues;
import dev.portway.api.Json;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a JSON request body as the API server's decoder ({@code sigs.k8s.io/json}) reads one: a
 * key given twice in one object is noted by its field path, in the decoder's words ({@code
 * duplicate field "metadata.name"}), for {@code fieldValidation} to refuse or warn about. Jackson
 * alone keeps the last value without a word, which is how a body could say one thing to a reader
 * of its first key and another to the store.
 *
 * <p>The value kept is the one the API server's decoder keeps. Read into a typed object (a
 * built-in kind), a second object is decoded into the first, as Go decodes into a struct: their
 * fields merge, the second's winning, and any other second value replaces the first. Read untyped
 * (a custom resource, a patch), the last value replaces the first whole.
 */
public final class RequestJson {

    /** The API server keeps at most this many strict errors per body. */
    private static final int MAX_NOTED = 100;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private RequestJson() {
    }

    /** A body's tree, and the paths of the keys it gave more than once, in the order they came. */
    public record Parsed(JsonNode tree, List<String> duplicates) {

        public static Parsed of(JsonNode tree) {
            return new Parsed(tree, List.of());
        }

        /** The duplicates in the API server's words ({@code duplicate field "metadata.name"}), for {@code fieldValidation}. */
        public List<String> strictErrors() {
            return duplicates.stream().map(d -> "duplicate field " + GoValues.quote(d)).toList();
        }
    }

    /**
     * Reads one JSON value; what follows it is ignored, as {@code ObjectMapper.readTree} ignores it.
     *
     * @param typed whether the body is read into a typed object, whose duplicate objects merge
     */
    public static Parsed read(byte[] body, boolean typed) throws IOException {
        try (JsonParser p = Json.mapper().createParser(body)) {
            if (p.nextToken() == null) {
                return Parsed.of(MissingNode.getInstance());
            }
            Set<String> duplicates = new LinkedHashSet<>();
            JsonNode tree = value(p, new StringBuilder(), duplicates, typed);
            return new Parsed(tree, List.copyOf(duplicates));
        }
    }

    private static JsonNode value(JsonParser p, StringBuilder path, Set<String> duplicates, boolean typed) throws IOException {
        JsonToken token = p.currentToken();
        if (token == JsonToken.START_OBJECT) {
            ObjectNode object = NODES.objectNode();
            int mark = path.length();
            for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
                if (mark > 0) {
                    path.append('.');
                }
                path.append(name);
                p.nextToken();
                JsonNode v = value(p, path, duplicates, typed);
                JsonNode earlier = object.get(name);
                if (earlier != null) {
                    if (duplicates.size() < MAX_NOTED) {
                        duplicates.add(path.toString());
                    }
                    if (typed) {
                        v = decodedInto(earlier, v);
                    }
                }
                object.set(name, v);
                path.setLength(mark);
            }
            if (p.currentToken() != JsonToken.END_OBJECT) {
                throw new IOException("unexpected " + p.currentToken() + " in an object");
            }
            return object;
        }
        if (token == JsonToken.START_ARRAY) {
            ArrayNode array = NODES.arrayNode();
            int mark = path.length();
            for (int i = 0; p.nextToken() != JsonToken.END_ARRAY; i++) {
                if (p.currentToken() == null) {
                    throw new IOException("unexpected end of input in an array");
                }
                path.append('[').append(i).append(']');
                array.add(value(p, path, duplicates, typed));
                path.setLength(mark);
            }
            return array;
        }
        return Json.mapper().readTree(p);
    }

    /** What Go's decoder leaves when {@code later} is decoded into a field that holds {@code earlier}. */
    private static JsonNode decodedInto(JsonNode earlier, JsonNode later) {
        if (earlier instanceof ObjectNode into && later instanceof ObjectNode from) {
            for (Map.Entry<String, JsonNode> field : from.properties()) {
                JsonNode held = into.get(field.getKey());
                into.set(field.getKey(), held == null ? field.getValue() : decodedInto(held, field.getValue()));
            }
            return into;
        }
        return later;
    }
}
