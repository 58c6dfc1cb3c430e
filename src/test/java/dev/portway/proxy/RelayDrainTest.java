package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Netty's epoll transport reads a socket to its end once the other side's FIN is in, whatever
 * was asked (its receive handle keeps reading after an RDHUP): an endpoint that answers and closes
 * had its whole answer read into the proxy, past its peer's high water mark, where a client that
 * reads nothing kept it (a receive buffer of megabytes per connection, for the idle timeout; a
 * thousand such connections took the direct memory every listener reads into). A read made while
 * the peer cannot take more now counts against the process's budget of held reads, whatever its
 * size, and past twice that budget a connection holding more than a mebibyte for its peer is reset.
 */
class RelayDrainTest {

    @Test
    void aReadForAPeerThatCannotTakeMorePastTheBudgetResetsTheConnection() {
        // a client that reads nothing: nothing written to it ever leaves
        EmbeddedChannel client = new EmbeddedChannel(new io.netty.channel.ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(io.netty.channel.ChannelHandlerContext ctx) {
            }
        });
        client.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        client.writeAndFlush(Unpooled.wrappedBuffer(new byte[2 << 20])); // 2 MiB it has not taken
        assertThat(client.isWritable()).isFalse();
        EmbeddedChannel endpoint = new EmbeddedChannel(new RelayHandler(client, new LongAdder(), new RelayHandler.Session()));
        endpoint.config().setRecvByteBufAllocator(RelayHandler.READS); // one read a wake-up, as epoll's and NIO's relays read
        long base = HeldReads.held(); // other tests' relays (none should be left) are not this one's
        long budget = HeldReads.budget(1024 + base / 2);
        try {
            // within twice the budget: written, and counted until it is
            endpoint.writeInbound(Unpooled.wrappedBuffer(new byte[1000]));
            assertThat(client.isActive()).isTrue();
            assertThat(HeldReads.held() - base).isEqualTo(1000);
            // past it, with more than a mebibyte held for the client: the connection is reset, and what was read is dropped
            ByteBuf past = Unpooled.wrappedBuffer(new byte[1500]);
            endpoint.writeInbound(past);
            assertThat(past.refCnt()).isZero();
            assertThat(client.isActive()).as("the client's side, reset").isFalse();
            assertThat(endpoint.isActive()).as("the endpoint's side").isFalse();
            assertThat(HeldReads.held() - base).as("what was held, counted out as it failed").isZero();
        } finally {
            HeldReads.budget(budget);
            for (EmbeddedChannel ch : new EmbeddedChannel[] {endpoint, client}) {
                try {
                    ch.finishAndReleaseAll();
                } catch (Exception closed) {
                    // the writes that never left, failed as the channel closed: as on a reset socket
                }
            }
        }
    }
}
