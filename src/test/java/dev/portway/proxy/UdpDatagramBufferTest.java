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
    void datagramsAreReadWholeAndUpToSixteenAWakeUp() {
        assertThat(UdpFrontend.DATAGRAMS.newHandle().guess()).isEqualTo(65535);
        assertThat(((io.netty.channel.MaxMessagesRecvByteBufAllocator) UdpFrontend.DATAGRAMS).maxMessagesPerRead()).isEqualTo(16);
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

    @Test
    void aDatagramHandedOverAsASliceOfTheReadBufferIsCopiedToo() {
        // an unconnected socket's datagram (the listener's) is a slice as long as the datagram
        ByteBuf read = PooledByteBufAllocator.DEFAULT.buffer(65535).writeBytes(new byte[100]);
        ByteBuf slice = read.retainedSlice(0, 100);
        read.release();
        ByteBuf small = UdpFrontend.compact(slice);
        assertThat(small).isNotSameAs(slice);
        assertThat(read.refCnt()).as("the read buffer is given back").isZero();
        assertThat(small.capacity()).isEqualTo(100);
        small.release();
    }
}
