package dev.portway.incluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.net.Transport;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The controller's metrics endpoint listens on 127.0.0.1 by default, on the user's own machine:
 * a web page that rebinds its DNS name to 127.0.0.1 read the real cluster's Services, addresses
 * and nodes through it (the admin API refuses such names; this endpoint answered them).
 */
class MetricsServerTest {

    @Test
    void onALoopbackAddressOnlyRequestsThatNameItByAddressOrAsLocalhostAreAnswered() throws Exception {
        try (MetricsServer server = new MetricsServer(Transport.best(), new PrometheusRegistry(), () -> true, () -> true)) {
            InetSocketAddress at = server.start(new InetSocketAddress("127.0.0.1", 0));
            int port = at.getPort();
            assertThat(status(at, "127.0.0.1:" + port)).isEqualTo(200);
            assertThat(status(at, "localhost:" + port)).isEqualTo(200);
            assertThat(status(at, "[::1]:" + port)).isEqualTo(200);
            assertThat(status(at, "127.0.0.1")).isEqualTo(200);
            assertThat(status(at, "rebound.example:" + port)).isEqualTo(403);
            assertThat(status(at, "localhost.rebound.example")).isEqualTo(403);
            assertThat(status(at, null)).isEqualTo(403);
        }
        assertThat(MetricsServer.namesByAddress("[::1")).isFalse();
    }

    private static int status(InetSocketAddress at, String host) throws Exception {
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            String head = host == null ? "GET /metrics HTTP/1.0\r\n\r\n" : "GET /metrics HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String line = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            return Integer.parseInt(line.substring(9, 12));
        }
    }
}
