package dev.portway.control;

import dev.portway.api.ApiException;
import dev.portway.control.alloc.LoadBalancerAllocator;
import dev.portway.store.Store;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control thread: it owns the {@link ApiServer}, runs every write and every controller, one
 * at a time, so the control plane needs no locks. After each committed change it runs a
 * reconcile pass over all controllers; passes repeat until nothing changes.
 *
 * <p>Other threads (the admin API on Netty's event loops, the CLI in tests) reach it through
 * {@link #submit} and {@link #call}.
 */
public final class ControlPlane implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);

    private final Store store;
    private final ApiServer api;
    private final EventRecorder events;
    private final ScheduledExecutorService executor;
    /** LoadBalancer addresses: one allocator for Services, Gateways and Ingresses, so that they share the pools. */
    private final LoadBalancerAllocator addresses = new LoadBalancerAllocator();
    /** A controller, by name, with the time its passes took (metrics: where a pass goes). */
    private record Registered(String name, Controller controller, java.util.concurrent.atomic.LongAdder nanos) {
    }

    private final List<Registered> controllers = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.LongAdder passes = new java.util.concurrent.atomic.LongAdder();
    private volatile Thread thread;
    private boolean reconcileQueued;

    public ControlPlane(Store store, ClusterConfig config, Random random) {
        this.store = store;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "portway-control");
            t.setDaemon(true);
            thread = t;
            return t;
        });
        this.api = call(() -> new ApiServer(store, config, random));
        this.events = new EventRecorder(store, config.clock());
        store.watch(batch -> {
            if (!onlyRecordsEvents(batch)) {
                requestReconcile();
            }
        });
        addController("Deletions", api::finishDeletions);
        executor.scheduleWithFixedDelay(() -> {
            try {
                events.expire();
            } catch (RuntimeException e) {
                log.warn("expiring events failed", e);
            }
        }, 1, 1, TimeUnit.MINUTES);
        // the Gateways' and Ingresses' addresses are taken again before the Services' controller hands any out
        // (the Gateway controller is added later, by the local cluster)
        addresses.addKeeper(GatewayController.keeper(store, addresses));
        loadBalancers = new LoadBalancerController(api, events, addresses);
        addController(loadBalancers);
    }

    private final LoadBalancerController loadBalancers;

    /**
     * Holds the Services' addresses in {@code ranges} as they are (neither cleared nor moved), while
     * they are in no pool the store holds: the ranges of a cluster's pools that are not valid and had
     * no valid version since the in-cluster controller started, as MetalLB waits for a valid
     * configuration. Empty: the pools as the store holds them are the configuration.
     */
    public void waitForPools(java.util.List<dev.portway.net.AddressRange> ranges) {
        loadBalancers.waitForPools(ranges);
    }

    public Store store() {
        return store;
    }

    /** The API server. Use it on the control thread only ({@link #call}, {@link #submit}). */
    public ApiServer api() {
        return api;
    }

    public EventRecorder events() {
        return events;
    }

    /** The allocator of the IPAddressPools' addresses; control thread only. */
    LoadBalancerAllocator addresses() {
        return addresses;
    }

    public void addController(Controller controller) {
        addController(controller.getClass().getSimpleName(), controller);
    }

    /** Adds a controller under a name of its own (its metrics' label). */
    public void addController(String name, Controller controller) {
        controllers.add(new Registered(name, controller, new java.util.concurrent.atomic.LongAdder()));
        requestReconcile();
    }

    /** The time each controller's reconcile took since the start, in nanoseconds, by name (any thread). */
    public java.util.Map<String, Long> reconcileNanos() {
        java.util.Map<String, Long> all = new java.util.LinkedHashMap<>();
        for (Registered r : controllers) {
            all.merge(r.name(), r.nanos().sum(), Long::sum);
        }
        return all;
    }

    /** How many reconcile passes ran since the start (any thread). */
    public long passes() {
        return passes.sum();
    }

    public boolean inControlThread() {
        return Thread.currentThread() == thread;
    }

    /**
     * Why the API's clients may not write now (null: they may), asked on the control thread before
     * each of their writes: a local cluster whose journal cannot write answers them 503, as
     * kube-apiserver answers with its storage away, rather than acknowledge what a crash would lose.
     */
    private volatile java.util.function.Supplier<String> writeRefusal = () -> null;

    public void writeRefusal(java.util.function.Supplier<String> refusal) {
        this.writeRefusal = java.util.Objects.requireNonNull(refusal, "refusal");
    }

    /** Runs a write of an API client's on the control thread, unless writes are refused now ({@link #writeRefusal}). */
    public <T> CompletableFuture<T> submitWrite(Callable<T> write) {
        return submit(() -> {
            String refused = writeRefusal.get();
            if (refused != null) {
                throw new dev.portway.api.ApiException(new io.fabric8.kubernetes.api.model.StatusBuilder().withNewMetadata().endMetadata()
                        .withStatus("Failure").withReason("ServiceUnavailable").withCode(503).withMessage(refused).build());
            }
            return write.call();
        });
    }

    /** Runs {@code task} on the control thread. */
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (inControlThread()) {
            complete(result, task);
            return result;
        }
        try {
            executor.execute(() -> complete(result, task));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.completeExceptionally(new IllegalStateException("the control plane is stopped"));
        }
        return result;
    }

    private static <T> void complete(CompletableFuture<T> result, Callable<T> task) {
        try {
            result.complete(task.call());
        } catch (Throwable t) {
            result.completeExceptionally(t);
        }
    }

    /** Runs {@code task} on the control thread and waits for it; its exceptions are rethrown as they are. */
    public <T> T call(Callable<T> task) {
        try {
            return submit(task).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /**
     * Whether a commit only recorded Events (and dropped the oldest to make room): no controller
     * acts on those, as no Kubernetes controller watches Events. A controller that records an Event
     * whenever a pass fails would otherwise trigger the next pass, and spin a core for good. A
     * commit that only deletes Events (a terminating namespace emptied) still counts.
     */
    private static boolean onlyRecordsEvents(List<dev.portway.store.WatchEvent> batch) {
        boolean records = false;
        for (dev.portway.store.WatchEvent e : batch) {
            if (e.kind() != dev.portway.api.ResourceKind.EVENT) {
                return false;
            }
            records |= e.type() != dev.portway.store.WatchEvent.Type.DELETED;
        }
        return records;
    }

    /** Queues a reconcile pass (at most one is queued at a time). */
    public void requestReconcile() {
        if (inControlThread()) {
            queueReconcile();
        } else {
            try {
                executor.execute(this::queueReconcile);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // stopping
            }
        }
    }

    private void queueReconcile() {
        if (!reconcileQueued) {
            reconcileQueued = true;
            executor.execute(this::reconcile);
        }
    }

    /** Runs {@code task} on the control thread after {@code delay}, then reconciles. */
    public ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        try {
            return executor.schedule(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.warn("scheduled task failed", e);
                }
                queueReconcile();
            }, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping: nothing is scheduled any more
            return new CancelledTask();
        }
    }

    /** What {@link #schedule} returns once the control plane has stopped. */
    private static final class CancelledTask implements ScheduledFuture<Object> {
        @Override
        public long getDelay(TimeUnit unit) {
            return 0;
        }

        @Override
        public int compareTo(java.util.concurrent.Delayed o) {
            return 0;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return false;
        }

        @Override
        public boolean isCancelled() {
            return true;
        }

        @Override
        public boolean isDone() {
            return true;
        }

        @Override
        public Object get() {
            throw new java.util.concurrent.CancellationException();
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            throw new java.util.concurrent.CancellationException();
        }
    }

    private void reconcile() {
        reconcileQueued = false;
        for (Registered r : controllers) {
            long started = System.nanoTime();
            try {
                r.controller().reconcile();
            } catch (ApiException e) {
                log.warn("{}: {}", r.name(), e.getMessage());
            } catch (RuntimeException | StackOverflowError e) {
                // a StackOverflowError too: uncaught, it ended the pass without a word, and every later pass
                // the same way, before the controllers after this one
                log.error("{} failed", r.name(), e);
            } finally {
                r.nanos().add(System.nanoTime() - started);
            }
        }
        passes.increment();
    }

    /** Waits until every queued pass has run (tests; startup). */
    public void awaitIdle() {
        for (int i = 0; i < 100; i++) {
            boolean idle = call(() -> !reconcileQueued);
            if (idle) {
                return;
            }
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
