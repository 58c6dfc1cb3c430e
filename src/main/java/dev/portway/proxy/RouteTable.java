package dev.portway.proxy;

import com.google.re2j.Pattern;
import dev.portway.plan.Plan;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The routes of one L7 listener, compiled for the hot path: virtual hosts most specific first,
 * each with its rules in precedence order (the control thread sorted them), regular
 * expressions compiled once; and the hostnames of the Gateway's HTTPS listeners on the port,
 * which tell a misdirected request. Immutable; a new plan swaps the whole table.
 */
final class RouteTable {

    /** A compiled rule. */
    record Rule(Plan.HttpRule spec, Pattern pathPattern, List<Compiled> headers, List<Compiled> query, int totalWeight) {

        /**
         * A backend by weight, or null when there is none to pick (no backends, or every weight is
         * 0: the request gets a 500, as the Gateway API says).
         */
        Plan.HttpBackend pickBackend() {
            List<Plan.HttpBackend> backends = spec.backends();
            if (totalWeight <= 0) {
                return null;
            }
            if (backends.size() == 1) {
                return backends.getFirst();
            }
            int n = java.util.concurrent.ThreadLocalRandom.current().nextInt(totalWeight);
            for (Plan.HttpBackend b : backends) {
                n -= b.weight();
                if (n < 0) {
                    return b;
                }
            }
            return backends.getLast();
        }
    }

    /** A compiled header or query match. */
    record Compiled(Plan.HeaderMatch spec, String lowerName, Pattern pattern) {
        boolean matches(String value) {
            if (value == null) {
                return false;
            }
            return pattern != null ? pattern.matcher(value).matches() : value.equals(spec.value());
        }
    }

    private record Host(String exact, String wildcardSuffix, boolean oneLabel, boolean any, List<Rule> rules) {
        /**
         * {@code a.example.com}, {@code *.example.com} (one label before the suffix when
         * {@code oneLabel}, as an Ingress's; any number, as the Gateway API's), or null or {@code *}
         * for any host.
         */
        static Host of(String hostname, boolean oneLabel, List<Rule> rules) {
            String h = hostname == null ? null : hostname.toLowerCase(Locale.ROOT);
            boolean any = h == null || h.equals("*");
            boolean wildcard = !any && h.startsWith("*.");
            return new Host(any || wildcard ? null : h, wildcard ? h.substring(1) : null, oneLabel, any, rules);
        }

        boolean matches(String host) {
            if (any) {
                return true;
            }
            if (exact != null) {
                return exact.equals(host);
            }
            int label = host.length() - wildcardSuffix.length();
            return label > 0 && host.endsWith(wildcardSuffix) && (!oneLabel || host.lastIndexOf('.', label - 1) < 0);
        }
    }

    static final RouteTable EMPTY = new RouteTable(List.of(), List.of());

    private final List<Host> hosts;
    /** The HTTPS listeners' hostnames, most specific first; empty: no request is misdirected. */
    private final List<Host> listeners;

    private RouteTable(List<Host> hosts, List<Host> listeners) {
        this.hosts = hosts;
        this.listeners = listeners;
    }

    static RouteTable compile(Plan.HttpListener listener) {
        List<Host> hosts = new ArrayList<>();
        for (Plan.VirtualHost vh : listener.virtualHosts()) {
            List<Rule> rules = new ArrayList<>();
            for (Plan.HttpRule r : vh.rules()) {
                Pattern path = r.path().type() == Plan.MatchType.REGULAR_EXPRESSION ? Pattern.compile(r.path().value()) : null;
                int weight = r.backends().stream().mapToInt(Plan.HttpBackend::weight).sum();
                rules.add(new Rule(r, path, compile(r.headers(), true), compile(r.queryParams(), false), weight));
            }
            hosts.add(Host.of(vh.hostname(), vh.oneLabelWildcard(), List.copyOf(rules)));
        }
        List<Host> listeners = new ArrayList<>();
        for (String h : listener.listenerHostnames()) {
            listeners.add(Host.of(h, false, List.of()));
        }
        return new RouteTable(List.copyOf(hosts), List.copyOf(listeners));
    }

