package dev.portway.admin;

import dev.portway.admin.auth.AdminCredentials;
import dev.portway.control.ClusterConfig;
import dev.portway.control.ControlPlane;
import dev.portway.net.Transport;
import dev.portway.store.Store;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** An admin server of its own for each test, on a control plane and store of its own, with the options a class chooses. */
abstract class AdminServerTestBase {

    @TempDir
    Path dir;

    ControlPlane control;
    EventLoopGroup group;
    AdminServer server;
    InetSocketAddress address;
    SSLContext tls;
    AdminCredentials credentials;

    /** The server's options for this class's tests. */
    abstract AdminServer.Options options(AdminCredentials credentials);

    @BeforeEach
    void start() throws Exception {
        credentials = AdminCredentials.loadOrCreate(dir.resolve("state"), List.of("127.0.0.1"), Clock.systemUTC());
        control = new ControlPlane(new Store(), ClusterConfig.local(), new Random(1));
        group = Transport.NIO.newGroup(1, getClass().getSimpleName());
        server = new AdminServer(control, Transport.NIO, group, options(credentials));
        address = server.start(new InetSocketAddress("127.0.0.1", 0));
        tls = dev.portway.testing.AdminHttp.trusting(credentials.ca().cert());
    }

    @AfterEach
    void stop() {
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        control.close();
    }

    SSLSocket connect() throws Exception {
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(address.getHostString(), address.getPort());
        s.setSoTimeout(5000);
        s.startHandshake();
        return s;
    }

    /** The answer's status line and fields, nothing after them read. */
    static String head(SSLSocket s) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        java.io.InputStream in = s.getInputStream();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        return head.toString();
    }
}
