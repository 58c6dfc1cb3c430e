package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;

/** A TCP listener: every accepted connection gets a {@link FrontendHandler}. */
final class TcpListener extends Listener {

    TcpListener(DataPlane plane, Plan.Listener spec) {
        super(plane, spec);
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
