package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;

/** A TCP listener: every accepted connection gets a {@link FrontendHandler}. */
final class TcpListener extends Listener {

    /** Connections open now, on every event loop. */
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();

    TcpListener(DataPlane plane, Plan.Listener spec) {
        super(plane, spec);
    }

    /** Takes a connection slot; false when {@code max} are open already (the caller refuses the connection). */
    boolean admit(int max) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            return false;
        }
        return true;
    }

    void release() {
        open.decrementAndGet();
    }

    @Override
    protected ChannelFuture bind() {
        TcpListener self = this;
        return tcpServer()
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new FrontendHandler(plane, self));
                    }
                })
                .bind(key().address());
    }
}
