package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The gateway's request series, found once per Gateway, route and status, and dropped with the Gateway. */
class ProxyMetricsTest {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ProxyMetrics metrics = new ProxyMetrics(registry, () -> null);

    private Map<String, Double> requests() {
        Map<String, Double> out = new TreeMap<>();
        registry.scrape(name -> name.equals("portway_http_requests")).stream()
                .flatMap(s -> ((CounterSnapshot) s).getDataPoints().stream())
                .forEach(d -> out.put(d.getLabels().get("gateway") + " " + d.getLabels().get("route") + " " + d.getLabels().get("code")
                        + " " + d.getLabels().get("source"), d.getValue()));
        return out;
    }

    private long durations(String gateway) {
        return registry.scrape(name -> name.equals("portway_http_request_duration_seconds")).stream()
                .flatMap(s -> ((HistogramSnapshot) s).getDataPoints().stream())
                .filter(d -> d.getLabels().get("gateway").equals(gateway))
                .mapToLong(HistogramSnapshot.HistogramDataPointSnapshot::getCount).sum();
    }

    @Test
    void eachAnswerCountsUnderItsGatewayRouteStatusAndSource() {
        for (int i = 0; i < 3; i++) {
            metrics.httpRequest("gw/a", "default/r", 200, false, 1_000_000);
        }
        metrics.httpRequest("gw/a", "default/r", 404, true, 1_000_000);
        metrics.httpRequest("gw/a", "default/s", 200, false, 1_000_000);
        metrics.httpRequest("gw/a", "", 999, false, 1_000_000); // past the codes kept at hand
        metrics.httpRequest("gw/b", "default/r", 200, false, 1_000_000);
        assertThat(requests()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "gw/a default/r 200 upstream", 3.0,
                "gw/a default/r 404 gateway", 1.0,
                "gw/a default/s 200 upstream", 1.0,
                "gw/a  999 upstream", 1.0,
                "gw/b default/r 200 upstream", 1.0));
        assertThat(durations("gw/a")).isEqualTo(6);
        assertThat(durations("gw/b")).isEqualTo(1);
    }

    @Test
    void aGatewayGoneTakesItsSeriesAndTheyStartAgainIfItComesBack() {
        metrics.httpRequest("gw/a", "default/r", 200, false, 1_000_000);
        metrics.httpRequest("gw/b", "default/r", 200, false, 1_000_000);
        metrics.forgetGateways(Set.of("gw/a"));
        assertThat(requests()).containsOnlyKeys("gw/b default/r 200 upstream");
        metrics.httpRequest("gw/a", "default/r", 200, false, 1_000_000);
        assertThat(requests()).containsEntry("gw/a default/r 200 upstream", 1.0);
        assertThat(durations("gw/a")).isEqualTo(1);
    }
}
