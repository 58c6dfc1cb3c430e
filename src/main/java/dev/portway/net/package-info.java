/**
 * IPv4 address arithmetic, the choice of socket implementation (io_uring, epoll, NIO), capped
 * counts of connections ({@link dev.portway.net.Slots}), input held back from a client that
 * reads no answers ({@link dev.portway.net.WritabilityGate}), Host headers ({@link dev.portway.net.HostHeader}), and TLS contexts from PEM keys and
 * certificates ({@link dev.portway.net.Tls}).
 */
package dev.portway.net;
