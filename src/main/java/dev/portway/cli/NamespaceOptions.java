package dev.portway.cli;

import picocli.CommandLine.Option;

/** {@code -n NAMESPACE} / {@code -A}, as kubectl has them. */
final class NamespaceOptions {

    String namespace = "default";

    /** An empty value is the default namespace, as kubectl takes {@code -n ""}. */
    @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE", defaultValue = "default",
            description = "The namespace (default: ${DEFAULT-VALUE}).")
    void namespace(String value) {
        namespace = value == null || value.isEmpty() ? "default" : value;
    }

    @Option(names = {"-A", "--all-namespaces"}, description = "Every namespace.")
    boolean allNamespaces;
}
