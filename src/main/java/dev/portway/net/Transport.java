package dev.portway.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;

/**
 * The socket implementation: Linux's epoll or io_uring through Netty's native transports where
 * they load, Java NIO otherwise. Every Portway socket comes from here.
 */
public enum Transport {
    IO_URING, EPOLL, NIO;

    /**
     * The best transport that works here, or the one named by the system property
     * {@code portway.transport} (io_uring, epoll, nio).
     *
     * <p>io_uring first: it submits a loop's reads and writes, and learns that they completed, in
     * about one system call a request where epoll makes four (a read and a write each way) and a
     * wait. Where a system call is dear (a hypervisor that traps it) that was 20-30 % less CPU a
     * request; where it is cheap, level with epoll within the noise (docs/performance.md). A
     * kernel or a sandbox that refuses io_uring (too old, the {@code kernel.io_uring_disabled}
     * sysctl, a seccomp profile) leaves epoll, and NIO without it.
     */
    public static Transport best() {
        String wanted = System.getProperty("portway.transport", "").toLowerCase(Locale.ROOT);
        return switch (wanted) {
            case "epoll" -> Epoll.isAvailable() ? EPOLL : NIO;
            case "nio" -> NIO;
            default -> IoUring.isAvailable() ? IO_URING : fallback();
        };
    }

    private static Transport fallback() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }

    /** The name {@code --transport} takes: io_uring, epoll or nio. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Transport parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "io_uring", "iouring", "io-uring" -> IO_URING;
            case "epoll" -> EPOLL;
            case "nio" -> NIO;
            default -> throw new IllegalArgumentException("transport " + name + " (expected: io_uring, epoll or nio)");
        };
    }

    /** Whether this transport can run on this machine. */
    public boolean isAvailable() {
        return switch (this) {
            case IO_URING -> IoUring.isAvailable();
            case EPOLL -> Epoll.isAvailable();
            case NIO -> true;
        };
    }

    /** Why this transport cannot run here (for a message), or {@code null} where it can. */
    public String unavailability() {
        Throwable cause = switch (this) {
            case IO_URING -> IoUring.unavailabilityCause();
            case EPOLL -> Epoll.unavailabilityCause();
            case NIO -> null;
        };
        if (cause == null) {
            return null;
        }
        while (cause.getCause() != null && cause.getMessage() == null) {
            cause = cause.getCause();
        }
        return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
    }

    public EventLoopGroup newGroup(int threads, String name) {
        IoHandlerFactory factory = switch (this) {
            case IO_URING -> IoUringIoHandler.newFactory();
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
        return new MultiThreadIoEventLoopGroup(threads, threadsNamed(name), factory);
    }

    /**
     * Daemon threads named {@code name-1}, {@code name-2}... Linux keeps the first 15 bytes of a
     * thread's name, so a group's name plus its numbers must fit there: Netty's default puts a
     * pool number between ({@code portway-proxy-1-2}), and {@code top -H}, {@code perf} and /proc
     * showed every proxy thread as the same {@code portway-proxy-1}. The data plane's loops are
     * {@code pw-proxy-1} to {@code pw-proxy-9999}.
     */
    static java.util.concurrent.ThreadFactory threadsNamed(String name) {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        return new DefaultThreadFactory(name, true) {
            @Override
            protected Thread newThread(Runnable r, String ignored) {
                return super.newThread(r, name + "-" + next.incrementAndGet());
            }
        };
    }

    public Class<? extends ServerChannel> serverChannel() {
        return switch (this) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    public Class<? extends SocketChannel> socketChannel() {
        return switch (this) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }

    /**
     * Makes sockets of the family of {@code address}: an IPv4 address gets an AF_INET socket on
     * epoll and NIO. Netty's channels otherwise open dual-stack AF_INET6 sockets (when the machine
     * has IPv6), which cost an {@code IPV6_V6ONLY} setsockopt each and carry every IPv4 address as
     * a mapped IPv6 one; the data plane opens one or two per connection. Netty 4.2.18's io_uring
     * channels have no constructor for a family: theirs stay AF_INET6, one setsockopt more a
     * connection (counted with perf, docs/performance.md).
     */
    public io.netty.channel.ChannelFactory<SocketChannel> socketChannelFactory(java.net.InetAddress address) {
        if (!(address instanceof java.net.Inet4Address)) {
            Class<? extends SocketChannel> type = socketChannel();
            return new io.netty.channel.ReflectiveChannelFactory<>(type)::newChannel;
        }
        return switch (this) {
            case IO_URING -> IoUringSocketChannel::new;
            case EPOLL -> () -> new EpollSocketChannel(SocketProtocolFamily.INET);
            case NIO -> () -> new NioSocketChannel(java.nio.channels.spi.SelectorProvider.provider(), SocketProtocolFamily.INET);
        };
    }

    /**
     * Closes {@code ch}, even one Netty could not make: when no descriptor is left, a bootstrap
     * hands back its failed channel, which has no event loop and whose {@code close()} throws. That
     * one has nothing to close: closing it anyway logged a warning and its stack trace, one for
     * every connection refused while the descriptors ran out.
     */
    public static void close(io.netty.channel.Channel ch) {
        if (!ch.isOpen()) {
            return;
        }
        if (ch.isRegistered()) {
            ch.close();
        } else {
            ch.unsafe().closeForcibly();
        }
    }

    /** Makes listening sockets of the family of {@code address} (see {@link #socketChannelFactory}). */
    public io.netty.channel.ChannelFactory<ServerChannel> serverChannelFactory(java.net.InetAddress address) {
        if (!(address instanceof java.net.Inet4Address)) {
            Class<? extends ServerChannel> type = serverChannel();
            return new io.netty.channel.ReflectiveChannelFactory<>(type)::newChannel;
        }
        return switch (this) {
            case IO_URING -> IoUringServerSocketChannel::new;
            case EPOLL -> () -> new EpollServerSocketChannel(SocketProtocolFamily.INET);
            case NIO -> () -> new NioServerSocketChannel(java.nio.channels.spi.SelectorProvider.provider(), SocketProtocolFamily.INET);
        };
    }

    /** Linux's {@code IP_BIND_ADDRESS_NO_PORT} (level {@code IPPROTO_IP}), which Netty's io_uring options do not name. */
    private static final io.netty.channel.unix.IntegerUnixChannelOption IO_URING_BIND_ADDRESS_NO_PORT =
            new io.netty.channel.unix.IntegerUnixChannelOption("IP_BIND_ADDRESS_NO_PORT", 0, 24);

    /**
     * Has the sockets of {@code b}, bound to a source address before they connect, take their
     * source port at connect time ({@code IP_BIND_ADDRESS_NO_PORT}), so that one source address can
     * reach many endpoints: a port picked at bind time must be free towards every destination, so
     * one node's address (SNAT) ran out of ports at some 28,000 connections over all its
     * endpoints, where a port picked at connect time need only be free towards its own. io_uring
     * channels lacked it until now; NIO cannot set it.
     */
    public void sourcePortAtConnect(io.netty.bootstrap.Bootstrap b) {
        switch (this) {
            case EPOLL -> b.option(io.netty.channel.epoll.EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
            case IO_URING -> b.option(IO_URING_BIND_ADDRESS_NO_PORT, 1);
            case NIO -> { }
        }
    }

    public Class<? extends DatagramChannel> datagramChannel() {
        return switch (this) {
            case IO_URING -> IoUringDatagramChannel.class;
            case EPOLL -> EpollDatagramChannel.class;
            case NIO -> NioDatagramChannel.class;
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
