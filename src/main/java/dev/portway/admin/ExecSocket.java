package dev.portway.admin;

import dev.portway.api.ApiException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code kubectl exec} over WebSocket, as the kubelet serves it: the {@code v5.channel.k8s.io}
 * subprotocol (and {@code v4.channel.k8s.io}, the same without the close signal). Every message is
 * binary, its first byte a stream: 0 the command's input, 1 its output, 2 its error output, 3 the
 * outcome (a {@code Status}, the last message), 4 the client's terminal size (JSON:
 * {@code {"Width":80,"Height":24}}), and with v5, 255 followed by a stream's number: the client has
 * no more for that stream (its input has ended).
 *
 * <p>Once the command has exited and its output has been sent, the outcome follows: {@code Success},
 * or {@code Failure} with reason {@code NonZeroExitCode} and the exit code as the cause
 * {@code ExitCode}, which kubectl exits with; or a command that could not start, with the reason.
 * Then a normal close. A client that goes away (a close, or the connection lost) ends the command.
 *
 * <p>The command's output is read on virtual threads of its own and sent as the client reads: a
 * client that reads nothing leaves the command blocked on its output, never a buffer growing here.
 * What the client sends is queued for the command's input up to {@link #MAX_QUEUED} bytes, then the
 * connection is read no more until the command has taken it.
 */
final class ExecSocket extends ChannelInboundHandlerAdapter {

    static final String V5 = "v5.channel.k8s.io";
    static final String V4 = "v4.channel.k8s.io";

    static final int STDIN = 0;
    static final int STDOUT = 1;
    static final int STDERR = 2;
    static final int ERROR = 3;
    static final int RESIZE = 4;
    static final int CLOSE = 255;

    /** The largest frame a client may send: client-go writes 32 KiB a message, and a byte for the stream. */
    private static final int MAX_CLIENT_FRAME = 64 * 1024;
    /** Input queued for the command beyond which the connection is read no more until it takes some. */
    static final int MAX_QUEUED = 1024 * 1024;
    private static final byte[] END_OF_INPUT = new byte[0];

    /** What the client asked for: the command, and which of its streams it wants. */
    record Request(List<String> command, boolean stdin, boolean stdout, boolean stderr, boolean tty) {
    }

    private final PodExec.Target container;
    private final Request request;
    private final LinkedBlockingQueue<byte[]> input = new LinkedBlockingQueue<>();
    private final AtomicLong queued = new AtomicLong();
    private final Object writable = new Object();
    private Channel channel;
    private volatile PodExec.Session session;
    private volatile boolean ended;
    /** The stream a continuation frame's bytes belong to (the first frame of a message names it); -1 for none. */
    private int continuing = -1;
    private boolean inputClosed;
    /** The command takes no more input (it closed it, or exited). */
    private volatile boolean inputGone;
    /** The client's terminal size last sent (columns, rows), or null. */
    private volatile int[] size;

    private ExecSocket(PodExec.Target container, Request request) {
        this.container = container;
        this.request = request;
    }

