package dev.portway.runtime;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** One run of a container: an operating system process, or the built-in echo server. */
interface ContainerProcess {

    /** The process ID (also its process group's), or -1 for the built-in server. */
    long pid();

    /** Completes with the exit code when the run ends (128 + n when signal n ended it). */
    CompletableFuture<Integer> exit();

    /** Asks the run to stop, as SIGTERM does; {@code grace} is how long it has before {@link #kill}. */
    void terminate(Duration grace);

    /** Ends the run and everything it started, now. */
    void kill();

    /** Its input, for a container with {@code stdin: true} ({@code kubectl attach -i}); null when it reads nothing. */
    default java.io.OutputStream stdin() {
        return null;
    }

    /** The init of the pods' sandbox it runs in (its PID namespace's PID 1), once the command has started there; else empty. */
    default java.util.Optional<ProcessHandle> sandboxInit() {
        return java.util.Optional.empty();
    }
}
