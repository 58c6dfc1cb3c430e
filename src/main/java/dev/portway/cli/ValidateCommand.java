package dev.portway.cli;

import dev.portway.api.ResourceKind;
import dev.portway.api.decode.Manifests;
import dev.portway.api.decode.ObjectDecoder;
import dev.portway.control.ApiServer;
import dev.portway.control.ClusterConfig;
import dev.portway.control.alloc.PortRange;
import dev.portway.net.Cidr;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code portway validate -f PATH}: judges manifests offline exactly as {@code apply} would
 * (decoding, defaulting, validation and allocation against an empty cluster), without a server.
 */
@Command(name = "validate", mixinStandardHelpOptions = true, description = {
        "Check manifests offline, as the API server would judge them.",
        "Exit 0 when every object is valid, 1 otherwise."})
final class ValidateCommand implements Callable<Integer> {

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "PATH",
            description = "A manifest file, a directory of them, or - for standard input.")
    List<String> files;

    @Option(names = "--service-node-port-range", paramLabel = "RANGE", defaultValue = "30000-32767",
            description = "The NodePort range to check against (default: ${DEFAULT-VALUE}).")
    String nodePortRange;

    @Option(names = "--service-cluster-ip-range", paramLabel = "CIDR", defaultValue = "127.2.0.0/16",
            description = "The ClusterIP range to check against (default: ${DEFAULT-VALUE}).")
    String serviceCidr;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Manifests.Loaded loaded = Manifests.load(files, main.stdin);
        Output.warnings(err, loaded.objects());
        Output.problems(err, loaded.problems());
        List<HasMetadata> objects = new ArrayList<>();
        for (ObjectDecoder.Decoded d : loaded.objects()) {
            objects.add(d.object());
        }
        ClusterConfig config = ClusterConfig.local()
                .withNodePortRange(PortRange.parse(nodePortRange))
                .withServiceCidr(Cidr.parse(serviceCidr).orElseThrow(() -> new Main.CliException("not a CIDR: " + serviceCidr)))
                .withClock(main.clock);
        ApiServer api = new ApiServer(new Store(), config, new Random());
        // Offline there is no cluster: every namespace the manifests use is taken to exist.
        Set<String> namespaces = new LinkedHashSet<>(List.of("default"));
        for (HasMetadata o : objects) {
            if (ResourceKind.of(o).namespaced() && o.getMetadata() != null && o.getMetadata().getNamespace() != null
                    && !o.getMetadata().getNamespace().isEmpty()) {
                namespaces.add(o.getMetadata().getNamespace());
            }
        }
        namespaces.removeIf(ns -> objects.stream().anyMatch(o -> o instanceof io.fabric8.kubernetes.api.model.Namespace
                && ns.equals(o.getMetadata().getName())));
        List<HasMetadata> existing = new ArrayList<>();
        for (String ns : namespaces) {
            existing.add(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build());
        }
        api.apply(existing, "default", false);
        int failures = loaded.problems().size();
        try {
            for (ApiServer.Applied a : api.apply(objects, "default", true)) {
                out.println(a.key().kind().objectRef(a.key().name()) + " valid");
            }
        } catch (ApiServer.ApplyException e) {
            for (ApiServer.Failure f : e.failures()) {
                err.println(f.error().kubectlMessage());
                var doc = loaded.objects().get(f.index()).document();
                err.println("  (from " + doc.source() + ", document " + doc.index() + ")");
            }
            failures += e.failures().size();
        }
        if (failures > 0) {
            err.println("error: " + Output.count(failures, "problem") + " found");
            return 1;
        }
        if (objects.isEmpty()) {
            err.println("error: no objects found in " + String.join(", ", files));
            return 1;
        }
        return 0;
    }
}
