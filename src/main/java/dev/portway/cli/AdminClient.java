package dev.portway.cli;

import dev.portway.net.Tls;
import dev.portway.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProtocols;
import java.net.ConnectException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A small HTTP/1.1 client for the admin API, on Netty like every Portway socket. One request
 * per connection: the CLI makes a handful of requests and exits.
 */
final class AdminClient implements AutoCloseable {

    /**
     * An admin API response.
     *
     * @param warnings the texts of the {@code Warning} headers ({@code 299 - "text"}), as kubectl prints them
     */
    record Response(int status, byte[] body, List<String> warnings) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** No Portway server answers at the address. */
    static final class UnreachableException extends RuntimeException {
        UnreachableException(String message) {
            super(message);
        }
    }

    private final URI server;
    private final Transport transport = Transport.NIO;
    private final EventLoopGroup group;
    private final SslContext tls;
    private final String token;

    /** A client of the server a kubeconfig context names, with its CA, token or client certificate. */
    AdminClient(Kubeconfig.Target target) {
        String s = target.server().contains("://") ? target.server() : "https://" + target.server();
        this.server = URI.create(s);
        this.token = target.token() == null || target.token().isEmpty() ? null : target.token();
        this.tls = "https".equals(server.getScheme()) ? sslContext(target) : null;
        this.group = transport.newGroup(1, "portway-cli");
    }

