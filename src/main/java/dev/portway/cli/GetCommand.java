package dev.portway.cli;

import dev.portway.api.print.Tables;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Status;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code portway get TYPE[,TYPE] [NAME...]}: kubectl's tables, or the objects as YAML/JSON. */
@Command(name = "get", mixinStandardHelpOptions = true, description = {
        "List objects in kubectl's format.",
        "TYPE: svc, pods, deploy, rs, endpointslices, nodes, ns, cm, secrets, events, ipaddresspools (or any kubectl name)."})
final class GetCommand implements Callable<Integer> {

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Mixin
    NamespaceOptions ns;

    @Parameters(index = "0", paramLabel = "TYPE", description = "What to list; several comma-separated, or TYPE/NAME.")
    String types;

    @Parameters(index = "1..*", paramLabel = "NAME", description = "Only these objects.")
    List<String> names = new ArrayList<>();

    @Option(names = {"-o", "--output"}, paramLabel = "wide|yaml|json|name", description = "Output format.")
    String output;

    @Option(names = {"-l", "--selector"}, paramLabel = "SELECTOR", description = "Label selector (app=web,tier!=db).")
    String selector;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (output != null && !List.of("wide", "yaml", "json", "name").contains(output)) {
            throw new Main.CliException("unable to match a printer suitable for the output format \"" + output
                    + "\", allowed formats are: json,name,wide,yaml");
        }
        List<Request> requests = parse();
        if (ns.allNamespaces && requests.stream().anyMatch(r -> !r.names.isEmpty() && r.kind.namespaced())) {
            throw new Main.CliException("a resource cannot be retrieved by name across all namespaces");
        }
        boolean withKind = requests.stream().map(Request::kind).distinct().count() > 1;
        List<HasMetadata> found = new ArrayList<>();
        int failures = 0;
        try (AdminClient client = server.client()) {
            for (Request r : requests) {
                if (r.names.isEmpty()) {
                    String path = ApiPaths.collection(r.kind, ns.allNamespaces || !r.kind.namespaced() ? null : ns.namespace);
                    if (selector != null) {
                        path += "?labelSelector=" + URLEncoder.encode(selector, StandardCharsets.UTF_8);
                    }
                    JsonNode list = read(client.get(path));
                    for (JsonNode item : list.path("items")) {
                        found.add(Json.convert(item, r.kind.type()));
                    }
                } else {
                    for (String name : r.names) {
                        String path;
                        try {
                            path = ApiPaths.object(r.kind, ns.namespace, name);
                        } catch (Main.CliException e) {
                            err.println("error: " + e.getMessage());
                            failures++;
                            continue;
                        }
                        AdminClient.Response response = client.get(path);
                        if (!response.ok()) {
                            err.println(new ApiException(Json.read(response.body(), Status.class)).kubectlMessage());
                            failures++;
                            continue;
                        }
                        found.add(Json.read(response.body(), r.kind.type()));
                    }
                }
            }
        }
        boolean single = requests.size() == 1 && requests.getFirst().names.size() == 1;
        switch (output == null ? "" : output) {
            case "yaml" -> out.print(Json.writeYaml(single && found.size() == 1 ? found.getFirst() : asList(found)));
            case "json" -> out.print(Json.writePretty(single && found.size() == 1 ? found.getFirst() : asList(found)));
            case "name" -> found.forEach(o -> out.println(ResourceKind.of(o).objectRef(o.getMetadata().getName())));
            default -> printTables(out, requests, found, withKind);
        }
        if (found.isEmpty() && failures == 0 && (output == null || output.equals("wide"))) {
            // kubectl says so for tables only: -o name prints nothing, -o yaml and json an empty List
            boolean namespaced = requests.stream().allMatch(r -> r.kind.namespaced());
            err.println(namespaced && !ns.allNamespaces ? "No resources found in " + ns.namespace + " namespace." : "No resources found");
        }
        out.flush();
        return failures == 0 ? 0 : 1;
    }

    private void printTables(PrintWriter out, List<Request> requests, List<HasMetadata> found, boolean withKind) {
        Tables tables = new Tables(main.clock);
        boolean wide = "wide".equals(output);
        boolean first = true;
        for (ResourceKind kind : requests.stream().map(Request::kind).distinct().toList()) {
            List<HasMetadata> ofKind = found.stream().filter(o -> ResourceKind.of(o) == kind).toList();
            if (ofKind.isEmpty()) {
                continue;
            }
            if (!first) {
                out.println();
            }
            first = false;
            boolean withNamespace = ns.allNamespaces && kind.namespaced();
            StringBuilder text = new StringBuilder();
            List<String> header = new ArrayList<>(Tables.headers(kind, wide));
            if (withNamespace) {
                header.addFirst("NAMESPACE");
            }
            text.append(String.join("\t", header)).append('\n');
            for (HasMetadata o : ofKind) {
                List<String> row = new ArrayList<>(tables.printed(o, wide));
                if (withKind) {
                    row.set(0, kind.objectRef(row.getFirst()));
                }
                if (withNamespace) {
                    row.addFirst(o.getMetadata().getNamespace());
                }
                text.append(TabWriter.row(row)).append('\n');
            }
            out.print(TabWriter.forTables().format(text.toString()));
        }
    }

    private static ObjectNode asList(List<HasMetadata> objects) {
        ObjectNode list = JsonNodeFactory.instance.objectNode();
        list.put("apiVersion", "v1");
        ArrayNode items = list.putArray("items");
        objects.forEach(o -> items.add(Json.tree(o)));
        list.put("kind", "List");
        list.putObject("metadata").put("resourceVersion", "");
        return list;
    }

    private record Request(ResourceKind kind, List<String> names) {
    }

    /** kubectl's message for a type given apart and then again with a name. */
    static final String MIXED_FORMS = "there is no need to specify a resource type as a separate argument when "
            + "passing arguments in resource/name form (e.g. 'portway get resource/<resource_name>' instead of "
            + "'portway get resource resource/<resource_name>'";

    private List<Request> parse() {
        List<Request> requests = new ArrayList<>();
        if (types.contains("/")) {
            List<String> all = new ArrayList<>(names);
            all.addFirst(types);
            for (String ref : all) {
                if (!ref.contains("/")) {
                    throw new Main.CliException(MIXED_FORMS);
                }
                String[] parts = ApiPaths.typeAndName(ref);
                requests.add(new Request(kind(parts[0]), List.of(parts[1])));
            }
            return requests;
        }
        if (names.stream().anyMatch(n -> n.contains("/"))) {
            throw new Main.CliException(MIXED_FORMS);
        }
        for (String type : types.split(",")) {
            requests.add(new Request(kind(type), names));
        }
        return requests;
    }

    static ResourceKind kind(String name) {
        return ResourceKind.byUserName(name).orElseThrow(() ->
                new Main.CliException("the server doesn't have a resource type \"" + name + "\""));
    }

    private static JsonNode read(AdminClient.Response response) {
        JsonNode tree = Json.readTree(response.body());
        if (!response.ok()) {
            throw new ApiException(Json.convert(tree, Status.class));
        }
        return tree;
    }
}
