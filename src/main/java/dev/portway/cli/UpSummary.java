package dev.portway.cli;

import dev.portway.api.print.Tables;
import dev.portway.api.ResourceKind;
import dev.portway.control.ApiServer;
import dev.portway.control.Pods;
import dev.portway.runtime.LocalCluster;
import dev.portway.runtime.LocalNode;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code portway up} prints once the cluster runs: progress while pods start, the Services
 * table, and the curl commands that show NodePort and LoadBalancer at work.
 */
final class UpSummary {

    private static final long WAIT_MILLIS = 20_000;

    private final LocalCluster cluster;
    private final Clock clock;
    private final PrintWriter out;

    UpSummary(LocalCluster cluster, Clock clock, PrintWriter out) {
        this.cluster = cluster;
        this.clock = clock;
        this.out = out;
    }

    void print(List<ApiServer.Applied> applied, Path kubeconfig, Path merged) {
        waitForPods();
        List<Service> services = new ArrayList<>();
        List<Gateway> gateways = new ArrayList<>();
        for (ApiServer.Applied a : applied) {
            if (a.key().kind() == ResourceKind.SERVICE) {
                cluster.store().get(Service.class, a.key().namespace(), a.key().name()).ifPresent(services::add);
            } else if (a.key().kind() == ResourceKind.GATEWAY) {
                cluster.store().get(Gateway.class, a.key().namespace(), a.key().name()).ifPresent(gateways::add);
            }
        }
        out.println();
        out.println("Portway is up: " + cluster.nodes().size() + " nodes (" + String.join(", ",
                cluster.nodes().stream().map(n -> n.name() + " " + n.ip()).toList()) + "), API server " + cluster.adminUrl());
        out.println();
        out.println("kubectl: export KUBECONFIG=" + kubeconfig);
        if (merged != null) {
            out.println("  (also merged into " + merged + ": kubectl config use-context portway)");
        }
        if (!services.isEmpty()) {
            out.println();
            Tables tables = new Tables(clock);
            StringBuilder text = new StringBuilder(String.join("\t", Tables.headers(ResourceKind.SERVICE, false))).append('\n');
            for (Service s : services) {
                text.append(TabWriter.row(tables.printed(s, false))).append('\n');
            }
            out.print(TabWriter.forTables().format(text.toString()));
            out.println();
            out.println("Try it:");
            StringBuilder tries = new StringBuilder();
            for (Service s : services) {
                addTries(tries, s);
            }
            out.print(TabWriter.forDescribe().format(tries.toString()));
        }
        if (!gateways.isEmpty()) {
            printGateways(gateways);
        }
        out.println();
        out.println("Cluster DNS: " + cluster.kubelet().dnsSummary());
        out.println("Data plane: " + cluster.dataPlane().describe() + " (--transport, --proxy-threads)");
        Map<String, String> listeners = cluster.dataPlane().listenerStatus();
        listeners.forEach((address, state) -> {
            if (state.startsWith("failed")) {
                out.println("warning: " + address + " " + state);
            }
        });
        out.println();
        out.println("Topology page: " + cluster.adminUrl() + "/ui/ (./portway ui prints a link that signs in)");
        out.println("Other terminals: ./portway get pods -o wide, ./portway logs POD, ./portway describe svc NAME");
        out.println("Ctrl-C stops the cluster (open connections get 5 s to finish).");
    }

    /** The Gateways table and a curl per listener (the routes decide what answers). */
    private void printGateways(List<Gateway> applied) {
        Tables tables = new Tables(clock);
        StringBuilder text = new StringBuilder(String.join("\t", Tables.headers(ResourceKind.GATEWAY, false))).append('\n');
        StringBuilder tries = new StringBuilder();
        for (Gateway applying : applied) {
            Gateway g = cluster.store().get(Gateway.class, applying.getMetadata().getNamespace(), applying.getMetadata().getName())
                    .orElse(applying);
            text.append(TabWriter.row(tables.printed(g, false))).append('\n');
            if (g.getStatus() == null || g.getStatus().getAddresses() == null || g.getStatus().getAddresses().isEmpty()
                    || g.getSpec().getListeners() == null) {
                continue;
            }
            String ip = g.getStatus().getAddresses().getFirst().getValue();
            for (var l : g.getSpec().getListeners()) {
                boolean https = "HTTPS".equals(l.getProtocol());
                int port = l.getPort();
                String host = l.getHostname() == null ? null : l.getHostname().replace("*", "www");
                String scheme = https ? "https://" : "http://";
                String portPart = port == (https ? 443 : 80) ? "" : ":" + port;
                tries.append("  curl ").append(https ? "-k " : "");
                if (host == null) {
                    tries.append(scheme).append(ip).append(portPart).append('/');
                } else {
                    // the listener's name, resolved to the Gateway's address (SNI and Host both say it)
                    tries.append("--resolve ").append(host).append(':').append(port).append(':').append(ip).append(' ')
                            .append(scheme).append(host).append(portPart).append('/');
                }
                tries.append("\t# ").append(g.getMetadata().getName())
                        .append(": Gateway listener ").append(l.getName()).append(" -> its HTTPRoutes\n");
                if (host == null) {
                    addRoutePaths(tries, g, l.getName(), scheme + ip + portPart);
                }
            }
        }
        out.println();
        out.print(TabWriter.forTables().format(text.toString()));
        if (!tries.isEmpty()) {
            out.println();
            out.print(TabWriter.forDescribe().format(tries.toString()));
        }
    }

