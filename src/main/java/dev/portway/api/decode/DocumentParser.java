package dev.portway.api.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.decode.Document.Location;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Splits a manifest file into documents and turns each into a JSON tree, recording where every
 * field was written. YAML scalars resolve as YAML 1.1 does (what {@code kubectl} uses): {@code
 * 80} is a number, {@code "80"} a string, {@code yes} a boolean. Duplicate keys are an error, as
 * they are for the API server.
 */
public final class DocumentParser {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();
    private static final Pattern SEXAGESIMAL = Pattern.compile("[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?");

    private DocumentParser() {
    }

    /** Parses every document of {@code text}; empty documents ({@code ---} alone) are skipped. */
    public static List<Document> parse(String source, String text) throws ManifestSyntaxException {
        String trimmed = text.stripLeading();
        if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
            return parseJson(source, text);
        }
        return parseYaml(source, text);
    }

    /** The most nodes the documents of one text may make: a 32 MiB apply of ordinary manifests makes about 3 million. */
    static final long MAX_NODES = 5_000_000L;

    /** SnakeYAML's limits as this parser sets them: 64 aliases of collections, texts of up to 64 Mi code points. */
    static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(64);
        options.setCodePointLimit(64 * 1024 * 1024);
        options.setAllowRecursiveKeys(false);
        return options;
    }

    private static List<Document> parseYaml(String source, String text) throws ManifestSyntaxException {
        Yaml yaml = new Yaml(loaderOptions());
        List<Document> documents = new ArrayList<>();
        int index = 0;
        // aliases can make a small text expand exponentially as it becomes a tree. Each document may make 20
        // times the nodes it was written with (not the text's length: a comment of a megabyte bought 20 million),
        // and all of a text's documents together at most MAX_NODES (a budget each let thousands expand).
        long left = MAX_NODES;
        try {
            for (Node root : yaml.composeAll(new StringReader(text))) {
                index++;
                if (root == null) {
                    continue;
                }
                Map<String, Location> locations = new HashMap<>();
                locations.put("", YamlConverter.location(root.getStartMark()));
                long allowed = nodeBudget(root, left);
                long[] budget = {allowed};
                JsonNode tree = new YamlConverter(source, locations, budget).convert(root, "");
                left -= allowed - budget[0];
                if (tree.isNull() || (tree.isObject() && tree.isEmpty())) {
                    continue;
                }
                documents.add(new Document(source, index, tree, Map.copyOf(locations)));
            }
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            StringBuilder problem = new StringBuilder();
            if (e.getProblem() != null) {
                problem.append(e.getProblem().strip());
            }
            if (e.getContext() != null) {
                problem.append(" (").append(e.getContext().strip());
                if (e.getContextMark() != null) {
                    problem.append(" that started at line ").append(e.getContextMark().getLine() + 1)
                            .append(", column ").append(e.getContextMark().getColumn() + 1);
                }
                problem.append(')');
            }
            throw new ManifestSyntaxException(source, mark == null ? 0 : mark.getLine() + 1,
                    mark == null ? 0 : mark.getColumn() + 1, problem.toString());
        } catch (YAMLException e) {
            throw new ManifestSyntaxException(source, 0, 0, e.getMessage());
        } catch (DuplicateKey e) {
            throw new ManifestSyntaxException(source, e.line, e.column, e.getMessage());
        } catch (ExcessiveAliasing e) {
            throw new ManifestSyntaxException(source, 0, 0, "yaml: document contains excessive aliasing");
        }
        return documents;
    }

    /**
     * The nodes {@code root}'s document may make as it becomes a tree: 20 times those it was
     * written with, at least 100,000, and no more than {@code left} of its text's budget. Neither
     * the text's length nor its comments count.
     */
    static long nodeBudget(Node root, long left) {
        return Math.min(left, Math.max(100_000L, 20L * writtenNodes(root)));
    }

    /** A duplicate mapping key, reported as go-yaml reports it. */
    private static final class DuplicateKey extends RuntimeException {
        final int line;
        final int column;

        DuplicateKey(String key, Mark at, Mark first) {
            super("mapping key " + quote(key) + " already defined at line " + (first.getLine() + 1));
            this.line = at.getLine() + 1;
            this.column = at.getColumn() + 1;
        }
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** The nodes a document was written with: each once, however many aliases name it. */
    private static long writtenNodes(Node root) {
        java.util.Set<Node> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        java.util.ArrayDeque<Node> todo = new java.util.ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            Node n = todo.pop();
            if (!seen.add(n)) {
                continue;
            }
            if (n instanceof MappingNode m) {
                for (NodeTuple t : m.getValue()) {
                    todo.push(t.getKeyNode());
                    todo.push(t.getValueNode());
                }
            } else if (n instanceof SequenceNode s) {
                s.getValue().forEach(todo::push);
            }
        }
        return seen.size();
    }

    /** A document that expands past its node budget (an alias bomb). */
    private static final class ExcessiveAliasing extends RuntimeException {
        ExcessiveAliasing() {
            super(null, null, false, false);
        }
    }

    private record YamlConverter(String source, Map<String, Location> locations, long[] budget) {

        JsonNode convert(Node node, String path) {
            if (--budget[0] < 0) {
                throw new ExcessiveAliasing();
            }
            return switch (node) {
                case MappingNode m -> mapping(m, path);
                case SequenceNode s -> sequence(s, path);
                case ScalarNode s -> scalar(s);
                default -> NODES.nullNode();
            };
        }

        private ObjectNode mapping(MappingNode node, String path) {
            ObjectNode object = NODES.objectNode();
            Map<String, Mark> seen = new LinkedHashMap<>();
            List<NodeTuple> merges = new ArrayList<>();
            for (NodeTuple tuple : node.getValue()) {
                Node keyNode = tuple.getKeyNode();
                if (keyNode.getTag().equals(Tag.MERGE)) {
                    merges.add(tuple);
                    continue;
                }
                String key = keyNode instanceof ScalarNode s ? s.getValue() : String.valueOf(convert(keyNode, path));
                Mark first = seen.putIfAbsent(key, keyNode.getStartMark());
                if (first != null) {
                    throw new DuplicateKey(key, keyNode.getStartMark(), first);
                }
                String childPath = memberPath(path, key);
                if (childPath != null) {
                    locations.put(childPath, location(keyNode.getStartMark()));
                }
                object.set(key, convert(tuple.getValueNode(), childPath));
            }
            // YAML merge keys (<<: *defaults): explicit keys win over merged ones.
            for (NodeTuple merge : merges) {
                Node value = merge.getValueNode();
                List<Node> sources = value instanceof SequenceNode seq ? seq.getValue() : List.of(value);
                for (Node sourceNode : sources) {
                    if (convert(sourceNode, path) instanceof ObjectNode merged) {
                        merged.properties().forEach(e -> {
                            if (!object.has(e.getKey())) {
                                object.set(e.getKey(), e.getValue());
                            }
                        });
                    }
                }
            }
            return object;
        }

        private ArrayNode sequence(SequenceNode node, String path) {
            ArrayNode array = NODES.arrayNode();
            int i = 0;
            for (Node item : node.getValue()) {
                String childPath = itemPath(path, i);
                if (childPath != null) {
                    locations.put(childPath, location(item.getStartMark()));
                }
                array.add(convert(item, childPath));
                i++;
            }
            return array;
        }

        private JsonNode scalar(ScalarNode node) {
            String value = node.getValue();
            Tag tag = node.getTag();
            if (tag.equals(Tag.NULL)) {
                return NODES.nullNode();
            }
            if (tag.equals(Tag.BOOL)) {
                return NODES.booleanNode(switch (value.toLowerCase()) {
                    case "yes", "true", "on", "y" -> true;
                    default -> false;
                });
            }
            if (tag.equals(Tag.INT) && !SEXAGESIMAL.matcher(value).matches()) {
                JsonNode number = integer(value);
                return number != null ? number : NODES.textNode(value);
            }
            if (tag.equals(Tag.FLOAT) && !SEXAGESIMAL.matcher(value).matches()) {
                String v = value.replace("_", "").toLowerCase();
                return switch (v) {
                    case ".inf", "+.inf" -> NODES.numberNode(Double.POSITIVE_INFINITY);
                    case "-.inf" -> NODES.numberNode(Double.NEGATIVE_INFINITY);
                    case ".nan" -> NODES.numberNode(Double.NaN);
                    default -> {
                        try {
                            yield NODES.numberNode(Double.parseDouble(v));
                        } catch (NumberFormatException e) {
                            yield NODES.textNode(value);
                        }
                    }
                };
            }
            return NODES.textNode(value);
        }

        /** Jackson's limit on a JSON number's length (StreamReadConstraints), for YAML's integers. */
        private static final int MAX_INTEGER_CHARS = 1000;

        private static JsonNode integer(String text) {
            if (text.length() > MAX_INTEGER_CHARS) {
                // BigInteger reads digits in quadratic time (a million took 11 s); go-yaml, past what a
                // float holds, leaves such a scalar a string too
                return null;
            }
            String v = text.replace("_", "");
            int sign = 1;
            if (v.startsWith("-") || v.startsWith("+")) {
                sign = v.charAt(0) == '-' ? -1 : 1;
                v = v.substring(1);
            }
            try {
                BigInteger n;
                if (v.startsWith("0x")) {
                    n = new BigInteger(v.substring(2), 16);
                } else if (v.startsWith("0b")) {
                    n = new BigInteger(v.substring(2), 2);
                } else if (v.startsWith("0o")) {
                    n = new BigInteger(v.substring(2), 8);
                } else if (v.length() > 1 && v.startsWith("0")) {
                    n = new BigInteger(v.substring(1), 8);
                } else {
                    n = new BigInteger(v);
                }
                if (sign < 0) {
                    n = n.negate();
                }
                if (n.bitLength() < 32) {
                    return NODES.numberNode(n.intValue());
                }
                if (n.bitLength() < 64) {
                    return NODES.numberNode(n.longValue());
                }
                return NODES.numberNode(n);
            } catch (NumberFormatException e) {
                return null;
            }
        }

        private static Location location(Mark mark) {
            return new Location(mark.getLine() + 1, mark.getColumn() + 1);
        }
    }

    private static List<Document> parseJson(String source, String text) throws ManifestSyntaxException {
        List<Document> documents = new ArrayList<>();
        try (JsonParser parser = JSON.createParser(text)) {
            int index = 0;
            while (parser.nextToken() != null) {
                index++;
                Map<String, Location> locations = new HashMap<>();
                JsonLocation start = parser.currentTokenLocation();
                locations.put("", new Location(start.getLineNr(), start.getColumnNr()));
                JsonNode tree = readJson(parser, "", locations);
                documents.add(new Document(source, index, tree, Map.copyOf(locations)));
            }
        } catch (JsonProcessingException e) {
            JsonLocation l = e.getLocation();
            throw new ManifestSyntaxException(source, l == null ? 0 : l.getLineNr(), l == null ? 0 : l.getColumnNr(),
                    e.getOriginalMessage());
        } catch (IOException e) {
            throw new ManifestSyntaxException(source, 0, 0, e.getMessage());
        }
        return documents;
    }

    /**
     * The longest field path given a location. Below a longer one (a key of kilobytes) nodes have
     * none: building a path for each would copy the long key once per node (gigabytes for a
     * 2 MB body), and no field of a Kubernetes object is that deep or that long.
     */
    static final int MAX_LOCATED_PATH = 1024;

    /** {@code path.key}, or null past {@link #MAX_LOCATED_PATH} (or below such a path). */
    private static String memberPath(String path, String key) {
        if (path == null || path.length() + 1 + key.length() > MAX_LOCATED_PATH) {
            return null;
        }
        return path.isEmpty() ? key : path + "." + key;
    }

    /** {@code path[i]}, or null past {@link #MAX_LOCATED_PATH}. */
    private static String itemPath(String path, int i) {
        if (path == null || path.length() + 12 > MAX_LOCATED_PATH) {
            return null;
        }
        return path + "[" + i + "]";
    }

    private static JsonNode readJson(JsonParser p, String path, Map<String, Location> locations) throws IOException {
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                ObjectNode object = NODES.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    String childPath = memberPath(path, key);
                    JsonLocation at = p.currentTokenLocation();
                    if (childPath != null) {
                        locations.put(childPath, new Location(at.getLineNr(), at.getColumnNr()));
                    }
                    p.nextToken();
                    object.set(key, readJson(p, childPath, locations));
                }
                return object;
            }
            case START_ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    String childPath = itemPath(path, i++);
                    JsonLocation at = p.currentTokenLocation();
                    if (childPath != null) {
                        locations.put(childPath, new Location(at.getLineNr(), at.getColumnNr()));
                    }
                    array.add(readJson(p, childPath, locations));
                }
                return array;
            }
            case VALUE_STRING -> {
                return NODES.textNode(p.getText());
            }
            case VALUE_NUMBER_INT -> {
                return switch (p.getNumberType()) {
                    case INT -> NODES.numberNode(p.getIntValue());
                    case LONG -> NODES.numberNode(p.getLongValue());
                    default -> NODES.numberNode(p.getBigIntegerValue());
                };
            }
            case VALUE_NUMBER_FLOAT -> {
                return NODES.numberNode(p.getDoubleValue());
            }
            case VALUE_TRUE -> {
                return NODES.booleanNode(true);
            }
            case VALUE_FALSE -> {
                return NODES.booleanNode(false);
            }
            default -> {
                return NODES.nullNode();
            }
        }
    }
}
