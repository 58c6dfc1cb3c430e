package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the L7 gateway does with every request before it picks a backend (bench/jmh): the request
 * target parsed and normalized, and the route matched among 20 hosts of 10 rules each (prefixes,
 * an exact path, a header match, a regular expression).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouteTableBenchmark {

    private RouteTable table;
    private HttpHeaders headers;

    @Setup
    public void setUp() {
        List<Plan.VirtualHost> hosts = new ArrayList<>();
        for (int h = 0; h < 20; h++) {
            List<Plan.HttpRule> rules = new ArrayList<>();
            for (int r = 0; r < 10; r++) {
                Plan.PathMatch path = switch (r % 4) {
                    case 0 -> new Plan.PathMatch(Plan.MatchType.EXACT, "/exact/" + r);
                    case 1 -> new Plan.PathMatch(Plan.MatchType.REGULAR_EXPRESSION, "/re/[a-z]+/" + r);
                    default -> new Plan.PathMatch(Plan.MatchType.PREFIX, "/api/v" + r);
                };
                List<Plan.HeaderMatch> match = r % 5 == 0 ? List.of(new Plan.HeaderMatch(Plan.MatchType.EXACT, "x-canary", "yes")) : List.of();
                rules.add(new Plan.HttpRule("default/route-" + h, r, path, match, List.of(), null, List.of(),
                        List.of(new Plan.HttpBackend("default/svc-" + h + ":80/TCP", 1, List.of())), null, null, null));
            }
            rules.add(new Plan.HttpRule("default/route-" + h, 10, new Plan.PathMatch(Plan.MatchType.PREFIX, "/"), List.of(), List.of(),
                    null, List.of(), List.of(new Plan.HttpBackend("default/svc-" + h + ":80/TCP", 1, List.of())), null, null, null));
            hosts.add(new Plan.VirtualHost("host" + h + ".example.com", rules));
        }
        table = RouteTable.compile(new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP, new InetSocketAddress("127.3.0.1", 80)),
                "default/gw", List.of(), List.of(), hosts, List.of(), false));
        headers = new DefaultHttpHeaders().add("host", "host13.example.com").add("user-agent", "bench").add("accept", "*/*");
    }

    @Benchmark
    public RequestTarget parseRequestTarget() throws RequestTarget.Invalid {
        return RequestTarget.parse("/api/v7/users/42/orders?limit=10&sort=desc", "host13.example.com");
    }

    @Benchmark
    public Object routeByPrefix() {
        return table.route("host13.example.com", "/api/v7/users/42/orders", "GET", headers, "limit=10&sort=desc");
    }

    @Benchmark
    public Object routeToTheCatchAll() {
        return table.route("host19.example.com", "/nothing/else/matches", "GET", headers, null);
    }
}
