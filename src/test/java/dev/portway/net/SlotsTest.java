package dev.portway.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.DefaultPromise;
import org.junit.jupiter.api.Test;

class SlotsTest {

    /**
     * A slot held while a use runs on a connection (a viewer's watch) left a listener on the
     * connection's close for every use: a client that watched again and again on one keep-alive
     * connection grew the server's memory without bound until it closed.
     */
    @Test
    void aSlotHeldWhileAUseRunsLeavesNothingOnItsChannel() throws Exception {
        Slots slots = new Slots();
        EmbeddedChannel ch = new EmbeddedChannel();
        for (int i = 0; i < 1_000; i++) {
            Runnable handBack = slots.tryTakeWhile(ch, 2);
            assertThat(handBack).isNotNull();
            handBack.run();
            handBack.run(); // once only
        }
        assertThat(slots.inUse()).isZero();
        assertThat(closeListeners(ch)).as("listeners left on the channel's close").isNull();
    }

    @Test
    void aSlotHeldWhileAUseRunsComesBackOnceWhenItsChannelClosesFirst() {
        Slots slots = new Slots();
        EmbeddedChannel ch = new EmbeddedChannel();
        Runnable first = slots.tryTakeWhile(ch, 2);
        Runnable second = slots.tryTakeWhile(ch, 2);
        assertThat(slots.tryTakeWhile(new EmbeddedChannel(), 2)).as("over the cap").isNull();
        assertThat(slots.inUse()).isEqualTo(2);
        ch.close();
        assertThat(slots.inUse()).isZero();
        first.run();
        second.run();
        assertThat(slots.inUse()).isZero();
    }

    /** What the close future holds: Netty keeps one listener in a field, more in a list. */
    private static Object closeListeners(EmbeddedChannel ch) throws ReflectiveOperationException {
        var one = DefaultPromise.class.getDeclaredField("listener");
        var many = DefaultPromise.class.getDeclaredField("listeners");
        one.setAccessible(true);
        many.setAccessible(true);
        Object promise = ch.closeFuture();
        return one.get(promise) != null ? one.get(promise) : many.get(promise);
    }
}
