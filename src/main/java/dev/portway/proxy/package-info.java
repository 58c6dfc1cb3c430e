/**
 * The Netty data plane: listeners for ClusterIP, NodePort and LoadBalancer addresses (TCP and
 * UDP), clusters of endpoints with balancing and affinity, health checks, and draining.
 */
package dev.portway.proxy;
