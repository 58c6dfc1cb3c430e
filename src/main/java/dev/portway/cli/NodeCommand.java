package dev.portway.cli;

import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.NodeAnnotations;
import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.Status;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code portway node stop|start NAME}: stops or starts a local node's proxy, to see what a load
 * balancer does when a node is lost. It sets or removes the Node's {@value
 * NodeAnnotations#PROXY_STOPPED} annotation; {@code kubectl annotate node} does the same.
 */
@Command(name = "node", mixinStandardHelpOptions = true, description = {
        "Stop or start a local node's proxy, as when a node's kube-proxy dies and comes back.",
        "A stopped proxy fails its health check (port 10256, /healthz answers 503), so load balancers "
                + "send the node no new connections within about a second, and take it back once started. "
                + "What the proxy already programmed still carries traffic, as iptables rules outlive kube-proxy."},
        subcommands = {NodeCommand.Stop.class, NodeCommand.Start.class})
final class NodeCommand {

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop NODE's proxy: its health check fails.")
    static final class Stop extends Change {
        Stop() {
            super(true);
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start NODE's proxy again: its health check passes.")
    static final class Start extends Change {
        Start() {
            super(false);
        }
    }

    /** Sets or removes the annotation, and says so as kubectl says {@code node/NAME cordoned}. */
    abstract static class Change implements java.util.concurrent.Callable<Integer> {
        private final boolean stop;

        @Spec
        CommandSpec spec;

        @Mixin
        ServerOptions server;

        @Parameters(paramLabel = "NODE", description = "The node, as portway get nodes lists it.")
        String name;

        Change(boolean stop) {
            this.stop = stop;
        }

        @Override
        public Integer call() {
            annotate(server, name, stop);
            spec.commandLine().getOut().println(ResourceKind.NODE.objectRef(name) + (stop ? " proxy stopped" : " proxy started"));
            return 0;
        }
    }

    private static void annotate(ServerOptions server, String name, boolean stop) {
        String value = stop ? "\"true\"" : "null";
        byte[] patch = ("{\"metadata\":{\"annotations\":{\"" + NodeAnnotations.PROXY_STOPPED + "\":" + value + "}}}")
                .getBytes(StandardCharsets.UTF_8);
        try (AdminClient client = server.client()) {
            AdminClient.Response r = client.mergePatch(ApiPaths.object(ResourceKind.NODE, null, name), patch);
            if (!r.ok()) {
                throw new ApiException(Json.read(r.body(), Status.class));
            }
        }
    }
}
