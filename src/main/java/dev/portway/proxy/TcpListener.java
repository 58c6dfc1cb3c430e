package dev.portway.proxy;

import dev.portway.net.Slots;
import dev.portway.plan.Plan;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;

/** A TCP listener: every accepted connection gets a {@link FrontendHandler}. */
final class TcpListener extends Listener {

    /** Connections open now, on every event loop. */
    private final Slots open = new Slots();

    TcpListener(DataPlane plane, Plan.Listener spec) {
        super(plane, spec);
    }

    /**
     * Takes a connection slot for {@code connection}, given back when it closes; false when
     * {@code max} are open already (the caller refuses the connection).
     */
    boolean admit(Channel connection, int max) {
        return open.tryTakeFor(connection, max);
    }

    @Override
    protected ChannelFuture bind() {
        TcpListener self = this;
        return tcpServer()
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, RelayHandler.reads(plane.transport()))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new FrontendHandler(plane, self));
                    }
                })
                .bind(key().address());
    }
}
