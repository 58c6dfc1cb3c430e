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
 * and a keep-alive connection with no request in flight closes after the idle timeout. While a
 * request is being answered (a watch can last many minutes) neither clock runs.
 *
 * <p>A stateful handler: one per connection, on its event loop.
 */
final class RequestTimeouts extends ChannelDuplexHandler {

    private final long readMillis;
    private final long idleMillis;
    private ScheduledFuture<?> timer;
    private int inFlight;
    private boolean reading;

    RequestTimeouts(Duration read, Duration idle) {
        this.readMillis = read.toMillis();
        this.idleMillis = idle.toMillis();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            arm(ctx, idleMillis);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm(ctx, idleMillis);
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
                arm(ctx, idleMillis); // answered before it was read whole (a refused request)
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent || msg instanceof FullHttpResponse) {
            inFlight = Math.max(0, inFlight - 1);
            if (inFlight == 0 && !reading) {
                arm(ctx, idleMillis);
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
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
