package dev.portway.proxy.dns;

import dev.portway.net.Slots;
import dev.portway.net.Transport;
import dev.portway.net.WritabilityGate;
import dev.portway.plan.DnsZone;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuery;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DefaultDnsResponse;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsQuery;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.handler.codec.dns.TcpDnsResponseEncoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster DNS: answers for the names of a {@link DnsZone} (Services, headless Services' pods, SRV
 * records, Gateways, and PTR records of their addresses) over UDP and TCP on one address, and
 * forwards every other question to the host's nameservers.
 *
 * <ul>
 *   <li>A and AAAA records from the zone's addresses, SRV records with the addresses of their
 *       targets in the additional section, the zone's SOA at its apex; ANY gets all of those the
 *       name has. Every record has a TTL of {@value ZoneIndex#TTL} seconds. Answers are
 *       authoritative (AA).</li>
 *   <li>A name under the domain that does not exist gets NXDOMAIN; a name that exists without
 *       records of the type asked (or an empty non-terminal, such as {@code default.svc.cluster.local})
 *       gets NOERROR without answers. Both carry the zone's SOA in the authority section.</li>
 *   <li>An ExternalName Service's name is a CNAME of its {@code externalName}; an A or AAAA
 *       question gets the CNAME and the target's addresses, asked of the upstreams for a target
 *       outside the zone (as CoreDNS does: a stub resolver does not follow a CNAME itself).</li>
 *   <li>PTR questions for an address of the zone are answered with the most specific name that
 *       has it (the most labels, then the first in alphabetical order); other reverse names are
 *       forwarded like any name outside the zone.</li>
 *   <li>Forwarding: over UDP, the query as the client sent it, with an id of the server's, to
 *       the first upstream; after {@code forwardTimeout} (2 s) without an answer, to the next,
 *       and after the last the client gets SERVFAIL. Over TCP, the same on a TCP connection to
 *       the upstream per query. At most {@value #MAX_FORWARDS} queries are forwarded at once,
 *       {@value #MAX_TCP_FORWARDS_PER_CONNECTION} of them for one TCP connection; beyond that,
 *       SERVFAIL. With no upstreams, REFUSED.</li>
 *   <li>A UDP answer larger than 512 bytes, or than the payload size of the query's EDNS0 OPT
 *       record, or than the {@value #EDNS_PAYLOAD} this server advertises (a client that claims
 *       64 KiB gets no larger answers from the zone; forwarded answers are relayed as the upstream
 *       sends them), is sent without its records and with the TC bit, so that the client asks
 *       again over TCP.</li>
 *   <li>A TCP client that does not read its answers is read no further (a few queries' answers
 *       past the write buffer at most). A TCP connection that sends no whole query for
 *       {@value #TCP_IDLE_SECONDS} s is closed, however many bytes of one it trickles in.</li>
 *   <li>Other opcodes than QUERY get NOTIMP, a query with other than one question FORMERR, a
 *       question under the domain of another class than IN (or ANY) REFUSED. Datagrams that do
 *       not decode, and DNS responses, are dropped; a TCP connection that sends one is closed.</li>
 * </ul>
 *
 * <p>{@link #update} swaps the zone whole; queries read it from a volatile field.
 */
public final class ClusterDnsServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterDnsServer.class);

    /** How many queries may wait for an upstream at once (over UDP and TCP together). */
    static final int MAX_FORWARDS = 1024;
    /** How many TCP clients may be connected at once. */
    static final int MAX_TCP_CONNECTIONS = 256;
    /** How many queries one TCP connection may have forwarded at once (each has its own upstream connection). */
    static final int MAX_TCP_FORWARDS_PER_CONNECTION = 16;
    /** The most query bytes a TCP connection's decoder is given while its answers can be written: a few queries. */
    private static final int TCP_INPUT_SLICE = 512;
    /** A UDP answer's size when the query has no EDNS0 record (RFC 1035). */
    static final int UDP_PAYLOAD = 512;
    /** The payload size this server advertises in its own OPT records. */
    static final int EDNS_PAYLOAD = 1232;
    static final int TCP_IDLE_SECONDS = 30;

    private final Transport transport;
    private final EventLoopGroup group;
    private final List<InetSocketAddress> upstreams;
    private final long forwardTimeoutMillis;
    /** How long a TCP connection may go without sending a whole query ({@value #TCP_IDLE_SECONDS} s; tests shorten it). */
    private long tcpIdleMillis = TimeUnit.SECONDS.toMillis(TCP_IDLE_SECONDS);
    private final Slots forwarding = new Slots();
    private final dev.portway.net.OldestGoes tcpConnections = new dev.portway.net.OldestGoes();
    private final Set<Channel> tcpClients = ConcurrentHashMap.newKeySet();
    private volatile ZoneIndex index;
    private long serial;

    private Channel udp;
    private Channel tcp;
    /** The event loop of the UDP channel and of the forwarder's sockets. */
    private EventLoop forwarderLoop;
    /** Makes the sockets to the upstreams (tests make ones that fail, as with no descriptor left). */
    private ChannelFactory<? extends Channel> udpUpstreamChannels;
    private ChannelFactory<? extends Channel> tcpUpstreamChannels;
    private UdpForwarder forwarder;
    private InetSocketAddress localAddress;

    /**
     * A server that answers from an empty zone until {@link #update} and forwards other names to
     * {@code upstreams} (see {@link #upstreamsFrom}); it binds on {@link #start}.
     *
     * @param transport the socket implementation, as the data plane's
     * @param group     the event loops the server's channels run on (not shut down by {@link #close})
     * @param upstreams the nameservers for names outside the zone, in order of preference; empty: REFUSED
     */
    public ClusterDnsServer(Transport transport, EventLoopGroup group, List<InetSocketAddress> upstreams) {
        this(transport, group, upstreams, Duration.ofSeconds(2));
    }

    /** Makes the sockets to the upstreams with these factories instead of the transport's; before {@link #start}. */
    ClusterDnsServer upstreamChannels(ChannelFactory<? extends Channel> udp, ChannelFactory<? extends Channel> tcp) {
        udpUpstreamChannels = udp;
        tcpUpstreamChannels = tcp;
        return this;
    }

    ChannelFactory<? extends Channel> tcpUpstreamChannels() {
        return tcpUpstreamChannels;
    }

    /** Shortens the time a TCP connection may go without a whole query; before {@link #start}. */
    ClusterDnsServer tcpIdleTimeout(Duration timeout) {
        tcpIdleMillis = timeout.toMillis();
        return this;
    }

    ClusterDnsServer(Transport transport, EventLoopGroup group, List<InetSocketAddress> upstreams, Duration forwardTimeout) {
        this.transport = transport;
        this.group = group;
        this.upstreams = List.copyOf(upstreams);
        this.forwardTimeoutMillis = forwardTimeout.toMillis();
        this.udpUpstreamChannels = new ReflectiveChannelFactory<>(transport.datagramChannel());
        this.tcpUpstreamChannels = new ReflectiveChannelFactory<>(transport.socketChannel());
        update(DnsZone.empty());
    }

    /**
     * Binds UDP and TCP on {@code address} (port 0: a free port, the same for both) and returns
     * the address bound.
     */
    public synchronized InetSocketAddress start(InetSocketAddress address) throws InterruptedException {
        if (udp != null) {
            throw new IllegalStateException("started already");
        }
        // The UDP channel and the socket to the upstreams share one event loop (the forwarder's
        // table takes no lock), and that socket is there before the first query.
        EventLoop loop = group.next();
        if (!upstreams.isEmpty()) {
            forwarderLoop = loop;
            forwarder = new UdpForwarder(this, upstreams, forwardTimeoutMillis, loop, new Bootstrap()
                    .group(loop)
                    .channelFactory(udpUpstreamChannels)
                    .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(0xFFFF)),
                    upstreamSocketAddress(upstreams));
        }
        for (int attempt = 1; ; attempt++) {
            Channel u;
            try {
                u = bindUdp(loop, address);
            } catch (Exception e) {
                close();
                throw e;
            }
            InetSocketAddress bound = (InetSocketAddress) u.localAddress();
            try {
                tcp = bindTcp(bound);
                udp = u;
                localAddress = bound;
                break;
            } catch (Exception e) {
                u.close().syncUninterruptibly();
                if (address.getPort() != 0 || attempt == 10) {
                    close();
                    throw e; // the port is taken for TCP (a free UDP port needn't be a free TCP port: tried again)
                }
            }
        }
        log.info("cluster DNS on {} (udp and tcp), forwarding to {}", localAddress, upstreams.isEmpty() ? "nobody" : upstreams);
        return localAddress;
    }

    /** The address bound by {@link #start}, or {@code null} before. */
    public synchronized InetSocketAddress localAddress() {
        return localAddress;
    }

    /** Answers from {@code zone} from now on. Any thread. */
    public void update(DnsZone zone) {
        synchronized (this) {
            serial = Math.max(serial + 1, System.currentTimeMillis() / 1000) & 0xFFFFFFFFL;
            index = new ZoneIndex(zone, serial);
        }
    }

    /** The zone answered from. */
    public DnsZone zone() {
        return index.zone;
    }

    /** Closes the server's sockets and TCP connections (not the event loops). */
    @Override
    public synchronized void close() {
        List<Channel> channels = new ArrayList<>();
        for (Channel c : new Channel[] {udp, tcp}) {
            if (c != null) {
                channels.add(c);
            }
        }
        channels.addAll(tcpClients);
        for (Channel c : channels) {
            c.close().syncUninterruptibly();
        }
        if (forwarder != null && forwarderLoop != null) {
            UdpForwarder f = forwarder;
            EventLoop loop = forwarderLoop;
            if (loop.inEventLoop()) {
                f.close();
            } else if (!loop.isShuttingDown()) {
                loop.submit(f::close).syncUninterruptibly();
            }
        }
    }

    /**
     * The nameservers of a resolv.conf ({@code nameserver} lines, port 53), without the one that
     * would be this server itself: a loopback address equal to {@code self}'s (or any loopback
     * address when {@code self} is the wildcard address), when {@code self}'s port is 53. A file
     * that does not exist has none.
     */
    public static List<InetSocketAddress> upstreamsFrom(Path resolvConf, InetSocketAddress self) {
        List<String> lines;
        try {
            lines = Files.readAllLines(resolvConf);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<InetSocketAddress> out = new ArrayList<>();
        for (String line : lines) {
            String[] words = line.strip().split("\\s+");
            if (words.length < 2 || !words[0].equals("nameserver")) {
                continue;
            }
            String literal = words[1];
            int scope = literal.indexOf('%');
            byte[] bytes = NetUtil.createByteArrayFromIpAddressString(scope < 0 ? literal : literal.substring(0, scope));
            if (bytes == null) {
                continue; // not an address literal (resolv.conf wants one)
            }
            InetAddress address;
            try {
                address = scope < 0 || bytes.length != 16 ? InetAddress.getByAddress(bytes)
                        : scoped(bytes, literal.substring(scope + 1));
            } catch (UnknownHostException | java.net.SocketException e) {
                continue; // a scope naming no interface here: nothing could be sent to it
            }
            // this server, which would forward to itself until every forwarding slot is taken: its own address (a
            // non-loopback one too, which a machine may name in its resolv.conf), or loopback when it listens on all
            boolean itself = self != null && self.getPort() == 53 && (self.getAddress().equals(address)
                    || self.getAddress().isAnyLocalAddress() && address.isLoopbackAddress());
            InetSocketAddress upstream = new InetSocketAddress(address, 53);
            if (!itself && !out.contains(upstream)) {
                out.add(upstream);
            }
        }
        return List.copyOf(out);
    }

    /**
     * An IPv6 address with its zone ({@code fe80::1%eth0} or {@code %2}, as NetworkManager writes
     * link-local nameservers): without it, nothing can be sent to a link-local address.
     */
    private static InetAddress scoped(byte[] bytes, String zone) throws UnknownHostException, java.net.SocketException {
        if (!zone.isEmpty() && zone.chars().allMatch(c -> c >= '0' && c <= '9') && zone.length() < 10) {
            return java.net.Inet6Address.getByAddress(null, bytes, Integer.parseInt(zone));
        }
        java.net.NetworkInterface nic = java.net.NetworkInterface.getByName(zone);
        if (nic == null) {
            throw new UnknownHostException("no interface " + zone);
        }
        return java.net.Inet6Address.getByAddress(null, bytes, nic.getIndex()); // by index: nic may have no link-local address yet
    }

    Transport transport() {
        return transport;
    }

    /** Bytes of answers written to TCP clients that they have not taken yet. */
    long queuedTcpBytes() {
        return WritabilityGate.queuedBytes(tcpClients);
    }

    /** Takes a forwarding slot: false when {@value #MAX_FORWARDS} queries are forwarded already. */
    boolean tryForward() {
        return forwarding.tryTake(MAX_FORWARDS);
    }

    void forwardDone() {
        forwarding.release();
    }

    /** How many queries wait for an upstream now. */
    int forwardsInFlight() {
        return forwarding.inUse();
    }

    /** A response without records but the question: for UDP when {@code client} is given, else for TCP. */
    DnsResponse failure(Channel channel, InetSocketAddress client, int id, DnsQuestion question, boolean recursionDesired,
            DnsResponseCode code) {
        DnsResponse r = client != null
                ? new DatagramDnsResponse((InetSocketAddress) channel.localAddress(), client, id, DnsOpCode.QUERY, code)
                : new DefaultDnsResponse(id, DnsOpCode.QUERY, code);
        r.setRecursionDesired(recursionDesired);
        r.setRecursionAvailable(!upstreams.isEmpty());
        if (question != null) {
            r.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(question.name(), question.type(), question.dnsClass()));
        }
        return r;
    }

    private Channel bindUdp(EventLoop loop, InetSocketAddress address) throws InterruptedException {
        return bound(new Bootstrap()
                .group(loop)
                .channel(transport.datagramChannel())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new QueryDecoder(), new ResponseEncoder(), new UdpHandler());
                    }
                })
                .bind(address));
    }

    private Channel bindTcp(InetSocketAddress address) throws InterruptedException {
        return bound(new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // at the cap the oldest goes: resolvers ask and go, and whoever holds every connection
                        // (a query every few seconds on each) would otherwise shut every later one out
                        tcpConnections.admit(ch, MAX_TCP_CONNECTIONS);
                        tcpClients.add(ch);
                        ch.closeFuture().addListener(f -> tcpClients.remove(ch));
                        // the gate first: a client that reads no answers has its queries held, so no reads reach the
                        // timeout; the timeout after the decoder: only whole queries are reads, so a client that
                        // trickles a byte at a time cannot hold one of the few connections
                        ch.pipeline().addLast(new WritabilityGate(TCP_INPUT_SLICE),
                                new LengthFieldBasedFrameDecoder(QueryCodec.MAX_TCP_QUERY, 0, 2, 0, 2), new TcpQueryDecoder(),
                                new ReadTimeoutHandler(tcpIdleMillis, TimeUnit.MILLISECONDS), new TcpDnsResponseEncoder(new CompressingRecordEncoder()), new TcpHandler());
                    }
                })
                .bind(address));
    }

    /** The channel bound, or the bind's failure thrown (and the channel closed). */
    private static Channel bound(ChannelFuture bind) throws InterruptedException {
        try {
            return bind.sync().channel();
        } catch (Exception e) {
            bind.channel().close();
            throw e;
        }
    }

    /** Where the socket to the upstreams binds: loopback when they all are IPv4 loopback, else the wildcard address. */
    private static InetSocketAddress upstreamSocketAddress(List<InetSocketAddress> upstreams) {
        boolean loopback = upstreams.stream().allMatch(u -> u.getAddress() instanceof Inet4Address && u.getAddress().isLoopbackAddress());
        return loopback ? new InetSocketAddress(NetUtil.LOCALHOST4, 0) : new InetSocketAddress(0);
    }

    /** What to do with a query: an answer, or {@code null} to forward it. */
    private ZoneIndex.Answer decide(DnsQuery query) {
        if (!DnsOpCode.QUERY.equals(query.opCode())) {
            return ZoneIndex.Answer.of(DnsResponseCode.NOTIMP);
        }
        if (query.count(DnsSection.QUESTION) != 1) {
            return ZoneIndex.Answer.of(DnsResponseCode.FORMERR);
        }
        return index.answer(query.recordAt(DnsSection.QUESTION));
    }

    /**
     * Fills {@code response} with {@code answer}, for {@code query}: the question, the records, an
     * OPT record if the query had one. Over {@code limit} bytes, as CoreDNS truncates: the answers
     * that fit, the OPT record and the TC bit (a resolver that cannot retry over TCP, as musl's
     * before 1.2.4, still gets some addresses).
     */
    private void fill(DnsResponse response, DnsQuery query, ZoneIndex.Answer answer, int limit) {
        response.setRecursionDesired(query.isRecursionDesired());
        response.setRecursionAvailable(!upstreams.isEmpty());
        response.setAuthoritativeAnswer(answer.authoritative());
        if (query.count(DnsSection.QUESTION) == 1) {
            DnsQuestion q = query.recordAt(DnsSection.QUESTION);
            response.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(q.name(), q.type(), q.dnsClass()));
        }
        answer.answers().forEach(r -> response.addRecord(DnsSection.ANSWER, r));
        answer.authority().forEach(r -> response.addRecord(DnsSection.AUTHORITY, r));
        answer.additional().forEach(r -> response.addRecord(DnsSection.ADDITIONAL, r));
        boolean edns = ednsPayload(query) > 0;
        if (edns) {
            response.addRecord(DnsSection.ADDITIONAL, opt());
        }
        int[] ends = ends(response);
        if (ends[ends.length - 1] > limit) {
            int room = limit - (edns ? OPT_SIZE : 0);
            int fit = 0;
            while (fit < response.count(DnsSection.ANSWER) && ends[fit] <= room) {
                fit++;
            }
            List<DnsRecord> kept = new ArrayList<>(fit);
            for (int i = 0; i < fit; i++) {
                kept.add(ReferenceCountUtil.retain(response.<DnsRecord>recordAt(DnsSection.ANSWER, i)));
            }
            response.clear(DnsSection.ANSWER);
            response.clear(DnsSection.AUTHORITY);
            response.clear(DnsSection.ADDITIONAL);
            kept.forEach(r -> response.addRecord(DnsSection.ANSWER, r));
            if (edns) {
                response.addRecord(DnsSection.ADDITIONAL, opt());
            }
            response.setTruncated(true);
        }
    }

    /**
     * Completes an ExternalName's answer (its CNAME, and the target outside the zone to ask of the
     * upstreams, {@link ZoneIndex.Answer#chase}) with the target's records, as CoreDNS does: a stub
     * resolver does not follow a CNAME by itself. {@code respond} gets the whole answer on
     * {@code channel}'s event loop, after which {@code query} (retained here) is released. False when
     * it is not asked (no upstreams: the CNAME alone; no forwarding slot: SERVFAIL, in
     * {@code answer}'s place) and the caller answers {@code answer} now.
     */
    private boolean chase(Channel channel, DnsQuery query, ZoneIndex.Answer answer, java.util.function.Consumer<ZoneIndex.Answer> respond) {
        if (forwarder == null) {
            return false;
        }
        if (!tryForward()) {
            release(answer);
            respond.accept(ZoneIndex.Answer.of(DnsResponseCode.SERVFAIL));
            return true;
        }
        DnsRecordType type = query.<DnsQuestion>recordAt(DnsSection.QUESTION).type();
        query.retain();
        UdpForwarder.Resolved then = (code, records) -> {
            ZoneIndex.Answer whole = completed(answer, code, records);
            Runnable reply = () -> {
                try {
                    respond.accept(whole);
                } catch (RuntimeException e) {
                    // an upstream's record that cannot be written (fill released the response): the client is not left waiting
                    log.debug("cluster DNS: cannot answer {} with its target's records: {}", answer.chase(), e.toString());
                    respond.accept(ZoneIndex.Answer.of(DnsResponseCode.SERVFAIL));
                } finally {
                    query.release();
                }
            };
            if (channel.eventLoop().inEventLoop()) {
                reply.run();
                return;
            }
            try {
                channel.eventLoop().execute(reply);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                release(whole); // the client's event loop is gone, and the client with it
                query.release();
            }
        };
        if (forwarderLoop.inEventLoop()) {
            forwarder.resolve(answer.chase(), type, EDNS_PAYLOAD, then);
            return true;
        }
        try {
            forwarderLoop.execute(() -> forwarder.resolve(answer.chase(), type, EDNS_PAYLOAD, then));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            forwardDone(); // the server is closing
            query.release();
            release(answer);
            respond.accept(ZoneIndex.Answer.of(DnsResponseCode.SERVFAIL));
        }
        return true;
    }

    /**
     * An alias's answer with its target's records from the upstreams. The code is NOERROR whether
     * the target exists or not, as CoreDNS answers (the CNAME is an answer); an upstream that
     * failed, or whose answer was truncated, makes it SERVFAIL, where CoreDNS answers the CNAME
     * alone: the client asks again rather than taking the name for one without addresses.
     */
    private static ZoneIndex.Answer completed(ZoneIndex.Answer alias, DnsResponseCode code, List<DnsRecord> records) {
        if (!code.equals(DnsResponseCode.NOERROR) && !code.equals(DnsResponseCode.NXDOMAIN)) {
            release(alias);
            records.forEach(ReferenceCountUtil::release);
            return ZoneIndex.Answer.of(DnsResponseCode.SERVFAIL);
        }
        List<DnsRecord> answers = new ArrayList<>(alias.answers());
        answers.addAll(records);
        return new ZoneIndex.Answer(DnsResponseCode.NOERROR, alias.authoritative(), answers, alias.authority(), alias.additional());
    }

    /** Releases an answer that will not be sent. */
    private static void release(ZoneIndex.Answer answer) {
        answer.answers().forEach(ReferenceCountUtil::release);
        answer.authority().forEach(ReferenceCountUtil::release);
        answer.additional().forEach(ReferenceCountUtil::release);
    }

    /** What an OPT record of the root name with no options takes. */
    private static final int OPT_SIZE = 11;

    /**
     * Where each record of {@code response} ends, as {@link CompressingRecordEncoder} writes it, in
     * the order written (answers, authority, additional); the last element is the whole message's
     * size. A record's end does not depend on the records after it (pointers point back).
     */
    static int[] ends(DnsResponse response) {
        int records = response.count(DnsSection.ANSWER) + response.count(DnsSection.AUTHORITY) + response.count(DnsSection.ADDITIONAL);
        int[] ends = new int[records + 1];
        ByteBuf scratch = Unpooled.buffer(512);
        try {
            CompressingRecordEncoder encoder = new CompressingRecordEncoder();
            scratch.writeZero(12);
            if (response.count(DnsSection.QUESTION) == 1) {
                encoder.encodeQuestion(response.recordAt(DnsSection.QUESTION), scratch);
            }
            int i = 0;
            for (DnsSection section : List.of(DnsSection.ANSWER, DnsSection.AUTHORITY, DnsSection.ADDITIONAL)) {
                for (int k = 0; k < response.count(section); k++) {
                    encoder.encodeRecord(response.recordAt(section, k), scratch);
                    ends[i++] = scratch.writerIndex();
                }
            }
            ends[records] = scratch.writerIndex();
            return ends;
        } catch (Exception e) {
            throw new IllegalStateException("cannot encode " + response, e);
        } finally {
            scratch.release();
        }
    }

    /** The size of a response as {@link CompressingRecordEncoder} writes it. */
    static int size(DnsResponse response) {
        int[] ends = ends(response);
        return ends[ends.length - 1];
    }

    /** The UDP payload size of the query's OPT record, or 0 without one. */
    private static int ednsPayload(DnsQuery query) {
        int n = query.count(DnsSection.ADDITIONAL);
        for (int i = 0; i < n; i++) {
            DnsRecord r = query.recordAt(DnsSection.ADDITIONAL, i);
            if (DnsRecordType.OPT.equals(r.type())) {
                return Math.min(Math.max(r.dnsClass() & 0xFFFF, UDP_PAYLOAD), EDNS_PAYLOAD);
            }
        }
        return 0;
    }

    private static DnsRecord opt() {
        return new DefaultDnsRawRecord("", DnsRecordType.OPT, EDNS_PAYLOAD, 0, Unpooled.EMPTY_BUFFER);
    }

    /** A decoded UDP query with its bytes (to forward it as it came). */
    record UdpQuery(DatagramDnsQuery query, ByteBuf raw) {
    }

    /**
     * The answer to a query that is not decoded ({@link QueryCodec#refusal}): its ID, opcode and
     * rcode, and no question; for UDP when {@code client} is given, else for TCP.
     */
    private DnsResponse refused(Channel channel, InetSocketAddress client, ByteBuf query, DnsResponseCode code) {
        DnsOpCode op = QueryCodec.opCode(query);
        int id = QueryCodec.id(query);
        DnsResponse r = client != null ? new DatagramDnsResponse((InetSocketAddress) channel.localAddress(), client, id, op, code)
                : new DefaultDnsResponse(id, op, code);
        r.setRecursionDesired(QueryCodec.recursionDesired(query));
        r.setRecursionAvailable(!upstreams.isEmpty());
        return r;
    }

    /** Decodes a datagram's query ({@link QueryCodec}), keeping its bytes with it (to forward it as it came). */
    private final class QueryDecoder extends MessageToMessageDecoder<DatagramPacket> {
        @Override
        protected void decode(ChannelHandlerContext ctx, DatagramPacket packet, List<Object> out) throws Exception {
            ByteBuf content = packet.content();
            if (!QueryCodec.isQuery(content)) {
                return; // a response or noise: never answered (no reflection loops)
            }
            DnsResponseCode refusal = QueryCodec.refusal(content);
            if (refusal != null) {
                ctx.channel().writeAndFlush(refused(ctx.channel(), packet.sender(), content, refusal));
                return;
            }
            ByteBuf raw = content.retainedSlice();
            try {
                out.add(new UdpQuery(QueryCodec.decode(content, (id, op) -> new DatagramDnsQuery(packet.sender(), packet.recipient(), id, op)), raw));
            } catch (Exception e) {
                raw.release();
                throw e;
            }
        }
    }

    /** Decodes a TCP frame's query ({@link QueryCodec}); what is not a query closes the connection. */
    private final class TcpQueryDecoder extends MessageToMessageDecoder<ByteBuf> {
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) throws Exception {
            if (!QueryCodec.isQuery(frame)) {
                throw new CorruptedFrameException("not a DNS query");
            }
            DnsResponseCode refusal = QueryCodec.refusal(frame);
            if (refusal != null) {
                ctx.channel().writeAndFlush(refused(ctx.channel(), null, frame, refusal));
                return;
            }
            out.add(QueryCodec.decode(frame, DefaultDnsQuery::new));
        }
    }

    /** Netty's UDP response encoder, letting datagrams through (forwarded answers, written as they came). */
    private static final class ResponseEncoder extends DatagramDnsResponseEncoder {
        ResponseEncoder() {
            super(new CompressingRecordEncoder());
        }

        @Override
        public boolean acceptOutboundMessage(Object msg) throws Exception {
            return msg instanceof AddressedEnvelope<?, ?> e && e.content() instanceof DnsResponse && super.acceptOutboundMessage(msg);
        }
    }

    private final class UdpHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof UdpQuery(DatagramDnsQuery query, ByteBuf raw))) {
                ReferenceCountUtil.release(msg);
                return;
            }
            try {
                ZoneIndex.Answer answer = decide(query);
                if (answer == null) {
                    DnsQuestion question = query.recordAt(DnsSection.QUESTION);
                    if (upstreams.isEmpty()) {
                        answer = ZoneIndex.Answer.of(DnsResponseCode.REFUSED);
                    } else if (!tryForward()) {
                        answer = ZoneIndex.Answer.of(DnsResponseCode.SERVFAIL);
                    } else {
                        forwarder.forward(ctx.channel(), query, new DefaultDnsQuestion(question.name(), question.type(), question.dnsClass()), raw);
                        return;
                    }
                }
                if (answer.chase() != null && chase(ctx.channel(), query, answer, a -> respond(ctx, query, a))) {
                    return;
                }
                respond(ctx, query, answer);
            } catch (RuntimeException e) {
                log.debug("cluster DNS: no answer to {}: {}", query, e.toString());
            } finally {
                query.release();
                raw.release();
            }
        }

        private void respond(ChannelHandlerContext ctx, DatagramDnsQuery query, ZoneIndex.Answer answer) {
            int limit = Math.max(UDP_PAYLOAD, ednsPayload(query));
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id(),
                    query.opCode(), answer.code());
            try {
                fill(response, query, answer, limit);
            } catch (RuntimeException e) {
                response.release();
                throw e;
            }
            ctx.writeAndFlush(response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("cluster DNS: dropped a datagram: {}", cause.toString()); // the channel goes on
        }
    }

    private final class TcpHandler extends SimpleChannelInboundHandler<DnsQuery> {
        private final Slots forwarded = new Slots();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DnsQuery query) {
            ZoneIndex.Answer answer = decide(query);
            if (answer == null) {
                if (upstreams.isEmpty()) {
                    answer = ZoneIndex.Answer.of(DnsResponseCode.REFUSED);
                } else if (!forwarded.tryTake(MAX_TCP_FORWARDS_PER_CONNECTION)) {
                    answer = ZoneIndex.Answer.of(DnsResponseCode.SERVFAIL);
                } else if (!tryForward()) {
                    forwarded.release();
                    answer = ZoneIndex.Answer.of(DnsResponseCode.SERVFAIL);
                } else {
                    new TcpForward(ClusterDnsServer.this, ctx.channel(), query.retain(), upstreams, forwardTimeoutMillis, forwarded).start();
                    return;
                }
            }
            if (answer.chase() != null && forwarder != null) {
                if (!forwarded.tryTake(MAX_TCP_FORWARDS_PER_CONNECTION)) {
                    release(answer);
                    answer = ZoneIndex.Answer.of(DnsResponseCode.SERVFAIL);
                } else {
                    chase(ctx.channel(), query, answer, a -> {
                        forwarded.release();
                        if (ctx.channel().isActive()) {
                            respond(ctx, query, a);
                        } else {
                            release(a);
                        }
                    });
                    return;
                }
            }
            respond(ctx, query, answer);
        }

        private void respond(ChannelHandlerContext ctx, DnsQuery query, ZoneIndex.Answer answer) {
            DnsResponse response = new DefaultDnsResponse(query.id(), query.opCode(), answer.code());
            try {
                fill(response, query, answer, 0xFFFF);
            } catch (RuntimeException e) {
                response.release();
                throw e;
            }
            ctx.writeAndFlush(response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("cluster DNS: closing TCP connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
