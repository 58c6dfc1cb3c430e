package dev.portway.runtime;

import dev.portway.api.NodeAnnotations;
import dev.portway.control.ControlPlane;
import dev.portway.control.Controller;
import dev.portway.proxy.DataPlane;
import io.fabric8.kubernetes.api.model.Node;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops and starts the local nodes' proxies as their Nodes' {@value NodeAnnotations#PROXY_STOPPED}
 * annotation says ({@code portway node stop|start}): a stopped proxy fails its health check, so the
 * load balancers take the node out of rotation, and takes it back when started. Each change is an
 * Event on the Node, from kube-proxy, as a real node's proxy records its start.
 */
final class NodeProxies implements Controller {

    private static final Logger log = LoggerFactory.getLogger(NodeProxies.class);

    private final ControlPlane control;
    private final List<LocalNode> nodes;
    private final DataPlane dataPlane;
    private final Set<String> stopped = new HashSet<>();

    NodeProxies(ControlPlane control, List<LocalNode> nodes, DataPlane dataPlane) {
        this.control = control;
        this.nodes = List.copyOf(nodes);
        this.dataPlane = dataPlane;
    }

    @Override
    public void reconcile() {
        for (LocalNode n : nodes) {
            Optional<Node> node = control.store().get(Node.class, null, n.name());
            boolean stop = node.map(NodeAnnotations::proxyStopped).orElse(false);
            if (stop == stopped.contains(n.name())) {
                continue;
            }
            dataPlane.setNodeFailed(n.name(), stop);
            if (stop) {
                stopped.add(n.name());
                log.info("node {}: proxy stopped; its health check fails until it is started", n.name());
                control.events().normal(node.get(), "Stopped", "Stopped kube-proxy: the node's health check fails, "
                        + "and load balancers send it no new connections while another node passes its check.", "kube-proxy");
            } else {
                stopped.remove(n.name());
                log.info("node {}: proxy started", n.name());
                node.ifPresent(o -> control.events().normal(o, "Starting", "Starting kube-proxy.", "kube-proxy"));
            }
        }
    }
}
