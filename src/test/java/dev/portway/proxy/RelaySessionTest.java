package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * A relayed connection's idle timer leaves the scheduler with the connection: a closed one leaves
 * nothing for the next hour. And what waits for a slow peer is held in buffers of its own size.
 */
class RelaySessionTest {

    @Test
    void aFewBytesInABufferSizedForBulkAreHeldInOneOfTheirOwnSize() {
        EmbeddedChannel peer = new EmbeddedChannel();
        LongAdder bytes = new LongAdder();
        EmbeddedChannel client = new EmbeddedChannel(new RelayHandler(peer, bytes, new RelayHandler.Session()));
        io.netty.buffer.ByteBuf bulk = client.alloc().directBuffer(1 << 20).writeBytes(new byte[300_000]);
        io.netty.buffer.ByteBuf few = client.alloc().directBuffer(1 << 20).writeBytes("ok\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        client.writeInbound(bulk, few);
        client.flushInbound();
        io.netty.buffer.ByteBuf first = peer.readOutbound();
        io.netty.buffer.ByteBuf second = peer.readOutbound();
        assertThat(first).as("a bulk read passes as it is").isSameAs(bulk);
        assertThat(second.capacity()).as("capacity of what holds 3 bytes").isEqualTo(3);
        assertThat(second.toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("ok\n");
        assertThat(few.refCnt()).as("the large buffer went back").isZero();
        assertThat(bytes.sum()).isEqualTo(300_003);
        first.release();
        second.release();
        client.finishAndReleaseAll();
        peer.finishAndReleaseAll();
    }

    @Test
    void aRelayedConnectionReadsOnceAWakeUpIntoBuffersOfUpToOneMebibyte() {
        var handle = (io.netty.channel.RecvByteBufAllocator.ExtendedHandle) RelayHandler.READS.newHandle();
        EmbeddedChannel channel = new EmbeddedChannel();
        var config = channel.config();
        handle.reset(config);
        for (int i = 0; i < 10; i++) {
            // full reads: the guess grows to its largest
            handle.attemptedBytesRead(handle.guess());
            handle.lastBytesRead(handle.guess());
            handle.incMessagesRead(1);
            assertThat(handle.continueReading()).as("a second read in the same wake-up").isFalse();
            handle.readComplete();
            handle.reset(config);
        }
        assertThat(handle.guess()).isEqualTo(1 << 20);
        channel.finish();
        assertThat(RelayHandler.reads(dev.portway.net.Transport.EPOLL)).isSameAs(RelayHandler.READS);
        assertThat(RelayHandler.reads(dev.portway.net.Transport.IO_URING))
                .as("io_uring holds a read's buffer from its submission: an idle connection would pin a megabyte")
                .isNotSameAs(RelayHandler.READS)
                .as("and what its reads hold for a stalled peer counts against the budget, as epoll's do")
                .isInstanceOf(RelayHandler.BudgetedReads.class);
    }

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
