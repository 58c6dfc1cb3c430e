package dev.portway.admin;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The admin server's clocks, per connection: a request must arrive whole within the read
 * timeout once its first line has (a slow client cannot hold a connection by trickling bytes),
 * and a keep-alive connection with no request in flight closes after the idle timeout. A
 * connection that has not yet sent a request with a credential (a new one, or one that only
 * asked /healthz) gets the short header timeout instead, so strangers cannot fill the
 * connection cap by holding idle connections. While a request is being answered (a watch can
 * last many minutes) no clock runs.
 *
 * <p>A stateful handler: one per connection, on its event loop.
 */
final class RequestTimeouts extends ChannelDuplexHandler {

    private final long readMillis;
    private final long idleMillis;
    private final long headerMillis;
    private ScheduledFuture<?> timer;
    private int inFlight;
    private boolean reading;

    RequestTimeouts(Duration read, Duration idle, Duration header) {
        this.readMillis = read.toMillis();
        this.idleMillis = idle.toMillis();
        this.headerMillis = header.toMillis();
    }

    /** The idle allowance: long for a connection whose last request carried an admin's credential, short otherwise. */
    private long idle(ChannelHandlerContext ctx) {
        String user = ctx.channel().attr(RequestGate.USER).get();
        return user == null || user.equals(RequestGate.ANONYMOUS) || user.equals(dev.portway.admin.auth.ViewerTokens.USER)
                ? Math.min(headerMillis, idleMillis) : idleMillis;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            arm(ctx, idle(ctx));
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm(ctx, idle(ctx));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            inFlight++;
            reading = true;
            arm(ctx, readMillis);
        }
        if (msg instanceof LastHttpContent) {
            reading = false;
            cancel();
            if (inFlight == 0) {
                arm(ctx, idle(ctx)); // answered before it was read whole (a refused request)
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        boolean interim = msg instanceof FullHttpResponse r
                && r.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL;
        // a 100 Continue (the aggregator's answer to Expect) is not the request's answer
        if ((msg instanceof LastHttpContent || msg instanceof FullHttpResponse) && !interim) {
            inFlight = Math.max(0, inFlight - 1);
            if (inFlight == 0 && !reading) {
                arm(ctx, idle(ctx));
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    /** Taken out of the pipeline (a watch upgraded to a WebSocket): its timer must not close what the connection became. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    private void arm(ChannelHandlerContext ctx, long millis) {
        cancel();
        timer = ctx.executor().schedule(() -> {
            timer = null;
            ctx.close();
        }, millis, TimeUnit.MILLISECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
