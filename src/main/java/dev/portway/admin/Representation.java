package dev.portway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.print.Tables;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Locale;

/**
 * What form a client asked objects in, from its {@code Accept} header, and the conversions:
 * the object itself (JSON or YAML), a {@code meta.k8s.io/v1 Table} (server-side printing, which
 * {@code kubectl get} asks for), or {@code PartialObjectMetadata} (metadata only). Objects come
 * here already at the version the request's path names ({@link ApiPath#served}); a list says
 * that version too.
 */
enum Representation {
    JSON("application/json"),
    YAML("application/yaml"),
    TABLE("application/json;as=Table;v=v1;g=meta.k8s.io"),
    PARTIAL("application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io");

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final String contentType;

    Representation(String contentType) {
        this.contentType = contentType;
    }

    String contentType() {
        return contentType;
    }

    /**
     * The first form in {@code accept} Portway can produce, as the API server negotiates:
     * {@code application/json;as=Table;v=v1;g=meta.k8s.io, application/json} gives a table.
     *
     * @throws ApiException 406 when none is
     */
    static Representation negotiate(String accept) {
        if (accept == null || accept.isBlank()) {
            return JSON;
        }
        for (String entry : accept.split(",")) {
            String[] parts = entry.split(";");
            String type = parts[0].strip().toLowerCase(Locale.ROOT);
            String as = null;
            String g = null;
            String v = null;
            for (int i = 1; i < parts.length; i++) {
                String[] kv = parts[i].strip().split("=", 2);
                if (kv.length == 2) {
                    switch (kv[0].strip()) {
                        case "as" -> as = kv[1].strip();
                        case "g" -> g = kv[1].strip();
                        case "v" -> v = kv[1].strip();
                        default -> {
                        }
                    }
                }
            }
            boolean json = type.equals("application/json") || type.equals("*/*") || type.equals("application/*");
            if (as != null) {
                if (!json || !"meta.k8s.io".equals(g) || !("v1".equals(v) || "v1beta1".equals(v))) {
                    continue;
                }
                if (as.equals("Table")) {
                    return TABLE;
                }
                if (as.equals("PartialObjectMetadata") || as.equals("PartialObjectMetadataList")) {
                    return PARTIAL;
                }
                continue;
            }
            if (json) {
                return JSON;
            }
            if (type.equals("application/yaml")) {
                return YAML;
            }
        }
        throw new ApiException(Statuses.notAcceptable());
    }

    /** One object in this form. */
    byte[] object(HasMetadata o, Tables tables, boolean includeColumns, String includeObject) {
        return switch (this) {
            case JSON -> Json.writeBytes(o);
            case YAML -> Json.writeYaml(o).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            case TABLE -> Json.writeBytes(table(ResourceKind.of(o), List.of(o), tables, null, includeColumns, includeObject));
            case PARTIAL -> Json.writeBytes(partial(o));
        };
    }

    /**
     * A list, or a page of one ({@link ListPages}), in this form, its {@code apiVersion} that of its
     * items; its ListMeta carries the next page's token and what is left, when there is more.
     */
    byte[] list(ResourceKind kind, String apiVersion, ListPages.Page page, Tables tables, String includeObject) {
        List<HasMetadata> items = page.items();
        long revision = page.revision();
        ObjectNode body = switch (this) {
            case JSON, YAML -> list(kind, apiVersion, items, revision);
            case TABLE -> table(kind, items, tables, Long.toString(revision), true, includeObject);
            case PARTIAL -> {
                ObjectNode l = NODES.objectNode();
                l.put("kind", "PartialObjectMetadataList");
                l.put("apiVersion", "meta.k8s.io/v1");
                l.putObject("metadata").put("resourceVersion", Long.toString(revision));
                ArrayNode a = l.putArray("items");
                items.forEach(o -> a.add(partial(o)));
                yield l;
            }
        };
        // ListMeta's order: resourceVersion, continue, remainingItemCount (ahead of the items, as Go writes the struct)
        ObjectNode meta = (ObjectNode) body.get("metadata");
        if (page.continueToken() != null) {
            meta.put("continue", page.continueToken());
        }
        if (page.remainingItemCount() != null) {
            meta.put("remainingItemCount", page.remainingItemCount());
        }
        return this == YAML ? Json.writeYaml(body).getBytes(java.nio.charset.StandardCharsets.UTF_8) : Json.writeBytes(body);
    }

    static ObjectNode list(ResourceKind kind, String apiVersion, List<HasMetadata> items, long revision) {
        ObjectNode list = NODES.objectNode();
        list.put("kind", kind.kind() + "List");
        list.put("apiVersion", apiVersion);
        list.putObject("metadata").put("resourceVersion", Long.toString(revision));
        ArrayNode a = list.putArray("items");
        for (HasMetadata o : items) {
            a.add(Json.tree(o));
        }
        return list;
    }

    static ObjectNode partial(HasMetadata o) {
        ObjectNode p = NODES.objectNode();
        p.put("kind", "PartialObjectMetadata");
        p.put("apiVersion", "meta.k8s.io/v1");
        p.set("metadata", Json.tree(o.getMetadata()));
        return p;
    }

    /**
     * A {@code meta.k8s.io/v1 Table} of {@code items}: the columns {@link Tables} defines for the
     * kind (the same cells Portway's own {@code get} prints), each row with its object's metadata
     * ({@code includeObject=Metadata}, the default), the whole object ({@code Object}) or nothing
     * ({@code None}).
     */
    static ObjectNode table(ResourceKind kind, List<HasMetadata> items, Tables tables, String revision, boolean includeColumns,
                            String includeObject) {
        ObjectNode t = NODES.objectNode();
        t.put("kind", "Table");
        t.put("apiVersion", "meta.k8s.io/v1");
        ObjectNode meta = t.putObject("metadata");
        if (revision != null) {
            meta.put("resourceVersion", revision);
        }
        ArrayNode columns = t.putArray("columnDefinitions");
        if (includeColumns) {
            for (Tables.Column c : Tables.columns(kind)) {
                ObjectNode col = columns.addObject();
                col.put("name", c.name());
                col.put("type", c.type());
                col.put("format", c.format());
                col.put("description", c.description());
                col.put("priority", c.priority());
            }
        }
        ArrayNode rows = t.putArray("rows");
        for (HasMetadata o : items) {
            ObjectNode row = rows.addObject();
            ArrayNode cells = row.putArray("cells");
            for (Object cell : tables.cells(o)) {
                switch (cell) {
                    case Long l -> cells.add(l);
                    case Boolean b -> cells.add(b);
                    default -> cells.add(String.valueOf(cell));
                }
            }
            switch (includeObject == null ? "Metadata" : includeObject) {
                case "None" -> {
                }
                case "Object" -> row.set("object", Json.tree(o));
                default -> row.set("object", partial(o));
            }
        }
        return t;
    }
}
