package dev.portway.runtime.echo;

import dev.portway.net.Slots;
import dev.portway.net.Transport;
import dev.portway.net.WritabilityGate;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The built-in echo server, what a pod with image {@code portway/echo} runs. On every declared
 * TCP port it answers HTTP requests with who it is (pod, pod IP, node) and who asked (the client
 * address it saw, and the real one when a PROXY protocol header came first), and echoes any other
 * bytes back; on every UDP port it echoes datagrams. {@link #echoBasic} makes the one that plays the
 * Gateway API conformance suite's backend instead.
 */
public final class EchoServer implements AutoCloseable {

    /** The image name that selects the built-in echo server. */
    public static final String IMAGE = "portway/echo";

    /** The most connections one port holds at once; more are closed as they come. */
    static final int MAX_CONNECTIONS = 1024;

    /** Who this echo server is, for its answers. */
    public record Identity(String pod, String namespace, String podIp, String node) {
        public Identity {
            Objects.requireNonNull(pod, "pod");
        }
    }

    /** One port to serve. */
    public record Port(int port, boolean udp) {
    }

    private final Identity identity;
    private final EchoBasicHandler.State echoBasic;
    private final Transport transport;
    private final EventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();
    private final List<Channel> connections = java.util.Collections.synchronizedList(new ArrayList<>());

    public EchoServer(Identity identity, Transport transport, EventLoopGroup group) {
        this(identity, null, transport, group);
    }

    private EchoServer(Identity identity, EchoBasicHandler.State echoBasic, Transport transport, EventLoopGroup group) {
        this.identity = identity;
        this.echoBasic = echoBasic;
        this.transport = transport;
        this.group = group;
    }

    /**
     * A server that answers on its TCP ports as the Gateway API's echo-basic does (see
     * {@link EchoBasic}), reporting {@code context} and {@code httpPort}, and writing echo-basic's
     * log lines to {@code log} (called from event loops).
     */
    public static EchoServer echoBasic(Identity identity, EchoBasic.Context context, int httpPort,
                                       java.util.function.Consumer<String> log, Transport transport, EventLoopGroup group) {
        return new EchoServer(identity, new EchoBasicHandler.State(context, httpPort, log), transport, group);
    }

    public static boolean isEchoImage(String image) {
        if (image == null) {
            return false;
        }
        String name = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
        int slash = name.lastIndexOf('/');
        int colon = name.lastIndexOf(':');
        if (colon > slash) {
            name = name.substring(0, colon);
        }
        return name.equals(IMAGE) || name.equals("docker.io/" + IMAGE);
    }

    /** Binds every port on {@code address}; completes when all are listening, fails on the first that cannot. */
    public CompletableFuture<Void> start(String address, List<Port> ports) {
        List<CompletableFuture<Void>> binds = new ArrayList<>();
        for (Port p : ports) {
            InetSocketAddress at = new InetSocketAddress(address, p.port());
            ChannelFuture f = p.udp() ? bindUdp(at) : bindTcp(at);
            CompletableFuture<Void> done = new CompletableFuture<>();
            f.addListener(result -> {
                if (result.isSuccess()) {
                    synchronized (channels) {
                        channels.add(f.channel());
                    }
                    done.complete(null);
                } else {
                    done.completeExceptionally(new IllegalStateException("cannot listen on " + (p.udp() ? "udp " : "tcp ")
                            + address + ":" + p.port() + ": " + result.cause().getMessage(), result.cause()));
                }
            });
            binds.add(done);
        }
        return CompletableFuture.allOf(binds.toArray(CompletableFuture[]::new));
    }

    private ChannelFuture bindTcp(InetSocketAddress at) {
        Slots open = new Slots();
        return new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (!open.tryTakeFor(ch, MAX_CONNECTIONS)) {
                            ch.close();
                            return;
                        }
                        connections.add(ch);
                        ch.closeFuture().addListener(f -> connections.remove(ch));
                        // first: a client that reads no answers is read no further (HTTP and byte echo alike)
                        ch.pipeline().addLast(new WritabilityGate());
                        if (echoBasic != null) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpServerKeepAliveHandler(), new EchoRequests(true), new EchoBasicHandler(echoBasic));
                        } else {
                            ch.pipeline().addLast(new ProtocolSniffer(identity));
                        }
                    }
                })
                .bind(at);
    }

    private ChannelFuture bindUdp(InetSocketAddress at) {
        return new Bootstrap()
                .group(group)
                .channel(transport.datagramChannel())
                // no SO_REUSEADDR: with it another local process could bind the same address and take datagrams
                .option(ChannelOption.RECVBUF_ALLOCATOR, new io.netty.channel.FixedRecvByteBufAllocator(65535).maxMessagesPerRead(16)) // whole datagrams
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new UdpEchoHandler());
                    }
                })
                .bind(at);
    }

    /** Connections currently open to this server. */
    public int openConnections() {
        return connections.size();
    }

    /** Bytes written to this server's clients that they have not taken yet (answers waiting in memory). */
    public long queuedBytes() {
        synchronized (connections) {
            return WritabilityGate.queuedBytes(connections);
        }
    }

    /**
     * Stops listening at once; open connections may finish until {@code drain} completes, then
     * they are closed. Done once the listening sockets and the connections are closed: an address
     * this server listened on is free again by then (under io_uring a listening socket closes only
     * once its pending accept is cancelled, after {@code close()} has returned).
     */
    public CompletableFuture<Void> stop(CompletableFuture<?> drain) {
        List<Channel> listening;
        synchronized (channels) {
            listening = new ArrayList<>(channels);
            channels.clear();
        }
        CompletableFuture<Void> unbound = closeAll(listening);
        return drain.handle((r, e) -> null).thenCombine(unbound, (a, b) -> null).thenCompose(x -> {
            synchronized (connections) {
                return closeAll(new ArrayList<>(connections));
            }
        });
    }

    /** Closes {@code open}; done once every one is closed, not once each close is asked for. */
    private static CompletableFuture<Void> closeAll(List<Channel> open) {
        CompletableFuture<?>[] closed = open.stream().map(c -> {
            CompletableFuture<Void> f = new CompletableFuture<>();
            c.close().addListener(x -> f.complete(null));
            return f;
        }).toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(closed);
    }

    @Override
    public void close() {
        stop(CompletableFuture.completedFuture(null)).join();
    }
}