    /**
     * Refuses, before the connection changes, an upgrade that would fail: the client must offer a
     * subprotocol Portway speaks ({@link WatchSocket#check} has checked the rest of the handshake).
     */
    static void check(FullHttpRequest request) {
        String offered = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, "");
        boolean ok = Arrays.stream(offered.split(",")).map(String::strip).anyMatch(p -> p.equals(V5) || p.equals(V4));
        if (!ok) {
            throw new ApiException(Statuses.badRequest("exec speaks the WebSocket subprotocols " + V5 + " and " + V4
                    + " (offered: " + (offered.isBlank() ? "none" : offered) + ")"));
        }
    }

    /**
     * Upgrades the connection ({@link #check checked} first) and starts the command once the
     * handshake is written. On the event loop.
     *
     * @param ctx the API handler's context (the frames' handler goes before it)
     */
    static void accept(ChannelHandlerContext ctx, FullHttpRequest http, PodExec.Target container, Request request) {
        WebSocketServerHandshaker handshaker = WatchSocket.takeOver(ctx, http, V5 + "," + V4, MAX_CLIENT_FRAME);
        if (handshaker == null) {
            return;
        }
        ExecSocket socket = new ExecSocket(container, request);
        socket.channel = ctx.channel();
        ctx.pipeline().addBefore(ctx.name(), "exec-frames", socket);
        handshaker.handshake(ctx.channel(), http).addListener(f -> {
            if (!f.isSuccess()) {
                ctx.close();
                return;
            }
            ctx.channel().closeFuture().addListener(closed -> socket.clientGone());
            Thread.ofVirtual().name("pod-exec").start(() -> socket.run());
        });
    }

    /** Starts the command, relays its output, and ends with its outcome. On a virtual thread of its own. */
    private void run() {
        PodExec.Session s;
        try {
            s = container.start(request.command(), request.stdin(), request.tty());
        } catch (IOException | RuntimeException e) {
            finish(failure(e.getMessage()));
            return;
        }
        session = s;
        int[] first = size;
        if (first != null) {
            s.resize(first[0], first[1]); // the client's first size came while the command started
        }
        if (ended) {
            s.kill(); // the client left while it started
            return;
        }
        Thread out = Thread.ofVirtual().name("pod-exec-out").start(() -> pump(s.stdout(), STDOUT, request.stdout()));
        Thread err = s.stderr() == null ? null
                : Thread.ofVirtual().name("pod-exec-err").start(() -> pump(s.stderr(), STDERR, request.stderr()));
        if (request.stdin()) {
            Thread.ofVirtual().name("pod-exec-in").start(() -> feed(s.stdin()));
        }
        try {
            int code = s.waitFor();
            // what it wrote before it exited goes first; a process it left behind holding its output
            // open gets a moment, then goes with it
            out.join(java.time.Duration.ofSeconds(2));
            if (err != null) {
                err.join(java.time.Duration.ofSeconds(2));
            }
            s.kill();
            out.join();
            if (err != null) {
                err.join();
            }
            finish(code == 0 ? success() : exitCode(code));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.kill();
        }
        input.offer(END_OF_INPUT); // with v4, which has no close signal, the input ends only here
    }

    /** Copies one of the command's outputs to the client as stream {@code stream}, or drops it when not asked for. */
    private void pump(InputStream from, int stream, boolean wanted) {
        byte[] buf = new byte[32 * 1024];
        try (from) {
            int n;
            while ((n = from.read(buf)) >= 0) {
                if (n == 0 || !wanted) {
                    continue;
                }
                if (!awaitWritable()) {
                    return;
                }
                ByteBuf frame = channel.alloc().buffer(n + 1);
                frame.writeByte(stream).writeBytes(buf, 0, n);
                channel.writeAndFlush(new BinaryWebSocketFrame(frame));
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            // the command is gone, or was ended (an attached container's log that cannot be read: its end)
        }
    }

    /** Writes what the client sends into the command's input, in order, until the client ends it. */
    private void feed(OutputStream to) {
        try (to) {
            while (true) {
                byte[] data = input.take();
                if (data == END_OF_INPUT) {
                    return;
                }
                long left = queued.addAndGet(-data.length);
                if (left < MAX_QUEUED / 2 && !channel.config().isAutoRead()) {
                    channel.config().setAutoRead(true);
                }
                to.write(data);
                to.flush();
            }
        } catch (IOException e) {
            // the command closed its input or exited: what is left, and what comes, is dropped
            inputGone = true;
            input.clear();
            queued.set(0);
            channel.config().setAutoRead(true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until the connection takes more: false when it has closed. */
    private boolean awaitWritable() {
        synchronized (writable) {
            while (!channel.isWritable()) {
                if (!channel.isActive()) {
                    return false;
                }
                try {
                    writable.wait(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return channel.isActive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        synchronized (writable) {
            writable.notifyAll();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof PingWebSocketFrame ping) {
                ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
            } else if (msg instanceof CloseWebSocketFrame) {
                clientGone();
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE)).addListener(ChannelFutureListener.CLOSE);
            } else if (msg instanceof BinaryWebSocketFrame frame) {
                ByteBuf data = frame.content();
                continuing = -1;
                if (data.isReadable()) {
                    int stream = data.readUnsignedByte();
                    message(ctx, stream, data);
                    if (!frame.isFinalFragment()) {
                        continuing = stream;
                    }
                }
            } else if (msg instanceof ContinuationWebSocketFrame more) {
                if (continuing >= 0) {
                    message(ctx, continuing, more.content());
                }
                if (more.isFinalFragment()) {
                    continuing = -1;
                }
            }
            // a text frame means nothing in these protocols, and is dropped
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void message(ChannelHandlerContext ctx, int stream, ByteBuf data) {
        switch (stream) {
            case STDIN -> {
                if (request.stdin() && !inputClosed && !inputGone && data.isReadable()) {
                    byte[] bytes = new byte[data.readableBytes()];
                    data.readBytes(bytes);
                    if (queued.addAndGet(bytes.length) > MAX_QUEUED) {
                        ctx.channel().config().setAutoRead(false); // the feeder turns reading on again as it catches up
                    }
                    input.offer(bytes);
                }
            }
            case RESIZE -> resize(data.toString(StandardCharsets.UTF_8));
            case CLOSE -> {
                if (data.isReadable() && data.readUnsignedByte() == STDIN && !inputClosed) {
                    inputClosed = true;
                    input.offer(END_OF_INPUT);
                }
            }
            default -> {
                // a stream the client does not write
            }
        }
    }

    /** {@code {"Width":W,"Height":H}}, as client-go sends a terminal's size; anything else is ignored. */
    private void resize(String json) {
        if (!request.tty()) {
            return;
        }
        try {
            com.fasterxml.jackson.databind.JsonNode asked = dev.portway.api.Json.mapper().readTree(json);
            int width = asked.path("Width").asInt(0);
            int height = asked.path("Height").asInt(0);
            if (width > 0 && height > 0 && width <= 10_000 && height <= 10_000) {
                size = new int[] {width, height};
                PodExec.Session s = session;
                if (s != null) {
                    s.resize(width, height);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not a size: dropped
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        clientGone();
        ctx.close();
    }

    /** The client has gone (closed, or the connection was lost): the command ends with it. */
    private void clientGone() {
        if (ended) {
            return;
        }
        ended = true;
        input.clear();
        input.offer(END_OF_INPUT);
        PodExec.Session s = session;
        if (s != null) {
            Thread.ofVirtual().name("pod-exec-kill").start(s::kill); // it reads /proc: not on the event loop
        }
        synchronized (writable) {
            writable.notifyAll();
        }
    }

    /** Sends the outcome, then a normal close. */
    private void finish(String status) {
        if (ended || !channel.isActive()) {
            return; // the client has gone (or closed): no outcome after its close
        }
        byte[] json = status.getBytes(StandardCharsets.UTF_8);
        ByteBuf frame = channel.alloc().buffer(json.length + 1);
        frame.writeByte(ERROR).writeBytes(json);
        channel.write(new BinaryWebSocketFrame(frame));
        channel.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE)).addListener(ChannelFutureListener.CLOSE);
        ended = true;
    }

    static String success() {
        return "{\"metadata\":{},\"status\":\"Success\"}";
    }

    /** As the kubelet words a command's non-zero exit: kubectl exits with the cause's code. */
    static String exitCode(int code) {
        return "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero exit code: exit status " + code
                + "\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"" + code + "\"}]}}";
    }

    static String failure(String message) {
        com.fasterxml.jackson.databind.node.ObjectNode status = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        status.putObject("metadata");
        status.put("status", "Failure").put("message", message == null ? "the command could not be started" : message);
        return status.toString();
    }
}
