package dev.portway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.Selectors;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Status;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code portway logs POD [-c CONTAINER] [-f] [-p] [--tail N] [--since D | --since-time T] [--timestamps] [--limit-bytes N]}, as kubectl logs. */
@Command(name = "logs", mixinStandardHelpOptions = true, description = "Print what a container of a pod wrote to stdout and stderr.")
final class LogsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Mixin
    NamespaceOption ns;

    @Parameters(index = "0", paramLabel = "POD", description = "A pod, or TYPE/NAME (pod/web-1, deployment/web: one of its pods).")
    String target;

    @Parameters(index = "1", arity = "0..1", paramLabel = "CONTAINER", description = "The container (same as -c).")
    String containerArg;

    @Option(names = {"-c", "--container"}, paramLabel = "CONTAINER", description = "The container; needed when the pod has several.")
    String container;

    @Option(names = {"-f", "--follow"}, description = "Keep printing as the log grows, until the container's run ends.")
    boolean follow;

    @Option(names = {"-p", "--previous"}, description = "The log of the container's previous run (before its last restart).")
    boolean previous;

    @Option(names = "--tail", paramLabel = "LINES", defaultValue = "-1",
            description = "Only the last LINES lines (-1: all).")
    int tail;

    @Option(names = "--since", paramLabel = "DURATION", defaultValue = "0s",
            description = "Only lines newer than DURATION (5s, 2m, 3h); all by default. Not with --since-time.")
    String since;

    @Option(names = "--since-time", paramLabel = "TIME", description = "Only lines written at or after TIME (RFC 3339). Not with --since.")
    String sinceTime;

    @Option(names = "--timestamps", description = "Begin each line with the time it was written (RFC 3339, nanoseconds).")
    boolean timestamps;

    @Option(names = "--limit-bytes", paramLabel = "BYTES", defaultValue = "0", description = "At most BYTES bytes of the log (0: no limit).")
    long limitBytes;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        String c = container != null ? container : containerArg;
        if (tail < -1) {
            throw new Main.CliException("--tail must be greater than or equal to -1");
        }
        java.time.Duration sinceDuration;
        try {
            sinceDuration = dev.portway.api.GoDuration.parse(since);
        } catch (IllegalArgumentException e) {
            throw new Main.CliException("invalid argument \"" + since + "\" for \"--since\" flag: " + e.getMessage());
        }
        if (sinceTime != null && !sinceDuration.isZero()) {
            throw new Main.CliException("at most one of `sinceTime` or `sinceSeconds` may be specified");
        }
        if (limitBytes < 0) {
            throw new Main.CliException("--limit-bytes must be greater than 0");
        }
        try (AdminClient client = server.client()) {
            String pod = podName(client, ns.namespace);
            // as kubectl: -1 (all) is not sent, and the API server refuses a negative tailLines
            java.util.List<String> query = new java.util.ArrayList<>();
            if (tail != -1) {
                query.add("tailLines=" + tail);
            }
            if (c != null) {
                query.add("container=" + URLEncoder.encode(c, StandardCharsets.UTF_8));
            }
            if (previous) {
                query.add("previous=true");
            }
            if (follow) {
                query.add("follow=true");
            }
            if (!sinceDuration.isZero()) {
                // as kubectl: rounded to whole seconds
                query.add("sinceSeconds=" + Math.max(1, (sinceDuration.toMillis() + 500) / 1000));
            }
            if (sinceTime != null) {
                query.add("sinceTime=" + URLEncoder.encode(sinceTime, StandardCharsets.UTF_8));
            }
            if (timestamps) {
                query.add("timestamps=true");
            }
            if (limitBytes > 0) {
                query.add("limitBytes=" + limitBytes);
            }
            StringBuilder path = new StringBuilder(ApiPaths.object(ResourceKind.POD, ns.namespace, pod)).append("/log");
            if (!query.isEmpty()) {
                path.append('?').append(String.join("&", query));
            }
            Utf8Printer printer = new Utf8Printer(out);
            AdminClient.Response response = client.stream(path.toString(), printer::print);
            if (!response.ok()) {
                throw new ApiException(Json.read(response.body(), Status.class));
            }
            printer.finish();
        }
        return 0;
    }

    /** The pod {@code target} names: itself, or for a Deployment or ReplicaSet one of its pods, ready ones first. */
    private String podName(AdminClient client, String namespace) {
        if (!target.contains("/")) {
            return target;
        }
        String[] parts = ApiPaths.typeAndName(target);
        ResourceKind kind = GetCommand.kind(parts[0]);
        if (kind == ResourceKind.POD) {
            return parts[1];
        }
        if (kind != ResourceKind.DEPLOYMENT && kind != ResourceKind.REPLICA_SET) {
            throw new Main.CliException("cannot get the logs of a " + kind.singular() + "; name a pod, deployment or replicaset");
        }
        AdminClient.Response r = client.get(ApiPaths.object(kind, namespace, parts[1]));
        JsonNode owner = Json.readTree(r.body());
        if (!r.ok()) {
            throw new ApiException(Json.convert(owner, Status.class));
        }
        LabelSelector selector = Json.convert(owner.path("spec").path("selector"), LabelSelector.class);
        AdminClient.Response list = client.get(ApiPaths.collection(ResourceKind.POD, namespace)
                + "?labelSelector=" + URLEncoder.encode(Selectors.format(selector), StandardCharsets.UTF_8));
        List<Pod> pods = Json.readTree(list.body()).path("items").valueStream().map(n -> Json.convert(n, Pod.class)).toList();
        return pods.stream()
                .sorted(Comparator.comparing((Pod p) -> !dev.portway.control.Pods.isReady(p))
                        .thenComparing(p -> p.getMetadata().getCreationTimestamp(), Comparator.reverseOrder()))
                .map(p -> p.getMetadata().getName())
                .findFirst()
                .orElseThrow(() -> new Main.CliException("no pods of " + target + " exist"));
    }

    /** Prints bytes as UTF-8 text, however the chunks cut characters. */
    private static final class Utf8Printer {
        private final PrintWriter out;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        private ByteBuffer pending = ByteBuffer.allocate(0);

        Utf8Printer(PrintWriter out) {
            this.out = out;
        }

        void print(byte[] bytes) {
            ByteBuffer in = ByteBuffer.allocate(pending.remaining() + bytes.length).put(pending).put(bytes).flip();
            CharBuffer chars = CharBuffer.allocate(in.remaining());
            decoder.decode(in, chars, false);
            out.print(chars.flip());
            out.flush();
            pending = in.slice();
        }

        void finish() {
            CharBuffer chars = CharBuffer.allocate(pending.remaining() + 1);
            decoder.decode(pending, chars, true);
            decoder.flush(chars);
            out.print(chars.flip());
            out.flush();
        }
    }
}
