package dev.portway.cli;

import java.net.URI;
import picocli.CommandLine.Option;

/** Where the admin API of a running {@code portway up} is. */
final class ServerOptions {

    /** The address {@code portway up} serves its admin API on unless told otherwise. */
    static final String DEFAULT_SERVER = "http://127.0.0.1:8001";

    @Option(names = "--server", paramLabel = "URL",
            defaultValue = "${env:PORTWAY_SERVER:-" + DEFAULT_SERVER + "}",
            description = "The admin API of a running `portway up` (default: $PORTWAY_SERVER or ${DEFAULT-VALUE}).")
    String server;

    AdminClient client() {
        String s = server.contains("://") ? server : "http://" + server;
        return new AdminClient(URI.create(s));
    }
}
