package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import java.net.InetAddress;
import java.util.List;

/**
 * An L7 listener: HTTP/1.1 and HTTP/2 (h2 by ALPN over TLS, h2c by prior knowledge or Upgrade) on a Gateway's (or the Ingress controller's) address, routed by its
 * {@link RouteTable}. A new plan swaps the table; connections already open use the new routes
 * from their next request on.
 */
final class HttpGatewayListener extends Listener {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HttpGatewayListener.class);

    /** The spec and its TLS contexts, replaced together: a connection reads both at once. */
    private volatile Serving serving;
    private volatile RouteTable routes;
    private volatile List<io.netty.handler.ipfilter.IpSubnetFilterRule> trustedProxies = List.of();
    /** The listener's port, as X-Forwarded-Port carries it. */
    private final String portText;

    /**
     * What a connection accepted now is served with.
     *
     * @param http the listener's spec
     * @param tls  its TLS contexts by SNI name; null for plain HTTP, and for a TLS listener that
     *             never had a certificate it could use
     */
    record Serving(Plan.HttpListener http, TlsContexts tls) {
        /**
         * A TLS listener without contexts: it refuses every connection, rather than serve its
         * routes in clear text on the port its clients trust to be HTTPS.
         */
        boolean withoutCertificates() {
            return http.tls() && tls == null;
        }
    }

    HttpGatewayListener(DataPlane plane, Plan.HttpListener spec) {
        super(plane, spec.asListener());
        this.portText = Integer.toString(spec.key().address().getPort());
        take(spec);
    }

    /** Takes a new spec for the same address. */
    void update(Plan.HttpListener spec) {
        take(spec);
        update(spec.asListener());
    }

    private void take(Plan.HttpListener spec) {
        List<io.netty.handler.ipfilter.IpSubnetFilterRule> trusted = sourceRules("portway.dev/trusted-proxies", spec.trustedProxies());
        this.trustedProxies = trusted == null ? List.of() : trusted;
        this.routes = RouteTable.compile(spec);
        TlsContexts tls = serving == null ? null : serving.tls();
        if (!spec.tls()) {
            tls = null;
        } else if (tls == null || !tls.certificates().equals(spec.certificates())) {
            try {
                tls = TlsContexts.build(spec.certificates());
            } catch (javax.net.ssl.SSLException | RuntimeException e) {
                log.warn("{}: cannot use the TLS certificates of {}: {}; {}", key(), spec.owner(), e.getMessage(),
                        tls == null ? "refusing every connection until it has one it can use" : "keeping the ones before");
            }
        }
        this.serving = new Serving(spec, tls);
    }

    /** The spec and TLS contexts to serve a connection accepted now with, read at once. */
    Serving serving() {
        return serving;
    }

    String portText() {
        return portText;
    }

    Plan.HttpListener http() {
        return serving.http();
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
                        GatewayHandler.install(ch, plane, self);
                    }
                })
                .bind(key().address());
    }
}
