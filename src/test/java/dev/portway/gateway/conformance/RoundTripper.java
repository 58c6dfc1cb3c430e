package dev.portway.gateway.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.Json;
import dev.portway.testing.Http2TlsClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * Upstream's {@code roundtripper.DefaultRoundTripper}: HTTP/1.1 over a plain socket, or over TLS
 * ({@code HTTPS}), or HTTP/2 over TLS ({@code H2}, {@link Http2TlsClient}): one request, one
 * connection, every wait bounded by the request timeout. A plain socket rather than
 * {@link java.net.http.HttpClient}, which will not send a Host header of the test's choosing.
 *
 * <p>Over TLS, as upstream's {@code createTLSClientConfig}: the SNI name is the request's
 * {@link Tls#serverName()}, and the server's certificate must chain to the trusted certificate
 * (the suite's CA, which signed the Secrets setup made) and name the SNI name. As Go's
 * {@code http.Transport} with a TLS configuration of its own, HTTPS offers no ALPN (HTTP/1.1);
 * H2 offers only {@code h2}.
 *
 * <p>As upstream: header names are sent canonical ({@code x-foo} as {@code X-Foo}, Go's
 * {@code Header.Set}), an empty body is sent as {@code Content-Length: 0} on the methods that have
 * one, redirects are not followed, and a response whose {@code Content-Type} is exactly
 * {@code application/json} is read as what the echo backend received.
 */
final class RoundTripper {

    /** What the echo backend said it received (upstream's {@code CapturedRequest}); empty when the answer was not JSON. */
    record CapturedRequest(String path, String host, String method, String proto, Map<String, List<String>> headers,
                           String httpPort, String namespace, String pod) {
    }

    /** Upstream's {@code CapturedResponse}, with the redirect's target when the status is a redirect. */
    record CapturedResponse(int status, String protocol, Map<String, List<String>> headers, String body,
                            Exchange.Redirect redirect) {
        /** All values of a header, by any case of its name. */
        List<String> header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue();
                }
            }
            return null;
        }
    }

    record RoundTrip(CapturedRequest request, CapturedResponse response) {
    }

    /**
     * A request over TLS: upstream's {@code ServerName}, and its {@code Protocol} ({@code HTTPS}, or
     * {@code H2} when {@code h2}).
     */
    record Tls(String serverName, boolean h2) {
    }

    private final Duration timeout;
    private final X509Certificate trusted;
    private TrustManager[] trustManagers;

    /** {@code trusted}: the certificate TLS servers' certificates must chain to; null when no request goes over TLS. */
    RoundTripper(Duration timeout, X509Certificate trusted) {
        this.timeout = timeout;
        this.trusted = trusted;
    }

    /**
     * Sends {@code method path} to {@code address:port}; {@code host} is the Host header (the
     * address and port when empty, as Go sends it); over TLS when {@code tls} is not null.
     */
    RoundTrip roundTrip(String address, int port, String method, String host, String path, Map<String, String> headers, Tls tls)
            throws IOException {
        if (tls != null && (tls.serverName() == null || tls.serverName().isEmpty())) {
            throw new IOException("https request has no server name configured");
        }
        if (tls != null && trusted == null) {
            throw new IOException("https request has no trusted certificates configured");
        }
        if (tls != null && tls.h2()) {
            return h2(address, port, method, host, path, headers, tls);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(address, port), (int) Math.max(1, timeout.toMillis()));
            plain.setSoTimeout((int) Math.max(1, remaining(deadline)));
            Socket socket = tls == null ? plain : handshake(plain, address, port, tls.serverName());
            StringBuilder req = new StringBuilder();
            req.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
            req.append("Host: ").append(host.isEmpty() ? address + ":" + port : host).append("\r\n");
            req.append("User-Agent: portway-gateway-conformance\r\n");
            for (Map.Entry<String, String> h : headers.entrySet()) {
                req.append(canonical(h.getKey())).append(": ").append(h.getValue()).append("\r\n");
            }
            if (method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
                req.append("Content-Length: 0\r\n");
            }
            req.append("Connection: close\r\n\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            return read(socket.getInputStream(), deadline, socket, method, tls == null ? "http" : "https", address, port, path);
        } catch (SocketTimeoutException e) {
            throw new SocketTimeoutException("no complete response within " + timeout.toMillis() + " ms");
        }
    }

    /** TLS over a connected socket: SNI {@code serverName}, the certificate checked as the class says. */
    private Socket handshake(Socket plain, String address, int port, String serverName) throws IOException {
        SSLSocket socket = (SSLSocket) tlsSockets().createSocket(plain, serverName, port, true);
        SSLParameters p = socket.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(serverName)));
        p.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(p);
        try {
            socket.startHandshake();
        } catch (IOException e) {
            throw new IOException("TLS handshake with " + address + ":" + port + " (SNI " + serverName + ") failed: " + e.getMessage(), e);
        }
        return socket;
    }

    /**
     * A context of its own for each connection, as Go's transport per request: the JDK would
     * resume a session of an earlier connection, and with it that connection's SNI name.
     */
    private SSLSocketFactory tlsSockets() throws IOException {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagers(), null);
            return context.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot trust the suite's certificate: " + e.getMessage(), e);
        }
    }

    private synchronized TrustManager[] trustManagers() throws GeneralSecurityException, IOException {
        if (trustManagers == null) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("trusted", trusted);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            trustManagers = tmf.getTrustManagers();
        }
        return trustManagers;
    }

    /** Upstream's {@code h2Transport}: HTTP/2 over TLS, the Host as {@code :authority}. */
    private RoundTrip h2(String address, int port, String method, String host, String path, Map<String, String> headers, Tls tls)
            throws IOException {
        Map<String, String> sent = new LinkedHashMap<>();
        headers.forEach((k, v) -> sent.put(canonical(k), v));
        sent.put("User-Agent", "portway-gateway-conformance");
        Http2TlsClient.Response r = Http2TlsClient.request(new InetSocketAddress(address, port), tls.serverName(), trusted, method,
                host.isEmpty() ? address + ":" + port : host, path, sent, timeout);
        Map<String, List<String>> responseHeaders = new LinkedHashMap<>();
        r.headers().forEach((k, v) -> responseHeaders.computeIfAbsent(canonical(k), x -> new ArrayList<>()).addAll(v));
        return captured(r.status(), "HTTP/2.0", responseHeaders, r.body(), method, "https", address, port, path);
    }

    private RoundTrip read(InputStream raw, long deadline, Socket socket, String method, String scheme, String address, int port,
                           String path) throws IOException {
        Reader in = new Reader(raw, deadline, socket);
        String statusLine = in.line();
        if (statusLine == null) {
            throw new IOException("connection closed before a response");
        }
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("not an HTTP response: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String line = in.line(); line != null && !line.isEmpty(); line = in.line()) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(canonical(line.substring(0, colon).strip()), k -> new ArrayList<>())
                        .add(line.substring(colon + 1).strip());
            }
        }
        byte[] body;
        String length = first(headers, "Content-Length");
        String encoding = first(headers, "Transfer-Encoding");
        if (method.equals("HEAD") || status == 204 || status == 304 || status / 100 == 1) {
            body = new byte[0];
        } else if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
            body = in.chunked();
        } else if (length != null) {
            body = in.exactly(Integer.parseInt(length.strip()));
        } else {
            body = in.rest();
        }
        return captured(status, parts[0], headers, new String(body, StandardCharsets.UTF_8), method, scheme, address, port, path);
    }

    /** The response as upstream captures it: the redirect's target resolved, the echo backend's JSON read. */
    private static RoundTrip captured(int status, String protocol, Map<String, List<String>> headers, String text, String method,
                                      String scheme, String address, int port, String path) throws IOException {
        Exchange.Redirect redirect = null;
        if (Expectations.isRedirect(status)) {
            String location = first(headers, "Location");
            if (location == null) {
                throw new IOException("redirect " + status + " without a Location header");
            }
            URI target = URI.create(scheme + "://" + address + ":" + port + path).resolve(location.strip());
            redirect = new Exchange.Redirect(target.getScheme() == null ? "" : target.getScheme(),
                    target.getHost() == null ? "" : target.getHost(),
                    target.getPort() < 0 ? "" : Integer.toString(target.getPort()),
                    target.getRawPath() == null ? "" : target.getRawPath());
        }
        CapturedResponse response = new CapturedResponse(status, protocol, headers, text, redirect);
        CapturedRequest request = new CapturedRequest("", "", method, "", Map.of(), "", "", "");
        if ("application/json".equals(first(headers, "Content-Type"))) {
            JsonNode json;
            try {
                json = Json.mapper().readTree(text);
            } catch (IOException e) {
                throw new IOException("unexpected error reading response: " + e.getMessage(), e);
            }
            request = captured(json);
        }
        return new RoundTrip(request, response);
    }

    private static CapturedRequest captured(JsonNode json) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        JsonNode h = json.path("headers");
        for (Iterator<Map.Entry<String, JsonNode>> it = h.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            List<String> values = new ArrayList<>();
            e.getValue().forEach(v -> values.add(v.asText()));
            headers.put(e.getKey(), values);
        }
        return new CapturedRequest(json.path("path").asText(""), json.path("host").asText(""), json.path("method").asText(""),
                json.path("proto").asText(""), headers, json.path("httpPort").asText(""), json.path("namespace").asText(""),
                json.path("pod").asText(""));
    }

    private static String first(Map<String, List<String>> headers, String name) {
        List<String> v = headers.get(name);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }

    /** Go's {@code textproto.CanonicalMIMEHeaderKey}. */
    static String canonical(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c > '~' || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
                return name;
            }
        }
        StringBuilder sb = new StringBuilder(name.length());
        boolean upper = true;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            sb.append(upper ? Character.toUpperCase(c) : Character.toLowerCase(c));
            upper = c == '-';
        }
        return sb.toString();
    }

    private static long remaining(long deadline) throws SocketTimeoutException {
        long ms = (deadline - System.nanoTime()) / 1_000_000;
        if (ms <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        return ms;
    }

    /** Reads lines and bodies, never past the deadline. */
    private static final class Reader {
        private final InputStream in;
        private final long deadline;
        private final Socket socket;

        Reader(InputStream in, long deadline, Socket socket) {
            this.in = in;
            this.deadline = deadline;
            this.socket = socket;
        }

        private int read() throws IOException {
            socket.setSoTimeout((int) Math.max(1, remaining(deadline)));
            return in.read();
        }

        String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = read()) != -1) {
                if (c == '\n') {
                    String s = b.toString(StandardCharsets.UTF_8);
                    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
                }
                b.write(c);
            }
            return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
        }

        byte[] exactly(int n) throws IOException {
            byte[] buf = new byte[n];
            int off = 0;
            while (off < n) {
                socket.setSoTimeout((int) Math.max(1, remaining(deadline)));
                int r = in.read(buf, off, n - off);
                if (r < 0) {
                    throw new IOException("connection closed after " + off + " of " + n + " body bytes");
                }
                off += r;
            }
            return buf;
        }

        byte[] chunked() throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                String size = line();
                if (size == null) {
                    throw new IOException("connection closed inside a chunked body");
                }
                int semi = size.indexOf(';');
                int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
                if (n == 0) {
                    for (String trailer = line(); trailer != null && !trailer.isEmpty(); trailer = line()) {
                        // trailers are not compared
                    }
                    return out.toByteArray();
                }
                out.write(exactly(n));
                line();
            }
        }

        byte[] rest() throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (true) {
                socket.setSoTimeout((int) Math.max(1, remaining(deadline)));
                int r = in.read(buf);
                if (r < 0) {
                    return out.toByteArray();
                }
                out.write(buf, 0, r);
            }
        }
    }
}
