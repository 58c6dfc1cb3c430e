package dev.portway.gateway.conformance;

import java.time.Duration;

/**
 * Upstream's {@code config.TimeoutConfig}, the parts the ported tests use. The waits for status
 * are shorter than upstream's defaults (a local cluster has no cloud load balancer to provision:
 * an address or a condition that has not come in 30 s will not come), so that a run against a
 * Gateway that does not work yet ends in minutes; the request waits are upstream's. Each can be
 * set, in seconds, with {@code -Dportway.gateway.conformance.timeout.NAME=S}.
 *
 * @param gatewayClassAccepted upstream's GWCMustBeAccepted (180 s)
 * @param gatewayAddress       upstream's GatewayMustHaveAddress (180 s)
 * @param status               upstream's HTTPRouteMustHaveCondition, RouteMustHaveParents,
 *                             GatewayStatusMustHaveListeners, GatewayMustHaveCondition,
 *                             LatestObservedGenerationSet (60-180 s)
 * @param namespacesReady      upstream's NamespacesMustBeReady (300 s)
 * @param consistency          upstream's MaxTimeToConsistency (30 s)
 * @param request              upstream's RequestTimeout (10 s): one round trip, and the wait for a mirrored request's log line
 * @param consecutive          upstream's RequiredConsecutiveSuccesses (3)
 */
record Timeouts(Duration gatewayClassAccepted, Duration gatewayAddress, Duration status, Duration namespacesReady,
                Duration consistency, Duration request, int consecutive) {

    static Timeouts fromProperties() {
        return new Timeouts(seconds("gatewayClassAccepted", 30), seconds("gatewayAddress", 30), seconds("status", 30),
                seconds("namespacesReady", 120), seconds("consistency", 30), seconds("request", 10),
                Integer.getInteger("portway.gateway.conformance.consecutive", 3));
    }

    private static Duration seconds(String name, long defaultSeconds) {
        return Duration.ofSeconds(Long.getLong("portway.gateway.conformance.timeout." + name, defaultSeconds));
    }
}
