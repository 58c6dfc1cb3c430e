package dev.portway.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.Version;
import dev.portway.api.ResourceKind;
import java.util.LinkedHashMap;
import java.util.Map;

/** The API server's discovery documents: what a Kubernetes client reads to find resources. */
final class Discovery {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Discovery() {
    }

    static ObjectNode version() {
        ObjectNode v = NODES.objectNode();
        v.put("major", "1");
        v.put("minor", "33");
        v.put("gitVersion", "v1.33.0-portway." + Version.VERSION);
        v.put("platform", "linux/" + System.getProperty("os.arch"));
        return v;
    }

    static ObjectNode apiVersions() {
        ObjectNode v = NODES.objectNode();
        v.put("kind", "APIVersions");
        v.putArray("versions").add("v1");
        v.putArray("serverAddressByClientCIDRs");
        return v;
    }

    static ObjectNode apiGroups() {
        Map<String, String> groups = new LinkedHashMap<>();
        for (ResourceKind k : ResourceKind.values()) {
            if (!k.group().isEmpty()) {
                groups.putIfAbsent(k.group(), k.version());
            }
        }
        ObjectNode list = NODES.objectNode();
        list.put("kind", "APIGroupList");
        list.put("apiVersion", "v1");
        ArrayNode items = list.putArray("groups");
        groups.forEach((group, version) -> {
            ObjectNode g = items.addObject();
            g.put("name", group);
            ObjectNode gv = NODES.objectNode();
            gv.put("groupVersion", group + "/" + version);
            gv.put("version", version);
            g.putArray("versions").add(gv);
            g.set("preferredVersion", gv.deepCopy());
        });
        return list;
    }

    static ObjectNode resources(String group, String version) {
        ObjectNode list = NODES.objectNode();
        list.put("kind", "APIResourceList");
        list.put("apiVersion", "v1");
        list.put("groupVersion", group.isEmpty() ? version : group + "/" + version);
        ArrayNode resources = list.putArray("resources");
        for (ResourceKind k : ResourceKind.values()) {
            if (!k.group().equals(group) || !k.version().equals(version)) {
                continue;
            }
            ObjectNode r = resources.addObject();
            r.put("name", k.plural());
            r.put("singularName", k.singular());
            r.put("namespaced", k.namespaced());
            r.put("kind", k.kind());
            ArrayNode verbs = r.putArray("verbs");
            for (String verb : new String[] {"create", "delete", "get", "list", "update"}) {
                verbs.add(verb);
            }
            if (!k.shortNames().isEmpty()) {
                ArrayNode shortNames = r.putArray("shortNames");
                k.shortNames().forEach(shortNames::add);
            }
            ObjectNode status = resources.addObject();
            status.put("name", k.plural() + "/status");
            status.put("singularName", "");
            status.put("namespaced", k.namespaced());
            status.put("kind", k.kind());
            status.putArray("verbs").add("get").add("update");
        }
        return list;
    }
}
