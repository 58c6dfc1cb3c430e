package dev.portway.cli;

import dev.portway.net.Transport;
import picocli.CommandLine.Option;

/** The data plane's options, for every command that runs one ({@code up}, {@code controller}). */
final class ProxyOptions {

    @Option(names = "--transport", paramLabel = "io_uring|epoll|nio",
            description = "Socket implementation (default: io_uring where the kernel gives it, else epoll, else nio).")
    String transport;

    @Option(names = "--proxy-threads", paramLabel = "N",
            description = "Event loops carrying the traffic, as HAProxy's nbthread and Envoy's --concurrency (default: one per CPU).")
    Integer proxyThreads;

    Transport transport() {
        if (transport == null) {
            return Transport.best();
        }
        Transport t;
        try {
            t = Transport.parse(transport);
        } catch (IllegalArgumentException e) {
            throw new Main.CliException("--transport " + transport + ": expected io_uring, epoll or nio");
        }
        if (!t.isAvailable()) {
            throw new Main.CliException("--transport " + transport + ": not available on this machine (" + t.unavailability()
                    + "); leave the option out for the best that is");
        }
        return t;
    }

    /** The event loops asked for, or 0 for one per CPU. */
    int threads() {
        if (proxyThreads != null && proxyThreads < 1) {
            throw new Main.CliException("--proxy-threads: " + proxyThreads + " (expected: 1 or more)");
        }
        return proxyThreads == null ? 0 : proxyThreads;
    }
}
