package dev.portway.proxy.dns;

import dev.portway.net.Slots;
import dev.portway.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.dns.DnsQuery;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP query for a name outside the zone, relayed to the upstreams over a TCP connection of
 * its own (RFC 7766 framing): the query is encoded again from its decoded form, with the client's
 * id and flags, the answer goes back to the client byte for byte. An upstream that does not answer in time
 * is given up for the next one; after the last, the client gets SERVFAIL.
 *
 * <p>Everything runs on the client connection's event loop.
 */
final class TcpForward {

    private static final Logger log = LoggerFactory.getLogger(TcpForward.class);

    private final ClusterDnsServer server;
    private final Channel client;
    private final DnsQuery query;
    private final List<InetSocketAddress> upstreams;
    private final long timeoutMillis;
    private int attempt;
    private Channel upstream;
    private ScheduledFuture<?> timeout;
    private boolean finished;
    private final ChannelFutureListener clientClosed = f -> abort();
    private final Slots connectionSlots;

    /** Takes over one reference to {@code query}, the caller's forwarding slot and one of {@code connectionSlots}. */
    TcpForward(ClusterDnsServer server, Channel client, DnsQuery query, List<InetSocketAddress> upstreams,
            long timeoutMillis, Slots connectionSlots) {
        this.connectionSlots = connectionSlots;
        this.server = server;
        this.client = client;
        this.query = query;
        this.upstreams = upstreams;
        this.timeoutMillis = timeoutMillis;
    }

    void start() {
        int tried = attempt;
        ChannelFuture connect = new Bootstrap()
                .group(client.eventLoop())
                .channelFactory(server.tcpUpstreamChannels())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeoutMillis)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(0xFFFF, 0, 2, 0, 2), new Relay());
                    }
                })
                .connect(upstreams.get(tried));
        upstream = connect.channel();
        timeout = client.eventLoop().schedule(() -> giveUp(tried, "no answer in " + timeoutMillis + " ms"),
                timeoutMillis, TimeUnit.MILLISECONDS);
        connect.addListener((ChannelFuture f) -> onClientLoop(() -> {
            if (!f.isSuccess()) {
                giveUp(tried, f.cause().toString());
            } else if (attempt == tried && !finished) {
                f.channel().writeAndFlush(framed(f.channel()));
            }
        }));
        upstream.closeFuture().addListener(f -> onClientLoop(() -> giveUp(tried, "connection closed")));
        if (tried == 0) {
            client.closeFuture().addListener(clientClosed); // last: it runs at once if the client is gone
        }
    }

    /**
     * Runs {@code r} on the client's event loop, which owns this forward's state. A connect that
     * fails before its channel is registered (no descriptor left) completes on Netty's global
     * executor instead, where it raced the timeout and the client's close (a query released twice).
     */
    private void onClientLoop(Runnable r) {
        if (client.eventLoop().inEventLoop()) {
            r.run();
        } else {
            client.eventLoop().execute(r);
        }
    }

    /** Attempt {@code tried} failed: the next upstream, or SERVFAIL. */
    private void giveUp(int tried, String why) {
        if (finished || attempt != tried) {
            return;
        }
        log.debug("upstream {} failed {}: {}", upstreams.get(tried), question(), why);
        attempt++; // first: closing the connection calls this again at once, for the same attempt
        timeout.cancel(false);
        closeUpstream();
        if (attempt < upstreams.size() && client.isActive()) {
            start();
            return;
        }
        finish();
        if (client.isActive()) {
            DnsQuestion q = question();
            client.writeAndFlush(server.failure(client, null, query.id(), q, query.isRecursionDesired(),
                    DnsResponseCode.SERVFAIL));
        }
    }

    /** The client went away (or the server closed): the query is dropped. */
    private void abort() {
        if (finished) {
            return;
        }
        attempt = -1;
        timeout.cancel(false);
        closeUpstream();
        finish();
    }

    /**
     * Closes the upstream connection. One whose channel could not even be made (no descriptor
     * left) is Netty's failed channel, with no event loop: closing it the usual way threw, after
     * the attempt was counted and before the query and its slots were given back, for good.
     */
    private void closeUpstream() {
        Transport.close(upstream);
    }

    private void finish() {
        finished = true;
        client.closeFuture().removeListener(clientClosed);
        query.release();
        server.forwardDone();
        connectionSlots.release();
    }

    /** The query as the client sent it (its flags too), with RFC 7766's length before it. */
    private ByteBuf framed(Channel ch) {
        ByteBuf out = ch.alloc().buffer(512);
        try {
            out.writeShort(0);
            QueryCodec.encode(query, out);
            out.setShort(0, out.readableBytes() - 2);
            return out;
        } catch (Exception e) {
            out.release();
            throw new IllegalStateException("cannot encode " + query, e);
        }
    }

    private DnsQuestion question() {
        return query.count(DnsSection.QUESTION) > 0 ? query.recordAt(DnsSection.QUESTION) : null;
    }

    /** The upstream connection's handler: the first whole answer goes back to the client. */
    private final class Relay extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (finished || ctx.channel() != upstream || frame.readableBytes() < 12
                    || frame.getUnsignedShort(frame.readerIndex()) != query.id()) {
                return;
            }
            timeout.cancel(false);
            ByteBuf out = client.alloc().buffer(2 + frame.readableBytes());
            out.writeShort(frame.readableBytes()).writeBytes(frame);
            finish();
            ctx.close();
            client.writeAndFlush(out);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // the close gives up this attempt
        }
    }
}
