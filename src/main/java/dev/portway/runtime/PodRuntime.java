package dev.portway.runtime;

import dev.portway.net.Transport;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.TimeUnit;

/**
 * What pods run on: the event loops of the built-in echo servers. Pods are separate from the
 * data plane's event loops, as pods on a real node are separate processes.
 */
public final class PodRuntime implements AutoCloseable {

    private final Transport transport;
    private final EventLoopGroup group;

    public PodRuntime(Transport transport, int threads) {
        this.transport = transport;
        this.group = transport.newGroup(threads, "portway-pods");
    }

    public Transport transport() {
        return transport;
    }

    public EventLoopGroup group() {
        return group;
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
