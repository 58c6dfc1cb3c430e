package dev.portway.api.decode;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * One YAML or JSON document of a manifest file, as a JSON tree, with the line and column of
 * every field so that errors can point at the line the user wrote.
 *
 * @param source    the file name as the user gave it ({@code -} for standard input)
 * @param index     the 1-based position of the document in its file
 * @param tree      the document
 * @param locations the location of each field, keyed by its path ({@code spec.ports[0].port})
 */
public record Document(String source, int index, JsonNode tree, Map<String, Location> locations) {

    /** Where a field starts: 1-based line and column. */
    public record Location(int line, int column) {
        @Override
        public String toString() {
            return line + ":" + column;
        }
    }

    public Location locate(String path) {
        return locations.get(path);
    }

    /** {@code seed.yaml:16:5} for a field (null: the document's start), or {@code seed.yaml} when unknown. */
    public String where(String path) {
        Location l = locations.get(path == null ? "" : path);
        return l == null ? source : source + ":" + l;
    }
}
