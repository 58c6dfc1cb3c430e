package dev.portway.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.PortwayProcess;
import dev.portway.testing.TestCluster;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ten thousand concurrent connections held through a NodePort, and what each costs Portway.
 *
 * <p>Three processes, so that each has its own descriptor limit: {@code ./portway up} (two
 * descriptors per relayed connection: the client's and the upstream's), an {@link
 * dev.portway.testing.EchoHolder} backend, and this JVM with the clients. Every connection echoes
 * a byte once all are open, so all of them were relayed at the same moment.
 *
 * <p>A process cannot raise its hard limit of descriptors without CAP_SYS_RESOURCE, which even
 * root lacks in some containers. Where the hard limit leaves Portway fewer than 10,000 relays,
 * the test holds as many as it allows and says so.
 */
class ConnectionsHeldIT {

    private static final int GOAL = 10_000;
    private static final int NODE_PORT = 30999;

    @Test
    void tenThousandConnectionsHeldThroughANodePort(@TempDir Path dir) throws Exception {
        String backendIp = "127.0." + TestCluster.BLOCK + ".250";
        int backendPort;
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(backendIp, 0));
            backendPort = probe.getLocalPort();
        }
        Process backend = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-Xmx64m",
                "-cp", Path.of("target", "test-classes").toString(), "dev.portway.testing.EchoHolder", backendIp, Integer.toString(backendPort))
                .redirectErrorStream(true).start();
        List<SocketChannel> clients = new ArrayList<>();
        try {
            BufferedReader backendOut = new BufferedReader(new InputStreamReader(backend.getInputStream(), StandardCharsets.UTF_8));
            assertThat(backendOut.readLine()).isEqualTo("listening");

            Path manifest = dir.resolve("held.yaml");
            Files.writeString(manifest, """
                    apiVersion: v1
                    kind: Service
                    metadata: {name: held}
                    spec:
                      type: NodePort
                      ports: [{name: echo, port: 7000, targetPort: %2$d, nodePort: %3$d}]
                    ---
                    apiVersion: discovery.k8s.io/v1
                    kind: EndpointSlice
                    metadata:
                      name: held-1
                      labels: {kubernetes.io/service-name: held}
                    addressType: IPv4
                    ports: [{name: echo, port: %2$d, protocol: TCP}]
                    endpoints:
                    - addresses: [%1$s]
                      conditions: {ready: true}
                    """.formatted(backendIp, backendPort, NODE_PORT));
            try (PortwayProcess portway = PortwayProcess.up(dir.resolve("state"), manifest)) {
                InetSocketAddress nodePort = new InetSocketAddress(PortwayProcess.nodeIp(), NODE_PORT);
                // warm up: the JIT, the pools, the listener
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                    try (SocketChannel c = SocketChannel.open(nodePort)) {
                        return echo(c, (byte) 1);
                    }
                });
                for (int i = 0; i < 1000; i++) {
                    try (SocketChannel c = SocketChannel.open(nodePort)) {
                        assertThat(echo(c, (byte) i)).isTrue();
                    }
                }
                long idleFds = descriptors(portway);
                long hardLimit = hardLimitOfDescriptors(portway);
                // the data plane holds what its descriptors allow less a reserve for the rest of the process
                // (DataPlane.DESCRIPTOR_RESERVE): past it, connections are reset
                // (the cap is reckoned from the soft limit, which the JVM raises to the hard one)
                long softLimit = limitOfDescriptors(portway, 3);
                int n = (int) Math.min(GOAL, Math.min((hardLimit - idleFds - 200) / 2,
                        (softLimit - dev.portway.proxy.DataPlane.DESCRIPTOR_RESERVE) / 2 - 1));
                long rssBefore = portway.residentBytes();

                long started = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    clients.add(SocketChannel.open(nodePort));
                }
                long openedMs = (System.nanoTime() - started) / 1_000_000;
                for (int i = 0; i < n; i++) {
                    assertThat(echo(clients.get(i), (byte) i)).as("connection %d answers", i).isTrue();
                }
                long heldFds = descriptors(portway);
                long rssHeld = portway.residentBytes();
                // a few of the warm-up's descriptors may still have been closing when they were counted
                assertThat(heldFds - idleFds).as("two descriptors per relayed connection").isGreaterThanOrEqualTo(2L * n - 20);
                for (int i = 0; i < n; i++) {
                    assertThat(echo(clients.get(i), (byte) (i + 7))).as("connection %d still answers", i).isTrue();
                }
                FaultsUnderLoadTest.report(n + " connections held at once through a NodePort (goal " + GOAL
                        + (n < GOAL ? "; Portway's hard limit of " + hardLimit + " descriptors, less a reserve of "
                        + dev.portway.proxy.DataPlane.DESCRIPTOR_RESERVE + " for the rest of the process, allows no more" : "")
                        + "), opened in " + openedMs + " ms; Portway's RSS " + rssBefore / (1024 * 1024) + " MB -> "
                        + rssHeld / (1024 * 1024) + " MB: " + (rssHeld - rssBefore) / n + " bytes per connection");

                for (SocketChannel c : clients) {
                    c.close();
                }
                clients.clear();
                await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                        .until(() -> descriptors(portway) < idleFds + 100);
            }
        } finally {
            for (SocketChannel c : clients) {
                c.close();
            }
            backend.destroy();
        }
    }

    /** Writes {@code b} and reads it back. */
    private static boolean echo(SocketChannel c, byte b) throws IOException {
        c.write(ByteBuffer.wrap(new byte[] {b}));
        ByteBuffer in = ByteBuffer.allocate(1);
        return c.read(in) == 1 && in.get(0) == b;
    }

    private static long descriptors(PortwayProcess p) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(p.process().pid()), "fd"))) {
            return fds.count();
        }
    }

    private static long hardLimitOfDescriptors(PortwayProcess p) throws IOException {
        return limitOfDescriptors(p, 4);
    }

    /** A column of /proc/PID/limits' "Max open files" line: 3 the soft limit, 4 the hard one. */
    private static long limitOfDescriptors(PortwayProcess p, int column) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.process().pid()), "limits"))) {
            if (line.startsWith("Max open files")) {
                String[] f = line.trim().split("\\s+");
                return f[column].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[column]);
            }
        }
        throw new IOException("no \"Max open files\" in /proc/" + p.process().pid() + "/limits");
    }
}
