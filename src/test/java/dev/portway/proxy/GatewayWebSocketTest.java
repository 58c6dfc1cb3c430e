package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A WebSocket through the gateway: the handshake routed like any request, then frames and close codes relayed as they are. */
class GatewayWebSocketTest {

    private static GatewayFixture gw;
    private static InetSocketAddress listener;
    private static EventLoopGroup group;
    private static Channel server;

    @BeforeAll
    static void start() throws Exception {
        gw = new GatewayFixture();
        // short, so that a tunnel is seen to outlive it
        gw.plane.httpSettings(HttpSettings.DEFAULTS.withHeaderTimeout(Duration.ofSeconds(1)));
        group = Transport.best().newGroup(1, "ws-backend");
        InetSocketAddress at = new InetSocketAddress(GatewayFixture.endpointIp(70), GatewayFixture.PORT);
        server = new ServerBootstrap().group(group).channel(Transport.best().serverChannel())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler(io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig.newBuilder()
                                        .websocketPath("/ws/echo").maxFramePayloadLength(1 << 20).build()), new SimpleChannelInboundHandler<WebSocketFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
                                        if (frame instanceof TextWebSocketFrame t) {
                                            ctx.writeAndFlush(new TextWebSocketFrame("echo: " + t.text()));
                                        } else if (frame instanceof BinaryWebSocketFrame b) {
                                            ctx.writeAndFlush(new BinaryWebSocketFrame(b.content().retain()));
                                        }
                                    }
                                });
                    }
                }).bind(at).sync().channel();
        gw.cluster("ws", at);
        listener = gw.listen(70, host(null, rule("default/ws", prefix("/ws"), to("ws"))));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @Test
    void aTunnelOutlivesTheTimersOfTheRequestThatOpenedIt() throws Exception {
        LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        WebSocket ws = open(texts, new LinkedBlockingQueue<>(), new CompletableFuture<>());
        ws.sendText("before", true).get(5, TimeUnit.SECONDS);
        assertThat(texts.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: before");
        // open all along, past the header timeout (1 s) its connection was accepted with
        org.awaitility.Awaitility.await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5))
                .until(() -> !ws.isInputClosed() && !ws.isOutputClosed());
        ws.sendText("after", true).get(5, TimeUnit.SECONDS);
        assertThat(texts.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: after");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }

    @Test
    void framesAndTheCloseCodeGoThroughTheGateway() throws Exception {
        LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Integer> binaries = new LinkedBlockingQueue<>();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        WebSocket ws = open(texts, binaries, closed);
        for (int i = 0; i < 50; i++) {
            ws.sendText("hello " + i, true).get(5, TimeUnit.SECONDS);
            assertThat(texts.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: hello " + i);
        }
        ws.sendBinary(ByteBuffer.allocate(300_000), true).get(5, TimeUnit.SECONDS);
        int got = 0;
        while (got < 300_000) {
            Integer n = binaries.poll(5, TimeUnit.SECONDS);
            assertThat(n).as("binary echo after %d bytes", got).isNotNull();
            got += n;
        }
        ws.sendClose(4001, "done").get(5, TimeUnit.SECONDS);
        assertThat(closed.get(5, TimeUnit.SECONDS)).as("the close code comes back unchanged").isEqualTo(4001);
    }

    private static WebSocket open(LinkedBlockingQueue<String> texts, LinkedBlockingQueue<Integer> binaries,
                                  CompletableFuture<Integer> closed) throws Exception {
        return HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create("ws://" + listener.getAddress().getHostAddress() + ":" + listener.getPort() + "/ws/echo"),
                        new WebSocket.Listener() {
                            @Override
                            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                                texts.add(data.toString());
                                w.request(1);
                                return null;
                            }

                            @Override
                            public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                                binaries.add(data.remaining());
                                w.request(1);
                                return null;
                            }

                            @Override
                            public CompletionStage<?> onClose(WebSocket w, int statusCode, String reason) {
                                closed.complete(statusCode);
                                return null;
                            }
                        }).get(10, TimeUnit.SECONDS);
    }
}
