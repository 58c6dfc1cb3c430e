package dev.portway.proxy;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * A client connection to an L7 listener, after its HTTP/1.1 codec: one request at a time, each an
 * {@link HttpExchange}.
 *
 * <p>The connection reads only on demand. While an exchange streams a request body, the next read
 * is asked for only when the upstream can take more; while it waits for the response, nothing is
 * read, so pipelined requests wait in the socket (or, when the codec already decoded them, in the
 * backlog here) and are answered in order. Between requests an idle timeout runs; from the first
 * byte of a request to the end of its headers a header timeout runs (slow clients get 408).
 */
final class GatewayHandler extends ChannelInboundHandlerAdapter {

    private final DataPlane plane;
    private final HttpGatewayListener listener;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>(4);
    private ChannelHandlerContext ctx;
    private HttpExchange exchange;
    /** Bytes of a new request arrived since the last exchange ended. */
    private boolean arriving;
    private boolean closing;
    private ScheduledFuture<?> timer;

    private GatewayHandler(DataPlane plane, HttpGatewayListener listener) {
        this.plane = plane;
        this.listener = listener;
    }

    /** Sets up an accepted connection's pipeline. */
    static void install(ChannelPipeline pipeline, DataPlane plane, HttpGatewayListener listener) {
        HttpSettings settings = plane.httpSettings();
        GatewayHandler handler = new GatewayHandler(plane, listener);
        pipeline.addLast("watch", handler.new FirstByte());
        pipeline.addLast("http", new Http1ServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(settings.maxInitialLine())
                .setMaxHeaderSize(settings.maxHeaderBytes())
                .setMaxChunkSize(64 * 1024)
                .setStrictLineParsing(true)));
        pipeline.addLast("gateway", handler);
    }

    DataPlane plane() {
        return plane;
    }

    HttpGatewayListener listener() {
        return listener;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        plane.metrics().accepted(listener.spec());
        armIdle();
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        backlog.addLast(msg);
        drain();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        HttpExchange e = exchange;
        if (e != null) {
            e.flushUpstream();
        }
        maybeRead();
    }

    /** Passes waiting messages on: a request when no exchange runs, body parts while the exchange takes them. */
    void drain() {
        Object m;
        while (!closing && (m = backlog.peekFirst()) != null) {
            if (m instanceof HttpRequest request) {
                if (exchange != null) {
                    return;
                }
                backlog.pollFirst();
                begin(request);
            } else if (exchange == null) {
                // the rest of a request answered before its body was read: dropped
                backlog.pollFirst();
                ReferenceCountUtil.release(m);
            } else if (exchange.takesBody()) {
                backlog.pollFirst();
                exchange.requestContent((HttpContent) m);
            } else {
                return;
            }
        }
    }

    /** Reads more when an exchange wants request bytes, or between requests. */
    void maybeRead() {
        if (closing || !backlog.isEmpty() || !ctx.channel().isActive()) {
            return;
        }
        HttpExchange e = exchange;
        if (e == null || e.wantsBody()) {
            ctx.read();
        }
    }

    private void begin(HttpRequest request) {
        cancelTimer();
        arriving = false;
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            ReferenceCountUtil.release(request);
            HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            plane.metrics().httpReply(listener.http().owner(), status.code());
            refuse(status, "the request is not valid HTTP/1.1 (" + cause.getMessage() + ")");
            return;
        }
        exchange = new HttpExchange(this, request);
        exchange.start();
    }

    /** Answers without an exchange and closes: for requests the codec could not decode, and slow headers. */
    private void refuse(HttpResponseStatus status, String detail) {
        closing = true;
        releaseBacklog();
        ctx.writeAndFlush(LocalReply.of(ctx.alloc(), status, detail, false)).addListener(ChannelFutureListener.CLOSE);
    }

    /** An exchange finished; the connection goes on with the next request, or closes. */
    void exchangeDone(HttpExchange e, boolean keepAlive) {
        if (exchange != e) {
            return;
        }
        exchange = null;
        if (!keepAlive || closing) {
            closing = true;
            releaseBacklog();
            ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.flush();
        armIdle();
        drain();
        maybeRead();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        HttpExchange e = exchange;
        if (e != null && ctx.channel().isWritable()) {
            e.downstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        cancelTimer();
        releaseBacklog();
        HttpExchange e = exchange;
        exchange = null;
        if (e != null) {
            e.downstreamClosed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void releaseBacklog() {
        Object m;
        while ((m = backlog.pollFirst()) != null) {
            ReferenceCountUtil.release(m);
        }
    }

    private void armIdle() {
        schedule(false, plane.httpSettings().idleTimeout().toNanos());
    }

    private void schedule(boolean header, long nanos) {
        cancelTimer();
        timer = ctx.executor().schedule(() -> timeout(header), nanos, TimeUnit.NANOSECONDS);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void timeout(boolean header) {
        timer = null;
        if (exchange != null || closing) {
            return;
        }
        if (header) {
            plane.metrics().httpReply(listener.http().owner(), 408);
            refuse(HttpResponseStatus.REQUEST_TIMEOUT, "the request headers did not arrive within "
                    + plane.httpSettings().headerTimeout().toSeconds() + " s");
        } else {
            closing = true;
            ctx.close();
        }
    }

    /** Sits before the codec: the first byte of a request starts its header timeout. */
    private final class FirstByte extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext c, Object msg) {
            if (exchange == null && !arriving && !closing) {
                arriving = true;
                schedule(true, plane.httpSettings().headerTimeout().toNanos());
            }
            c.fireChannelRead(msg);
        }
    }
}
