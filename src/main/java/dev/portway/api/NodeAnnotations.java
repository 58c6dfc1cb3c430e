package dev.portway.api;

import io.fabric8.kubernetes.api.model.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The annotation by which a local cluster's node is told to stop its proxy: {@value #PROXY_STOPPED}
 * {@code "true"} (written by {@code portway node stop}, removed by {@code portway node start}; {@code
 * kubectl annotate node} works the same). A node whose proxy is stopped behaves as one whose
 * kube-proxy died: its health check port ({@code :10256/healthz}) answers 503, so load balancers take
 * the node out of their rotation, while the rules it already programmed still carry traffic, as
 * iptables rules outlive kube-proxy. A malformed value is refused when the Node is written.
 */
public final class NodeAnnotations {

    public static final String PROXY_STOPPED = "portway.dev/proxy-stopped";

    private NodeAnnotations() {
    }

    /** Whether the node's proxy is to be stopped. */
    public static boolean proxyStopped(Node node) {
        Map<String, String> a = node.getMetadata() == null ? null : node.getMetadata().getAnnotations();
        return a != null && "true".equals(a.get(PROXY_STOPPED));
    }

    /** Field errors for malformed {@code portway.dev/*} annotations of a Node. */
    public static List<FieldError> validate(Node node) {
        List<FieldError> errs = new ArrayList<>();
        Map<String, String> a = node.getMetadata() == null ? null : node.getMetadata().getAnnotations();
        String stopped = a == null ? null : a.get(PROXY_STOPPED);
        if (stopped != null && !stopped.equals("true") && !stopped.equals("false")) {
            errs.add(FieldError.notSupported(FieldPath.of("metadata", "annotations").key(PROXY_STOPPED), stopped, "false", "true"));
        }
        return errs;
    }
}
