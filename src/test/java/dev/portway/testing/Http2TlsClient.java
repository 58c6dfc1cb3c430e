package dev.portway.testing;

import dev.portway.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * One HTTP/2 request over TLS, as Go's {@code http2.Transport} makes it: ALPN offers only
 * {@code h2} (anything else fails), the SNI name and the {@code :authority} are the test's to
 * choose (they may differ, as on a connection a client reuses for another host), and the server's
 * certificate is verified against the trusted one and must name the SNI name. JDK's HttpClient
 * can do neither. One connection per request, closed after it.
 */
public final class Http2TlsClient {

    /** A response: status, headers (names in lower case, as HTTP/2 sends them), body as UTF-8. */
    public record Response(int status, Map<String, List<String>> headers, String body) {
    }

    private static final EventLoopGroup GROUP = Transport.NIO.newGroup(1, "h2-test-client");

    private Http2TlsClient() {
    }

    /**
     * Sends {@code method path} to {@code address} over TLS with SNI {@code serverName} and
     * {@code :authority} {@code authority}, and reads the whole response, within {@code timeout}.
     */
    public static Response request(InetSocketAddress address, String serverName, X509Certificate trusted, String method, String authority,
                                   String path, Map<String, String> headers, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        SslContext ssl = SslContextBuilder.forClient()
                .trustManager(trusted)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
                .build();
        ChannelFuture connect = new Bootstrap().group(GROUP).channel(Transport.NIO.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeout.toMillis()))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SSLEngine engine = ssl.newEngine(ch.alloc(), serverName, address.getPort());
                        SSLParameters p = engine.getSSLParameters();
                        p.setServerNames(List.of(new SNIHostName(serverName)));
                        p.setEndpointIdentificationAlgorithm("HTTPS");
                        engine.setSSLParameters(p);
                        ch.pipeline().addLast("tls", new SslHandler(engine));
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                        // the server opens no streams of its own (no push): nothing to handle them with
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                })
                .connect(address);
        Channel ch = connect.channel();
        try {
            await(connect, deadline);
            SslHandler tls = ch.pipeline().get(SslHandler.class);
            await(tls.handshakeFuture(), deadline);
            if (!ApplicationProtocolNames.HTTP_2.equals(tls.applicationProtocol())) {
                throw new IOException("http2: unexpected ALPN protocol \"" + tls.applicationProtocol() + "\"; want \"h2\"");
            }
            CompletableFuture<Response> result = new CompletableFuture<>();
            var open = new Http2StreamChannelBootstrap(ch).handler(new ResponseReader(result)).open();
            await(open, deadline);
            Http2StreamChannel stream = open.getNow();
            Http2Headers h = new DefaultHttp2Headers().method(method).scheme("https").path(path).authority(authority);
            headers.forEach((name, value) -> h.add(name.toLowerCase(Locale.ROOT), value));
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(h, true));
            return result.get(remaining(deadline), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new SocketTimeoutException("no complete response within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            ch.close();
        }
    }

    private static void await(io.netty.util.concurrent.Future<?> f, long deadline) throws IOException, InterruptedException {
        if (!f.await(remaining(deadline), TimeUnit.NANOSECONDS)) {
            throw new SocketTimeoutException("deadline passed");
        }
        if (!f.isSuccess()) {
            throw f.cause() instanceof IOException io ? io : new IOException(f.cause().getMessage(), f.cause());
        }
    }

    private static long remaining(long deadline) throws SocketTimeoutException {
        long n = deadline - System.nanoTime();
        if (n <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        return n;
    }

    /** Collects one stream's response: the final headers, the data, until the end of the stream. */
    private static final class ResponseReader extends SimpleChannelInboundHandler<Http2StreamFrame> {
        private final CompletableFuture<Response> result;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private final Map<String, List<String>> headers = new LinkedHashMap<>();
        private int status;

        ResponseReader(CompletableFuture<Response> result) {
            this.result = result;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
            switch (frame) {
                case Http2HeadersFrame f -> {
                    CharSequence s = f.headers().status();
                    if (status == 0 && s != null && s.charAt(0) != '1') {
                        status = Integer.parseInt(s.toString());
                        f.headers().forEach(e -> {
                            if (e.getKey().charAt(0) != ':') {
                                headers.computeIfAbsent(e.getKey().toString(), k -> new ArrayList<>()).add(e.getValue().toString());
                            }
                        });
                    }
                    if (f.isEndStream()) {
                        end();
                    }
                }
                case Http2DataFrame f -> {
                    byte[] bytes = new byte[f.content().readableBytes()];
                    f.content().readBytes(bytes);
                    body.writeBytes(bytes);
                    if (f.isEndStream()) {
                        end();
                    }
                }
                case Http2ResetFrame f -> result.completeExceptionally(new IOException("stream reset by the server: error code " + f.errorCode()));
                default -> {
                    // window updates and the like
                }
            }
        }

        private void end() {
            result.complete(new Response(status, headers, body.toString(java.nio.charset.StandardCharsets.UTF_8)));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IOException("the stream closed before its response ended"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }
    }
}
