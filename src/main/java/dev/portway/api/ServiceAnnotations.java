package dev.portway.api;

import io.fabric8.kubernetes.api.model.Service;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The annotations that tune how Portway carries one Service's traffic: settings Kubernetes has
 * no field for. A malformed value is refused when the Service is applied (a field error on
 * {@code metadata.annotations.<key>}), never quietly replaced by the default.
 *
 * <ul>
 *   <li>{@value #PROXY_PROTOCOL}: {@code v2} sends a PROXY protocol v2 header to the pods first</li>
 *   <li>{@value #BALANCER}: {@code round-robin} (default) or {@code random}</li>
 *   <li>{@value #DRAIN_TIMEOUT}: how long connections to a removed endpoint may go on (30s)</li>
 *   <li>{@value #UDP_IDLE_TIMEOUT}: how long a UDP flow lives without traffic (30s)</li>
 *   <li>{@value #TCP_IDLE_TIMEOUT}: how long a TCP connection lives with no byte either way (1h; {@code 0}: forever),
 *       HAProxy's {@code timeout tunnel}</li>
 *   <li>{@value #MAX_CONNECTIONS}: how many TCP connections (or UDP flows) each of the Service's listeners holds at once
 *       (10000), HAProxy's {@code maxconn}: one flooding client cannot take every file descriptor of the proxy</li>
 * </ul>
 * Durations are written {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, or a number of seconds.
 */
public final class ServiceAnnotations {

    public static final String PROXY_PROTOCOL = "portway.dev/proxy-protocol";
    public static final String BALANCER = "portway.dev/load-balancer-policy";
    public static final String DRAIN_TIMEOUT = "portway.dev/drain-timeout";
    public static final String UDP_IDLE_TIMEOUT = "portway.dev/udp-idle-timeout";
    public static final String TCP_IDLE_TIMEOUT = "portway.dev/tcp-idle-timeout";
    public static final String MAX_CONNECTIONS = "portway.dev/max-connections";
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;

    /** The longest duration these annotations take (longer ones would overflow timers' nanoseconds). */
    public static final Duration MAX_DURATION = Duration.ofDays(365);
    public static final Duration DEFAULT_DRAIN = Duration.ofSeconds(30);
    public static final Duration DEFAULT_UDP_IDLE = Duration.ofSeconds(30);
    public static final Duration DEFAULT_TCP_IDLE = Duration.ofHours(1);

    private ServiceAnnotations() {
    }

    public static boolean proxyProtocol(Service s) {
        return "v2".equals(annotations(s).get(PROXY_PROTOCOL));
    }

    public static boolean random(Service s) {
        return "random".equals(annotations(s).get(BALANCER));
    }

    public static Duration drainTimeout(Service s) {
        return durationOr(annotations(s).get(DRAIN_TIMEOUT), DEFAULT_DRAIN);
    }

    public static Duration udpIdleTimeout(Service s) {
        return durationOr(annotations(s).get(UDP_IDLE_TIMEOUT), DEFAULT_UDP_IDLE);
    }

    /** The TCP idle timeout; zero for none. */
    public static Duration tcpIdleTimeout(Service s) {
        return durationOr(annotations(s).get(TCP_IDLE_TIMEOUT), DEFAULT_TCP_IDLE);
    }

    /** The connection (or flow) cap of each listener. */
    public static int maxConnections(Service s) {
        Integer n = positiveInt(annotations(s).get(MAX_CONNECTIONS));
        return n == null ? DEFAULT_MAX_CONNECTIONS : n;
    }

    private static Integer positiveInt(String text) {
        if (text == null) {
            return null;
        }
        try {
            int n = Integer.parseInt(text.trim());
            return n > 0 ? n : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h} or seconds; null if the text is none of these. */
    public static Duration parseDuration(String text) {
        String t = text.trim();
        try {
            Duration d;
            if (t.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            } else if (t.endsWith("s")) {
                d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            } else if (t.endsWith("m")) {
                d = Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            } else if (t.endsWith("h")) {
                d = Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            } else {
                d = Duration.ofSeconds(Long.parseLong(t));
            }
            return d.isNegative() || d.compareTo(MAX_DURATION) > 0 ? null : d;
        } catch (NumberFormatException | ArithmeticException | java.time.DateTimeException e) {
            return null;
        }
    }

    private static Duration durationOr(String text, Duration otherwise) {
        if (text == null || text.isBlank()) {
            return otherwise;
        }
        Duration d = parseDuration(text);
        return d == null ? otherwise : d;
    }

    /** Field errors for malformed values of these annotations. */
    public static List<FieldError> validate(Service s) {
        List<FieldError> errs = new ArrayList<>();
        Map<String, String> a = annotations(s);
        FieldPath path = FieldPath.of("metadata", "annotations");
        String proxy = a.get(PROXY_PROTOCOL);
        if (proxy != null && !proxy.equals("v2")) {
            errs.add(FieldError.notSupported(path.key(PROXY_PROTOCOL), proxy, "v2"));
        }
        String balancer = a.get(BALANCER);
        if (balancer != null && !balancer.equals("round-robin") && !balancer.equals("random")) {
            errs.add(FieldError.notSupported(path.key(BALANCER), balancer, "random", "round-robin"));
        }
        for (String key : List.of(DRAIN_TIMEOUT, UDP_IDLE_TIMEOUT, TCP_IDLE_TIMEOUT)) {
            String value = a.get(key);
            if (value != null && parseDuration(value) == null) {
                errs.add(FieldError.invalid(path.key(key), value, "must be a duration like 500ms, 30s, 5m, 1h, or a number of seconds, at most 365 days"));
            }
        }
        String max = a.get(MAX_CONNECTIONS);
        if (max != null && positiveInt(max) == null) {
            errs.add(FieldError.invalid(path.key(MAX_CONNECTIONS), max, "must be a positive whole number"));
        }
        String udp = a.get(UDP_IDLE_TIMEOUT);
        if (udp != null && Duration.ZERO.equals(parseDuration(udp))) {
            errs.add(FieldError.invalid(path.key(UDP_IDLE_TIMEOUT), udp, "must be greater than 0"));
        }
        return errs;
    }

    private static Map<String, String> annotations(Service s) {
        Map<String, String> a = s.getMetadata() == null ? null : s.getMetadata().getAnnotations();
        return a == null ? Map.of() : a;
    }
}
