package dev.portway.admin;

import dev.portway.control.ControlPlane;
import dev.portway.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The admin HTTP server: the Kubernetes-shaped REST API the CLI (or any Kubernetes client)
 * talks to, health endpoints, and whatever extra endpoints are registered (metrics, the page).
 * It listens on loopback only by default.
 */
public final class AdminServer implements AutoCloseable {

    /** The largest request body accepted (a manifest directory applied at once). */
    private static final int MAX_BODY = 32 * 1024 * 1024;

    private final ControlPlane control;
    private final Transport transport;
    private final EventLoopGroup group;
    private final Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    private PodLogs logs;
    private Channel channel;

    public AdminServer(ControlPlane control, Transport transport, EventLoopGroup group) {
        this.control = control;
        this.transport = transport;
        this.group = group;
    }

    /** Serves {@code path} (exact match) with {@code endpoint}; call before {@link #start}. */
    public AdminServer endpoint(String path, Endpoint endpoint) {
        endpoints.put(path, endpoint);
        return this;
    }

    /** Serves containers' logs from {@code logs}; call before {@link #start}. */
    public AdminServer podLogs(PodLogs logs) {
        this.logs = logs;
        return this;
    }

    public InetSocketAddress start(InetSocketAddress address) throws InterruptedException {
        ApiHandler handler = new ApiHandler(control, Map.copyOf(endpoints), logs);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpServerKeepAliveHandler(),
                                new HttpObjectAggregator(MAX_BODY), handler);
                    }
                });
        channel = b.bind(address).sync().channel();
        return (InetSocketAddress) channel.localAddress();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
    }
}
