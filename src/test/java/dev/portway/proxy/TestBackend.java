package dev.portway.proxy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A second kind of backend for gateway tests, the JDK's own HTTP server (not Netty, so the data
 * plane's buffer pool measures the gateway alone): {@code POST /upload} counts the body it reads,
 * {@code GET /download?bytes=N} streams N bytes (chunked), {@code /redirect} answers 302 to
 * {@code /internal/login} (relative) or, with {@code ?absolute}, to the same on the Host it was sent,
 * {@code /hang} never answers until the server stops.
 */
final class TestBackend implements AutoCloseable {

    private final HttpServer server;
    /** A thread per request: a test may keep many requests waiting at once. */
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    final AtomicInteger requests = new AtomicInteger();
    /** What each request was: {@code METHOD /path host} and, for uploads, the bytes read. */
    final java.util.concurrent.ConcurrentLinkedQueue<String> seen = new java.util.concurrent.ConcurrentLinkedQueue<>();

    TestBackend(InetSocketAddress at) throws IOException {
        server = HttpServer.create(at, 64);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange x) throws IOException {
        requests.incrementAndGet();
        String path = x.getRequestURI().getPath();
        String query = x.getRequestURI().getRawQuery();
        if (path.endsWith("/upload")) {
            long n = 0;
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = x.getRequestBody()) {
                int r;
                while ((r = in.read(buf)) >= 0) {
                    n += r;
                }
            }
            seen.add(x.getRequestMethod() + " " + x.getRequestURI() + " " + x.getRequestHeaders().getFirst("Host") + " " + n);
            text(x, 200, Long.toString(n));
        } else if (path.endsWith("/download")) {
            long n = Long.parseLong(query.substring("bytes=".length()));
            x.sendResponseHeaders(200, 0);
            byte[] buf = new byte[64 * 1024];
            try (OutputStream out = x.getResponseBody()) {
                for (long left = n; left > 0; left -= buf.length) {
                    out.write(buf, 0, (int) Math.min(buf.length, left));
                }
            }
        } else if (path.endsWith("/redirect")) {
            String host = x.getRequestHeaders().getFirst("Host");
            x.getResponseHeaders().set("Location", query != null && query.contains("absolute")
                    ? "http://" + host + "/internal/login?next=1" : "/internal/login?next=1");
            text(x, 302, "moved");
        } else if (path.endsWith("/hang")) {
            // answered never: the server closes it when it stops
            x.getRequestBody().readAllBytes();
        } else {
            seen.add(x.getRequestMethod() + " " + x.getRequestURI() + " " + x.getRequestHeaders().getFirst("Host"));
            text(x, 200, x.getRequestMethod() + " " + x.getRequestURI());
        }
    }

    private static void text(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
