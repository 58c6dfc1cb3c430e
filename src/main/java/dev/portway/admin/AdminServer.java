package dev.portway.admin;

import dev.portway.admin.auth.AdminCredentials;
import dev.portway.admin.auth.Pki;
import dev.portway.control.ControlPlane;
import dev.portway.net.Slots;
import dev.portway.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProtocols;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTPS server: the Kubernetes API (what kubectl and Portway's CLI talk to), health
 * endpoints, and whatever extra endpoints are registered (metrics).
 *
 * <p>Closed to strangers as kube-apiserver is: TLS with a serving certificate from Portway's own
 * CA, and every request authenticated by the bearer token or a client certificate signed by
 * that CA (only {@code /healthz}, {@code /livez}, {@code /readyz} and {@code /version} answer
 * anonymous GETs, as kube-apiserver's {@code system:public-info-viewer} role allows). A
 * browser cannot be used against it either: requests with a foreign {@code Origin} or a
 * {@code Host} that is not this server's address are refused, and writes need a Kubernetes
 * content type (see {@link RequestGate}).
 *
 * <p>Pipeline, per connection: connection cap (at the cap, the oldest connection that has not
 * authenticated makes room for a new one), TLS, HTTP codec, {@link RequestTimeouts} (slow
 * requests and idle connections), {@link RequestGate} (refused requests are answered there and
 * never reach the aggregator, so their bodies are not buffered), keep-alive, the aggregator, then {@link ApiHandler}. One
 * event loop serves it all; requests that write go to the control thread and come back.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    /**
     * How the admin server guards itself.
     *
     * @param credentials    the CA, serving certificate and token
     * @param allowedOrigins browser origins allowed to call the API (none by default)
     * @param maxConnections connections beyond this close the oldest that has not authenticated, or
     *                       are closed at once when every open one has
     * @param readTimeout    how long a client may take to send a whole request once it has started, and
     *                       to read an answer before the next pipelined one is dropped with its connection
     * @param idleTimeout    how long a keep-alive connection of an authenticated client may sit between requests
     * @param headerTimeout  how long a connection may sit without a request, until one carries a credential
     * @param maxBody        the largest request body (kube-apiserver: 3 MiB)
     * @param maxApplyBody   the largest body of Portway's multi-object apply
     */
    public record Options(AdminCredentials credentials, Set<String> allowedOrigins, int maxConnections, Duration readTimeout,
                          Duration idleTimeout, Duration headerTimeout, int maxBody, int maxApplyBody) {

        public Options {
            Objects.requireNonNull(credentials, "credentials");
            allowedOrigins = Set.copyOf(allowedOrigins);
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections: " + maxConnections + " (expected: > 0)");
            }
        }

        public static Options defaults(AdminCredentials credentials) {
            return new Options(credentials, Set.of(), 512, Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofSeconds(10),
                    3 * 1024 * 1024, 32 * 1024 * 1024);
        }
    }

    private final ControlPlane control;
    private final Transport transport;
    private final EventLoopGroup group;
    private final Options options;
    private final Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    /** The topology page's read-only tokens, minted by an admin. */
    private final dev.portway.admin.auth.ViewerTokens viewers = new dev.portway.admin.auth.ViewerTokens(java.time.Clock.systemUTC());
    private final Slots connections = new Slots();
    /** Open connections none of whose requests has carried a credential yet, the oldest first. */
    private final java.util.concurrent.ConcurrentLinkedDeque<Channel> unauthenticated = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private volatile long lastCapWarning = System.nanoTime() - 20_000_000_000L;
    private PodLogs logs;
    private PodExec execs;
    private Channel channel;

    public AdminServer(ControlPlane control, Transport transport, EventLoopGroup group, Options options) {
        this.control = control;
        this.transport = transport;
        this.group = group;
        this.options = options;
    }

    /** Serves these endpoints too, by path (exact match); call before {@link #start}. */
    public AdminServer endpoints(Map<String, Endpoint> more) {
        endpoints.putAll(more);
        return this;
    }

    /** Serves {@code path} (exact match) with {@code endpoint}; call before {@link #start}. */
    public AdminServer endpoint(String path, Endpoint endpoint) {
        endpoints.put(path, endpoint);
        return this;
    }

    /** Serves containers' logs from {@code logs}; call before {@link #start}. */
    public AdminServer podLogs(PodLogs logs) {
        this.logs = logs;
        return this;
    }

    /** Reaches into pods with {@code execs} ({@code kubectl exec}, {@code port-forward}); call before {@link #start}. */
    public AdminServer podExec(PodExec execs) {
        this.execs = execs;
        return this;
    }

    public InetSocketAddress start(InetSocketAddress address) throws InterruptedException {
        SslContext ssl = sslContext(options.credentials());
        ApiHandler handler = new ApiHandler(control, Map.copyOf(endpoints), logs, execs, transport::socketChannelFactory, options.readTimeout(), viewers);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (!connections.tryTakeFor(ch, options.maxConnections())) {
                            Channel oldest = oldestUnauthenticated();
                            if (oldest == null) {
                                warnAtCap("closing new ones");
                                ch.close();
                                return;
                            }
                            // at the cap, a connection that has shown no credential makes room for a new one:
                            // anyone who can reach the port could otherwise hold every slot with anonymous
                            // health checks and lock the admin out; its slot comes back as it closes
                            warnAtCap("closing the oldest that has not authenticated for each new one");
                            oldest.close();
                            connections.takeFor(ch);
                        }
                        unauthenticated.add(ch);
                        ch.closeFuture().addListener(f -> unauthenticated.remove(ch));
                        SslHandler tls = ssl.newHandler(ch.alloc());
                        tls.setHandshakeTimeoutMillis(options.headerTimeout().toMillis());
                        InetSocketAddress local = ch.localAddress();
                        ch.pipeline().addLast(tls, new HttpServerCodec(),
                                new RequestTimeouts(options.readTimeout(), options.idleTimeout(), options.headerTimeout()),
                                new RequestGate(options, viewers, local, tls, unauthenticated::remove), new HttpServerKeepAliveHandler(),
                                new HttpObjectAggregator(Math.max(options.maxBody(), options.maxApplyBody())), handler,
                                new Tail());
                    }
                });
        channel = b.bind(address).sync().channel();
        return (InetSocketAddress) channel.localAddress();
    }

    private Channel oldestUnauthenticated() {
        for (Channel c; (c = unauthenticated.poll()) != null;) {
            if (c.isOpen()) {
                return c;
            }
        }
        return null;
    }

    private void warnAtCap(String action) {
        long now = System.nanoTime();
        if (now - lastCapWarning > 10_000_000_000L) { // at most one line every 10 s
            lastCapWarning = now;
            log.warn("admin API: {} connections already open; {}", options.maxConnections(), action);
        }
    }

    static {
        dev.portway.net.Tls.refuseClientRenegotiation();
    }

    /**
     * TLS 1.2 and 1.3 with the serving certificate; a client certificate is asked for and, if
     * sent, must chain to the CA.
     *
     * <p>The JDK's context is built here and handed to Netty as it is, rather than through
     * {@code SslContextBuilder.forServer}: Netty's JDK server context class, when first loaded,
     * tests whether it may wrap trust managers by parsing a probe key with BouncyCastle's
     * provider (registering every algorithm BouncyCastle has), storing it in a PKCS#12 key store
     * and reading it back (PBKDF2 with ten thousand rounds, each way) and loading the JDK's CA
     * certificates; and the context it then builds stores our key in PKCS#12 once more. On a
     * cold JVM that was a third of a second of CPU in every start ({@link Pki#tlsContext}).
     */
    static SslContext sslContext(AdminCredentials credentials) {
        try {
            SSLContext context = Pki.tlsContext(credentials.server(), credentials.ca());
            return new JdkSslContext(context, false, null, IdentityCipherSuiteFilter.INSTANCE, ApplicationProtocolConfig.DISABLED,
                    ClientAuth.OPTIONAL, new String[] {SslProtocols.TLS_v1_3, SslProtocols.TLS_v1_2}, false);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up TLS for the admin API: " + e.getMessage(), e);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** How many connections are open now (tests; metrics). */
    public int openConnections() {
        return connections.inUse();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
    }

    /** The end of the pipeline: a failed TLS handshake or a reset ends the connection quietly. */
    private static final class Tail extends ChannelInboundHandlerAdapter {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("admin connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
