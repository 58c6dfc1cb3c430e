package dev.portway.cli;

import dev.portway.api.ApiException;
import dev.portway.api.GoValues;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.decode.Manifests;
import dev.portway.api.decode.ObjectDecoder;
import io.fabric8.kubernetes.api.model.Status;
import java.io.PrintWriter;
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

/** {@code portway delete -f PATH} or {@code portway delete TYPE NAME...}. */
@Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete objects by manifest or by type and name (what they own goes with them).")
final class DeleteCommand implements Callable<Integer> {

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Option(names = {"-f", "--filename"}, paramLabel = "PATH", description = "Delete the objects in these manifests.")
    List<String> files = new ArrayList<>();

    @Mixin
    NamespaceOption ns;

    @Option(names = "--grace-period", paramLabel = "SECONDS", defaultValue = "-1",
            description = "Seconds pods get to stop; negative (the default): each pod's own. 1 for a stop at once; 0 only with --force.")
    long gracePeriod;

    @Option(names = "--now", description = "Same as --grace-period=1.")
    boolean now;

    @Option(names = "--force", description = "Remove at once from the API, not waiting for the pods to stop (grace period 0).")
    boolean force;

    @Option(names = "--ignore-not-found", description = "Treat objects that do not exist as deleted.")
    boolean ignoreNotFound;

    @Parameters(paramLabel = "TYPE NAME", description = "A type (svc, deploy, pod...) and one or more names, or TYPE/NAME.")
    List<String> args = new ArrayList<>();

    private record Target(ResourceKind kind, String namespace, String name) {
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Target> targets = new ArrayList<>();
        if (!files.isEmpty()) {
            if (!args.isEmpty()) {
                throw new Main.CliException("names cannot be provided when a path is specified");
            }
            Manifests.Loaded loaded = Manifests.load(files, main.stdin);
            if (!loaded.ok()) {
                Output.problems(err, loaded.problems());
                return 1;
            }
            for (ObjectDecoder.Decoded d : loaded.objects()) {
                String objectNamespace = d.object().getMetadata().getNamespace();
                targets.add(new Target(d.kind(), objectNamespace == null || objectNamespace.isEmpty() ? ns.namespace : objectNamespace,
                        d.object().getMetadata().getName()));
            }
        } else if (args.isEmpty()) {
            throw new Main.CliException("You must provide one or more resources by argument or filename.");
        } else if (args.getFirst().contains("/")) {
            for (String ref : args) {
                if (!ref.contains("/")) {
                    throw new Main.CliException(GetCommand.MIXED_FORMS);
                }
                String[] parts = ApiPaths.typeAndName(ref);
                targets.add(new Target(GetCommand.kind(parts[0]), ns.namespace, parts[1]));
            }
        } else {
            if (args.stream().anyMatch(a -> a.contains("/"))) {
                throw new Main.CliException(GetCommand.MIXED_FORMS);
            }
            ResourceKind kind = GetCommand.kind(args.getFirst());
            if (args.size() < 2) {
                throw new Main.CliException("resource(s) were provided, but no name was specified");
            }
            for (String name : args.subList(1, args.size())) {
                targets.add(new Target(kind, ns.namespace, name));
            }
        }
        // kubectl's rules: --now is --grace-period=1; 0 means 1 without --force, which makes it 0
        long period = gracePeriod;
        if (now) {
            if (period != -1) {
                throw new Main.CliException("--now and --grace-period cannot be specified together");
            }
            period = 1;
        }
        if (period == 0 && !force) {
            period = 1;
        }
        if (force && period < 0) {
            period = 0;
        }
        if (force && period > 0) {
            throw new Main.CliException("--force and --grace-period greater than 0 cannot be specified together");
        }
        if (force && period == 0) {
            err.println("Warning: Immediate deletion does not wait for confirmation that the running resource "
                    + "has been terminated. The resource may continue to run on the cluster indefinitely.");
        }
        Long grace = period < 0 ? null : period;
        int failures = 0;
        try (AdminClient client = server.client()) {
            for (Target t : targets) {
                String path;
                try {
                    path = ApiPaths.object(t.kind, t.namespace, t.name) + (grace == null ? "" : "?gracePeriodSeconds=" + grace);
                } catch (Main.CliException e) {
                    // as kubectl, one bad name fails itself, not the others
                    err.println("error: " + e.getMessage());
                    failures++;
                    continue;
                }
                AdminClient.Response response = client.delete(path);
                if (response.ok()) {
                    out.println(t.kind.singular() + (t.kind.group().isEmpty() ? "" : "." + t.kind.group()) + " "
                            + GoValues.quote(t.name) + " deleted");
                } else if (response.status() == 404 && ignoreNotFound) {
                    continue;
                } else {
                    err.println(new ApiException(Json.read(response.body(), Status.class)).kubectlMessage());
                    failures++;
                }
            }
        }
        return failures == 0 ? 0 : 1;
    }
}
