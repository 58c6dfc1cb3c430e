package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LoadBalancer's health checks of the nodes behind it, as a cloud load balancer does them:
 * an HTTP GET to each node's check port every interval; a node that fails
 * {@code unhealthyThreshold} checks in a row leaves the rotation, one that passes
 * {@code healthyThreshold} in a row comes back. Each probe runs on one event loop.
 *
 * <p>One probe per target: every LoadBalancer with Cluster policy checks the same {@code
 * :10256/healthz} of each node, so a check of the same address, port, path and timing is made
 * once per interval and its result goes to every LoadBalancer that sends to that node (a thousand
 * LoadBalancer Services on two nodes make two probes, not two thousand).
 */
final class HealthChecker {

    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    /** What makes two checks the same probe: the node's address, and the check (port, path, timing). */
    private record Target(InetAddress node, Plan.HealthCheck check) {
    }

    /** A LoadBalancer's cluster, and its endpoint (the node's NodePort) that the probe stands for. */
    private record Subscriber(ClusterRuntime cluster, Plan.Endpoint endpoint) {
        /** Who it is, whatever the plan now says of the endpoint (ready, serving...). */
        List<Object> identity() {
            return List.of(cluster, endpoint.address());
        }
    }

    private final DataPlane plane;
    /** The probes by target. Guarded by the plane's lock. */
    private final Map<Target, Probe> probes = new HashMap<>();

    HealthChecker(DataPlane plane) {
        this.plane = plane;
    }

    /** Starts probes for new targets, stops those of targets that are gone, and tells each probe whom it serves. */
    void apply(Iterable<ClusterRuntime> clusters) {
        Map<Target, List<Subscriber>> wanted = new LinkedHashMap<>();
        for (ClusterRuntime cluster : clusters) {
            Plan.HealthCheck check = cluster.spec().healthCheck();
            if (check == null) {
                continue;
            }
            for (Plan.Endpoint e : cluster.spec().endpoints()) {
                wanted.computeIfAbsent(new Target(e.address().getAddress(), check), k -> new ArrayList<>()).add(new Subscriber(cluster, e));
            }
        }
        Map<Target, Probe> keep = new HashMap<>();
        for (Map.Entry<Target, List<Subscriber>> w : wanted.entrySet()) {
            Probe probe = probes.remove(w.getKey());
            // a LoadBalancer that already had this node keeps the checks' verdict, whatever the plan now expects
            java.util.Set<List<Object>> before = new java.util.HashSet<>();
            for (Subscriber s : probe == null ? List.<Subscriber>of() : probe.subscribers) {
                before.add(s.identity());
            }
            for (Subscriber s : w.getValue()) {
                if (!before.contains(s.identity())) {
                    // a new target of a LoadBalancer starts in the state the plan expects; checks take over from there
                    s.cluster().setHealthy(s.endpoint().address(), s.endpoint().healthyAtFirst());
                }
            }
            if (probe == null) {
                probe = new Probe(w.getKey(), plane.workers().next());
                probe.subscribers = List.copyOf(w.getValue());
                probe.schedule(0);
            } else {
                probe.subscribers = List.copyOf(w.getValue());
            }
            keep.put(w.getKey(), probe);
        }
        probes.values().forEach(Probe::stop);
        probes.clear();
        probes.putAll(keep);
    }

    void close() {
        probes.values().forEach(Probe::stop);
        probes.clear();
    }

    private final class Probe {
        final Target target;
        final EventLoop loop;
        /** Whom the result goes to; replaced whole by {@link #apply}. */
        volatile List<Subscriber> subscribers = List.of();
        volatile boolean stopped;
        int passes;
        int failures;

        Probe(Target target, EventLoop loop) {
            this.target = target;
            this.loop = loop;
        }

        void schedule(long delayMillis) {
            if (!stopped) {
                loop.schedule(this::run, delayMillis, TimeUnit.MILLISECONDS);
            }
        }

        void stop() {
            stopped = true;
        }

        private void run() {
            if (stopped) {
                return;
            }
            Plan.HealthCheck c = target.check();
            InetSocketAddress address = new InetSocketAddress(target.node(), c.port());
            long timeoutMillis = c.timeout().toMillis();
            ResponseHandler handler = new ResponseHandler(c.path(), address);
            handler.onDone = this::result;
            new Bootstrap()
                    .group(loop)
                    .channelFactory(plane.transport().socketChannelFactory(address.getAddress())) // AF_INET for an IPv4 node
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeoutMillis)
                    .handler(handler)
                    .connect(address)
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            // a channel that could not be registered fails on Netty's global executor
                            loop.execute(() -> handler.finish(false));
                        }
                    });
            loop.schedule(() -> handler.finish(false), timeoutMillis, TimeUnit.MILLISECONDS);
        }

        private void result(boolean ok) {
            if (stopped) {
                return;
            }
            Plan.HealthCheck c = target.check();
            if (ok) {
                failures = 0;
                passes++;
            } else {
                passes = 0;
                failures++;
            }
            for (Subscriber s : subscribers) {
                InetSocketAddress endpoint = s.endpoint().address();
                boolean healthy = s.cluster().isHealthy(endpoint);
                if (ok && !healthy && passes >= c.healthyThreshold()) {
                    s.cluster().setHealthy(endpoint, true);
                    log.info("{}: {} passes its health checks: back in rotation", s.cluster().name(), s.endpoint().target());
                } else if (!ok && healthy && failures >= c.unhealthyThreshold()) {
                    s.cluster().setHealthy(endpoint, false);
                    log.info("{}: {} fails its health checks: out of rotation", s.cluster().name(), s.endpoint().target());
                }
            }
            schedule(c.interval().toMillis());
        }
    }

    /** Sends one GET and reads the status code of the answer. */
    private static final class ResponseHandler extends ChannelInboundHandlerAdapter {
        private final String path;
        private final InetSocketAddress address;
        private final StringBuilder head = new StringBuilder();
        private boolean done;
        private Channel channel;
        java.util.function.Consumer<Boolean> onDone;

        ResponseHandler(String path, InetSocketAddress address) {
            this.path = path;
            this.address = address;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            String request = "GET " + path + " HTTP/1.1\r\nHost: " + address.getAddress().getHostAddress() + ":" + address.getPort()
                    + "\r\nUser-Agent: portway-healthcheck\r\nConnection: close\r\n\r\n";
            ctx.writeAndFlush(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (head.length() < 64) {
                    head.append(buf.toString(StandardCharsets.US_ASCII), 0, Math.min(buf.readableBytes(), 64));
                }
            } finally {
                buf.release();
            }
            int end = head.indexOf("\r\n");
            if (end > 0) {
                String[] parts = head.substring(0, end).split(" ");
                boolean ok = parts.length >= 2 && parts[1].length() == 3 && parts[1].charAt(0) == '2';
                finish(ok);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            finish(false);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish(false);
        }

        void finish(boolean ok) {
            if (done) {
                return;
            }
            done = true;
            if (channel != null) {
                channel.close();
            }
            if (onDone != null) {
                onDone.accept(ok);
            }
        }
    }
}
