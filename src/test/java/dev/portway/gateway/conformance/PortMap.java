package dev.portway.gateway.conformance;

/**
 * The one change the harness makes to upstream's manifests besides the GatewayClass name: tests
 * run as an ordinary user, who cannot bind ports below 1024, so a Gateway listener port below
 * 1024 becomes {@code 18000 + port} (80 → 18080, 443 → 18443, 81 → 18081), and so does an
 * HTTPRoute parentRef's {@code port}, which names a listener port. Nothing else moves: Service,
 * container, redirect-filter and backendRef ports keep their values.
 */
final class PortMap {

    static final int OFFSET = 18000;

    private PortMap() {
    }

    /** The port the harness uses for upstream's listener port {@code port}. */
    static int map(int port) {
        return port < 1024 ? OFFSET + port : port;
    }

    /** Whether {@code port} is one the harness moved a privileged listener port to. */
    static boolean isMapped(int port) {
        return port >= OFFSET && port < OFFSET + 1024;
    }
}
