package dev.portway.proxy.dns;

import dev.portway.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DefaultDnsQuery;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays UDP queries for names outside the zone to the upstream nameservers. A query goes out as
 * the client sent it, with a random id of its own, from a socket of its own on a port the kernel
 * picks at random (RFC 5452: an off-path attacker must guess the port as well as the id, where one
 * socket for every query left only the id); the answer comes back as the upstream sent it, with
 * the client's id, if it comes from the upstream asked, to that socket, with that id and the same
 * question. An upstream that does not answer in time is given up for the next one; after the
 * last, the client gets SERVFAIL.
 *
 * <p>It also asks the upstreams questions of its own ({@link #resolve}): the target of an
 * ExternalName Service's CNAME, whose records complete the answer.
 *
 * <p>Runs on one event loop, the one of the server's UDP channel (the sockets to the upstreams are
 * registered on it too), so the set of pending queries takes no lock.
 */
final class UdpForwarder {

    private static final Logger log = LoggerFactory.getLogger(UdpForwarder.class);

    private final ClusterDnsServer server;
    private final List<InetSocketAddress> upstreams;
    private final long timeoutMillis;
    private final Set<Pending> pending = new HashSet<>();
    /** Binds one socket to the upstreams, on the forwarder's event loop; its handler is added per query. */
    private final io.netty.channel.EventLoop loop;
    private final Bootstrap sockets;
    private final InetSocketAddress localAddress;
    private boolean closed;

    /**
     * @param loop         the server's UDP event loop, where all of this runs
     * @param sockets      binds the sockets to the upstreams on {@code loop}
     * @param localAddress where they bind (port 0: the kernel's random choice)
     */
    UdpForwarder(ClusterDnsServer server, List<InetSocketAddress> upstreams, long timeoutMillis, io.netty.channel.EventLoop loop,
                 Bootstrap sockets, InetSocketAddress localAddress) {
        this.server = server;
        this.loop = loop;
        this.upstreams = upstreams;
        this.timeoutMillis = timeoutMillis;
        this.sockets = sockets;
        this.localAddress = localAddress;
    }

    /** One query waiting for an upstream's answer. */
    private static final class Pending {
        final Channel clients;
        final InetSocketAddress client;
        final int clientId;
        final DnsQuestion question;
        final boolean recursionDesired;
        final ByteBuf query;
        /** For a question of the server's own ({@link #resolve}): what gets the answer; null for a relayed query. */
        final Resolved then;
        int upstream;
        int id;
        /** The socket of the current attempt, or null between attempts. */
        Channel socket;
        ScheduledFuture<?> timeout;

        Pending(Channel clients, InetSocketAddress client, int clientId, DnsQuestion question, boolean recursionDesired,
                ByteBuf query, Resolved then) {
            this.clients = clients;
            this.client = client;
            this.clientId = clientId;
            this.question = question;
            this.recursionDesired = recursionDesired;
            this.query = query;
            this.then = then;
        }
    }

    /** What gets the answer to a question of the server's own. */
    @FunctionalInterface
    interface Resolved {
        /**
         * The upstream's response code and the records of its answer section (the caller releases
         * them); SERVFAIL and none when no upstream answered, or the answer could not be read.
         */
        void accept(DnsResponseCode code, List<DnsRecord> answers);
    }

    /**
     * Forwards {@code query}, which came on {@code clients} (the server's UDP channel, on the
     * event loop of this forwarder) as the bytes {@code raw} (not released here). The caller has
     * taken a forwarding slot ({@link ClusterDnsServer#tryForward}); it is given back when the
     * query is answered or failed.
     */
    void forward(Channel clients, DatagramDnsQuery query, DnsQuestion question, ByteBuf raw) {
        ByteBuf copy = clients.alloc().buffer(raw.readableBytes()).writeBytes(raw, raw.readerIndex(), raw.readableBytes());
        send(new Pending(clients, query.sender(), query.id(), question, query.isRecursionDesired(), copy, null));
    }

    /**
     * Asks the upstreams for {@code name}'s records of {@code type}, as a resolver would (recursion
     * desired, EDNS0 for {@code payload} bytes), on this forwarder's event loop; {@code then} gets
     * the answer there. The caller has taken a forwarding slot, given back before {@code then} runs.
     */
    void resolve(String name, DnsRecordType type, int payload, Resolved then) {
        DnsQuestion question;
        ByteBuf bytes = Unpooled.buffer(QueryCodec.HEADER + name.length() + 2 + 4 + 11);
        DefaultDnsQuery q = new DefaultDnsQuery(0);
        try {
            question = new DefaultDnsQuestion(name, type);
            q.setRecursionDesired(true);
            q.addRecord(DnsSection.QUESTION, question);
            q.addRecord(DnsSection.ADDITIONAL, new DefaultDnsRawRecord("", DnsRecordType.OPT, payload, 0, Unpooled.EMPTY_BUFFER));
            QueryCodec.encode(q, bytes);
        } catch (Exception e) {
            bytes.release();
            server.forwardDone();
            then.accept(DnsResponseCode.SERVFAIL, List.of());
            return;
        } finally {
            q.release();
        }
        send(new Pending(null, null, 0, question, true, bytes, then));
    }

    private void send(Pending p) {
        if (closed) {
            fail(p);
            return;
        }
        p.id = ThreadLocalRandom.current().nextInt(0x10000);
        pending.add(p);
        p.timeout = loop.schedule(() -> expire(p), timeoutMillis, TimeUnit.MILLISECONDS);
        ChannelFuture bind = sockets.clone().handler(new Answers(p)).bind(localAddress);
        p.socket = bind.channel();
        bind.addListener(b -> {
            if (!loop.inEventLoop()) {
                // a socket that could not be opened (no descriptor left) fails on Netty's global executor
                loop.execute(() -> bound(p, bind));
                return;
            }
            bound(p, bind);
        });
    }

    /** The attempt's socket is bound, or failed to be: the query goes out, or the next upstream is tried. */
    private void bound(Pending p, ChannelFuture bind) {
        if (p.socket != bind.channel() || !pending.contains(p)) {
            Transport.close(bind.channel()); // the attempt is over (expired, or the forwarder closed)
            return;
        }
        if (!bind.isSuccess()) {
            log.debug("cannot open a socket to the upstreams: {}", bind.cause().toString());
            p.timeout.cancel(false);
            expire(p);
            return;
        }
        ByteBuf out = p.query.copy();
        out.setShort(out.readerIndex(), p.id);
        // an upstream that cannot be sent to at all (no route: a network of loopback only) fails now, not at the timeout
        bind.channel().writeAndFlush(new DatagramPacket(out, upstreams.get(p.upstream))).addListener(f -> {
            if (!f.isSuccess() && p.socket == bind.channel()) {
                log.debug("cannot send to upstream {}: {}", upstreams.get(p.upstream), f.cause().toString());
                p.timeout.cancel(false);
                expire(p);
            }
        });
    }

    /**
     * Ends the current attempt: its socket closes (a late answer to it is refused by the kernel).
     * A socket that could not be made at all (no descriptor left) is Netty's failed channel, which
     * closing the usual way threw at: the query and its forwarding slot were then never given back.
     */
    private void endAttempt(Pending p) {
        pending.remove(p);
        if (p.socket != null) {
            Transport.close(p.socket);
            p.socket = null;
        }
    }

    private void expire(Pending p) {
        if (!pending.contains(p)) {
            return;
        }
        endAttempt(p);
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
        if (p.then != null) {
            p.then.accept(DnsResponseCode.SERVFAIL, List.of());
            return;
        }
        p.clients.writeAndFlush(server.failure(p.clients, p.client, p.clientId, p.question, p.recursionDesired,
                DnsResponseCode.SERVFAIL));
    }

    private void done(Pending p) {
        p.query.release();
        server.forwardDone();
    }

    /** An upstream's datagram on the socket of {@code p}'s attempt: relayed to the client, if it answers {@code p}. */
    private void answer(Pending p, DatagramPacket packet) {
        ByteBuf c = packet.content();
        if (c.readableBytes() < 12 || (c.getByte(c.readerIndex() + 2) & 0x80) == 0) {
            return; // not a DNS response
        }
        if (!pending.contains(p) || c.getUnsignedShort(c.readerIndex()) != p.id || !upstreams.get(p.upstream).equals(packet.sender())) {
            return; // late, with another id, or not from the upstream asked
        }
        if (!sameQuestion(p.query, c)) {
            return; // the id matches but the question does not: a forged or confused answer is not relayed
        }
        endAttempt(p);
        p.timeout.cancel(false);
        done(p);
        if (p.then != null) {
            resolved(p.then, c, p.question);
            return;
        }
        c.setShort(c.readerIndex(), p.clientId);
        p.clients.writeAndFlush(new DatagramPacket(c.retain(), p.client));
    }

    /**
     * Reads an upstream's response to a question of the server's own and hands on what answers it:
     * the CNAMEs that lead on from the name asked, in order, and the records of the type asked of
     * the name they end at (an A of 4 bytes, an AAAA of 16); nothing else the upstream put in its
     * answer, whatever its owner. A truncated response, or a code other than NOERROR and NXDOMAIN,
     * is SERVFAIL: a partial set of addresses must not pass for the whole.
     */
    private static void resolved(Resolved then, ByteBuf response, DnsQuestion question) {
        int start = response.readerIndex();
        int flags = response.getUnsignedShort(start + 2);
        DnsResponseCode code = DnsResponseCode.valueOf(flags & 0xF);
        if ((flags & 0x0200) != 0 || !(code.equals(DnsResponseCode.NOERROR) || code.equals(DnsResponseCode.NXDOMAIN))) {
            then.accept(DnsResponseCode.SERVFAIL, List.of());
            return;
        }
        int questions = response.getUnsignedShort(start + 4);
        int answers = response.getUnsignedShort(start + 6);
        List<DnsRecord> all = new ArrayList<>(answers);
        List<DnsRecord> kept = new ArrayList<>();
        try {
            // compression pointers count from the message's start
            ByteBuf message = response.slice(start, response.writerIndex() - start);
            message.readerIndex(QueryCodec.HEADER);
            for (int i = 0; i < questions; i++) {
                DnsRecordDecoder.DEFAULT.decodeQuestion(message);
            }
            for (int i = 0; i < answers; i++) {
                DnsRecord r = DnsRecordDecoder.DEFAULT.decodeRecord(message);
                if (r == null) {
                    throw new IllegalArgumentException("an answer section cut short");
                }
                all.add(r);
            }
            String name = ZoneIndex.normalize(question.name());
            for (int hops = 0; hops <= ZoneIndex.MAX_ALIASES; hops++) {
                DnsRecord cname = owned(all, name, DnsRecordType.CNAME);
                if (cname == null) {
                    break;
                }
                kept.add(cname);
                name = ZoneIndex.normalize(io.netty.handler.codec.dns.DefaultDnsRecordDecoder.decodeName(
                        ((io.netty.handler.codec.dns.DnsRawRecord) cname).content().duplicate()));
            }
            int size = question.type().equals(DnsRecordType.A) ? 4 : 16;
            for (DnsRecord r : all) {
                if (r.type().equals(question.type()) && ZoneIndex.normalize(r.name()).equals(name)
                        && r instanceof io.netty.handler.codec.dns.DnsRawRecord raw && raw.content().readableBytes() == size) {
                    kept.add(r);
                }
            }
        } catch (Exception e) {
            all.forEach(ReferenceCountUtil::release);
            log.debug("cannot read an upstream's answer: {}", e.toString());
            then.accept(DnsResponseCode.SERVFAIL, List.of());
            return;
        }
        Set<DnsRecord> keep = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()); // records compare by name and type
        keep.addAll(kept);
        for (DnsRecord r : all) {
            if (!keep.contains(r)) {
                ReferenceCountUtil.release(r);
            }
        }
        then.accept(code, kept);
    }

    /** The first record of {@code type} owned by {@code name} in {@code records}, or null. */
    private static DnsRecord owned(List<DnsRecord> records, String name, DnsRecordType type) {
        for (DnsRecord r : records) {
            if (r.type().equals(type) && ZoneIndex.normalize(r.name()).equals(name)) {
                return r;
            }
        }
        return null;
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
        closed = true;
        for (Pending p : new ArrayList<>(pending)) {
            p.timeout.cancel(false);
            endAttempt(p);
            done(p);
            if (p.then != null) {
                p.then.accept(DnsResponseCode.SERVFAIL, List.of());
            }
        }
        pending.clear();
    }

    /** The handler of one attempt's socket. */
    private final class Answers extends SimpleChannelInboundHandler<DatagramPacket> {
        private final Pending p;

        Answers(Pending p) {
            this.p = p;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            answer(p, packet);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("upstream DNS socket: {}", cause.toString()); // an ICMP error, say: the timeout deals with it
        }
    }
}
