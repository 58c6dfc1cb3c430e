package dev.portway.proxy;

import java.time.Duration;

/**
 * The L7 gateway's connection limits and timeouts (per data plane; the routes carry their own
 * request timeouts).
 *
 * @param headerTimeout   from a request's first byte to the end of its headers (slow clients get 408)
 * @param idleTimeout     how long a keep-alive client connection may wait for its next request
 * @param maxInitialLine  the longest request line (longer: 414)
 * @param maxHeaderBytes  the largest request header section (larger: 431)
 * @param maxAttempts     attempts per request: connect failures, and for idempotent requests
 *                        without a body a reset before any response byte, are retried on another endpoint
 * @param tunnelIdleTimeout how long a WebSocket may carry nothing either way before it is closed
 * @param streamIdleTimeout how long a request under way may move no byte either way (its body in, its
 *                        response out) before it is ended: 408 while its body is awaited, 504 while
 *                        the backend's answer is, else the connection is cut (Envoy's
 *                        {@code stream_idle_timeout}, whose default it shares)
 * @param maxConnections  client connections each listener holds at once; more are reset (HAProxy's
 *                        {@code maxconn}): a flood on one Gateway leaves the others and the API alone
 */
public record HttpSettings(Duration headerTimeout, Duration idleTimeout, int maxInitialLine, int maxHeaderBytes, int maxAttempts,
                           Duration tunnelIdleTimeout, Duration streamIdleTimeout, int maxConnections) {

    public static final HttpSettings DEFAULTS = new HttpSettings(Duration.ofSeconds(10), Duration.ofSeconds(60), 8192, 32768, 3,
            Duration.ofHours(1), Duration.ofMinutes(5), 10_000);

    public HttpSettings withHeaderTimeout(Duration d) {
        return new HttpSettings(d, idleTimeout, maxInitialLine, maxHeaderBytes, maxAttempts, tunnelIdleTimeout, streamIdleTimeout, maxConnections);
    }

    public HttpSettings withIdleTimeout(Duration d) {
        return new HttpSettings(headerTimeout, d, maxInitialLine, maxHeaderBytes, maxAttempts, tunnelIdleTimeout, streamIdleTimeout, maxConnections);
    }

    public HttpSettings withTunnelIdleTimeout(Duration d) {
        return new HttpSettings(headerTimeout, idleTimeout, maxInitialLine, maxHeaderBytes, maxAttempts, d, streamIdleTimeout, maxConnections);
    }

    public HttpSettings withMaxConnections(int n) {
        return new HttpSettings(headerTimeout, idleTimeout, maxInitialLine, maxHeaderBytes, maxAttempts, tunnelIdleTimeout, streamIdleTimeout, n);
    }

    public HttpSettings withStreamIdleTimeout(Duration d) {
        return new HttpSettings(headerTimeout, idleTimeout, maxInitialLine, maxHeaderBytes, maxAttempts, tunnelIdleTimeout, d, maxConnections);
    }
}
