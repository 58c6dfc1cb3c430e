package dev.portway.cli;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** The seed document's YAML, kept verbatim in the test resources. */
final class SeedPaths {

    private SeedPaths() {
    }

    static Path seed(String name) {
        try {
            return Path.of(SeedPaths.class.getResource("/seed/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
