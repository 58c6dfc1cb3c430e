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
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new UdpFrontend(plane, this))
                .bind(key().address());
    }
}
