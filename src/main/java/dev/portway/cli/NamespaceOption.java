package dev.portway.cli;

import picocli.CommandLine.Option;

/** {@code -n NAMESPACE}, for commands that work in one namespace. */
final class NamespaceOption {

    @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE", defaultValue = "default",
            description = "The namespace (default: ${DEFAULT-VALUE}).")
    String namespace;
}
