package dev.portway.cli;

import picocli.CommandLine.Option;

/** {@code -n NAMESPACE} / {@code -A}, as kubectl has them. */
final class NamespaceOptions {

    @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE", defaultValue = "default",
            description = "The namespace (default: ${DEFAULT-VALUE}).")
    String namespace;

    @Option(names = {"-A", "--all-namespaces"}, description = "Every namespace.")
    boolean allNamespaces;
}
