package dev.portway.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code portway scale deploy NAME --replicas N}, as kubectl scale. */
@Command(name = "scale", mixinStandardHelpOptions = true, description = "Set the number of replicas of a Deployment or ReplicaSet.")
final class ScaleCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Mixin
    NamespaceOption ns;

    @Option(names = "--replicas", required = true, paramLabel = "N", description = "The new number of replicas.")
    int replicas;

    @Option(names = "--current-replicas", paramLabel = "N", defaultValue = "-1",
            description = "Scale only if the current number of replicas is N.")
    int currentReplicas;

    @Parameters(paramLabel = "TYPE NAME", description = "deployment NAME, rs NAME, or TYPE/NAME.")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        if (replicas < 0) {
            throw new Main.CliException("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0");
        }
        ResourceKind kind;
        String name;
        if (args.size() == 1 && args.getFirst().contains("/")) {
            String[] parts = ApiPaths.typeAndName(args.getFirst());
            kind = GetCommand.kind(parts[0]);
            name = parts[1];
        } else if (args.size() == 2) {
            kind = GetCommand.kind(args.get(0));
            name = args.get(1);
        } else {
            throw new Main.CliException("name a resource to scale: portway scale deployment NAME --replicas N");
        }
        if (kind != ResourceKind.DEPLOYMENT && kind != ResourceKind.REPLICA_SET) {
            throw new Main.CliException("cannot scale a " + kind.singular() + "; only deployments and replicasets have replicas");
        }
        try (AdminClient client = server.client()) {
            String path = ApiPaths.object(kind, ns.namespace, name);
            // read, change, write back; the resourceVersion makes a concurrent change fail instead of being lost
            for (int attempt = 0; ; attempt++) {
                AdminClient.Response got = client.get(path);
                if (!got.ok()) {
                    throw new ApiException(Json.read(got.body(), Status.class));
                }
                ObjectNode object = (ObjectNode) Json.readTree(got.body());
                int current = object.path("spec").path("replicas").asInt(1);
                if (currentReplicas >= 0 && current != currentReplicas) {
                    throw new Main.CliException("Expected replicas to be " + currentReplicas + ", was " + current);
                }
                object.withObjectProperty("spec").put("replicas", replicas);
                AdminClient.Response put = client.put(path, Json.writeBytes(object));
                if (put.ok()) {
                    break;
                }
                if (put.status() != 409 || attempt == 2) {
                    throw new ApiException(Json.read(put.body(), Status.class));
                }
            }
        }
        spec.commandLine().getOut().println(kind.objectRef(name) + " scaled");
        return 0;
    }
}
