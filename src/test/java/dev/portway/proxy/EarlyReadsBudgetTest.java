package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.net.Transport;
import dev.portway.testing.TestCluster;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a client sends before its upstream connection is made waits in the proxy. A client that
 * sends and ends its side has Netty's native transports read it all at once (epoll's and io_uring's
 * receive handles read to the end of the input after an RDHUP, whatever was asked): its whole
 * receive buffer, about two
 * mebibytes, held while the upstream is connected (up to three attempts of two seconds), and counted
 * nowhere, so ten thousand such connections to an endpoint that drops SYNs could hold gigabytes.
 * Those reads now count in the relays' budget of held reads, and past twice that budget a client
 * holding more than 64 KiB so is reset.
 */
class EarlyReadsBudgetTest {

    private TestCluster cluster;
    private ServerSocket backend;
    private final List<Socket> fillers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster();
        Assumptions.assumeTrue(cluster.local().dataPlane().transport() != Transport.NIO,
                "only the native transports read a half-closed client unasked");
        // an endpoint whose accept queue is full: the proxy's SYNs are dropped, its connect waits
        backend = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        cluster.apply(TestCluster.serviceTo("slow", "note: x", backend.getLocalPort(), "127.0.0.1"));
        cluster.settle();
        try {
            for (int i = 0; i < 4; i++) {
                Socket f = new Socket();
                fillers.add(f);
                f.connect(new InetSocketAddress("127.0.0.1", backend.getLocalPort()), 200);
            }
        } catch (IOException full) {
            // the queue is full
        }
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket f : fillers) {
            f.close();
        }
        if (backend != null) {
            backend.close();
        }
        cluster.close();
    }

    /** Connects to the Service, sends a mebibyte and ends its side; returns the socket. */
    private Socket sendAndEnd() throws IOException {
        Socket client = new Socket();
        client.connect(new InetSocketAddress(cluster.clusterIp("slow"), 8000), 5000);
        client.getOutputStream().write(new byte[1 << 20]);
        client.shutdownOutput();
        return client;
    }

    @SuppressWarnings("try") // the resource is held open, or closed early, on purpose
    @Test
    void readsHeldBeforeTheUpstreamIsMadeAreCounted() throws Exception {
        long base = HeldReads.held();
        try (Socket client = sendAndEnd()) {
            await().atMost(Duration.ofSeconds(3)).until(() -> HeldReads.held() - base >= 1 << 20);
        }
        // the client's close goes with the upstream's failure (or sooner): what was held is given back (the count is
        // the process's: a connection of an earlier test class that closes meanwhile gives back its own too)
        await().atMost(Duration.ofSeconds(10)).until(() -> HeldReads.held() <= base);
    }

    @Test
    void pastTwiceTheBudgetAClientHoldingMoreIsReset() throws Exception {
        long budget = HeldReads.budget(0);
        try (Socket client = sendAndEnd()) {
            client.setSoTimeout(10_000);
            long start = System.nanoTime();
            InputStream in = client.getInputStream();
            IOException reset = null;
            try {
                in.read();
            } catch (IOException e) {
                reset = e;
            }
            assertThat(reset).as("reset, not ended when the connect attempts give up").isNotNull();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("before the first connect attempt ends").isLessThan(Duration.ofMillis(1500));
        } finally {
            HeldReads.budget(budget);
        }
    }
}
