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
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LoadBalancer's health checks of the nodes behind it, as a cloud load balancer does them:
 * an HTTP GET to each node's check port every interval; a node that fails
 * {@code unhealthyThreshold} checks in a row leaves the rotation, one that passes
 * {@code healthyThreshold} in a row comes back. Each probe runs on one event loop.
 */
final class HealthChecker {

    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    private final DataPlane plane;
    /** cluster name + target address to its probe. Guarded by the plane's lock. */
    private final Map<String, Probe> probes = new HashMap<>();

    HealthChecker(DataPlane plane) {
        this.plane = plane;
    }

    /** Starts probes for new targets, stops those of targets that are gone. */
    void apply(Iterable<ClusterRuntime> clusters) {
        Map<String, Probe> keep = new HashMap<>();
        for (ClusterRuntime cluster : clusters) {
            Plan.HealthCheck check = cluster.spec().healthCheck();
            if (check == null) {
                continue;
            }
            for (Plan.Endpoint e : cluster.spec().endpoints()) {
                String key = cluster.name() + "|" + e.address();
                Probe probe = probes.remove(key);
                if (probe == null || probe.cluster != cluster) {
                    if (probe != null) {
                        probe.stop();
                    }
                    // A new target starts in the state the plan expects; checks take over from there.
                    cluster.setHealthy(e.address(), e.ready());
                    probe = new Probe(cluster, e, check, plane.workers().next());
                    probe.schedule(0);
                } else {
                    probe.check = check;
                }
                keep.put(key, probe);
            }
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
        final ClusterRuntime cluster;
        final Plan.Endpoint target;
        final EventLoop loop;
        volatile Plan.HealthCheck check;
        volatile boolean stopped;
        int passes;
        int failures;

        Probe(ClusterRuntime cluster, Plan.Endpoint target, Plan.HealthCheck check, EventLoop loop) {
            this.cluster = cluster;
            this.target = target;
            this.check = check;
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
            Plan.HealthCheck c = check;
            InetSocketAddress address = new InetSocketAddress(target.address().getAddress(), c.port());
            long timeoutMillis = c.timeout().toMillis();
            ResponseHandler handler = new ResponseHandler(c.path(), address);
            handler.onDone = this::result;
            new Bootstrap()
                    .group(loop)
                    .channel(plane.transport().socketChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeoutMillis)
                    .handler(handler)
                    .connect(address)
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            handler.finish(false);
                        }
                    });
            loop.schedule(() -> handler.finish(false), timeoutMillis, TimeUnit.MILLISECONDS);
        }

        private void result(boolean ok) {
            if (stopped) {
                return;
            }
            Plan.HealthCheck c = check;
            boolean healthy = cluster.isHealthy(target.address());
            if (ok) {
                failures = 0;
                passes++;
                if (!healthy && passes >= c.healthyThreshold()) {
                    cluster.setHealthy(target.address(), true);
                    log.info("{}: {} passes its health checks: back in rotation", cluster.name(), target.target());
                }
            } else {
                passes = 0;
                failures++;
                if (healthy && failures >= c.unhealthyThreshold()) {
                    cluster.setHealthy(target.address(), false);
                    log.info("{}: {} fails its health checks: out of rotation", cluster.name(), target.target());
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
