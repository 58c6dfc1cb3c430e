package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/** A relayed connection's idle timer leaves the scheduler with the connection: a closed one leaves nothing for the next hour. */
class RelaySessionTest {

    @Test
    void theIdleTimerGoesWhenTheConnectionCloses() {
        RelayHandler.Session session = new RelayHandler.Session();
        EmbeddedChannel peer = new EmbeddedChannel();
        EmbeddedChannel client = new EmbeddedChannel(new RelayHandler(peer, new LongAdder(), session));
        session.closeWhenIdle(client, peer, TimeUnit.HOURS.toNanos(1), () -> { });
        assertThat(client.runScheduledPendingTasks()).as("the timer is scheduled").isPositive();
        client.close();
        assertThat(client.runScheduledPendingTasks()).as("nothing left scheduled").isEqualTo(-1);
        peer.finishAndReleaseAll();
    }
}
