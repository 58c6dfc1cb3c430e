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
        fake = gw.own(new java.net.ServerSocket());
        fake.bind(new InetSocketAddress(GatewayFixture.endpointIp(71), GatewayFixture.PORT));
        gw.cluster("fake", (InetSocketAddress) fake.getLocalSocketAddress());
        listener = gw.listen(70, host(null, rule("default/ws", prefix("/ws"), to("ws")), rule("default/fake", prefix("/fake"), to("fake"))));
    }

    /** An endpoint that answers every request with a 101 of its own making (as one that echoes a status it is given). */
    private static java.net.ServerSocket fake;

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

    /**
     * Only a 101 that completes the WebSocket handshake (Upgrade: websocket, and the
     * Sec-WebSocket-Accept of the request's key) opens a tunnel. Any 101 did: from an endpoint that
     * can be made to answer 101 (one that relays a status it is given), the client's next bytes
     * reached it as requests that no route or access policy had judged (WebSocket smuggling).
     */
    @Test
    void a101ThatDoesNotCompleteTheHandshakeOpensNoTunnel() throws Exception {
        String key = "dGhlIHNhbXBsZSBub25jZQ==";
        assertThat(HttpExchange.acceptOf(key)).as("RFC 6455's example").isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        String[] answers = {"Upgrade: websocket\r\nConnection: Upgrade\r\n",
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n",
            "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"};
        for (String answer : answers) {
            CompletableFuture<String> after = CompletableFuture.supplyAsync(() -> {
                try (java.net.Socket s = fake.accept()) {
                    s.setSoTimeout(3000);
                    java.io.InputStream in = s.getInputStream();
                    StringBuilder head = new StringBuilder();
                    while (!head.toString().endsWith("\r\n\r\n")) {
                        head.append((char) in.read());
                    }
                    s.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\n" + answer + "\r\n")
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1); // what follows, to the close
                } catch (java.io.IOException e) {
                    return "closed: " + e;
                }
            });
            try (dev.portway.testing.RawHttp c = new dev.portway.testing.RawHttp(listener)) {
                c.send("GET /fake?status=101 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n\r\n"
                        + "GET /internal/admin HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(c.read().status()).as(answer).isEqualTo(502);
            }
            assertThat(after.get(10, TimeUnit.SECONDS)).as(answer).doesNotContain("/internal/admin");
        }
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
