package dev.portway.cli;

import picocli.CommandLine.Option;

/**
 * Which cluster a command talks to, found as kubectl finds it: the kubeconfig
 * ({@code --kubeconfig}, else {@code $KUBECONFIG}, else the one {@code portway up} writes in its
 * state directory) and its context ({@code --context}, else the current one). {@code --server}
 * overrides the context's server address (same credentials).
 */
final class ServerOptions {

    @Option(names = "--kubeconfig", paramLabel = "PATH",
            description = "The kubeconfig file (default: $KUBECONFIG, else the one `portway up` writes: ~/.local/state/portway/kubeconfig).")
    String kubeconfig;

    @Option(names = "--context", paramLabel = "NAME", description = "The kubeconfig context to use (default: its current context).")
    String context;

    @Option(names = {"-s", "--server"}, paramLabel = "URL", defaultValue = "${env:PORTWAY_SERVER}",
            description = "The API server's address, instead of the context's (default: $PORTWAY_SERVER).")
    String server;

    AdminClient client() {
        return new AdminClient(Kubeconfig.resolve(kubeconfig, context, server));
    }
}
