package dev.portway.runtime;

import dev.portway.control.ClusterConfig;
import dev.portway.net.Transport;
import java.net.InetSocketAddress;
import dev.portway.plan.IngressPorts;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How a {@link LocalCluster} is laid out.
 *
 * @param clusterConfig the API server's settings (service CIDR, node port range...)
 * @param adminAddress  where the admin API listens (port 0: any free port)
 * @param nodes         how many nodes (loopback addresses 127.0.10.1, .2, ...)
 * @param defaultPool   the default LoadBalancer pool's addresses, or null for none
 * @param transport     the socket implementation
 * @param kubelet       how pods run
 * @param nodeAddresses the nodes' and pods' addresses ({@link LocalNode.Addresses#DEFAULT}: 127.0.10.N, 127.1.N.0/24)
 * @param stateDir      where the admin API's CA, certificates and token live (null: a new temporary directory)
 * @param ingressPorts  where the Ingress controller listens on its address (80 and 443)
 * @param dataDir       where applied objects are kept across restarts and crashes ({@link dev.portway.store.StoreJournal}),
 *                      or null to keep nothing (ephemeral)
 * @param proxyThreads  the data plane's event loops (HAProxy's {@code nbthread}, Envoy's {@code --concurrency});
 *                      0: one per available processor
 */
public record LocalClusterOptions(ClusterConfig clusterConfig, InetSocketAddress adminAddress, int nodes,
                                  String defaultPool, Transport transport, KubeletOptions kubelet,
                                  LocalNode.Addresses nodeAddresses, Path stateDir, IngressPorts ingressPorts, Path dataDir,
                                  int proxyThreads) {

    public static final String DEFAULT_POOL = "127.3.0.0/24";

    public LocalClusterOptions {
        Objects.requireNonNull(clusterConfig, "clusterConfig");
        Objects.requireNonNull(adminAddress, "adminAddress");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(kubelet, "kubelet");
        Objects.requireNonNull(nodeAddresses, "nodeAddresses");
        Objects.requireNonNull(ingressPorts, "ingressPorts");
        if (nodes < 1 || nodes > 254) {
            throw new IllegalArgumentException("nodes: " + nodes + " (expected: 1-254)");
        }
        if (proxyThreads < 0) {
            throw new IllegalArgumentException("proxyThreads: " + proxyThreads + " (expected: 0 for one per processor, or more)");
        }
    }

    /** The defaults of {@code portway up}, with the admin API on an ephemeral port and a temporary state directory. */
    public static LocalClusterOptions defaults() {
        return new LocalClusterOptions(ClusterConfig.local(), new InetSocketAddress("127.0.0.1", 0), 2, DEFAULT_POOL,
                Transport.best(), KubeletOptions.defaults(), LocalNode.Addresses.DEFAULT, null, IngressPorts.DEFAULT, null, 0);
    }

    public LocalClusterOptions withAdminAddress(InetSocketAddress address) {
        return new LocalClusterOptions(clusterConfig, address, nodes, defaultPool, transport, kubelet, nodeAddresses, stateDir, ingressPorts, dataDir, proxyThreads);
    }

    public LocalClusterOptions withNodes(int n) {
        return new LocalClusterOptions(clusterConfig, adminAddress, n, defaultPool, transport, kubelet, nodeAddresses, stateDir, ingressPorts, dataDir, proxyThreads);
    }

    public LocalClusterOptions withDefaultPool(String pool) {
        return new LocalClusterOptions(clusterConfig, adminAddress, nodes, pool, transport, kubelet, nodeAddresses, stateDir, ingressPorts, dataDir, proxyThreads);
    }

    public LocalClusterOptions withClusterConfig(ClusterConfig config) {
        return new LocalClusterOptions(config, adminAddress, nodes, defaultPool, transport, kubelet, nodeAddresses, stateDir, ingressPorts, dataDir, proxyThreads);
    }

    public LocalClusterOptions withKubelet(KubeletOptions k) {
        return new LocalClusterOptions(clusterConfig, adminAddress, nodes, defaultPool, transport, k, nodeAddresses, stateDir, ingressPorts, dataDir, proxyThreads);
    }

    public LocalClusterOptions withTransport(Transport t) {
        return new LocalClusterOptions(clusterConfig, adminAddress, nodes, defaultPool, t, kubelet, nodeAddresses, stateDir, ingressPorts, dataDir, proxyThreads);
    }

    public LocalClusterOptions withNodeAddresses(LocalNode.Addresses addresses) {
        return new LocalClusterOptions(clusterConfig, adminAddress, nodes, defaultPool, transport, kubelet, addresses, stateDir, ingressPorts, dataDir, proxyThreads);
    }

    public LocalClusterOptions withIngressPorts(IngressPorts ports) {
        return new LocalClusterOptions(clusterConfig, adminAddress, nodes, defaultPool, transport, kubelet, nodeAddresses, stateDir, ports, dataDir, proxyThreads);
    }

    public LocalClusterOptions withStateDir(Path dir) {
        return new LocalClusterOptions(clusterConfig, adminAddress, nodes, defaultPool, transport, kubelet, nodeAddresses, dir, ingressPorts, dataDir, proxyThreads);
    }

    public LocalClusterOptions withDataDir(Path dir) {
        return new LocalClusterOptions(clusterConfig, adminAddress, nodes, defaultPool, transport, kubelet, nodeAddresses, stateDir, ingressPorts, dir,
                proxyThreads);
    }

    /** The data plane's event loops; 0: one per available processor. */
    public LocalClusterOptions withProxyThreads(int threads) {
        return new LocalClusterOptions(clusterConfig, adminAddress, nodes, defaultPool, transport, kubelet, nodeAddresses, stateDir, ingressPorts, dataDir,
                threads);
    }
}
