package dev.portway.proxy;

import dev.portway.api.Times;
import dev.portway.net.PlainHttp;
import dev.portway.plan.Plan;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The health endpoints kube-proxy serves on every node: {@code /healthz} on port 10256 (is this
 * node's proxy healthy?) and, for each LoadBalancer Service with {@code externalTrafficPolicy:
 * Local}, its {@code healthCheckNodePort} (does this node have a ready endpoint of it?), with
 * kube-proxy's status codes, headers and JSON body. Cloud load balancers, and Portway's own,
 * decide from these where to send traffic.
 */
final class HealthServers {

    private static final Logger log = LoggerFactory.getLogger(HealthServers.class);
    /**
     * Connections the health servers hold at once, all of them together (one per node on 10256, one
     * per node and Local LoadBalancer Service on its health check port): they are not counted among
     * the data plane's client connections, so they must fit in the descriptors it keeps for the rest
     * of the process ({@link DataPlane#DESCRIPTOR_RESERVE}), with the admin API's. A cap per server
     * let a local process hold 1024 on each, tens of thousands of descriptors with a few Services.
     */
    static final int MAX_CONNECTIONS = 256;
    /** A connection that sends nothing for this long is closed (checkers ask every few seconds, or once per connection). */
    static final int IDLE_SECONDS = 300;

    private final DataPlane plane;
    private final Clock clock;
    /** Each server's registration, by address (its channel is the server). */
    private final Map<InetSocketAddress, io.netty.channel.ChannelFuture> bound = new HashMap<>();
    /** The closes of servers a plan took away, by address, while under way: a server bound there again waits for them. */
    private final Map<InetSocketAddress, List<io.netty.util.concurrent.Future<?>>> closing = new HashMap<>();
    private volatile Map<InetSocketAddress, Plan.HealthServer> specs = Map.of();
    /** Nodes whose proxy is made to report unhealthy (a failed node). */
    private final Set<String> failedNodes = ConcurrentHashMap.newKeySet();
    /** Every health server's open connections, under {@link #MAX_CONNECTIONS} together. */
    private final dev.portway.net.OldestGoes open = new dev.portway.net.OldestGoes();

    HealthServers(DataPlane plane, Clock clock) {
        this.plane = plane;
        this.clock = clock;
    }

    /** Opens the new addresses, closes the old ones; answers change at once. Called with the plane's lock. */
    void apply(Iterable<Plan.HealthServer> servers) {
        Map<InetSocketAddress, Plan.HealthServer> next = new HashMap<>();
        for (Plan.HealthServer s : servers) {
            next.put(s.address(), s);
        }
        specs = Map.copyOf(next);
        closing.values().forEach(closes -> closes.removeIf(java.util.concurrent.Future::isDone));
        closing.values().removeIf(List::isEmpty);
        for (var it = bound.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            if (!next.containsKey(e.getKey())) {
                // a new server on the address binds once this one (and any closed before it) has let go
                closing.computeIfAbsent(e.getKey(), k -> new java.util.ArrayList<>()).add(close(e.getValue()));
                it.remove();
            }
        }
        for (InetSocketAddress address : next.keySet()) {
            io.netty.channel.ChannelFuture server = bound.get(address);
            if (server == null || !server.channel().isOpen()) {
                bind(address); // new, or its bind failed (the address was taken): tried again, as L4 listeners are
            }
        }
    }

    /**
     * Closes a server once its registration is over (closed while its event loop registers it, its
     * descriptor could go back and be another socket's by the time the loop adds it to epoll), or at
     * once, one that could not be made; the future completes when it is closed.
     */
    private static io.netty.util.concurrent.Future<?> close(io.netty.channel.ChannelFuture registration) {
        Channel ch = registration.channel();
        // completed here: a failed channel's (no descriptor left) close future never completes
        io.netty.util.concurrent.Promise<Void> closed = io.netty.util.concurrent.GlobalEventExecutor.INSTANCE.newPromise();
        registration.addListener(r -> {
            if (r.isSuccess()) {
                ch.close().addListener(f -> closed.trySuccess(null));
            } else {
                if (ch.isOpen()) {
                    dev.portway.net.Transport.close(ch);
                }
                closed.trySuccess(null); // it never held the port
            }
        });
        return closed;
    }

