package dev.portway.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.util.internal.PlatformDependent;
import org.junit.jupiter.api.Test;

/**
 * The tests run Netty as {@code ./portway up} does: on JDK 23+ with sun.misc.Unsafe memory
 * access allowed, without which Netty 4.2 falls back (on JDK 25+) to bounds-checked ByteBuffer
 * access, byte by byte (the pom's unsafe-memory-access profile, the launcher's same option).
 */
class NettyMemoryAccessTest {

    @Test
    void nettyReachesItsBuffersThroughUnsafeWhereTheJdkAllowsIt() {
        assumeTrue(Runtime.version().feature() >= 23, "the option exists from JDK 23 on");
        assertThat(PlatformDependent.hasUnsafe()).as("%s", PlatformDependent.getUnsafeUnavailabilityCause()).isTrue();
        assertThat(PlatformDependent.directBufferPreferred()).isTrue();
    }
}
