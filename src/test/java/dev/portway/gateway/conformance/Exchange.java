package dev.portway.gateway.conformance;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One request and what must come back, as upstream's {@code http.ExpectedResponse}: the request
 * made (host, method, path with query, headers), what the echo backend must have received
 * ({@code ExpectedRequest}: path, host, method, headers present and absent; when not given, the
 * request as made), which backend answered (pod name prefix) in which namespace, the status,
 * response headers present and absent, headers the backend is asked to set
 * ({@code X-Echo-Set-Header}), the redirect's parts, and the backends a mirror must reach.
 *
 * <p>Built once per table row with the fluent setters below, then only read.
 */
final class Exchange {

    /** What the backend received, upstream's {@code ExpectedRequest}. */
    record Received(String path, String host, String method, Map<String, String> headers, List<String> absentHeaders) {
    }

    /** Upstream's {@code roundtripper.RedirectRequest}: empty fields are not compared (see {@link Expectations}). */
    record Redirect(String scheme, String host, String port, String path) {
    }

    String host = "";
    String method = "";
    String path;
    final Map<String, String> headers = new LinkedHashMap<>();
    boolean unfollowRedirect;

    private String receivedPath;
    private String receivedHost = "";
    private String receivedMethod = "";
    private final Map<String, String> receivedHeaders = new LinkedHashMap<>();
    private final List<String> receivedAbsent = new ArrayList<>();
    private boolean receivedGiven;

    final Map<String, String> backendSetResponseHeaders = new LinkedHashMap<>();
    final List<Integer> statusCodes = new ArrayList<>();
    final Map<String, String> responseHeaders = new LinkedHashMap<>();
    final List<String> responseAbsentHeaders = new ArrayList<>();
    String backend = "";
    String namespace = "";
    Redirect redirect;
    final List<String> mirroredTo = new ArrayList<>();
    String mirrorNamespace = "";
    /** The upstream listener port to send to (before the harness maps it); 0: the gateway's address as waited for. */
    int port;
    String name;
    /** Over TLS: the SNI name (upstream's {@code serverName} argument of {@code MakeTLSRequestAndExpectEventuallyConsistentResponse}). */
    String serverName = "";
    /** Upstream's {@code Request.Protocol} {@code H2}: HTTP/2 (over TLS); else HTTP/1.1. */
    boolean h2;

    private Exchange(String path) {
        this.path = path;
    }

    /** A GET of {@code path} (with its query, if any). */
    static Exchange request(String path) {
        return new Exchange(path);
    }

    Exchange host(String host) {
        this.host = host;
        return this;
    }

    Exchange method(String method) {
        this.method = method;
        return this;
    }

    Exchange header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    Exchange unfollowRedirect() {
        this.unfollowRedirect = true;
        return this;
    }

    /** {@code ExpectedRequest.Path}: what the backend must have received as its path. */
    Exchange expectPath(String path) {
        receivedGiven = true;
        receivedPath = path;
        return this;
    }

    Exchange expectHost(String host) {
        receivedGiven = true;
        receivedHost = host;
        return this;
    }

    Exchange expectHeader(String name, String value) {
        receivedGiven = true;
        receivedHeaders.put(name, value);
        return this;
    }

    Exchange expectAbsent(String... names) {
        receivedGiven = true;
        receivedAbsent.addAll(List.of(names));
        return this;
    }

    Exchange backendSets(String name, String value) {
        backendSetResponseHeaders.put(name, value);
        return this;
    }

    Exchange status(int... codes) {
        for (int c : codes) {
            statusCodes.add(c);
        }
        return this;
    }

    Exchange responseHeader(String name, String value) {
        responseHeaders.put(name, value);
        return this;
    }

    Exchange responseAbsent(String... names) {
        responseAbsentHeaders.addAll(List.of(names));
        return this;
    }

    Exchange backend(String backend) {
        this.backend = backend;
        return this;
    }

    Exchange namespace(String namespace) {
        this.namespace = namespace;
        return this;
    }

    /** Expects a redirect; null or empty parts are filled in as upstream fills them in. */
    Exchange redirect(String scheme, String host, String port, String path) {
        this.redirect = new Redirect(nz(scheme), nz(host), nz(port), nz(path));
        return this;
    }

    Exchange mirroredTo(String namespace, String... backends) {
        this.mirrorNamespace = namespace;
        mirroredTo.addAll(List.of(backends));
        return this;
    }

    Exchange port(int upstreamListenerPort) {
        this.port = upstreamListenerPort;
        return this;
    }

    /** The SNI name a TLS request is sent with. */
    Exchange serverName(String serverName) {
        this.serverName = serverName;
        return this;
    }

    /** Sent as HTTP/2 (over TLS, ALPN h2). */
    Exchange h2() {
        this.h2 = true;
        return this;
    }

    Exchange named(String name) {
        this.name = name;
        return this;
    }

    /** The status codes that pass (200 when none were given, as upstream's MakeRequest defaults). */
    List<Integer> expectedStatusCodes() {
        return statusCodes.isEmpty() ? List.of(200) : statusCodes;
    }

    /** The method sent (GET when none was given). */
    String sentMethod() {
        return method.isEmpty() ? "GET" : method;
    }

    /** What the backend must have received: the request as made unless the row said otherwise. */
    Received received() {
        if (!receivedGiven) {
            return new Received(path, host, method.isEmpty() ? "GET" : method, headers, List.of());
        }
        return new Received(receivedPath == null ? "" : receivedPath, receivedHost,
                receivedMethod.isEmpty() ? "GET" : receivedMethod, receivedHeaders, receivedAbsent);
    }

    /** Upstream's {@code GetTestCaseName}. */
    String caseName(int i) {
        if (name != null) {
            return name;
        }
        String s = i + " request to '" + host + path + "'" + (headers.isEmpty() ? "" : " with headers");
        return backend.isEmpty() ? s + " should receive one of " + expectedStatusCodes() : s + " should go to " + backend;
    }

    /** The request, as a failure message shows it. */
    String describeRequest() {
        return sentMethod() + " " + path + (host.isEmpty() ? "" : " Host: " + host) + (headers.isEmpty() ? "" : " headers " + headers);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