    /** A line per path prefix the Gateway's HTTPRoutes route (without host names): where each part of an app is. */
    private void addRoutePaths(StringBuilder tries, Gateway g, String listener, String base) {
        String ns = g.getMetadata().getNamespace();
        List<String[]> paths = new ArrayList<>();
        for (HTTPRoute r : cluster.store().list(HTTPRoute.class, ns)) {
            boolean attached = r.getSpec().getParentRefs() != null && r.getSpec().getParentRefs().stream().anyMatch(p ->
                    g.getMetadata().getName().equals(p.getName()) && (p.getNamespace() == null || ns.equals(p.getNamespace()))
                            && (p.getSectionName() == null || listener.equals(p.getSectionName())));
            if (!attached || (r.getSpec().getHostnames() != null && !r.getSpec().getHostnames().isEmpty())) {
                continue;
            }
            for (HTTPRouteRule rule : r.getSpec().getRules() == null ? List.<HTTPRouteRule>of() : r.getSpec().getRules()) {
                String backend = rule.getBackendRefs() == null || rule.getBackendRefs().isEmpty() ? "" : " -> "
                        + rule.getBackendRefs().getFirst().getName() + ":" + rule.getBackendRefs().getFirst().getPort();
                List<HTTPRouteMatch> matches = rule.getMatches() == null || rule.getMatches().isEmpty() ? List.of(new HTTPRouteMatch()) : rule.getMatches();
                for (HTTPRouteMatch m : matches) {
                    if (m.getPath() == null || !"RegularExpression".equals(m.getPath().getType())) {
                        String path = m.getPath() == null || m.getPath().getValue() == null ? "/" : m.getPath().getValue();
                        paths.add(new String[] {path.endsWith("/") ? path : path + "/", r.getMetadata().getName(), backend});
                    }
                }
            }
        }
        // a path under another one to the same backend (an admin route beside its app's) is not a part of its own
        for (String[] p : paths) {
            boolean under = paths.stream().anyMatch(o -> o != p && p[0].startsWith(o[0]) && !p[0].equals(o[0]) && o[2].equals(p[2]));
            if (!under) {
                tries.append("  curl ").append(base).append(p[0]).append("\t#   HTTPRoute ").append(p[1]).append(p[2]).append('\n');
            }
        }
    }

    private void addTries(StringBuilder tries, Service s) {
        String name = s.getMetadata().getName();
        for (ServicePort p : s.getSpec().getPorts()) {
            if (!"TCP".equals(p.getProtocol())) {
                continue;
            }
            String path = "/";
            if (p.getNodePort() != null && p.getNodePort() > 0) {
                for (LocalNode n : cluster.nodes()) {
                    tries.append("  curl http://").append(n.ip()).append(':').append(p.getNodePort()).append(path).append('\t')
                            .append("# ").append(name).append(": NodePort on ").append(n.name()).append('\n');
                }
            }
            if (s.getStatus() != null && s.getStatus().getLoadBalancer() != null && s.getStatus().getLoadBalancer().getIngress() != null) {
                for (LoadBalancerIngress in : s.getStatus().getLoadBalancer().getIngress()) {
                    tries.append("  curl http://").append(in.getIp()).append(p.getPort() == 80 ? "" : ":" + p.getPort()).append(path)
                            .append('\t').append("# ").append(name).append(": LoadBalancer -> a node -> a pod").append('\n');
                }
            }
            if (s.getSpec().getClusterIP() != null && !"None".equals(s.getSpec().getClusterIP())) {
                tries.append("  curl http://").append(s.getSpec().getClusterIP()).append(p.getPort() == 80 ? "" : ":" + p.getPort())
                        .append(path).append('\t').append("# ").append(name).append(": ClusterIP").append('\n');
            }
        }
    }

    /** Waits (up to 20 s) until the pods are ready, reporting progress. */
    private void waitForPods() {
        long start = System.currentTimeMillis();
        out.print("Waiting for pods to be ready...");
        out.flush();
        while (System.currentTimeMillis() - start < WAIT_MILLIS) {
            List<Pod> pods = cluster.store().list(Pod.class).stream().filter(p -> !Pods.isTerminal(p)).toList();
            long ready = pods.stream().filter(Pods::isReady).count();
            // every Deployment has made its pods (right after apply, there may be none yet)
            boolean deploymentsDone = cluster.store().list(io.fabric8.kubernetes.api.model.apps.Deployment.class).stream()
                    .allMatch(d -> d.getStatus() != null && d.getStatus().getReadyReplicas() != null
                            && d.getStatus().getReadyReplicas() >= (d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas()));
            boolean lbsDone = cluster.store().list(Service.class).stream()
                    .filter(s -> "LoadBalancer".equals(s.getSpec().getType()))
                    .allMatch(s -> s.getStatus() != null && s.getStatus().getLoadBalancer() != null
                            && s.getStatus().getLoadBalancer().getIngress() != null && !s.getStatus().getLoadBalancer().getIngress().isEmpty());
            if (ready == pods.size() && deploymentsDone && lbsDone) {
                out.println(" " + ready + "/" + pods.size() + " ready (" + (System.currentTimeMillis() - start) + " ms)");
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        List<Pod> pods = cluster.store().list(Pod.class).stream().filter(p -> !Pods.isTerminal(p)).toList();
        out.println(" " + pods.stream().filter(Pods::isReady).count() + "/" + pods.size()
                + " ready after 20 s; see ./portway get pods and ./portway describe pod NAME");
    }
}