    /**
     * Whether a request for {@code host} (lower-cased, without the port) on a TLS connection made
     * with SNI name {@code serverName} is misdirected: the most specific HTTPS listener that takes
     * {@code host} is not the one that takes {@code serverName} (which may be none). A host no
     * listener takes is not misdirected: it finds no route (404).
     */
    boolean misdirected(String serverName, String host) {
        int wanted = listenerOf(host);
        return wanted >= 0 && wanted != listenerOf(serverName);
    }

    private int listenerOf(String name) {
        for (int i = 0; i < listeners.size(); i++) {
            if (listeners.get(i).matches(name)) {
                return i;
            }
        }
        return -1;
    }

    private static List<Compiled> compile(List<Plan.HeaderMatch> matches, boolean header) {
        List<Compiled> out = new ArrayList<>();
        for (Plan.HeaderMatch m : matches) {
            Pattern p = m.type() == Plan.MatchType.REGULAR_EXPRESSION ? Pattern.compile(m.value()) : null;
            out.add(new Compiled(m, header ? m.name().toLowerCase(Locale.ROOT) : m.name(), p));
        }
        return List.copyOf(out);
    }

    /** Why a request found no rule: no virtual host for its Host, or none of the host's rules. */
    enum Miss {
        NO_HOST, NO_RULE
    }

    /** The outcome of routing one request. */
    record Match(Rule rule, Miss miss) {
    }

    /**
     * The rule for a request: the first virtual host its Host (lower-cased, without the port)
     * matches, then the first rule of it that matches the path (already normalized), method,
     * headers and query ({@code rawQuery} without its {@code ?}, or null; decoded only when a rule asks).
     */
    Match route(String host, String path, String method, HttpHeaders headers, String rawQuery) {
        Map<String, List<String>> query = null;
        for (Host h : hosts) {
            if (!h.matches(host)) {
                continue;
            }
            for (Rule r : h.rules) {
                if (!r.query.isEmpty() && query == null) {
                    // "&" alone separates parameters, as the backends behind read them (Go since 1.17, WHATWG URL): with ";"
                    // splitting too (Netty's default), "?x=1;mode=public" matched a rule on mode=public that no backend sees
                    query = rawQuery == null ? Map.of()
                            : QueryStringDecoder.builder().hasPath(false).semicolonIsNormalChar(true).build(rawQuery).parameters();
                }
                if (matches(r, path, method, headers, query)) {
                    return new Match(r, null);
                }
            }
            return new Match(null, Miss.NO_RULE);
        }
        return new Match(null, Miss.NO_HOST);
    }

    private static boolean matches(Rule r, String path, String method, HttpHeaders headers, Map<String, List<String>> query) {
        Plan.HttpRule spec = r.spec;
        if (spec.method() != null && !spec.method().equals(method)) {
            return false;
        }
        if (!pathMatches(spec.path(), r.pathPattern, path)) {
            return false;
        }
        for (Compiled h : r.headers) {
            if (!h.matches(headers.get(h.lowerName()))) {
                return false;
            }
        }
        for (Compiled q : r.query) {
            List<String> values = query.get(q.lowerName());
            if (values == null || values.isEmpty() || !q.matches(values.getFirst())) {
                return false;
            }
        }
        return true;
    }

    static boolean pathMatches(Plan.PathMatch match, Pattern pattern, String path) {
        return switch (match.type()) {
            case EXACT -> path.equals(match.value());
            case PREFIX -> prefixMatches(match.value(), path);
            case REGULAR_EXPRESSION -> pattern.matcher(path).matches();
        };
    }

    /** Gateway API path prefixes match whole segments: {@code /foo} matches {@code /foo} and {@code /foo/bar}, not {@code /foobar}. */
    static boolean prefixMatches(String prefix, String path) {
        String p = prefix.length() > 1 && prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        if (p.equals("/")) {
            return true;
        }
        return path.startsWith(p) && (path.length() == p.length() || path.charAt(p.length()) == '/');
    }
}
