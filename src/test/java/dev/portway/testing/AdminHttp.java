package dev.portway.testing;

import dev.portway.runtime.LocalCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A real HTTPS client of a local cluster's API server, as a user with the kubeconfig would have:
 * it trusts the cluster's CA and sends its bearer token (unless told not to). For requests a
 * well-behaved client library refuses to make (a forged {@code Host}), {@link #raw} writes the
 * bytes itself over TLS.
 */
public final class AdminHttp {

    private final LocalCluster cluster;
    private final SSLContext tls;
    private final HttpClient http;

    public AdminHttp(LocalCluster cluster) {
        this.cluster = cluster;
        this.tls = trusting(cluster);
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** An SSL context that trusts only the cluster's CA. */
    public static SSLContext trusting(LocalCluster cluster) {
        return trusting(cluster.credentials().ca().cert());
    }

    /** An SSL context that trusts only {@code ca}. */
    public static SSLContext trusting(java.security.cert.X509Certificate ca) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, dev.portway.net.Tls.trusting(ca), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A viewer token (the topology page's) minted by the admin with {@code adminToken} over {@code tls}. */
    public static String mintViewerToken(SSLContext tls, InetSocketAddress server, String adminToken) throws IOException {
        try (SSLSocket mint = (SSLSocket) tls.getSocketFactory().createSocket(server.getHostString(), server.getPort())) {
            mint.setSoTimeout(10_000);
            mint.getOutputStream().write(("POST /apis/portway.dev/v1/viewertokens HTTP/1.1\r\nHost: 127.0.0.1:" + server.getPort()
                    + "\r\nAuthorization: Bearer " + adminToken + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                    + "Connection: close\r\n\r\n{}").getBytes(StandardCharsets.UTF_8));
            String answer = new String(mint.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            java.util.regex.Matcher token = java.util.regex.Pattern.compile("\"token\":\"([^\"]+)\"").matcher(answer);
            if (!token.find()) {
                throw new IOException("no viewer token in: " + answer);
            }
            return token.group(1);
        }
    }

    public URI uri(String path) {
        return URI.create(cluster.adminUrl() + path);
    }

    /** A request to {@code path} with the cluster's token. */
    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + cluster.credentials().token());
    }

    /** A request to {@code path} with no credentials. */
    public HttpRequest.Builder anonymous(String path) {
        return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
    }

    public HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    public HttpResponse<String> post(String path, String contentType, String body) {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    public HttpResponse<String> put(String path, String body) {
        return send(request(path).header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    public HttpResponse<String> patch(String path, String contentType, String body) {
        return send(request(path).header("Content-Type", contentType)
                .method("PATCH", HttpRequest.BodyPublishers.ofString(body)).build());
    }

    public HttpResponse<String> delete(String path) {
        return send(request(path).DELETE().build());
    }

    public HttpClient client() {
        return http;
    }

    /** Writes {@code request} (a whole HTTP/1.1 request) over TLS and returns everything the server sent back before closing. */
    public String raw(String request) throws IOException {
        InetSocketAddress a = cluster.adminAddress();
        try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(a.getHostString(), a.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
