package dev.portway.runtime;

import dev.portway.control.ControlPlane;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The control plane's metrics: where its passes go, and how many ran. */
public final class ControlMetrics {

    private ControlMetrics() {
    }

    public static void register(ControlPlane control, PrometheusRegistry registry) {
        CounterWithCallback.builder().name("portway_controller_reconcile_seconds")
                .help("Time spent in each controller's reconcile, over every pass").labelNames("controller")
                .callback(cb -> control.reconcileNanos().forEach((name, nanos) -> cb.call(nanos / 1e9, name)))
                .register(registry);
        CounterWithCallback.builder().name("portway_controller_passes")
                .help("Reconcile passes over every controller (one follows each batch of changes)")
                .callback(cb -> cb.call(control.passes()))
                .register(registry);
    }
}
