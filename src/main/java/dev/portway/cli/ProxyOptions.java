package dev.portway.cli;

import dev.portway.net.Transport;
import picocli.CommandLine.Option;

/** The data plane's options, for every command that runs one ({@code up}, {@code controller}). */
final class ProxyOptions {

    @Option(names = "--transport", paramLabel = "io_uring|epoll|nio",
            description = "Socket implementation (default: the fastest that works here).")
    String transport;

    @Option(names = "--proxy-threads", paramLabel = "N",
            description = "Event loops carrying the traffic, as HAProxy's nbthread and Envoy's --concurrency (default: one per CPU).")
    Integer proxyThreads;

    Transport transport() {
        return transport == null ? Transport.best() : Transport.parse(transport);
    }

    /** The event loops asked for, or 0 for one per CPU. */
    int threads() {
        if (proxyThreads != null && proxyThreads < 1) {
            throw new Main.CliException("--proxy-threads: " + proxyThreads + " (expected: 1 or more)");
        }
        return proxyThreads == null ? 0 : proxyThreads;
    }
}
