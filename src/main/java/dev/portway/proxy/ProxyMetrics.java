package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * The data plane's Prometheus metrics. Names are stable: dashboards and alerts depend on them.
 *
 * <ul>
 *   <li>{@code portway_listener_connections_total{service,role,listener}}: connections accepted</li>
 *   <li>{@code portway_listener_active_connections{service,role,listener}}: client connections open now</li>
 *   <li>{@code portway_listener_refused_total{service,role,reason}}: closed at once
 *       (no_endpoints, upstream_refused, source_range, connection_limit, and connection_evicted for a connection of
 *       the heaviest source that a new client's replaced at the cap; UDP: flow_limit, and flow_evicted for a flow
 *       that a new one replaced in a full table)</li>
 *   <li>{@code portway_idle_timeouts_total{service,role}}: TCP connections closed by the idle timeout</li>
 *   <li>{@code portway_upstream_connects_total{service,role}}: upstream connections made</li>
 *   <li>{@code portway_upstream_connect_failures_total{service,role}}: upstream connects that failed</li>
 *   <li>{@code portway_cluster_active_connections{cluster}}: connections open now</li>
 *   <li>{@code portway_cluster_bytes_total{cluster,direction}}: bytes relayed (upstream, downstream)</li>
 *   <li>{@code portway_cluster_endpoints{cluster,state}}: endpoints by state (ready, serving, terminating)</li>
 *   <li>{@code portway_loadbalancer_target_healthy{cluster,target}}: 1 when a node passes its checks</li>
 *   <li>{@code portway_listeners{state}}: listeners bound, closed (no endpoints) or failed</li>
 *   <li>{@code portway_udp_flows{cluster}}: UDP flows open now</li>
 *   <li>{@code portway_plan_version}: the version of the plan applied last</li>
 *   <li>{@code portway_held_read_bytes}: bytes read for peers that cannot take them yet, over the process (large
 *       reads on their way, reads made unasked after a FIN for a peer past its high water mark)</li>
 *   <li>{@code portway_held_read_resets_total}: connections (and HTTP/2 streams) reset because held reads were past
 *       twice their budget while they held more than their allowance for a peer that took nothing</li>
 *   <li>{@code portway_http_requests_total{gateway,route,code,source}}: HTTP requests answered, by status and by
 *       who answered (upstream, or gateway for its own replies)</li>
 *   <li>{@code portway_http_request_duration_seconds{gateway}}: from the request's head to the response's end</li>
 *   <li>{@code portway_http_retries_total{gateway}}: requests sent again to another endpoint</li>
 * </ul>
 */
public final class ProxyMetrics {

    private final Counter accepted;
    private final Counter refused;
    private final Counter connects;
    private final Counter connectFailures;
    private final Counter idleClosed;
    private final Gauge planVersion;
    private final Counter httpRequests;
    private final Counter httpRetries;
    private final Histogram httpDuration;

