package dev.portway.runtime;

import io.fabric8.kubernetes.api.model.Probe;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs one probe of one container run, every {@code periodSeconds} from {@code initialDelaySeconds}
 * after the container started, and turns results into the kubelet's verdicts: Success after
 * {@code successThreshold} successes in a row, Failure after {@code failureThreshold} failures in
 * a row. Readiness starts as Failure, liveness as Success, startup as Failure; liveness and
 * readiness wait until the startup probe has passed.
 *
 * <p>Timing runs on a pod event loop; every verdict is handled on the control thread.
 */
final class ProbeWorker {

    enum Kind {
        READINESS("Readiness"), LIVENESS("Liveness"), STARTUP("Startup");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    private final ContainerRunner runner;
    private final Kind kind;
    private final Probe probe;
    private final Prober.Target target;
    private boolean result;
    private int successes;
    private int failures;
    private volatile boolean stopped;
    private volatile ScheduledFuture<?> next;

    ProbeWorker(ContainerRunner runner, Kind kind, Probe probe, Prober.Target target) {
        this.runner = runner;
        this.kind = kind;
        this.probe = probe;
        this.target = target;
        this.result = kind == Kind.LIVENESS;
    }

    Kind kind() {
        return kind;
    }

    /** The current verdict. Control thread. */
    boolean result() {
        return result;
    }

    void start() {
        schedule(seconds(probe.getInitialDelaySeconds(), 0) * 1000L);
    }

    void stop() {
        stopped = true;
        ScheduledFuture<?> f = next;
        if (f != null) {
            f.cancel(false);
        }
    }

    private void schedule(long delayMillis) {
        if (!stopped) {
            next = runner.runtime().group().next().schedule(this::tick, delayMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void tick() {
        if (stopped) {
            return;
        }
        long period = seconds(probe.getPeriodSeconds(), 10) * 1000L;
        runner.control().submit(() -> kind == Kind.STARTUP || runner.started()).whenComplete((due, failed) -> {
            if (failed != null) {
                return; // the control plane is stopping
            }
            if (!due || stopped) {
                schedule(period);
                return;
            }
            long began = System.nanoTime();
            CompletableFuture<Prober.Result> run;
            try {
                run = runner.prober().run(probe, target);
            } catch (RuntimeException e) {
                run = CompletableFuture.completedFuture(new Prober.Result(false, String.valueOf(e.getMessage())));
            }
            run.whenComplete((r, e) -> {
                Prober.Result res = r != null ? r : new Prober.Result(false, String.valueOf(e));
                runner.control().submit(() -> {
                    onResult(res);
                    return null;
                });
                schedule(Math.max(0, period - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began)));
            });
        });
    }

    /** Control thread. */
    private void onResult(Prober.Result r) {
        if (stopped) {
            return;
        }
        if (r.success()) {
            failures = 0;
            successes++;
            int threshold = kind == Kind.READINESS ? seconds(probe.getSuccessThreshold(), 1) : 1;
            if (!result && successes >= threshold) {
                result = true;
                runner.probeChanged(this);
            }
            return;
        }
        successes = 0;
        failures++;
        runner.probeFailed(this, r.message());
        if (failures >= seconds(probe.getFailureThreshold(), 3) && (result || kind != Kind.READINESS)) {
            result = false;
            if (kind != Kind.READINESS) {
                // the container is killed; this worker's run is over
                stop();
            }
            runner.probeChanged(this);
        }
    }

    private static int seconds(Integer value, int fallback) {
        return value == null ? fallback : value;
    }
}
