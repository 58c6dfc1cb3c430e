package dev.portway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.decode.Manifests;
import dev.portway.api.decode.ObjectDecoder;
import io.fabric8.kubernetes.api.model.Status;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code portway apply -f PATH}: create or update objects in a running Portway, all or nothing. */
@Command(name = "apply", mixinStandardHelpOptions = true, description = {
        "Create or update the objects in the manifests, as kubectl apply does.",
        "One apply is atomic: if any object is invalid, nothing is applied."})
final class ApplyCommand implements Callable<Integer> {

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "PATH",
            description = "A manifest file, a directory of them (*.yaml, *.yml, *.json), or - for standard input.")
    List<String> files;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE", defaultValue = "default",
            description = "The namespace for objects that name none (default: ${DEFAULT-VALUE}).")
    String namespace;

    @Option(names = "--dry-run", paramLabel = "none|server", defaultValue = "none",
            description = "server: validate and allocate on the server without storing anything.")
    String dryRun;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!List.of("none", "server").contains(dryRun)) {
            throw new Main.CliException("--dry-run must be none or server, not " + dryRun);
        }
        Manifests.Loaded loaded = Manifests.load(files, main.stdin);
        Output.warnings(err, loaded.objects());
        if (!loaded.ok()) {
            Output.problems(err, loaded.problems());
            err.println("error: nothing was applied: " + Output.count(loaded.problems().size(), "manifest problem") + " (see above)");
            return 1;
        }
        if (loaded.objects().isEmpty()) {
            err.println("error: no objects passed to apply");
            return 1;
        }
        ObjectNode list = JsonNodeFactory.instance.objectNode();
        list.put("apiVersion", "v1");
        list.put("kind", "List");
        ArrayNode items = list.putArray("items");
        for (ObjectDecoder.Decoded d : loaded.objects()) {
            items.add(Json.tree(d.object()));
        }
        String path = "/apis/portway.dev/v1/apply?namespace=" + URLEncoder.encode(namespace, StandardCharsets.UTF_8)
                + ("server".equals(dryRun) ? "&dryRun=All" : "");
        try (AdminClient client = server.client()) {
            AdminClient.Response response = client.post(path, Json.writeBytes(list));
            response.warnings().forEach(w -> err.println("Warning: " + w)); // as kubectl prints the server's warnings
            JsonNode result = Json.readTree(response.body());
            if (!result.has("applied") && !result.has("failed")) {
                throw new ApiException(Json.convert(result, Status.class));
            }
            String suffix = "server".equals(dryRun) ? " (server dry run)" : "";
            for (JsonNode item : result.path("applied")) {
                ResourceKind kind = ResourceKind.byApiVersionAndKind(item.path("apiVersion").asText(), item.path("kind").asText())
                        .orElseThrow();
                out.println(kind.objectRef(item.path("name").asText()) + " " + item.path("action").asText() + suffix);
            }
            JsonNode failed = result.path("failed");
            if (failed.isEmpty()) {
                return 0;
            }
            for (JsonNode f : failed) {
                Status status = Json.convert(f.path("status"), Status.class);
                err.println(new ApiException(status).kubectlMessage());
                int index = f.path("index").asInt(-1);
                if (index >= 0 && index < loaded.objects().size()) {
                    var doc = loaded.objects().get(index).document();
                    err.println("  (from " + doc.source() + ", document " + doc.index() + ")");
                }
            }
            err.println("error: nothing was applied: the apply is all or nothing and "
                    + Output.count(failed.size(), "object") + " failed");
            return 1;
        }
    }
}
