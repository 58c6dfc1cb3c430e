package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portway.net.Transport;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A relayed TCP connection passes a half-close on as a half-close, as a NAT would, whichever side
 * ends first: the other side may still send, and what it sends arrives before the end. On every
 * transport: a client that sends and ends at once (as {@code nc -N} does) ends before its upstream
 * connection is made, and Netty's epoll transport reads what it sent unasked; that was lost, and
 * the connection closed unanswered.
 */
class HalfCloseTest {

    @AutoClose
    private ServerSocket backend;
    @AutoClose
    private OneServicePlane relay;
    private InetSocketAddress service;

    void start(Transport transport) throws Exception {
        assumeTrue(transport.isAvailable(), transport + " is not available here");
        backend = new ServerSocket(0, 50, InetAddress.getByName("127.0.63.10"));
        relay = new OneServicePlane(transport, "127.0.63.1", new InetSocketAddress("127.0.63.10", backend.getLocalPort()));
        service = relay.service;
    }

    private static String readToEnd(InputStream in) throws Exception {
        return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }

    /**
     * A backend that resets its connection mid-answer has the client's connection reset, as a NAT
     * passes the reset on: passed on as an end, a client reading to the end took half an answer for
     * the whole one.
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void aResetFromTheBackendReachesTheClientAsAReset(Transport transport) throws Exception {
        start(transport);
        java.util.concurrent.CountDownLatch halfRead = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<Void> backendSide = CompletableFuture.runAsync(() -> {
            try {
                Socket s = backend.accept();
                s.setSoTimeout(10_000);
                s.getInputStream().read();
                s.getOutputStream().write("half of it".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                halfRead.await(10, java.util.concurrent.TimeUnit.SECONDS); // the client has the half
                s.setSoLinger(true, 0);
                s.close(); // RST
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (Socket client = new Socket()) {
            client.connect(service, 5000);
            client.setSoTimeout(10_000);
            client.getOutputStream().write("?".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(client.getInputStream().readNBytes(10), StandardCharsets.US_ASCII)).isEqualTo("half of it");
            halfRead.countDown();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> readToEnd(client.getInputStream()))
                    .as("a reset, not an end").isInstanceOf(java.net.SocketException.class);
        }
        backendSide.get();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void theClientEndsFirstAndStillGetsTheAnswer(Transport transport) throws Exception {
        start(transport);
        CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
            try (Socket s = backend.accept()) {
                s.setSoTimeout(10_000);
                String got = readToEnd(s.getInputStream());
                s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
                return got;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (Socket client = new Socket()) {
            client.connect(service, 5000);
            client.setSoTimeout(10_000);
            client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            assertThat(readToEnd(client.getInputStream())).isEqualTo("bye");
        }
        assertThat(received.get()).isEqualTo("hello");
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void theBackendEndsFirstAndStillGetsWhatTheClientSendsAfter(Transport transport) throws Exception {
        start(transport);
        CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
            try (Socket s = backend.accept()) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("first".getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                return readToEnd(s.getInputStream());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (Socket client = new Socket()) {
            client.connect(service, 5000);
            client.setSoTimeout(10_000);
            assertThat(readToEnd(client.getInputStream())).as("the backend's answer, then its end").isEqualTo("first");
            client.getOutputStream().write("more".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput();
            assertThat(received.get()).as("sent after the backend's end, still delivered, then the end").isEqualTo("more");
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }
    }
}