    private void bind(InetSocketAddress address) {
        Handler handler = new Handler();
        ServerBootstrap b = new ServerBootstrap()
                .group(plane.workers())
                .channel(plane.transport().serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // at the cap the oldest goes: checkers ask and go, and whoever holds every slot with idle
                        // connections would otherwise fail every node's checks (and take its load balancers down)
                        open.admit(ch, MAX_CONNECTIONS);
                        // first: a client that pipelines checks and reads no answers is read no further
                        ch.pipeline().addLast(new dev.portway.net.WritabilityGate());
                        ch.pipeline().addLast(new io.netty.handler.timeout.IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS) {
                            @Override
                            protected void channelIdle(ChannelHandlerContext ctx, io.netty.handler.timeout.IdleStateEvent evt) {
                                ctx.close();
                            }
                        }, new HttpServerCodec(), new HttpObjectAggregator(8192), handler);
                    }
                });
        // bound after every server a plan took from the address has let go (closed on other event loops, maybe not yet;
        // one that never bound too, as the one before it may still hold the port): bound before, it failed (EADDRINUSE,
        // SO_REUSEADDR notwithstanding) and waited for some later plan
        List<io.netty.util.concurrent.Future<?>> before = closing.containsKey(address) ? List.copyOf(closing.get(address)) : null;
        io.netty.channel.ChannelFuture registered = b.register();
        Channel ch = registered.channel();
        bound.put(address, registered);
        Runnable bind = () -> registered.addListener(r -> {
            if (!r.isSuccess()) {
                log.warn("cannot serve health checks on {}: {}", address, r.cause().toString());
                return;
            }
            if (!ch.isOpen()) {
                return; // taken away by a later plan before it could bind
            }
            ch.bind(address).addListener((io.netty.channel.ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    log.warn("cannot serve health checks on {}: {}", address, f.cause().getMessage());
                    f.channel().close(); // the next plan tries again
                }
            });
        });
        if (before == null) {
            bind.run();
        } else {
            java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(before.size());
            for (io.netty.util.concurrent.Future<?> closed : before) {
                closed.addListener(f -> {
                    if (left.decrementAndGet() == 0) {
                        bind.run();
                    }
                });
            }
        }
    }

    /** Whether the server of {@code address} could not bind (the next plan tries again). */
    boolean bindFailed(InetSocketAddress address) {
        io.netty.channel.ChannelFuture server = bound.get(address);
        return server != null && !server.channel().isOpen();
    }

    void setNodeFailed(String node, boolean failed) {
        if (failed) {
            failedNodes.add(node);
        } else {
            failedNodes.remove(node);
        }
    }

    void close() {
        closing.clear();
        bound.values().forEach(HealthServers::close);
        bound.clear();
    }

    @ChannelHandler.Sharable
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            Plan.HealthServer spec = specs.get((InetSocketAddress) ctx.channel().localAddress());
            FullHttpResponse response;
            if (spec == null) {
                response = PlainHttp.text(HttpResponseStatus.NOT_FOUND, "404 page not found\n");
            } else if (spec.service() == null) {
                response = nodeHealth(spec, request.uri());
            } else {
                response = serviceHealth(spec);
            }
            PlainHttp.answer(ctx, request, response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private FullHttpResponse nodeHealth(Plan.HealthServer spec, String uri) {
        String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
        if (!path.equals("/healthz") && !path.equals("/livez")) {
            return PlainHttp.text(HttpResponseStatus.NOT_FOUND, "404 page not found\n");
        }
        boolean healthy = !failedNodes.contains(spec.nodeName());
        String now = Times.format(clock.instant());
        String body = "{\"lastUpdated\": \"" + now + "\",\"currentTime\": \"" + now + "\", \"nodeEligible\": " + healthy + "}";
        FullHttpResponse r = json(healthy ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body);
        r.headers().set("X-Content-Type-Options", "nosniff");
        return r;
    }

    /** kube-proxy's answer for a healthCheckNodePort, to the byte. */
    private FullHttpResponse serviceHealth(Plan.HealthServer spec) {
        String[] nsName = spec.service().split("/", 2);
        boolean proxyHealthy = !failedNodes.contains(spec.nodeName());
        int local = spec.localEndpoints();
        String body = "{\n\t\"service\": {\n\t\t\"namespace\": \"" + nsName[0] + "\",\n\t\t\"name\": \"" + nsName[1] + "\"\n\t},\n"
                + "\t\"localEndpoints\": " + local + ",\n\t\"serviceProxyHealthy\": " + proxyHealthy + "\n}";
        FullHttpResponse r = json(local > 0 && proxyHealthy ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body);
        r.headers().set("X-Content-Type-Options", "nosniff");
        r.headers().set("X-Load-Balancing-Endpoint-Weight", Integer.toString(local));
        return r;
    }

    private static FullHttpResponse json(HttpResponseStatus status, String body) {
        return PlainHttp.response(status, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }
}
