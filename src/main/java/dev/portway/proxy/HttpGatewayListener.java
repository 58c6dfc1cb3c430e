package dev.portway.proxy;

import dev.portway.net.Cidr;
import dev.portway.plan.Plan;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * An L7 listener: HTTP/1.1 on a Gateway's (or the Ingress controller's) address, routed by its
 * {@link RouteTable}. A new plan swaps the table; connections already open use the new routes
 * from their next request on.
 */
final class HttpGatewayListener extends Listener {

    private volatile Plan.HttpListener http;
    private volatile RouteTable routes;
    private volatile List<Cidr> trustedProxies = List.of();

    HttpGatewayListener(DataPlane plane, Plan.HttpListener spec) {
        super(plane, spec.asListener());
        take(spec);
    }

    /** Takes a new spec for the same address. */
    void update(Plan.HttpListener spec) {
        take(spec);
        update(spec.asListener());
    }

    private void take(Plan.HttpListener spec) {
        List<Cidr> trusted = new ArrayList<>();
        for (String r : spec.trustedProxies()) {
            Cidr.parse(r).ifPresent(trusted::add);
        }
        this.trustedProxies = List.copyOf(trusted);
        this.routes = RouteTable.compile(spec);
        this.http = spec;
    }

    Plan.HttpListener http() {
        return http;
    }

    RouteTable routes() {
        return routes;
    }

    /** Whether a client is a proxy whose forwarding headers are believed. */
    boolean trusts(InetAddress client) {
        return inAny(trustedProxies, client);
    }

    @Override
    protected ChannelFuture bind() {
        HttpGatewayListener self = this;
        return tcpServer()
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        GatewayHandler.install(ch.pipeline(), plane, self);
                    }
                })
                .bind(key().address());
    }
}
