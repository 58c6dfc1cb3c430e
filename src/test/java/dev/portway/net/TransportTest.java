package dev.portway.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TransportTest {

    /**
     * With nothing asked, io_uring where the kernel gives it (about one system call a request
     * against epoll's four and a wait), else epoll, else NIO; {@code portway.transport} names another.
     */
    @Test
    void theDefaultIsIoUringWhereTheKernelGivesItThenEpollThenNio() {
        String asked = System.getProperty("portway.transport");
        try {
            System.clearProperty("portway.transport");
            Transport expected = Transport.IO_URING.isAvailable() ? Transport.IO_URING
                    : Transport.EPOLL.isAvailable() ? Transport.EPOLL : Transport.NIO;
            assertThat(Transport.best()).isEqualTo(expected);
            assertThat(expected.unavailability()).isNull();
            System.setProperty("portway.transport", "epoll");
            assertThat(Transport.best()).isEqualTo(Transport.EPOLL.isAvailable() ? Transport.EPOLL : Transport.NIO);
            System.setProperty("portway.transport", "nio");
            assertThat(Transport.best()).isEqualTo(Transport.NIO);
        } finally {
            if (asked == null) {
                System.clearProperty("portway.transport");
            } else {
                System.setProperty("portway.transport", asked);
            }
        }
        assertThat(Transport.IO_URING.label()).isEqualTo("io_uring");
    }

    /** Each event loop's thread has a name of its own, even as the kernel keeps it (15 bytes), past nine loops too. */
    @Test
    void eventLoopThreadsAreNumberedWithinWhatLinuxKeepsOfTheirName() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "Linux's /proc");
        EventLoopGroup group = Transport.best().newGroup(12, "pw-proxy");
        try {
            List<String> names = new ArrayList<>();
            List<String> kernelNames = new ArrayList<>();
            for (EventExecutor loop : group) {
                loop.submit(() -> {
                    names.add(Thread.currentThread().getName());
                    assertThat(Thread.currentThread().isDaemon()).isTrue();
                    long tid = Long.parseLong(Path.of("/proc/thread-self").toRealPath().getFileName().toString());
                    kernelNames.add(Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).strip());
                    return null;
                }).get();
            }
            assertThat(names).containsExactlyInAnyOrderElementsOf(
                    java.util.stream.IntStream.rangeClosed(1, 12).mapToObj(i -> "pw-proxy-" + i).toList());
            assertThat(kernelNames).containsExactlyInAnyOrderElementsOf(names);
        } finally {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A bootstrap that could not make its channel (no descriptor left) hands back a failed one;
     * closing it is a no-op, not a warning with a stack trace for every refused connection.
     */
    @Test
    void closingAChannelNettyCouldNotMakeLogsNothing() throws Exception {
        EventLoopGroup group = Transport.best().newGroup(1, "pw-test");
        java.io.PrintStream err = System.err;
        var captured = new java.io.ByteArrayOutputStream();
        try {
            io.netty.channel.ChannelFuture f = new io.netty.bootstrap.Bootstrap().group(group)
                    .channelFactory(() -> {
                        throw new IllegalStateException("too many open files (the test's)");
                    })
                    .handler(new io.netty.channel.ChannelInboundHandlerAdapter())
                    .register();
            assertThat(f.isDone()).isTrue();
            assertThat(f.cause()).hasMessageContaining("too many open files");
            System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
            Transport.close(f.channel());
        } finally {
            System.setErr(err);
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
        assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8)).isEmpty();
    }

    /**
     * A socket bound to a source address before it connects takes its port at the connect, on
     * both native transports (io_uring's channels did not set it): the kernel reads the option back.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(names = {"EPOLL", "IO_URING"})
    void socketsBoundToASourceTakeTheirPortAtConnect(Transport transport) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(transport.isAvailable(), transport + " here");
        EventLoopGroup group = transport.newGroup(1, "pw-test");
        try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            java.net.InetAddress source = java.net.InetAddress.getByName("127.0.0.2");
            io.netty.bootstrap.Bootstrap b = new io.netty.bootstrap.Bootstrap().group(group)
                    .channelFactory(transport.socketChannelFactory(source))
                    .handler(new io.netty.channel.ChannelInboundHandlerAdapter());
            transport.sourcePortAtConnect(b);
            io.netty.channel.Channel ch = b.connect(server.getLocalSocketAddress(), new java.net.InetSocketAddress(source, 0)).sync().channel();
            try {
                assertThat(ch.config().getOption(new io.netty.channel.unix.IntegerUnixChannelOption("IP_BIND_ADDRESS_NO_PORT", 0, 24)))
                        .isEqualTo(1);
                assertThat(((java.net.InetSocketAddress) ch.localAddress()).getAddress()).isEqualTo(source);
            } finally {
                ch.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }
}
