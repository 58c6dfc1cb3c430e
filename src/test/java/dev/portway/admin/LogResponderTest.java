package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LogResponderTest {

    /** A finished log holding {@code text}. */
    private static class FixedLog implements PodLogs.LogStream {
        final byte[] text;

        FixedLog(String text) {
            this.text = text.getBytes(StandardCharsets.US_ASCII);
        }

        @Override
        public long tailStart(int lines) {
            return 0;
        }

        @Override
        public PodLogs.Chunk read(long position, byte[] buf) {
            int n = (int) Math.max(0, Math.min(buf.length, text.length - position));
            System.arraycopy(text, (int) Math.min(position, text.length), buf, 0, n);
            return new PodLogs.Chunk(position, n);
        }

        @Override
        public long end() {
            return text.length;
        }

        @Override
        public boolean finished() {
            return true;
        }
    }

    /** A server on {@code loop} answering each connection with {@code stream}, and a client putting what it reads in {@code received}. */
    private static Channel[] serve(EventLoopGroup loop, PodLogs.LogStream stream, Long limitBytes, boolean timestamps,
                                   boolean http10, StringBuffer received, CountDownLatch closed) throws InterruptedException {
        LocalAddress address = new LocalAddress("log-responder-" + System.nanoTime());
        Channel server = new ServerBootstrap().group(loop).channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<LocalChannel>() {
                    @Override
                    protected void initChannel(LocalChannel ch) {
                        ch.pipeline().addLast(new HttpResponseEncoder(), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                LogResponder.respond(ctx, stream, 0, false, limitBytes, timestamps, !http10, http10, () -> { });
                            }
                        });
                    }
                }).bind(address).sync().channel();
        Channel client = new Bootstrap().group(loop).channel(LocalChannel.class).handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                received.append(b.toString(StandardCharsets.US_ASCII));
                b.release();
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                closed.countDown();
            }
        }).connect(address).channel();
        return new Channel[] {server, client};
    }

    /**
     * A log is read off the event loop: a read waits for the log's writer (they share its lock)
     * and for the disk, and the API server has one event loop for every connection. A read that
     * hung on a slow disk used to stall them all.
     */
    @Test
    void aLogReadThatHangsHoldsNoEventLoop() throws Exception {
        CountDownLatch disk = new CountDownLatch(1);
        CountDownLatch reading = new CountDownLatch(1);
        PodLogs.LogStream hung = new FixedLog("hello\n") {
            @Override
            public PodLogs.Chunk read(long position, byte[] buf) {
                reading.countDown();
                try {
                    disk.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.read(position, buf);
            }
        };
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        try {
            StringBuffer received = new StringBuffer();
            Channel[] channels = serve(loop, hung, null, false, false, received, new CountDownLatch(1));
            assertThat(reading.await(10, TimeUnit.SECONDS)).as("the log is being read").isTrue();
            // while the read hangs, the event loop still runs what else it is given
            assertThat(loop.next().submit(() -> true).get(2, TimeUnit.SECONDS)).isTrue();
            disk.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> received.toString().endsWith("0\r\n\r\n"));
            assertThat(received.toString()).startsWith("HTTP/1.1 200 OK").contains("\r\n6\r\nhello\n\r\n");
            channels[1].close().sync();
            channels[0].close().sync();
        } finally {
            disk.countDown();
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** A finished log of three lines, written at three times (one second apart, from 2026-12-01T10:00:00.5Z). */
    private static PodLogs.LogStream threeLines() {
        long t0 = java.time.Instant.parse("2026-12-01T10:00:00.5Z").toEpochMilli() * 1_000_000L;
        return new FixedLog("one\ntwo\nthree\n") {
            @Override
            public long writtenAt(long position) {
                return t0 + (position < 4 ? 0 : position < 8 ? 1_000_000_000L : 2_000_000_123L);
            }
        };
    }

    /** The body of the answer {@link LogResponder} gives for {@code stream} to an HTTP/1.0 client (no chunks). */
    private static String body(PodLogs.LogStream stream, boolean timestamps, Long limitBytes) throws Exception {
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        try {
            StringBuffer received = new StringBuffer();
            CountDownLatch closed = new CountDownLatch(1);
            Channel[] channels = serve(loop, stream, limitBytes, timestamps, true, received, closed);
            assertThat(closed.await(10, TimeUnit.SECONDS)).as("an HTTP/1.0 answer ends with its connection").isTrue();
            channels[0].close().sync();
            String all = received.toString();
            return all.substring(all.indexOf("\r\n\r\n") + 4);
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void withTimestampsEachLineBeginsWithWhenItWasWritten() throws Exception {
        assertThat(body(threeLines(), false, null)).isEqualTo("one\ntwo\nthree\n");
        // Go's RFC3339Nano, as the kubelet writes it: the fraction's trailing zeros dropped
        assertThat(body(threeLines(), true, null)).isEqualTo("""
                2026-12-01T10:00:00.5Z one
                2026-12-01T10:00:01.5Z two
                2026-12-01T10:00:02.500000123Z three
                """);
        // limitBytes counts what is sent, timestamps included (the kubelet's limit wraps its output)
        assertThat(body(threeLines(), true, 30L)).isEqualTo("2026-12-01T10:00:00.5Z one\n202");
        assertThat(body(threeLines(), false, 5L)).isEqualTo("one\nt");
        assertThat(LogResponder.rfc3339Nano(java.time.Instant.parse("2026-12-01T10:00:00Z").toEpochMilli() * 1_000_000L))
                .isEqualTo("2026-12-01T10:00:00Z");
    }
}
