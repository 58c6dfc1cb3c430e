package dev.portway.proxy.dns;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays UDP queries for names outside the zone to the upstream nameservers, one socket for all
 * of them. A query goes out as the client sent it, with an id of its own (so ids of different
 * clients cannot collide); the answer comes back as the upstream sent it, with the client's id.
 * An upstream that does not answer in time is given up for the next one; after the last, the
 * client gets SERVFAIL.
 *
 * <p>Runs on one event loop, the one of the server's UDP channel (the socket to the upstreams is
 * registered on it too), so the table of pending queries takes no lock.
 */
final class UdpForwarder {

    private static final Logger log = LoggerFactory.getLogger(UdpForwarder.class);

    private final ClusterDnsServer server;
    private final List<InetSocketAddress> upstreams;
    private final long timeoutMillis;
    private final Map<Integer, Pending> pending = new HashMap<>();
    private Channel socket;

    UdpForwarder(ClusterDnsServer server, List<InetSocketAddress> upstreams, long timeoutMillis) {
        this.server = server;
        this.upstreams = upstreams;
        this.timeoutMillis = timeoutMillis;
    }

    /** The socket to the upstreams: set before the server's UDP channel is registered on the socket's event loop. */
    void socket(Channel socket) {
        this.socket = socket;
    }

    /** One query waiting for an upstream's answer. */
    private static final class Pending {
        final Channel clients;
        final InetSocketAddress client;
        final int clientId;
        final DnsQuestion question;
        final boolean recursionDesired;
        final ByteBuf query;
        int upstream;
        int id;
        ScheduledFuture<?> timeout;

        Pending(Channel clients, InetSocketAddress client, int clientId, DnsQuestion question, boolean recursionDesired,
                ByteBuf query) {
            this.clients = clients;
            this.client = client;
            this.clientId = clientId;
            this.question = question;
            this.recursionDesired = recursionDesired;
            this.query = query;
        }
    }

    /**
     * Forwards {@code query}, which came on {@code clients} (the server's UDP channel, on the
     * event loop of this forwarder) as the bytes {@code raw} (not released here). The caller has
     * taken a forwarding slot ({@link ClusterDnsServer#tryForward}); it is given back when the
     * query is answered or failed.
     */
    void forward(Channel clients, DatagramDnsQuery query, DnsQuestion question, ByteBuf raw) {
        ByteBuf copy = clients.alloc().buffer(raw.readableBytes()).writeBytes(raw, raw.readerIndex(), raw.readableBytes());
        send(new Pending(clients, query.sender(), query.id(), question, query.isRecursionDesired(), copy));
    }

    private void send(Pending p) {
        if (socket == null || !socket.isActive()) {
            fail(p);
            return;
        }
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(0x10000);
        } while (pending.containsKey(id));
        p.id = id;
        pending.put(id, p);
        ByteBuf out = p.query.copy();
        out.setShort(out.readerIndex(), id);
        p.timeout = socket.eventLoop().schedule(() -> expire(p), timeoutMillis, TimeUnit.MILLISECONDS);
        // an upstream that cannot be sent to at all (no route: a network of loopback only) fails now, not at the timeout
        socket.writeAndFlush(new DatagramPacket(out, upstreams.get(p.upstream))).addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("cannot send to upstream {}: {}", upstreams.get(p.upstream), f.cause().toString());
                p.timeout.cancel(false);
                expire(p);
            }
        });
    }

    private void expire(Pending p) {
        if (pending.get(p.id) != p) {
            return;
        }
        pending.remove(p.id);
        log.debug("upstream {} did not answer {} in {} ms", upstreams.get(p.upstream), p.question.name(), timeoutMillis);
        p.upstream++;
        if (p.upstream < upstreams.size()) {
            send(p);
        } else {
            fail(p);
        }
    }

    private void fail(Pending p) {
        done(p);
        p.clients.writeAndFlush(server.failure(p.clients, p.client, p.clientId, p.question, p.recursionDesired,
                DnsResponseCode.SERVFAIL));
    }

    private void done(Pending p) {
        p.query.release();
        server.forwardDone();
    }

    /** An upstream's datagram: relayed to the client it answers, if it answers one. */
    private void answer(DatagramPacket packet) {
        ByteBuf c = packet.content();
        if (c.readableBytes() < 12 || (c.getByte(c.readerIndex() + 2) & 0x80) == 0) {
            return; // not a DNS response
        }
        int id = c.getUnsignedShort(c.readerIndex());
        Pending p = pending.get(id);
        if (p == null || !upstreams.get(p.upstream).equals(packet.sender())) {
            return; // late, or not from the upstream asked
        }
        if (!sameQuestion(p.query, c)) {
            return; // the id matches but the question does not: a forged or confused answer is not relayed
        }
        pending.remove(id);
        p.timeout.cancel(false);
        done(p);
        c.setShort(c.readerIndex(), p.clientId);
        p.clients.writeAndFlush(new DatagramPacket(c.retain(), p.client));
    }

    /**
     * Whether {@code response} asks the one question {@code query} asked, byte for byte (a resolver
     * accepts an answer only for its own question; matching the 16-bit id alone is easy to forge).
     */
    static boolean sameQuestion(ByteBuf query, ByteBuf response) {
        int q = query.readerIndex();
        int r = response.readerIndex();
        if (query.readableBytes() < 12 || response.readableBytes() < 12 || response.getUnsignedShort(r + 4) != 1) {
            return false;
        }
        int end = q + 12;
        while (end < query.writerIndex()) {
            int label = query.getUnsignedByte(end);
            if (label == 0) {
                break;
            }
            if ((label & 0xC0) != 0) {
                return false; // no compression in a question we sent
            }
            end += label + 1;
        }
        int length = end + 1 + 4 - (q + 12); // the name, its end, type and class
        if (end >= query.writerIndex() || q + 12 + length > query.writerIndex() || response.readableBytes() < 12 + length) {
            return false;
        }
        return io.netty.buffer.ByteBufUtil.equals(query, q + 12, response, r + 12, length);
    }

    /** Drops every pending query (the server is closing). Runs on the event loop. */
    void close() {
        for (Pending p : new ArrayList<>(pending.values())) {
            p.timeout.cancel(false);
            done(p);
        }
        pending.clear();
    }

    /** The upstream socket's handler. */
    final class Answers extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            answer(packet);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("upstream DNS socket: {}", cause.toString()); // an ICMP error, say: the timeout deals with it
        }
    }
}
