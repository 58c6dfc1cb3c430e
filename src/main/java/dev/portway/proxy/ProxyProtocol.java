package dev.portway.proxy;

import io.netty.channel.Channel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The PROXY protocol v2 header (HAProxy's spec), sent before the client's bytes so that a backend
 * behind Portway can see the real client address. Netty's {@link HAProxyMessageEncoder} writes it.
 */
final class ProxyProtocol {

    private ProxyProtocol() {
    }

    /**
     * Sends the v2 header for a TCP connection from {@code source} to {@code destination} on
     * {@code upstream}, flushed at once: a protocol where the server speaks first (SMTP, MySQL,
     * SSH) waits for the header, and the client's first bytes may never come before the greeting.
     */
    static void sendV2Header(Channel upstream, InetSocketAddress source, InetSocketAddress destination) {
        boolean v4 = source.getAddress() instanceof Inet4Address && destination.getAddress() instanceof Inet4Address;
        HAProxyMessage header = new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                text(source.getAddress(), v4), text(destination.getAddress(), v4), source.getPort(), destination.getPort());
        upstream.pipeline().addFirst("proxy-protocol", HAProxyMessageEncoder.INSTANCE);
        upstream.writeAndFlush(header).addListener(f -> {
            if (upstream.pipeline().get("proxy-protocol") != null) {
                upstream.pipeline().remove("proxy-protocol");
            }
        });
    }

    /** An address as the message takes it; an IPv4 address beside an IPv6 one, IPv4-mapped. */
    private static String text(InetAddress address, boolean v4) {
        String s = address.getHostAddress();
        int scope = s.indexOf('%');
        s = scope < 0 ? s : s.substring(0, scope);
        return v4 || !(address instanceof Inet4Address) ? s : "::ffff:" + s;
    }
}