    private static SslContext sslContext(Kubeconfig.Target target) {
        if (target.insecure() && target.caPem() != null) {
            // client-go's TLSConfigFor: a CA the user named must not be dropped without a word
            throw new Main.CliException("specifying a root certificates file with the insecure flag is not allowed");
        }
        try {
            // the JDK's TLS: one handshake per command costs less than loading BoringSSL's native library
            SslContextBuilder b = SslContextBuilder.forClient().sslProvider(io.netty.handler.ssl.SslProvider.JDK)
                    .protocols(SslProtocols.TLS_v1_3, SslProtocols.TLS_v1_2)
                    .endpointIdentificationAlgorithm("HTTPS");
            if (target.insecure()) {
                b.trustManager(io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            } else if (target.caPem() != null) {
                b.trustManager(Tls.readCert(target.caPem()));
            }
            if (target.clientCertPem() != null && target.clientKeyPem() != null) {
                b.keyManager(Tls.readKey(target.clientKeyPem()), Tls.readCert(target.clientCertPem()));
            }
            return b.build();
        } catch (java.io.IOException e) {
            throw new Main.CliException("the kubeconfig's certificates cannot be read: " + e.getMessage());
        }
    }

    URI server() {
        return server;
    }

    Response get(String path) {
        return request(HttpMethod.GET, path, null);
    }

    Response post(String path, byte[] body) {
        return request(HttpMethod.POST, path, body);
    }

    Response delete(String path) {
        return request(HttpMethod.DELETE, path, null);
    }

    Response put(String path, byte[] body) {
        return request(HttpMethod.PUT, path, body);
    }

    /** A JSON merge patch (RFC 7386), as {@code kubectl patch --type merge} sends it. */
    Response mergePatch(String path, byte[] body) {
        return request(HttpMethod.PATCH, path, body);
    }

    /**
     * GET that hands the body to {@code sink} as it arrives (a followed log), and returns when the
     * server ends it. An error answer is returned whole, with nothing given to {@code sink}.
     */
    Response stream(String path, java.util.function.Consumer<byte[]> sink) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        Channel ch = connect(new SimpleChannelInboundHandler<HttpObject>() {
            private int status;
            private final java.io.ByteArrayOutputStream error = new java.io.ByteArrayOutputStream();

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                if (msg instanceof HttpResponse r) {
                    status = r.status().code();
                }
                if (msg instanceof HttpContent c && c.content().isReadable()) {
                    byte[] bytes = ByteBufUtil.getBytes(c.content());
                    if (status == 200) {
                        sink.accept(bytes);
                    } else {
                        error.writeBytes(bytes);
                    }
                }
                if (msg instanceof LastHttpContent) {
                    result.complete(new Response(status, error.toByteArray(), List.of()));
                    ctx.close();
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                result.complete(new Response(status == 0 ? 502 : status, error.toByteArray(), List.of()));
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                result.completeExceptionally(cause);
                ctx.close();
            }
        });
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path, Unpooled.EMPTY_BUFFER);
        request.headers().set(HttpHeaderNames.HOST, hostHeader());
        request.headers().set(HttpHeaderNames.USER_AGENT, "portway-cli");
        authorize(request);
        request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ch.writeAndFlush(request);
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ch.close();
            throw new UnreachableException("interrupted");
        } catch (ExecutionException e) {
            throw new UnreachableException("request to " + server + " failed: " + e.getCause());
        }
    }

    private int port() {
        return server.getPort() > 0 ? server.getPort() : "https".equals(server.getScheme()) ? 443 : 80;
    }

    private String hostHeader() {
        String host = server.getHost();
        return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port();
    }

    private void authorize(FullHttpRequest request) {
        if (token != null) {
            request.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token);
        }
    }

    /** Connects to the server, with an HTTP client codec and then {@code handlers} in the pipeline. */
    private Channel connect(ChannelHandler... handlers) {
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 3000)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), server.getHost(), port()));
                        }
                        // the server's warnings come as headers (up to 4 Ki characters of text, and their quoting)
                        ch.pipeline().addLast(new HttpClientCodec(4096, 64 * 1024, 8192)).addLast(handlers);
                    }
                });
        ChannelFuture connect = b.connect(server.getHost(), port()).awaitUninterruptibly();
        if (!connect.isSuccess()) {
            Throwable cause = connect.cause();
            String why = cause instanceof ConnectException ? "connection refused" : String.valueOf(cause.getMessage());
            throw new UnreachableException("no Portway server at " + server + " (" + why + "); start one with \"portway up\""
                    + ", or choose another with --kubeconfig or --context");
        }
        return connect.channel();
    }

    Response request(HttpMethod method, String path, byte[] body) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        Channel channel = connect(new HttpObjectAggregator(256 * 1024 * 1024), new SimpleChannelInboundHandler<FullHttpResponse>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse msg) {
                result.complete(new Response(msg.status().code(), ByteBufUtil.getBytes(msg.content()),
                        msg.headers().getAll("Warning").stream().map(AdminClient::warningText).toList()));
                ctx.close();
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                result.completeExceptionally(new UnreachableException(
                        "the Portway server at " + server + " closed the connection without answering"));
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                result.completeExceptionally(cause);
                ctx.close();
            }
        });
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path,
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        request.headers().set(HttpHeaderNames.HOST, hostHeader());
        request.headers().set(HttpHeaderNames.ACCEPT, "application/json");
        authorize(request);
        request.headers().set(HttpHeaderNames.USER_AGENT, "portway-cli");
        request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (body != null) {
            request.headers().set(HttpHeaderNames.CONTENT_TYPE, method == HttpMethod.PATCH ? "application/merge-patch+json" : "application/json");
        }
        request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body == null ? 0 : body.length);
        channel.writeAndFlush(request);
        try {
            return result.get(120, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnreachableException("interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnreachableException u) {
                throw u;
            }
            throw new UnreachableException("request to " + server + " failed: " + e.getCause());
        } catch (TimeoutException e) {
            channel.close();
            throw new UnreachableException("the Portway server at " + server + " did not answer within 120 s");
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The text of a {@code Warning} header value: {@code 299 - "text"} unquoted (client-go's ParseWarningHeader); else the value. */
    static String warningText(String header) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\d{3} \\S+ \"((?:[^\"\\\\]|\\\\.)*)\"").matcher(header);
        if (!m.find()) {
            return header;
        }
        return m.group(1).replaceAll("\\\\(.)", "$1");
    }
}
