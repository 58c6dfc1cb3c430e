package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/**
 * A datagram is read into a buffer of the largest UDP payload, so none is cut short; one that
 * fills less than half of it moves into a buffer of its own size before it is queued or sent.
 */
class UdpDatagramBufferTest {

    @Test
    void datagramsAreReadWhole() {
        assertThat(UdpFrontend.DATAGRAMS.newHandle().guess()).isEqualTo(65535);
    }

    @Test
    void aSmallDatagramGetsABufferOfItsSizeAndALargeOneKeepsItsOwn() {
        ByteBuf read = PooledByteBufAllocator.DEFAULT.buffer(65535).writeBytes(new byte[100]);
        ByteBuf small = UdpFrontend.compact(read);
        assertThat(read.refCnt()).as("the large buffer is given back").isZero();
        assertThat(small.capacity()).isEqualTo(100);
        assertThat(small.readableBytes()).isEqualTo(100);
        small.release();

        ByteBuf large = PooledByteBufAllocator.DEFAULT.buffer(65535).writeBytes(new byte[40_000]);
        assertThat(UdpFrontend.compact(large)).isSameAs(large);
        large.release();
    }
}
