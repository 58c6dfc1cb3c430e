package dev.portway.runtime;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the local kubelet runs pods.
 *
 * @param stateDir       where pods' directories (volumes, logs, working directories) go; null: a new
 *                       directory under the system's temporary directory, removed when Portway stops
 * @param backoffInitial the first CrashLoopBackOff delay (the kubelet's 10 s)
 * @param backoffMax     the longest delay (5 min); a container that ran twice as long starts over
 * @param logMaxBytes    the size at which a container's log file is rotated (10 MiB)
 * @param logMaxFiles    how many files of one container's log are kept, the current one included (5)
 * @param dns            how pods resolve cluster names
 * @param hiddenFromPods directories pods must not see (Portway's credentials and data): in the pods'
 *                       sandbox, each is an empty directory of their own
 */
public record KubeletOptions(Path stateDir, Duration backoffInitial, Duration backoffMax, long logMaxBytes, int logMaxFiles,
                             DnsOptions dns, java.util.List<Path> hiddenFromPods) {

    public KubeletOptions {
        if (backoffInitial.isNegative() || backoffMax.compareTo(backoffInitial) < 0) {
            throw new IllegalArgumentException("backoff: initial " + backoffInitial + ", max " + backoffMax);
        }
        if (logMaxBytes < 1024 || logMaxFiles < 1) {
            throw new IllegalArgumentException("logs: max bytes " + logMaxBytes + " (at least 1024), max files " + logMaxFiles);
        }
        java.util.Objects.requireNonNull(dns, "dns");
        hiddenFromPods = java.util.List.copyOf(hiddenFromPods);
    }

    public static KubeletOptions defaults() {
        return new KubeletOptions(null, Duration.ofSeconds(10), Duration.ofMinutes(5), 10L * 1024 * 1024, 5, DnsOptions.defaults(),
                java.util.List.of());
    }

    public KubeletOptions withStateDir(Path dir) {
        return new KubeletOptions(dir, backoffInitial, backoffMax, logMaxBytes, logMaxFiles, dns, hiddenFromPods);
    }

    public KubeletOptions withBackoff(Duration initial, Duration max) {
        return new KubeletOptions(stateDir, initial, max, logMaxBytes, logMaxFiles, dns, hiddenFromPods);
    }

    public KubeletOptions withLogLimits(long maxBytes, int maxFiles) {
        return new KubeletOptions(stateDir, backoffInitial, backoffMax, maxBytes, maxFiles, dns, hiddenFromPods);
    }

    public KubeletOptions withHiddenFromPods(java.util.List<Path> dirs) {
        return new KubeletOptions(stateDir, backoffInitial, backoffMax, logMaxBytes, logMaxFiles, dns, dirs);
    }

    public KubeletOptions withDns(DnsOptions d) {
        return new KubeletOptions(stateDir, backoffInitial, backoffMax, logMaxBytes, logMaxFiles, d, hiddenFromPods);
    }
}
