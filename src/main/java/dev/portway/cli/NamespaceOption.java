package dev.portway.cli;

import picocli.CommandLine.Option;

/** {@code -n NAMESPACE}, for commands that work in one namespace. */
final class NamespaceOption {

    String namespace = "default";

    /** An empty value is the default namespace, as kubectl takes {@code -n ""}. */
    @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE", defaultValue = "default",
            description = "The namespace (default: ${DEFAULT-VALUE}).")
    void namespace(String value) {
        namespace = value == null || value.isEmpty() ? "default" : value;
    }
}
