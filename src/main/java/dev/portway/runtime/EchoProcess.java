package dev.portway.runtime;

import dev.portway.runtime.echo.EchoServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A container of image {@code portway/echo} (or the Gateway API's echo-basic, which the same
 * server plays): the built-in echo server on the pod's IP, in
 * Portway's own process. On SIGTERM it does what a well-behaved server does: stops listening at
 * once and lets open connections finish until the grace period ends.
 */
final class EchoProcess implements ContainerProcess {

    private final EchoServer server;
    private final PodRuntime runtime;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private boolean stopping;

    private EchoProcess(EchoServer server, PodRuntime runtime) {
        this.server = server;
        this.runtime = runtime;
    }

    /** Binds every port; completes with the running server, or fails when a port cannot be bound. */
    static CompletableFuture<EchoProcess> start(EchoServer.Identity identity, String podIp, List<EchoServer.Port> ports,
                                               PodRuntime runtime) {
        return start(new EchoServer(identity, runtime.transport(), runtime.group()), podIp, ports, runtime);
    }

    /** Binds every port of {@code server} (not started yet), as {@link #start(EchoServer.Identity, String, List, PodRuntime)}. */
    static CompletableFuture<EchoProcess> start(EchoServer server, String podIp, List<EchoServer.Port> ports, PodRuntime runtime) {
        EchoProcess p = new EchoProcess(server, runtime);
        return server.start(podIp, ports).handle((r, e) -> {
            if (e != null) {
                server.stop(CompletableFuture.completedFuture(null));
                throw e instanceof RuntimeException re ? re : new java.util.concurrent.CompletionException(e);
            }
            return p;
        });
    }

    @Override
    public long pid() {
        return -1;
    }

    @Override
    public CompletableFuture<Integer> exit() {
        return exit;
    }

    @Override
    public synchronized void terminate(Duration grace) {
        if (stopping) {
            return;
        }
        stopping = true;
        server.stop(drained(grace)).whenComplete((r, e) -> exit.complete(0));
    }

    @Override
    public synchronized void kill() {
        stopping = true;
        server.stop(CompletableFuture.completedFuture(null)).whenComplete((r, e) -> exit.complete(137));
    }

    /** Completes when no connection is open, or when {@code grace} has passed. */
    private CompletableFuture<Void> drained(Duration grace) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + grace.toNanos();
        var loop = runtime.group().next();
        Runnable check = new Runnable() {
            @Override
            public void run() {
                if (server.openConnections() == 0 || System.nanoTime() >= deadline) {
                    done.complete(null);
                } else {
                    loop.schedule(this, 50, TimeUnit.MILLISECONDS);
                }
            }
        };
        loop.execute(check);
        return done;
    }
}