    public ProxyMetrics(PrometheusRegistry registry, Supplier<DataPlane> plane) {
        accepted = Counter.builder().name("portway_listener_connections_total")
                .help("Connections accepted by a listener").labelNames("service", "role", "listener").register(registry);
        refused = Counter.builder().name("portway_listener_refused_total")
                .help("Connections (UDP: new flows) refused at once: no endpoints, every endpoint refused, source not allowed, or the listener's cap reached")
                .labelNames("service", "role", "reason").register(registry);
        connects = Counter.builder().name("portway_upstream_connects_total")
                .help("Upstream connections made").labelNames("service", "role").register(registry);
        connectFailures = Counter.builder().name("portway_upstream_connect_failures_total")
                .help("Upstream connection attempts that failed (another endpoint is tried)").labelNames("service", "role")
                .register(registry);
        idleClosed = Counter.builder().name("portway_idle_timeouts_total")
                .help("TCP connections closed because no byte moved either way for the idle timeout").labelNames("service", "role")
                .register(registry);
        httpRequests = Counter.builder().name("portway_http_requests_total")
                .help("HTTP requests answered, by status and by who answered (upstream, or the gateway itself)")
                .labelNames("gateway", "route", "code", "source").register(registry);
        httpRetries = Counter.builder().name("portway_http_retries_total")
                .help("HTTP requests sent again to another endpoint after a connect failure or an early reset")
                .labelNames("gateway").register(registry);
        httpDuration = Histogram.builder().name("portway_http_request_duration_seconds")
                .help("From a request's head to its response's end").labelNames("gateway").register(registry);
        planVersion = Gauge.builder().name("portway_plan_version").help("The version of the plan the data plane applied last")
                .register(registry);
        GaugeWithCallback.builder().name("portway_cluster_active_connections").help("Upstream connections open now")
                .labelNames("cluster")
                .callback(cb -> plane.get().clusters().forEach(c -> cb.call(c.openConnections(), c.name())))
                .register(registry);
        CounterWithCallback.builder().name("portway_cluster_bytes").help("Bytes relayed, by direction")
                .labelNames("cluster", "direction")
                .callback(cb -> plane.get().clusters().forEach(c -> {
                    cb.call(c.bytesToUpstream.sum(), c.name(), "upstream");
                    cb.call(c.bytesFromUpstream.sum(), c.name(), "downstream");
                }))
                .register(registry);
        GaugeWithCallback.builder().name("portway_cluster_endpoints").help("Endpoints by condition")
                .labelNames("cluster", "state")
                .callback(cb -> plane.get().clusters().forEach(c -> {
                    long ready = c.spec().endpoints().stream().filter(Plan.Endpoint::ready).count();
                    long serving = c.spec().endpoints().stream().filter(Plan.Endpoint::serving).count();
                    long terminating = c.spec().endpoints().stream().filter(Plan.Endpoint::terminating).count();
                    cb.call(ready, c.name(), "ready");
                    cb.call(serving, c.name(), "serving");
                    cb.call(terminating, c.name(), "terminating");
                }))
                .register(registry);
        GaugeWithCallback.builder().name("portway_loadbalancer_target_healthy")
                .help("1 when a LoadBalancer's node passes its health checks").labelNames("cluster", "target")
                .callback(cb -> plane.get().clusters().forEach(c -> {
                    if (c.spec().healthCheck() != null) {
                        for (Plan.Endpoint e : c.spec().endpoints()) {
                            cb.call(c.isHealthy(e.address()) ? 1 : 0, c.name(), e.target());
                        }
                    }
                }))
                .register(registry);
        GaugeWithCallback.builder().name("portway_listener_active_connections").help("Client connections open on a listener now")
                .labelNames("service", "role", "listener")
                .callback(cb -> plane.get().listenerConnections((spec, n) -> cb.call(n, spec.service(), role(spec), spec.key().toString())))
                .register(registry);
        GaugeWithCallback.builder().name("portway_listeners").help("Listeners by state").labelNames("state")
                .callback(cb -> {
                    var counts = plane.get().listenerStates();
                    counts.forEach((state, n) -> cb.call(n, state));
                })
                .register(registry);
        GaugeWithCallback.builder().name("portway_held_read_bytes")
                .help("Bytes read for peers that cannot take them yet, over the process: large reads on their way, and reads"
                        + " made unasked (after a FIN) for a peer past its high water mark")
                .callback(cb -> cb.call(HeldReads.held())).register(registry);
        CounterWithCallback.builder().name("portway_held_read_resets")
                .help("Connections (and HTTP/2 streams) reset because held reads were past twice their budget while they"
                        + " held more than their allowance for a peer that took nothing")
                .callback(cb -> cb.call(HeldReads.resets())).register(registry);
        GaugeWithCallback.builder().name("portway_udp_flows").help("UDP flows open now").labelNames("cluster")
                .callback(cb -> plane.get().udpFlows().forEach((cluster, n) -> cb.call(n, cluster)))
                .register(registry);
    }

    /** A listener's per-connection counters, looked up once per plan rather than once per connection. */
    record ListenerCounters(io.prometheus.metrics.core.datapoints.CounterDataPoint accepted,
                            io.prometheus.metrics.core.datapoints.CounterDataPoint connected) {
    }

    ListenerCounters counters(Plan.Listener spec) {
        return new ListenerCounters(accepted.labelValues(spec.service(), role(spec), spec.key().toString()),
                connects.labelValues(spec.service(), role(spec)));
    }

    void accepted(Plan.Listener spec) {
        accepted.labelValues(spec.service(), role(spec), spec.key().toString()).inc();
    }

    void refused(Plan.Listener spec, String reason) {
        refused.labelValues(spec.service(), role(spec), reason).inc();
    }

