package dev.portway.gateway.conformance;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Upstream's {@code http.CompareRoundTrip}: whether what came back is what an {@link Exchange}
 * expects, and if not, why, in upstream's words. A 200 (or 204) is compared with what the echo
 * backend received (path, host, method, namespace, headers present and absent, pod name prefix)
 * and the response's headers; a redirect with its Location; any other status only by its code.
 */
final class Expectations {

    private Expectations() {
    }

    static boolean isRedirect(int status) {
        return switch (status) {
            case 300, 301, 302, 303, 304, 305, 307, 308 -> true;
            default -> false;
        };
    }

    static boolean isTimeout(int status) {
        return status == 408 || status == 504;
    }

    /**
     * Null when {@code got} is what {@code expected} wants, else why not.
     *
     * @param want         what the backend must have received ({@link Exchange#received()}, with
     *                     the request id the harness added to a mirrored request's path)
     * @param sentPath     the path (without query) the request was sent with
     * @param listenerPort the port the request was sent to, which a redirect without a port of its
     *                     own may keep (see {@link PortMap})
     * @param scheme       the request's: {@code http}, or {@code https} over TLS
     */
    static String compare(Exchange expected, Exchange.Received want, RoundTripper.RoundTrip got, String sentPath, int listenerPort,
                          String scheme) {
        RoundTripper.CapturedRequest cReq = got.request();
        RoundTripper.CapturedResponse cRes = got.response();
        List<Integer> codes = expected.expectedStatusCodes();
        if (isTimeout(cRes.status()) && codes.stream().anyMatch(Expectations::isTimeout)) {
            return null;
        }
        if (!codes.contains(cRes.status())) {
            return "expected status code to be one of " + codes + ", got " + cRes.status() + summary(cRes);
        }
        if (cRes.status() == 200 || cRes.status() == 204) {
            if (!want.host().isEmpty() && !want.host().equals(cReq.host())) {
                return "expected host to be " + want.host() + ", got " + cReq.host();
            }
            if (!want.path().equals(cReq.path())) {
                return "expected path to be " + want.path() + ", got " + cReq.path();
            }
            if (!want.method().equals(cReq.method())) {
                return "expected method to be " + want.method() + ", got " + cReq.method();
            }
            if (!expected.namespace.equals(cReq.namespace())) {
                return "expected namespace to be " + expected.namespace + ", got " + cReq.namespace();
            }
            for (Map.Entry<String, String> h : want.headers().entrySet()) {
                List<String> actual = find(cReq.headers(), h.getKey());
                if (actual == null) {
                    return "expected " + h.getKey() + " header to be set, actual headers: " + cReq.headers();
                }
                if (!String.join(",", actual).equals(h.getValue())) {
                    return "expected " + h.getKey() + " header to be set to " + h.getValue() + ", got " + String.join(",", actual);
                }
            }
            for (Map.Entry<String, String> h : expected.responseHeaders.entrySet()) {
                List<String> actual = find(cRes.headers(), h.getKey());
                if (actual == null) {
                    return "expected " + h.getKey() + " header to be set, actual headers: " + cRes.headers();
                }
                if (!String.join(",", actual).equals(h.getValue())) {
                    return "expected " + h.getKey() + " header to be set to " + h.getValue() + ", got " + String.join(",", actual);
                }
            }
            for (String name : expected.responseAbsentHeaders) {
                List<String> actual = find(cRes.headers(), name);
                if (actual != null) {
                    return "expected " + name + " header to not be set, got " + actual;
                }
            }
            for (String name : want.absentHeaders()) {
                List<String> actual = find(cReq.headers(), name);
                if (actual != null) {
                    return "expected " + name + " header to not be set, got " + actual;
                }
            }
            if (!cReq.pod().startsWith(expected.backend)) {
                return "expected pod name to start with " + expected.backend + ", got " + cReq.pod();
            }
        } else if (isRedirect(cRes.status())) {
            if (expected.redirect == null) {
                return null;
            }
            Exchange.Redirect wantRedirect = expected.redirect;
            Exchange.Redirect gotRedirect = cRes.redirect();
            String host = wantRedirect.host().isEmpty() ? gotRedirect.host() : wantRedirect.host();
            String wantScheme = wantRedirect.scheme().isEmpty() ? "http" : wantRedirect.scheme();
            String path = wantRedirect.path().isEmpty() ? sentPath : wantRedirect.path();
            if (!host.equals(gotRedirect.host())) {
                return "expected redirected hostname to be \"" + host + "\", got \"" + gotRedirect.host() + "\"";
            }
            String gotPort = gotRedirect.port();
            String gotScheme = gotRedirect.scheme().toLowerCase(Locale.ROOT);
            if (wantRedirect.port().isEmpty()) {
                // upstream: for http (https) the port must be 80 (443) or absent. The harness moved
                // listener ports 80 and 443 to unprivileged ones, so a redirect that keeps the scheme
                // may also keep that listener port, as a Gateway must when the filter names no port.
                boolean keptListenerPort = gotScheme.equals(scheme) && gotPort.equals(Integer.toString(listenerPort))
                        && PortMap.isMapped(listenerPort);
                if (gotScheme.equals("http") && !gotPort.equals("80") && !gotPort.isEmpty() && !keptListenerPort) {
                    return "for http scheme, expected redirected port to be 80 or not set, got \"" + gotPort + "\"";
                }
                if (gotScheme.equals("https") && !gotPort.equals("443") && !gotPort.isEmpty() && !keptListenerPort) {
                    return "for https scheme, expected redirected port to be 443 or not set, got \"" + gotPort + "\"";
                }
            } else if (!wantRedirect.port().equals(gotPort)) {
                return "expected redirected port to be \"" + wantRedirect.port() + "\", got \"" + gotPort + "\"";
            }
            if (!wantScheme.equals(gotRedirect.scheme())) {
                return "expected redirected scheme to be \"" + wantScheme + "\", got \"" + gotRedirect.scheme() + "\"";
            }
            if (!path.equals(gotRedirect.path())) {
                return "expected redirected path to be \"" + path + "\", got \"" + gotRedirect.path() + "\"";
            }
        }
        return null;
    }

    private static List<String> find(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    /** What came back, briefly, for a failure message. */
    static String summary(RoundTripper.CapturedResponse r) {
        String body = r.body().strip().replaceAll("\\s+", " ");
        if (body.length() > 300) {
            body = body.substring(0, 300) + "...";
        }
        return " (" + r.protocol() + " " + r.status() + ", headers " + r.headers() + (body.isEmpty() ? "" : ", body: " + body) + ")";
    }
}
