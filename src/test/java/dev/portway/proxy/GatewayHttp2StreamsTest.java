package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.net.Transport;
import dev.portway.plan.Plan;
import dev.portway.testing.RawHttp;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** HTTP/2 streams as a client may leave them, or end them, over clear text with prior knowledge. */
class GatewayHttp2StreamsTest {

    private static GatewayFixture gw;
    private static InetSocketAddress clear;
    private static InetSocketAddress behindProxy;
    private static EventLoopGroup group;

    @BeforeAll
    static void start() throws Exception {
        gw = new GatewayFixture();
        gw.cluster("echo", gw.echo("echo", 63));
        clear = gw.listen(63, host(null, rule("default/echo", prefix("/"), to("echo"))));
        // a listener whose clients (loopback) are trusted proxies
        behindProxy = gw.listen(new Plan.HttpListener(new Plan.ListenerKey(Plan.Protocol.TCP,
                new InetSocketAddress(GatewayFixture.listenerIp(64), GatewayFixture.PORT)), "gateway default/proxied", List.of(), List.of(),
                List.of(host(null, rule("default/echo", prefix("/"), to("echo")))), List.of("127.0.0.0/8"), false));
        group = Transport.NIO.newGroup(1, "h2-streams-test");
    }

    @AfterAll
    static void stop() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        gw.close();
    }

    /** What one stream received: its frames, and its reset if any. */
    private static final class StreamEvents extends ChannelInboundHandlerAdapter {
        final List<Object> frames = new CopyOnWriteArrayList<>();
        final CompletableFuture<Http2ResetFrame> reset = new CompletableFuture<>();
        final CompletableFuture<Void> answered = new CompletableFuture<>();
        final StringBuilder body = new StringBuilder();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            frames.add(msg instanceof Http2HeadersFrame h ? h.headers().status() : msg.getClass().getSimpleName());
            if (msg instanceof Http2DataFrame d) {
                synchronized (body) {
                    body.append(d.content().toString(StandardCharsets.UTF_8));
                }
            }
            if ((msg instanceof Http2HeadersFrame h && h.isEndStream()) || (msg instanceof Http2DataFrame d && d.isEndStream())) {
                answered.complete(null);
            }
            io.netty.util.ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame r) {
                reset.complete(r);
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    /** An h2c connection with prior knowledge to {@code to}. */
    private static Channel connect(InetSocketAddress to) throws InterruptedException {
        return new Bootstrap().group(group).channel(Transport.NIO.socketChannel())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(), new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                }).connect(to).sync().channel();
    }

    private static Http2StreamChannel open(Channel connection, StreamEvents events) throws Exception {
        return new Http2StreamChannelBootstrap(connection).handler(events).open().get(5, TimeUnit.SECONDS);
    }

    /**
     * A stream the client never ends (HEADERS with a zero length and no END_STREAM) is reset with
     * NO_ERROR once answered, as RFC 9113 8.1 has it: it stayed half open, counted as active, with no
     * timer left to end it, and one such HEADERS frame held the connection and its slot for good.
     */
    @Test
    void aStreamTheClientNeverEndsIsResetOnceAnswered() throws Exception {
        Channel connection = connect(clear);
        try {
            StreamEvents events = new StreamEvents();
            Http2StreamChannel stream = open(connection, events);
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("GET").scheme("http").path("/open")
                    .authority("x").add("content-length", "0"), false));
            events.answered.get(5, TimeUnit.SECONDS);
            Http2ResetFrame reset = events.reset.get(5, TimeUnit.SECONDS);
            assertThat(reset.errorCode()).as("NO_ERROR").isZero();
            assertThat(events.frames.getFirst()).hasToString("200");
        } finally {
            connection.close().sync();
        }
    }

    /**
     * Request trailers end the body and go no further, whatever they hold: names an HTTP/1.1
     * trailer section may not hold ({@code content-length}, {@code trailer}) do not fail the stream
     * (a failed stream is reset with CANCEL, which Netty's rapid-reset limit does not count).
     */
    @Test
    void requestTrailersEndTheBodyWhateverTheyHold() throws Exception {
        Channel connection = connect(clear);
        try {
            for (int i = 0; i < 3; i++) {
                StreamEvents events = new StreamEvents();
                Http2StreamChannel stream = open(connection, events);
                stream.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").scheme("http").path("/trailers")
                        .authority("x"), false));
                stream.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("a=b", StandardCharsets.US_ASCII), false));
                stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("content-length", "0").add("trailer", "x"), true));
                events.answered.get(5, TimeUnit.SECONDS);
                assertThat(events.reset).as("not reset").isNotDone();
                assertThat(events.frames.getFirst()).hasToString("200");
                synchronized (events.body) {
                    assertThat(events.body.toString()).contains("POST /trailers");
                }
            }
        } finally {
            connection.close().sync();
        }
    }

    /**
     * No h2c upgrade for a trusted proxy's connection: such a proxy tunnels blindly after the 101
     * (h2c smuggling), and every stream would then come from its trusted address, with the client's
     * own forwarding and path-override headers kept. The request is answered as HTTP/1.1.
     */
    @Test
    void aTrustedProxysConnectionIsNotUpgradedToH2c() throws Exception {
        try (RawHttp c = new RawHttp(behindProxy)) {
            c.send("GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n");
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).contains("GET /up HTTP/1.1");
        }
        try (RawHttp c = new RawHttp(clear)) {
            c.send("GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n");
            assertThat(c.readHead().status()).as("elsewhere it still upgrades").isEqualTo(101);
        }
    }
}
