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
}
