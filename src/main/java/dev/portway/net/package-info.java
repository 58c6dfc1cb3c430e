/** IPv4 address arithmetic, the choice of socket implementation (io_uring, epoll, NIO), and capped counts of connections ({@link dev.portway.net.Slots}). */
package dev.portway.net;
