package dev.portway.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP/1.1 client on a plain socket that sends exactly the bytes a test writes (for framing and
 * smuggling cases, any Host header, pipelining) and reads responses by their framing
 * (Content-Length, chunked, or until close), so several can be read off one kept-alive connection.
 */
public final class RawHttp implements AutoCloseable {

    /** A response as read off the wire; header names in lower case (the last value of repeated ones in {@code headers}). */
    public record Response(int status, Map<String, String> headers, Map<String, List<String>> all, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /** The value of a line {@code key: value} of the echo server's text body. */
        public String echo(String key) {
            for (String line : body.split("\n")) {
                String l = line.strip();
                if (l.regionMatches(true, 0, key + ": ", 0, key.length() + 2)) {
                    return l.substring(key.length() + 2);
                }
            }
            return null;
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawHttp(InetSocketAddress address) throws IOException {
        this(address, 10_000);
    }

    public RawHttp(InetSocketAddress address, int timeoutMillis) throws IOException {
        this(connect(address, timeoutMillis));
    }

    /** Over a socket already connected (a TLS socket, say), with its timeout set. */
    public RawHttp(Socket connected) throws IOException {
        socket = connected;
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    private static Socket connect(InetSocketAddress address, int timeoutMillis) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(address, timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            return s;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /** One request on a new connection: {@code GET path} with the given Host, then the connection closes. */
    public static Response get(InetSocketAddress address, String host, String path) throws IOException {
        try (RawHttp c = new RawHttp(address)) {
            return c.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").read();
        }
    }

    public RawHttp send(String raw) throws IOException {
        return send(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttp send(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
        return this;
    }

    /** Ends this side of the connection (a FIN): the request is all sent, the answer is still read. */
    public RawHttp shutdownOutput() throws IOException {
        socket.shutdownOutput();
        return this;
    }

    public OutputStream output() {
        return out;
    }

    public InputStream input() {
        return in;
    }

    /** Sends a GET on this connection and reads its response. */
    public Response get(String host, String path) throws IOException {
        return send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").read();
    }

    /** Reads one response (the answer to a HEAD must be read with {@link #readHead}). */
    public Response read() throws IOException {
        return read(false);
    }

    public Response readHead() throws IOException {
        return read(true);
    }

    private Response read(boolean head) throws IOException {
        String statusLine = line();
        while (statusLine.isEmpty()) {
            statusLine = line();
        }
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        Map<String, List<String>> all = new LinkedHashMap<>();
        String l;
        while (!(l = line()).isEmpty()) {
            int colon = l.indexOf(':');
            String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = l.substring(colon + 1).trim();
            headers.put(name, value);
            all.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        if (status < 200) {
            return new Response(status, headers, all, "");
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (head || status == 204 || status == 304) {
            // no body
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            while (true) {
                String size = line();
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    while (!line().isEmpty()) {
                        // trailers
                    }
                    break;
                }
                body.write(in.readNBytes(n));
                line();
            }
        } else if (headers.containsKey("content-length")) {
            int n = Integer.parseInt(headers.get("content-length"));
            byte[] b = in.readNBytes(n);
            if (b.length < n) {
                throw new EOFException("the body ended after " + b.length + " of " + n + " bytes");
            }
            body.write(b);
        } else {
            body.write(in.readAllBytes());
        }
        return new Response(status, headers, all, body.toString(StandardCharsets.UTF_8));
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new EOFException("the connection closed" + (b.size() > 0 ? " after " + b : ""));
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** True when the server closed the connection (reads end of stream, or a reset). */
    public boolean closedByServer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
