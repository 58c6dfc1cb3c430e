package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.admin.auth.AdminCredentials;
import dev.portway.control.ClusterConfig;
import dev.portway.control.ControlPlane;
import dev.portway.net.Transport;
import dev.portway.store.Store;
import io.netty.channel.EventLoopGroup;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin server's own limits, with short settings: connections over the cap, slow requests, idle connections. */
class AdminServerLimitsTest {

    @TempDir
    Path dir;

    private ControlPlane control;
    private EventLoopGroup group;
    private AdminServer server;
    private InetSocketAddress address;
    private SSLContext tls;
    private AdminCredentials credentials;

    @BeforeEach
    void start() throws Exception {
        credentials = AdminCredentials.loadOrCreate(dir.resolve("state"), List.of("127.0.0.1"), Clock.systemUTC());
        control = new ControlPlane(new Store(), ClusterConfig.local(), new Random(1));
        group = Transport.NIO.newGroup(1, "limits-test");
        server = new AdminServer(control, Transport.NIO, group, new AdminServer.Options(credentials, Set.of(), 2,
                Duration.ofMillis(800), Duration.ofMillis(4000), Duration.ofMillis(700), 1024, 4096));
        address = server.start(new InetSocketAddress("127.0.0.1", 0));
        tls = dev.portway.testing.AdminHttp.trusting(credentials.ca().cert());
    }

    @AfterEach
    void stop() {
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        control.close();
    }

    private SSLSocket connect() throws Exception {
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(address.getHostString(), address.getPort());
        s.setSoTimeout(5000);
        s.startHandshake();
        return s;
    }

    private static boolean closedByServer(SSLSocket s) {
        try {
            InputStream in = s.getInputStream();
            return in.read() < 0;
        } catch (java.io.IOException e) {
            return true;
        }
    }

    @Test
    void connectionsOverTheCapAreClosedAtOnce() throws Exception {
        List<SSLSocket> open = new ArrayList<>();
        open.add(connect());
        open.add(connect());
        await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 2);
        var third = new java.net.Socket(address.getHostString(), address.getPort());
        third.setSoTimeout(5000);
        assertThat(third.getInputStream().read()).as("closed without a byte").isEqualTo(-1);
        third.close();
        for (SSLSocket s : open) {
            s.close();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
        try (SSLSocket again = connect()) {
            again.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            assertThat(new String(again.getInputStream().readNBytes(15), StandardCharsets.UTF_8)).isEqualTo("HTTP/1.1 200 OK");
        }
    }

    @Test
    void aClientThatPipelinesRequestsAndReadsNoAnswerIsNotAnsweredWithoutBound() throws Exception {
        int asked = 100_000;
        byte[] one = ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\nAuthorization: Bearer " + credentials.token() + "\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (SSLSocket s = connect()) {
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < asked; i += 100) {
                        java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
                        for (int j = 0; j < 100; j++) {
                            batch.writeBytes(one);
                        }
                        s.getOutputStream().write(batch.toByteArray());
                    }
                } catch (java.io.IOException e) {
                    // closed by the server: expected
                }
            });
            writer.join(20_000);
            // the answers that did go out, then the end: the server stopped answering a client that read none
            // closed with requests of the client's still unread, the end may come as a reset
            java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[64 * 1024];
            try {
                for (int n; (n = s.getInputStream().read(buf)) >= 0;) {
                    read.write(buf, 0, n);
                }
            } catch (java.io.IOException e) {
                // reset (or TLS cut short by it): the end all the same
            }
            byte[] all = read.toByteArray();
            int answered = new String(all, java.nio.charset.StandardCharsets.US_ASCII).split("HTTP/1.1 200", -1).length - 1;
            assertThat(answered).as("answers written for %d requests, none read while they were sent", asked).isLessThan(asked);
        }
    }

    @Test
    void aRequestThatTricklesInIsCutOffAfterTheReadTimeout() throws Exception {
        try (SSLSocket s = connect()) {
            s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            long start = System.nanoTime();
            assertThat(closedByServer(s)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
        }
    }

    @Test
    void aConnectionThatSendsNoRequestIsClosedAfterTheHeaderTimeout() throws Exception {
        try (SSLSocket s = connect()) {
            long start = System.nanoTime();
            assertThat(closedByServer(s)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void anAuthenticatedClientKeepsItsConnectionForTheIdleTimeout() throws Exception {
        try (SSLSocket s = connect()) {
            s.getOutputStream().write(("GET /version HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\nAuthorization: Bearer "
                    + credentials.token() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            assertThat(new String(s.getInputStream().readNBytes(15), StandardCharsets.UTF_8)).isEqualTo("HTTP/1.1 200 OK");
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(2)).until(() -> server.openConnections() == 1);
            await().atMost(Duration.ofSeconds(6)).until(() -> server.openConnections() == 0);
        }
    }

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (SSLSocket s = connect()) {
            s.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            byte[] head = s.getInputStream().readNBytes(15);
            assertThat(new String(head, StandardCharsets.UTF_8)).isEqualTo("HTTP/1.1 200 OK");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
        }
    }
}
