package dev.portway.plan;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One immutable snapshot of what the data plane must do: the listeners to hold open, the
 * clusters (upstream endpoint sets) they send traffic to, and the health servers the nodes run.
 * The control thread builds it; the data plane applies it as a diff.
 *
 * @param version  increases with every plan
 * @param listeners every address to listen on
 * @param clusters  by name
 * @param healthServers the kube-proxy style health endpoints of the nodes
 */
public record Plan(long version, List<Listener> listeners, Map<String, Cluster> clusters, List<HealthServer> healthServers) {

    public Plan {
        listeners = List.copyOf(listeners);
        clusters = Map.copyOf(clusters);
        healthServers = List.copyOf(healthServers);
    }

    public static Plan empty() {
        return new Plan(0, List.of(), Map.of(), List.of());
    }

    public enum Protocol {
        TCP, UDP
    }

    /** What kind of Service address a listener is. */
    public enum Role {
        /** {@code clusterIP:port}. */
        CLUSTER_IP,
        /** {@code externalIP:port} from {@code spec.externalIPs}. */
        EXTERNAL_IP,
        /** {@code nodeIP:nodePort} on one node. */
        NODE_PORT,
        /** {@code loadBalancerIP:port}, balancing to the nodes. */
        LOAD_BALANCER
    }

    /** Where an upstream connection comes from, as kube-proxy's NAT rules decide it. */
    public enum Source {
        /** The client's own address (no SNAT): ClusterIP, Local policy, LoadBalancer to node. */
        CLIENT,
        /** The node's address (masquerade): NodePort with Cluster policy. */
        NODE
    }

    /** Identifies a listener: protocol and address. */
    public record ListenerKey(Protocol protocol, InetSocketAddress address) {
        @Override
        public String toString() {
            return protocol.name().toLowerCase() + "/" + address.getAddress().getHostAddress() + ":" + address.getPort();
        }
    }

    /**
     * An address to accept traffic on.
     *
     * @param key          protocol and address
     * @param role         what Service address this is
     * @param service      {@code namespace/name}
     * @param cluster      the name of the cluster traffic goes to
     * @param nodeName     for NODE_PORT: the node (selects local endpoints with Local policy)
     * @param nodeIp       for NODE_PORT: the node's address (the SNAT source)
     * @param localOnly    only endpoints on {@code nodeName} (externalTrafficPolicy Local)
     * @param source       where upstream connections come from
     * @param sourceRanges for LOAD_BALANCER: the client CIDRs allowed (empty: all)
     * @param active       false when there is nowhere to send traffic: the address is closed, so
     *                     connections are refused (kube-proxy's REJECT)
     */
    public record Listener(ListenerKey key, Role role, String service, String cluster, String nodeName, String nodeIp,
                           boolean localOnly, Source source, List<String> sourceRanges, boolean active) {
        public Listener {
            Objects.requireNonNull(key, "key");
            sourceRanges = List.copyOf(sourceRanges);
        }
    }

    /** How a cluster picks an endpoint. */
    public enum Balancer {
        ROUND_ROBIN, RANDOM
    }

    /**
     * A set of upstream endpoints and how to use them.
     *
     * @param name              unique: {@code default/web:http} (pods) or {@code lb:default/web:http} (nodes)
     * @param service           {@code namespace/name}
     * @param endpoints         every endpoint, with its conditions
     * @param balancer          round robin or random
     * @param affinityTimeout   ClientIP session affinity, or null for none
     * @param proxyProtocol     write a PROXY protocol v2 header before the client's bytes
     * @param drainTimeout      how long connections to a removed endpoint may go on
     * @param udpIdleTimeout    how long a UDP flow lives without traffic
     * @param healthCheck       for clusters of nodes (LoadBalancer): how nodes are checked, else null
     */
    public record Cluster(String name, String service, Protocol protocol, List<Endpoint> endpoints, Balancer balancer,
                          Duration affinityTimeout, boolean proxyProtocol, Duration drainTimeout, Duration udpIdleTimeout,
                          HealthCheck healthCheck) {
        public Cluster {
            endpoints = List.copyOf(endpoints);
        }

        /** Endpoints a listener may use now: ready ones, or else the serving-and-terminating ones (kube-proxy's rule). */
        public boolean hasUsableEndpoints(String localNode) {
            boolean ready = false;
            boolean servingTerminating = false;
            for (Endpoint e : endpoints) {
                if (localNode != null && !localNode.equals(e.nodeName())) {
                    continue;
                }
                ready |= e.ready();
                servingTerminating |= e.serving() && e.terminating();
            }
            return ready || servingTerminating;
        }
    }

    /**
     * One upstream endpoint.
     *
     * @param address     where to connect
     * @param nodeName    the node it runs on
     * @param target      the pod name (or node name, for LoadBalancer clusters)
     * @param ready       ready (serving and not terminating)
     * @param serving     passing its readiness checks
     * @param terminating on its way out
     */
    public record Endpoint(InetSocketAddress address, String nodeName, String target, boolean ready, boolean serving,
                           boolean terminating) {
    }

    /**
     * How a LoadBalancer checks the nodes behind it, like a cloud load balancer: an HTTP GET to
     * each node every {@code interval}; {@code unhealthyThreshold} failures take a node out,
     * {@code healthyThreshold} passes bring it back.
     *
     * @param port     the port on each node ({@code healthCheckNodePort}, or kube-proxy's 10256)
     * @param path     the path ({@code /healthz} for kube-proxy's port)
     */
    public record HealthCheck(int port, String path, Duration interval, Duration timeout, int healthyThreshold,
                              int unhealthyThreshold) {
    }

    /**
     * A health endpoint a node serves.
     *
     * @param address          where
     * @param service          null for kube-proxy's node health ({@code /healthz}); else the
     *                         {@code namespace/name} whose healthCheckNodePort this is
     * @param localEndpoints   for a service: its ready endpoints on this node
     */
    public record HealthServer(InetSocketAddress address, String nodeName, String service, int localEndpoints) {
    }
}
