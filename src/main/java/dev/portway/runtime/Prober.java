package dev.portway.runtime;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HTTPHeader;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Runs one probe once, as the kubelet's prober does: {@code httpGet} (success on a status from
 * 200 to 399), {@code tcpSocket} (success when the connection opens) and {@code exec} (success on
 * exit code 0), each within {@code timeoutSeconds}. Failure messages are the kubelet's, since
 * users read them in events ({@code Readiness probe failed: HTTP probe failed with statuscode: 503}).
 * HTTP and TCP probes are Netty connections on the pods' event loops; exec probes are processes
 * in their own process group, ended when they time out.
 */
final class Prober {

    /** What one probe run found. */
    record Result(boolean success, String message) {
        static final Result OK = new Result(true, "");
    }

    /**
     * What a probe is run against: the pod's address, the container's ports, its environment;
     * how a host name is resolved in the cluster, and how a command runs in the pod's sandbox.
     */
    record Target(String podIp, List<ContainerPort> ports, Map<String, String> env, Path workingDir,
                  java.util.function.UnaryOperator<String> resolveHost, java.util.function.Function<List<String>, PodSandbox.Launch> sandbox) {
    }

    private static final int MAX_OUTPUT = 10 * 1024;

    private final PodRuntime runtime;
    private final OrphanGuard guard;
    private volatile SslContext insecureTls;

    Prober(PodRuntime runtime, OrphanGuard guard) {
        this.runtime = runtime;
        this.guard = guard;
    }

    CompletableFuture<Result> run(Probe probe, Target target) {
        Duration timeout = Duration.ofSeconds(probe.getTimeoutSeconds() == null ? 1 : Math.max(1, probe.getTimeoutSeconds()));
        try {
            if (probe.getHttpGet() != null) {
                return http(probe, target, timeout);
            }
            if (probe.getTcpSocket() != null) {
                return tcp(probe, target, timeout);
            }
            if (probe.getExec() != null) {
                return exec(probe.getExec().getCommand(), target, timeout);
            }
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(new Result(false, e.getMessage()));
        }
        if (probe.getGrpc() != null) {
            return CompletableFuture.completedFuture(new Result(false, "gRPC probes cannot run in local mode; use httpGet, tcpSocket or exec"));
        }
        return CompletableFuture.completedFuture(new Result(false, "the probe has no handler"));
    }

