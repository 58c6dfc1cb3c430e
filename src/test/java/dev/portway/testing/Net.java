package dev.portway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Real clients on loopback for data plane tests: HTTP/1.1 over a plain socket (so the client's
 * own address can be chosen), raw TCP and UDP.
 */
public final class Net {

    private static final int TIMEOUT_MILLIS = 5000;

    private Net() {
    }

    /** An HTTP response. */
    public record Response(int status, Map<String, String> headers, String body) {
        /** The echo pod that answered. */
        public String pod() {
            return headers.get("x-portway-pod");
        }

        public String node() {
            return headers.get("x-portway-node");
        }

        /** A line of the echo's text body, like {@code client: 127.0.0.1:1234} → its value. */
        public String echo(String key) {
            for (String line : body.split("\n")) {
                if (line.startsWith(key + ": ")) {
                    return line.substring(key.length() + 2);
                }
            }
            return null;
        }
    }

    public static Response get(String host, int port, String path) throws IOException {
        return get(host, port, path, null);
    }

    /** GET with Connection: close, from {@code clientIp} (null: any). */
    public static Response get(String host, int port, String path, String clientIp) throws IOException {
        try (Socket socket = new Socket()) {
            if (clientIp != null) {
                socket.bind(new InetSocketAddress(clientIp, 0));
            }
            socket.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return parse(socket.getInputStream().readAllBytes());
        }
    }

    static Response parse(byte[] raw) throws IOException {
        String text = new String(raw, StandardCharsets.UTF_8);
        int headEnd = text.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            throw new IOException("no HTTP response (" + raw.length + " bytes)");
        }
        String[] lines = text.substring(0, headEnd).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        return new Response(status, headers, text.substring(headEnd + 4));
    }

    /** A raw TCP connection, for long-lived traffic. */
    public static final class Connection implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        public Connection(String host, int port, String clientIp) throws IOException {
            socket = new Socket();
            if (clientIp != null) {
                socket.bind(new InetSocketAddress(clientIp, 0));
            }
            socket.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        /** Sends {@code text} and reads back as many bytes (the echo). */
        public String echo(String text) throws IOException {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            out.write(bytes);
            out.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            while (got.size() < bytes.length) {
                int n = in.read(buf);
                if (n < 0) {
                    throw new IOException("closed after " + got.size() + " bytes");
                }
                got.write(buf, 0, n);
            }
            return got.toString(StandardCharsets.UTF_8);
        }

        /** Sends an HTTP request on this (kept-alive) connection and reads one response. */
        public Response request(String path) throws IOException {
            out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    throw new IOException("closed");
                }
                got.write(buf, 0, n);
                String s = got.toString(StandardCharsets.UTF_8);
                int headEnd = s.indexOf("\r\n\r\n");
                if (headEnd >= 0) {
                    Response head = parse(got.toByteArray());
                    int length = Integer.parseInt(head.headers().getOrDefault("content-length", "0"));
                    if (got.size() - headEnd - 4 >= length) {
                        return head;
                    }
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** Sends one datagram from {@code clientIp} and waits for the answer. */
    public static String udp(String host, int port, String text, String clientIp) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(clientIp == null ? new InetSocketAddress(0) : new InetSocketAddress(clientIp, 0))) {
            socket.setSoTimeout(TIMEOUT_MILLIS);
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress(host, port)));
            byte[] buf = new byte[65536];
            DatagramPacket reply = new DatagramPacket(buf, buf.length);
            socket.receive(reply);
            return new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
        }
    }

    /**
     * A client that reads nothing: connects with small socket buffers and writes {@code bytes}
     * without reading until the server stops taking them (no progress for a second; 20 s at
     * most). Returns the connection, in blocking mode with a 10 s read timeout, and leaves
     * {@code bytes}' position at how much was sent.
     */
    public static java.nio.channels.SocketChannel sendWithoutReading(InetSocketAddress to, java.nio.ByteBuffer bytes)
            throws IOException {
        java.nio.channels.SocketChannel s = java.nio.channels.SocketChannel.open();
        try {
            s.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 16 * 1024);
            s.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 16 * 1024);
            s.connect(to);
            s.configureBlocking(false);
            long deadline = System.nanoTime() + 20_000_000_000L;
            try (java.nio.channels.Selector selector = java.nio.channels.Selector.open()) {
                var key = s.register(selector, java.nio.channels.SelectionKey.OP_WRITE);
                // write while the socket takes bytes; a second in which it cannot take any ends it
                while (bytes.hasRemaining() && System.nanoTime() < deadline && selector.select(1000) > 0) {
                    selector.selectedKeys().clear();
                    s.write(bytes);
                }
                key.cancel();
                selector.selectNow(); // the cancelled key is deregistered: the channel may block again
            }
            s.configureBlocking(true);
            s.socket().setSoTimeout(10_000);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }
}
