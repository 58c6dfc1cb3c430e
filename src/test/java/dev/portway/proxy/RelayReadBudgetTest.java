package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import org.junit.jupiter.api.Test;

/**
 * A relayed direction whose reader stopped holds its last read, up to 1 MiB, until the idle
 * timeout: a few thousand stalled connections took all the direct memory. Past a process-wide
 * budget of such large reads waiting for their peers, reads are of at most 64 KiB.
 */
class RelayReadBudgetTest {

    private static int firstRead(RecvByteBufAllocator reads) {
        ByteBuf b = reads.newHandle().allocate(UnpooledByteBufAllocator.DEFAULT);
        try {
            return b.capacity();
        } finally {
            b.release();
        }
    }

    @Test
    void pastTheBudgetReadsAreSmall() {
        RecvByteBufAllocator reads = new RelayHandler.BudgetedReads(new AdaptiveRecvByteBufAllocator(64, 256 * 1024, 1 << 20));
        long before = HeldReads.budget(Long.MAX_VALUE);
        try {
            assertThat(firstRead(reads)).isEqualTo(256 * 1024);
            HeldReads.budget(0);
            assertThat(firstRead(reads)).isEqualTo(64 * 1024);
            assertThat(reads.newHandle().guess()).isEqualTo(64 * 1024);
        } finally {
            HeldReads.budget(before);
        }
    }
}
