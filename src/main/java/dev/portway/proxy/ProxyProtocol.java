package dev.portway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.Inet4Address;
import java.net.InetSocketAddress;

/**
 * The PROXY protocol v2 header (HAProxy's spec), written before the client's bytes so that a
 * backend behind Portway can see the real client address.
 */
final class ProxyProtocol {

    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private ProxyProtocol() {
    }

    /** A v2 PROXY header for a TCP connection from {@code source} to {@code destination}. */
    static ByteBuf v2Header(ByteBufAllocator alloc, InetSocketAddress source, InetSocketAddress destination) {
        boolean v4 = source.getAddress() instanceof Inet4Address && destination.getAddress() instanceof Inet4Address;
        byte[] src = source.getAddress().getAddress();
        byte[] dst = destination.getAddress().getAddress();
        if (!v4) {
            src = toV6(src);
            dst = toV6(dst);
        }
        int addressLength = v4 ? 12 : 36;
        ByteBuf buf = alloc.buffer(16 + addressLength);
        buf.writeBytes(SIGNATURE);
        buf.writeByte(0x21);                  // version 2, command PROXY
        buf.writeByte(v4 ? 0x11 : 0x21);      // AF_INET or AF_INET6, STREAM
        buf.writeShort(addressLength);
        buf.writeBytes(src);
        buf.writeBytes(dst);
        buf.writeShort(source.getPort());
        buf.writeShort(destination.getPort());
        return buf;
    }

    private static byte[] toV6(byte[] address) {
        if (address.length == 16) {
            return address;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(address, 0, mapped, 12, 4);
        return mapped;
    }
}
