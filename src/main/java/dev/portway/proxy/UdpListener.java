package dev.portway.proxy;

import dev.portway.plan.Plan;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;

/** A UDP listener: datagrams from each client address form a flow to one endpoint. */
final class UdpListener extends Listener {

    UdpListener(DataPlane plane, Plan.Listener spec) {
        super(plane, spec);
    }

    @Override
    protected ChannelFuture bind() {
        return new Bootstrap()
                .group(plane.workers())
                .channel(plane.transport().datagramChannel())
                // no SO_REUSEADDR: for UDP it lets another socket (any user's) bind the same address and port
                // and take its datagrams
                .option(ChannelOption.RECVBUF_ALLOCATOR, UdpFrontend.DATAGRAMS)
                .handler(new UdpFrontend(plane, this))
                .bind(key().address());
    }
}
