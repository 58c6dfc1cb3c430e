package dev.portway.api.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Hostname matching as the Gateway API defines it ({@code Listener.hostname},
 * {@code HTTPRouteSpec.hostnames}): a name with a leading {@code *.} label is a suffix match of one
 * or more labels ({@code *.example.com} matches {@code a.example.com} and {@code a.b.example.com},
 * not {@code example.com}); an absent hostname matches everything.
 */
public final class Hostnames {

    private Hostnames() {
    }

    /** Whether {@code name} starts with the wildcard label {@code *.}. */
    public static boolean isWildcard(String name) {
        return name != null && name.startsWith("*.");
    }

    /**
     * Whether a request for {@code host} (a concrete name, port stripped) matches {@code pattern}
     * (a listener's or route's hostname); a null or empty pattern matches any host.
     */
    public static boolean matches(String pattern, String host) {
        if (pattern == null || pattern.isEmpty()) {
            return true;
        }
        String h = host.toLowerCase(java.util.Locale.ROOT);
        if (isWildcard(pattern)) {
            String suffix = pattern.substring(1); // ".example.com"
            return h.endsWith(suffix) && h.length() > suffix.length();
        }
        return pattern.equals(h);
    }

    /**
     * The intersection of two hostnames, each possibly a wildcard: the more specific of the two
     * when one contains the other ({@code *.example.com} and {@code a.example.com} give
     * {@code a.example.com}; {@code *.example.com} and {@code *.a.example.com} give
     * {@code *.a.example.com}), empty when they share no host.
     */
    public static Optional<String> intersect(String a, String b) {
        if (a.equals(b)) {
            return Optional.of(a);
        }
        boolean wa = isWildcard(a);
        boolean wb = isWildcard(b);
        if (wa && !wb) {
            return matches(a, b) ? Optional.of(b) : Optional.empty();
        }
        if (wb && !wa) {
            return matches(b, a) ? Optional.of(a) : Optional.empty();
        }
        if (wa) {
            // both wildcards: the one with the longer suffix, if it lies within the other
            String sa = a.substring(1);
            String sb = b.substring(1);
            if (sa.endsWith(sb)) {
                return Optional.of(a);
            }
            if (sb.endsWith(sa)) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    /**
     * A route's effective hostnames on a listener: the listener's hostname intersected with each of
     * the route's, as the HTTPRoute {@code hostnames} field defines it.
     *
     * @param listenerHostname the listener's {@code hostname}, null or empty for none
     * @param routeHostnames   the route's {@code spec.hostnames}, empty for none
     * @return empty when they do not intersect (the route does not attach to this listener);
     *         otherwise the hostnames the route serves there, an empty list meaning any hostname
     */
    public static Optional<List<String>> effective(String listenerHostname, List<String> routeHostnames) {
        boolean noListener = listenerHostname == null || listenerHostname.isEmpty();
        List<String> route = routeHostnames == null ? List.of() : routeHostnames;
        if (route.isEmpty()) {
            return Optional.of(noListener ? List.of() : List.of(listenerHostname));
        }
        if (noListener) {
            return Optional.of(List.copyOf(route));
        }
        List<String> out = new ArrayList<>();
        for (String h : route) {
            intersect(listenerHostname, h).filter(x -> !out.contains(x)).ifPresent(out::add);
        }
        return out.isEmpty() ? Optional.empty() : Optional.of(List.copyOf(out));
    }
}
