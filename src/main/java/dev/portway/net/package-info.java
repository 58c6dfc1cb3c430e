/** IPv4 address arithmetic and the choice of socket implementation (io_uring, epoll, NIO). */
package dev.portway.net;