    void connected(Plan.Listener spec) {
        connects.labelValues(spec.service(), role(spec)).inc();
    }

    void idleClosed(Plan.Listener spec) {
        idleClosed.labelValues(spec.service(), role(spec)).inc();
    }

    void upstreamFailure(Plan.Listener spec) {
        connectFailures.labelValues(spec.service(), role(spec)).inc();
    }

    void httpRequest(String gateway, String route, int code, boolean local, long nanos) {
        GatewaySeries series = gatewaySeries.get(gateway);
        if (series == null) {
            series = gatewaySeries.computeIfAbsent(gateway, GatewaySeries::new);
        }
        series.requests(route, code, local).inc();
        series.duration.observe(nanos / 1e9);
    }

    /**
     * A Gateway's series, found once: the labels of every answer were looked up again before (a
     * list of four label values built, hashed and compared, and the status code made a string),
     * about a tenth of what the gateway allocated per request. Dropped with the Gateway's series
     * ({@link #forgetGateways}).
     */
    private final ConcurrentHashMap<String, GatewaySeries> gatewaySeries = new ConcurrentHashMap<>();

    private final class GatewaySeries {
        /** Status codes 100-599, each answered by the upstream or by the gateway: two series each. */
        private static final int CODES = 500;
        private final String gateway;
        private final DistributionDataPoint duration;
        private final ConcurrentHashMap<String, AtomicReferenceArray<CounterDataPoint>> routes = new ConcurrentHashMap<>();

        GatewaySeries(String gateway) {
            this.gateway = gateway;
            this.duration = httpDuration.labelValues(gateway);
        }

        CounterDataPoint requests(String route, int code, boolean local) {
            if (code < 100 || code >= 100 + CODES) {
                return httpRequests.labelValues(gateway, route, Integer.toString(code), local ? "gateway" : "upstream");
            }
            var byCode = routes.get(route);
            if (byCode == null) {
                byCode = routes.computeIfAbsent(route, r -> new AtomicReferenceArray<>(2 * CODES));
            }
            int i = 2 * (code - 100) + (local ? 1 : 0);
            CounterDataPoint point = byCode.get(i);
            if (point == null) {
                // two event loops may both look it up: the registry gives both the same series
                point = httpRequests.labelValues(gateway, route, Integer.toString(code), local ? "gateway" : "upstream");
                byCode.set(i, point);
            }
            return point;
        }
    }

    /** A reply the gateway gave before any exchange began (a request it could not decode, slow headers). */
    void httpReply(String gateway, int code) {
        httpRequests.labelValues(gateway, "", Integer.toString(code), "gateway").inc();
    }

    void httpRetry(String gateway) {
        httpRetries.labelValues(gateway).inc();
    }

    /** A Service and a listener role, as one key: {@code namespace/name} and the role's label. */
    static String serviceRole(Plan.Listener spec) {
        return spec.service() + " " + role(spec);
    }

    /**
     * Drops the series of listeners closed for good, and the per-Service series of those whose
     * Service has no listener left in that role ({@code serving}: {@link #serviceRole}s).
     */
    void forget(List<Plan.Listener> closed, java.util.Set<String> serving) {
        for (Plan.Listener l : closed) {
            String role = role(l);
            accepted.remove(l.service(), role, l.key().toString());
            if (!serving.contains(serviceRole(l))) {
                connects.remove(l.service(), role);
                connectFailures.remove(l.service(), role);
                idleClosed.remove(l.service(), role);
                refused.removeIf(labels -> labels.get(0).equals(l.service()) && labels.get(1).equals(role));
            }
        }
    }

    /** Drops the series of Gateways (and Ingresses) with no listener left. */
    void forgetGateways(java.util.Set<String> gone) {
        if (gone.isEmpty()) {
            return;
        }
        httpRequests.removeIf(labels -> gone.contains(labels.get(0)));
        httpRetries.removeIf(labels -> gone.contains(labels.get(0)));
        httpDuration.removeIf(labels -> gone.contains(labels.get(0)));
        // after the registry's: a series found again in between would be one the registry no longer holds
        gone.forEach(gatewaySeries::remove);
    }

    void planApplied(long version) {
        planVersion.set(version);
    }

    private static String role(Plan.Listener spec) {
        return spec.role().name().toLowerCase();
    }
}
