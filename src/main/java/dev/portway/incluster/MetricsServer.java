package dev.portway.incluster;

import dev.portway.net.PlainHttp;
import dev.portway.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The controller's plain HTTP endpoint for Prometheus and the kubelet's probes, as MetalLB's
 * {@code :7472}: {@code GET /metrics} (Prometheus' text format), {@code GET /healthz} (200 once
 * the controller has started: for a liveness probe, which must not restart a controller that
 * keeps carrying traffic while the API server is away) and {@code GET /readyz} (200 once the
 * first lists are in and while every informer's watch runs, by fabric8's {@code isWatching}; a
 * watch that fabric8 is reconnecting counts as running, so an API server away for a while does
 * not turn it 503: docs/controller.md).
 * Nothing else; no request body is read. Reached at a loopback address (bound to one, as by
 * default, or to every address), it answers only requests that name it by address or as
 * {@code localhost} ({@link #namesByAddress}).
 */
final class MetricsServer implements AutoCloseable {

    private final PrometheusRegistry registry;
    private final BooleanSupplier healthy;
    private final BooleanSupplier ready;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final Transport transport;
    private final EventLoopGroup group;
    private Channel channel;

    MetricsServer(Transport transport, PrometheusRegistry registry, BooleanSupplier healthy, BooleanSupplier ready) {
        this.ready = ready;
        this.transport = transport;
        this.registry = registry;
        this.healthy = healthy;
        this.group = transport.newGroup(1, "portway-metrics");
    }

    InetSocketAddress start(InetSocketAddress at) throws InterruptedException {
        channel = new ServerBootstrap().group(group).channelFactory(transport.serverChannelFactory(at.getAddress()))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(30, TimeUnit.SECONDS), new HttpServerCodec(4096, 8192, 8192),
                                new HttpObjectAggregator(0), new Handler());
                    }
                }).bind(at).sync().channel();
        return (InetSocketAddress) channel.localAddress();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = new QueryStringDecoder(request.uri()).path();
            FullHttpResponse response;
            if (!request.decoderResult().isSuccess()) {
                response = PlainHttp.text(HttpResponseStatus.BAD_REQUEST, "bad request\n");
            } else if (((InetSocketAddress) ctx.channel().localAddress()).getAddress().isLoopbackAddress()
                    && !namesByAddress(request.headers().get(HttpHeaderNames.HOST))) {
                response = PlainHttp.text(HttpResponseStatus.FORBIDDEN,
                        "the Host header must be an IP address or localhost here (a name could be a web page's, rebound to this address)\n");
            } else if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
                response = PlainHttp.text(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed\n");
            } else if (path.equals("/metrics")) {
                response = metrics();
            } else if (path.equals("/healthz")) {
                response = healthy.getAsBoolean() ? PlainHttp.text(HttpResponseStatus.OK, "ok\n")
                        : PlainHttp.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "starting\n");
            } else if (path.equals("/readyz")) {
                response = ready.getAsBoolean() ? PlainHttp.text(HttpResponseStatus.OK, "ok\n")
                        : PlainHttp.text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not watching the cluster\n");
            } else {
                response = PlainHttp.text(HttpResponseStatus.NOT_FOUND, "not found\n");
            }
            response.headers().set("X-Content-Type-Options", "nosniff");
            PlainHttp.answer(ctx, request, response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Whether a Host header names the server by an IP address or as {@code localhost}. A web page
     * the user visits can make its own DNS name resolve to 127.0.0.1 (DNS rebinding) and then read
     * what this loopback endpoint answers as if it were its own origin: the cluster's Services, their
     * addresses and nodes. The page's requests still say its name in Host. Prometheus and the
     * kubelet's probes name a target by its address.
     */
    static boolean namesByAddress(String host) {
        dev.portway.net.HostHeader parsed = dev.portway.net.HostHeader.parse(host, 80);
        return parsed != null && parsed.isAddressOrLocalhost();
    }

    private FullHttpResponse metrics() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            return PlainHttp.text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "cannot write the metrics\n");
        }
        return PlainHttp.response(HttpResponseStatus.OK, writer.getContentType(), out.toByteArray());
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