    private CompletableFuture<Result> http(Probe probe, Target target, Duration timeout) {
        var get = probe.getHttpGet();
        String host = get.getHost() == null || get.getHost().isEmpty() ? target.podIp() : target.resolveHost().apply(get.getHost());
        int port = port(get.getPort(), target.ports());
        boolean https = "HTTPS".equalsIgnoreCase(get.getScheme());
        String path = get.getPath() == null || get.getPath().isEmpty() ? "/" : get.getPath();
        if (!path.startsWith("/")) {
            path = "/" + path;
        }
        String url = (https ? "https" : "http") + "://" + host + ":" + port + path;
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        request.headers().set(HttpHeaderNames.HOST, host + ":" + port);
        request.headers().set(HttpHeaderNames.USER_AGENT, "kube-probe/1.33");
        request.headers().set(HttpHeaderNames.ACCEPT, "*/*");
        request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        for (HTTPHeader h : get.getHttpHeaders() == null ? List.<HTTPHeader>of() : get.getHttpHeaders()) {
            request.headers().set(h.getName(), h.getValue());
        }
        SslContext tls;
        try {
            tls = https ? insecureTls() : null;
        } catch (SSLException e) {
            request.release();
            return CompletableFuture.completedFuture(new Result(false, "Get \"" + url + "\": " + e.getMessage()));
        }
        CompletableFuture<Result> result = new CompletableFuture<>();
        Bootstrap b = bootstrap(timeout, new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), host, port));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                if (msg instanceof HttpResponse r) {
                                    int code = r.status().code();
                                    result.complete(code >= 200 && code < 400 ? Result.OK
                                            : new Result(false, "HTTP probe failed with statuscode: " + code));
                                    ctx.close();
                                }
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                result.complete(new Result(false, "Get \"" + url + "\": EOF"));
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                result.complete(new Result(false, "Get \"" + url + "\": " + cause.getMessage()));
                                ctx.close();
                            }
                        });
                    }
                });
        ChannelFuture connect = b.connect(host, port);
        Channel ch = connect.channel();
        var deadline = ch.eventLoop().schedule(() -> {
            result.complete(new Result(false, "Get \"" + url + "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"));
            ch.close();
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        connect.addListener(f -> {
            if (f.isSuccess()) {
                ch.writeAndFlush(request);
            } else {
                ReferenceCountUtil.release(request);
                result.complete(new Result(false, "Get \"" + url + "\": " + dialError(host, port, f.cause())));
            }
        });
        result.whenComplete((r, e) -> deadline.cancel(false));
        return result;
    }

    private CompletableFuture<Result> tcp(Probe probe, Target target, Duration timeout) {
        var socket = probe.getTcpSocket();
        String host = socket.getHost() == null || socket.getHost().isEmpty() ? target.podIp() : target.resolveHost().apply(socket.getHost());
        int port = port(socket.getPort(), target.ports());
        CompletableFuture<Result> result = new CompletableFuture<>();
        bootstrap(timeout, new ChannelInboundHandlerAdapter())
                .connect(host, port)
                .addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        f.channel().close();
                        result.complete(Result.OK);
                    } else {
                        result.complete(new Result(false, dialError(host, port, f.cause())));
                    }
                });
        return result;
    }

    private Bootstrap bootstrap(Duration timeout, ChannelHandler handler) {
        return new Bootstrap()
                .group(runtime.group())
                .channel(runtime.transport().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeout.toMillis())
                .handler(handler);
    }

    /** Go's wording of a failed dial, which kubelet messages carry. */
    private static String dialError(String host, int port, Throwable cause) {
        String dial = "dial tcp " + host + ":" + port + ": ";
        if (cause instanceof ConnectTimeoutException) {
            return dial + "i/o timeout";
        }
        String m = String.valueOf(cause.getMessage());
        if (m.contains("Connection refused")) {
            return dial + "connect: connection refused";
        }
        if (m.contains("No route to host")) {
            return dial + "connect: no route to host";
        }
        return dial + "connect: " + m.toLowerCase(Locale.ROOT);
    }

    private CompletableFuture<Result> exec(List<String> command, Target target, Duration timeout) {
        if (command == null || command.isEmpty()) {
            return CompletableFuture.completedFuture(new Result(false, "exec probe has no command"));
        }
        CompletableFuture<Result> result = new CompletableFuture<>();
        Thread.ofVirtual().name("exec-probe").start(() -> result.complete(runExec(command, target, timeout)));
        return result;
    }

    private Result runExec(List<String> command, Target target, Duration timeout) {
        String resolved = Executables.resolve(command.getFirst(), target.env().get("PATH"), target.workingDir());
        if (resolved == null) {
            return new Result(false, "exec: \"" + command.getFirst() + "\": executable file not found in $PATH");
        }
        List<String> commandLine = new ArrayList<>(command);
        commandLine.set(0, resolved);
        // in the pod's sandbox, as the container's own processes: it sees the pod's /etc/hosts and resolv.conf
        List<String> argv = new ArrayList<>();
        argv.add(OrphanGuard.SETSID.toString());
        PodSandbox.Launch launch = target.sandbox().apply(commandLine);
        argv.addAll(launch.argv());
        ProcessBuilder pb = new ProcessBuilder(argv)
                .directory(launch.directory().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(launch.env());
        Process p;
        if (!guard.open()) {
            return new Result(false, "Portway is stopping");
        }
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result(false, e.getMessage());
        }
        guard.watch(p.pid());
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> copyCapped(p.getInputStream(), output));
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                guard.signalGroup(p.pid(), "KILL");
                return new Result(false, "command " + command + " timed out after " + timeout.toSeconds() + "s");
            }
            reader.join(Duration.ofSeconds(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            guard.signalGroup(p.pid(), "KILL");
            return new Result(false, "interrupted");
        } finally {
            guard.signalGroup(p.pid(), "KILL");
            guard.forget(p.pid());
        }
        String out;
        synchronized (output) {
            out = output.toString(StandardCharsets.UTF_8).strip();
        }
        if (p.exitValue() == 0) {
            return Result.OK;
        }
        return new Result(false, out.isEmpty() ? "command " + command + " exited with status " + p.exitValue() : out);
    }

    private static void copyCapped(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[4096];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (out) {
                    int room = MAX_OUTPUT - out.size();
                    if (room > 0) {
                        out.write(buf, 0, Math.min(room, n));
                    }
                }
            }
        } catch (IOException e) {
            // the probe process is gone
        }
    }

    /** A port number, or a named container port. */
    static int port(IntOrString port, List<ContainerPort> ports) {
        if (port == null) {
            throw new IllegalArgumentException("the probe has no port");
        }
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        String name = port.getStrVal();
        for (ContainerPort p : ports) {
            if (name.equals(p.getName())) {
                return p.getContainerPort();
            }
        }
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("couldn't find port: " + name + " in " + "container ports");
        }
    }

    private SslContext insecureTls() throws SSLException {
        SslContext tls = insecureTls;
        if (tls == null) {
            // the kubelet does not verify a probe's certificate either
            tls = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
            insecureTls = tls;
        }
        return tls;
    }
}
