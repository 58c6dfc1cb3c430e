package dev.portway.proxy;

import io.netty.channel.Channel;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Idle keep-alive connections to upstream endpoints, by the source address they come from (the
 * gateway's own) and the endpoint, one pool per event loop: a downstream
 * connection only ever borrows a connection of its own event loop, so nothing here is shared
 * between threads and nothing locks. Connections idle for longer than {@link #IDLE_NANOS} are
 * closed (by a sweep, and when found on borrowing); a pooled connection that the endpoint closed
 * leaves the pool as it closes.
 */
final class UpstreamPool {

    /** How long a connection may sit idle in the pool. */
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** The most idle connections kept per endpoint. */
    static final int MAX_IDLE_PER_ENDPOINT = 128;

    private static final FastThreadLocal<UpstreamPool> POOLS = new FastThreadLocal<>() {
        @Override
        protected UpstreamPool initialValue() {
            return new UpstreamPool();
        }
    };

    /** Idle connections by their source address (a gateway's own), then by endpoint. */
    private final Map<java.net.InetAddress, Map<InetSocketAddress, ArrayDeque<Channel>>> idle = new HashMap<>();
    private boolean sweeping;

    /** The pool of the calling event loop. */
    static UpstreamPool current() {
        return POOLS.get();
    }

    /** An idle connection from {@code source} to {@code endpoint}, or null. */
    Channel acquire(java.net.InetAddress source, InetSocketAddress endpoint) {
        Map<InetSocketAddress, ArrayDeque<Channel>> from = idle.get(source);
        ArrayDeque<Channel> q = from == null ? null : from.get(endpoint);
        if (q == null) {
            return null;
        }
        long now = System.nanoTime();
        Channel ch;
        while ((ch = q.pollFirst()) != null) {
            UpstreamHandler h = ch.pipeline().get(UpstreamHandler.class);
            if (ch.isActive() && h != null && now - h.idleSince() < IDLE_NANOS) {
                return ch;
            }
            ch.close();
        }
        return null;
    }

    /** Returns a connection whose exchange is complete. */
    void release(java.net.InetAddress source, InetSocketAddress endpoint, Channel ch) {
        ArrayDeque<Channel> q = idle.computeIfAbsent(source, k -> new HashMap<>()).computeIfAbsent(endpoint, k -> new ArrayDeque<>());
        if (q.size() >= MAX_IDLE_PER_ENDPOINT) {
            ch.close();
            return;
        }
        q.addFirst(ch);
        if (!sweeping) {
            sweeping = true;
            ch.eventLoop().scheduleAtFixedRate(this::sweep, IDLE_NANOS, IDLE_NANOS, TimeUnit.NANOSECONDS);
        }
    }

    /** Forgets a connection that closed while idle. */
    void remove(java.net.InetAddress source, InetSocketAddress endpoint, Channel ch) {
        Map<InetSocketAddress, ArrayDeque<Channel>> from = idle.get(source);
        ArrayDeque<Channel> q = from == null ? null : from.get(endpoint);
        if (q != null) {
            q.remove(ch);
        }
    }

    private void sweep() {
        long now = System.nanoTime();
        for (var sources = idle.values().iterator(); sources.hasNext();) {
            Map<InetSocketAddress, ArrayDeque<Channel>> from = sources.next();
            for (var it = from.values().iterator(); it.hasNext();) {
                ArrayDeque<Channel> q = it.next();
                q.removeIf(ch -> {
                    UpstreamHandler h = ch.pipeline().get(UpstreamHandler.class);
                    boolean stale = !ch.isActive() || h == null || now - h.idleSince() >= IDLE_NANOS;
                    if (stale) {
                        ch.close();
                    }
                    return stale;
                });
                if (q.isEmpty()) {
                    it.remove();
                }
            }
            if (from.isEmpty()) {
                sources.remove();
            }
        }
    }

    /** Closes every idle connection of this event loop's pool (the data plane is stopping: nothing will borrow them). */
    void closeIdle() {
        java.util.List<Channel> all = new java.util.ArrayList<>();
        idle.values().forEach(from -> from.values().forEach(all::addAll));
        idle.clear();
        all.forEach(Channel::close);
    }
}
