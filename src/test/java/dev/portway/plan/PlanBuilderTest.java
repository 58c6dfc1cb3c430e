package dev.portway.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plan of Services and their slices, rebuilt after each change from what changed only. */
class PlanBuilderTest {

    private static HasMetadata service(String name, String clusterIp) {
        return new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP(clusterIp)
                .addNewPort().withName("http").withPort(80).withProtocol("TCP").withNewTargetPort(8080).endPort().endSpec()
                .build();
    }

    private static HasMetadata slice(String service, String address) {
        return new EndpointSliceBuilder().withNewMetadata().withName(service + "-1").withNamespace("default")
                .withLabels(Map.of("kubernetes.io/service-name", service)).endMetadata()
                .withAddressType("IPv4")
                .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort()
                .addNewEndpoint().withAddresses(address).withNewConditions().withReady(true).endConditions().endEndpoint()
                .build();
    }

    private static HasMetadata slice(String name, String service, String address) {
        return new EndpointSliceBuilder((io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice) slice(service, address))
                .editMetadata().withName(name).endMetadata().build();
    }

    private static java.util.List<String> addresses(Plan plan, String service) {
        Plan.Cluster c = plan.clusters().get("default/" + service + ":80/TCP");
        return c.endpoints().stream().map(e -> e.address().getAddress().getHostAddress()).toList();
    }

    private static void put(Store store, HasMetadata... objects) {
        Store.Batch batch = store.begin();
        for (HasMetadata o : objects) {
            batch.put(o);
        }
        batch.commit();
    }

    /** As kube-proxy's endpointslicecache reads conditions: ready and serving unset are true, terminating unset false. */
    @Test
    void unsetConditionsAreReadAsKubeProxyReadsThem() {
        Store store = new Store();
        HasMetadata terminating = new EndpointSliceBuilder((io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice) slice("t", "127.60.0.9"))
                .editFirstEndpoint().withNewConditions().withReady(false).withTerminating(true).endConditions().endEndpoint().build();
        HasMetadata bare = new EndpointSliceBuilder((io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice) slice("u", "127.60.0.8"))
                .editFirstEndpoint().withConditions(null).endEndpoint().build();
        put(store, service("t", "127.2.60.9"), terminating, service("u", "127.2.60.8"), bare);
        Plan plan = new PlanBuilder(store, 10256).build();
        Plan.Endpoint t = plan.clusters().get("default/t:80/TCP").endpoints().getFirst();
        assertThat(List.of(t.ready(), t.serving(), t.terminating())).as("a fallback, as kube-proxy has it").containsExactly(false, true, true);
        Plan.Endpoint u = plan.clusters().get("default/u:80/TCP").endpoints().getFirst();
        assertThat(List.of(u.ready(), u.serving(), u.terminating())).containsExactly(true, true, false);
    }

    @Test
    void aChangedSliceRebuildsItsServiceOnlyAndTheOthersAreTheSameObjects() {
        Store store = new Store();
        put(store, new NodeBuilder().withNewMetadata().withName("node1").endMetadata()
                        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("127.0.60.1").endAddress()
                        .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build(),
                service("a", "127.2.60.1"), slice("a", "127.60.0.1"), service("b", "127.2.60.2"), slice("b", "127.60.0.2"));
        PlanBuilder builder = new PlanBuilder(store, 10256);
        Plan first = builder.build();
        Plan.Cluster a = first.clusters().get("default/a:80/TCP");
        Plan.Cluster b = first.clusters().get("default/b:80/TCP");
        assertThat(b.endpoints()).extracting(e -> e.address().getAddress().getHostAddress()).containsExactly("127.60.0.2");

        put(store, slice("b", "127.60.0.3"));
        Plan second = builder.build();
        assertThat(second.clusters().get("default/a:80/TCP")).as("Service a is as it was: the same object").isSameAs(a);
        assertThat(second.clusters().get("default/b:80/TCP").endpoints()).extracting(e -> e.address().getAddress().getHostAddress())
                .containsExactly("127.60.0.3");
        assertThat(second.listeners()).filteredOn(l -> l.service().equals("default/a")).first()
                .isSameAs(first.listeners().stream().filter(l -> l.service().equals("default/a")).findFirst().orElseThrow());

        // a Service that is gone takes its part of the plan with it
        Store.Batch delete = store.begin();
        delete.remove(dev.portway.api.ResourceKind.SERVICE, "default", "a");
        delete.commit();
        Plan third = builder.build();
        assertThat(third.clusters()).doesNotContainKey("default/a:80/TCP").containsKey("default/b:80/TCP");
        assertThat(third.listeners()).extracting(Plan.Listener::service).containsExactly("default/b");
    }

    @Test
    void slicesAddedMovedAndDeletedAfterTheFirstBuildAreFollowed() {
        Store store = new Store();
        put(store, service("a", "127.2.60.1"), slice("a", "127.60.0.1"), service("b", "127.2.60.2"));
        PlanBuilder builder = new PlanBuilder(store, 10256);
        assertThat(addresses(builder.build(), "b")).isEmpty();

        put(store, slice("b-1", "b", "127.60.0.2"), slice("b-2", "b", "127.60.0.3"));
        assertThat(addresses(builder.build(), "b")).containsExactly("127.60.0.2", "127.60.0.3");

        put(store, slice("b-2", "a", "127.60.0.3")); // its service-name label now says a
        Plan moved = builder.build();
        assertThat(addresses(moved, "a")).containsExactly("127.60.0.1", "127.60.0.3");
        assertThat(addresses(moved, "b")).containsExactly("127.60.0.2");

        Store.Batch delete = store.begin();
        delete.remove(dev.portway.api.ResourceKind.ENDPOINT_SLICE, "default", "b-2");
        delete.remove(dev.portway.api.ResourceKind.ENDPOINT_SLICE, "default", "b-1");
        delete.commit();
        Plan deleted = builder.build();
        assertThat(addresses(deleted, "a")).containsExactly("127.60.0.1");
        assertThat(addresses(deleted, "b")).isEmpty();
    }

    /**
     * A build looks again only at the Services the store's events touched. Whatever the change,
     * its plan must be the one a fresh builder makes from the same store, and its changes, applied
     * to the plan before, must give that plan. Two Services want one external address here: the
     * first in the store's order holds it, and the other gets it when the first goes away.
     */
    @Test
    void anIncrementalBuildIsTheSameAsAFreshOneAndItsChangesLeadThere() {
        Store store = new Store();
        put(store, node("node1", "127.0.60.1", true),
                withExternalIp(service("a", "127.2.60.1"), "127.2.60.9"), slice("a", "127.60.0.1"),
                withExternalIp(service("b", "127.2.60.2"), "127.2.60.9"), slice("b", "127.60.0.2"),
                nodePort(service("c", "127.2.60.3"), 30080), slice("c", "127.60.0.3"));
        PlanBuilder builder = new PlanBuilder(store, 10256);
        Plan plan = sameAsFresh(store, builder, Plan.empty());
        Plan.ListenerKey shared = new Plan.ListenerKey(Plan.Protocol.TCP, new java.net.InetSocketAddress("127.2.60.9", 80));
        assertThat(holder(plan, shared)).isEqualTo("default/a");

        Store.Batch delete = store.begin();
        delete.remove(dev.portway.api.ResourceKind.SERVICE, "default", "a");
        delete.commit();
        plan = sameAsFresh(store, builder, plan);
        assertThat(holder(plan, shared)).as("the address passes to the other Service").isEqualTo("default/b");
        assertThat(builder.changes().listeners().get(shared).service()).isEqualTo("default/b");

        put(store, withExternalIp(service("a", "127.2.60.1"), "127.2.60.9"));
        plan = sameAsFresh(store, builder, plan);
        assertThat(holder(plan, shared)).as("the first in the store's order has it again").isEqualTo("default/a");

        put(store, node("node2", "127.0.60.2", true));
        plan = sameAsFresh(store, builder, plan);
        assertThat(plan.listeners()).extracting(l -> l.key().toString()).contains("tcp/127.0.60.2:30080");

        put(store, slice("c", "127.60.0.4"), node("node1", "127.0.60.1", false));
        plan = sameAsFresh(store, builder, plan);
        assertThat(addresses(plan, "c")).containsExactly("127.60.0.4");

        // a Service written again as it was: nothing to change, and the same plan
        put(store, nodePort(service("c", "127.2.60.3"), 30080));
        assertThat(builder.build()).isSameAs(plan);
        assertThat(builder.changes().isEmpty()).isTrue();
    }

    /**
     * An address Portway handed out (here a ClusterIP, and a NodePort on a node) stays with its
     * Service when another names it in externalIPs, even one that sorts first: CVE-2020-8554's
     * interception by externalIPs does not take an allocated address (before: the first name won).
     */
    @Test
    void anExternalIpCannotTakeAnAllocatedAddress() {
        Store store = new Store();
        HasMetadata onNode = new ServiceBuilder((io.fabric8.kubernetes.api.model.Service) withExternalIp(service("aab", "127.2.61.4"),
                "127.0.61.1")).editSpec().editFirstPort().withPort(30081).endPort().endSpec().build();
        put(store, node("node1", "127.0.61.1", true),
                withExternalIp(service("aaa", "127.2.61.1"), "127.2.61.2"), slice("aaa", "127.61.0.1"), onNode, slice("aab", "127.61.0.4"),
                service("zzz", "127.2.61.2"), slice("zzz", "127.61.0.2"),
                nodePort(service("zzz-np", "127.2.61.3"), 30081), slice("zzz-np", "127.61.0.3"));
        Plan plan = sameAsFresh(store, new PlanBuilder(store, 10256), Plan.empty());
        assertThat(holder(plan, new Plan.ListenerKey(Plan.Protocol.TCP, new java.net.InetSocketAddress("127.2.61.2", 80))))
                .as("the ClusterIP's Service keeps it").isEqualTo("default/zzz");
        assertThat(holder(plan, new Plan.ListenerKey(Plan.Protocol.TCP, new java.net.InetSocketAddress("127.0.61.1", 30081))))
                .as("the NodePort's Service keeps the node's port").isEqualTo("default/zzz-np");
    }

    /**
     * kube-proxy masquerades traffic to an external IP under the Cluster policy, as to a NodePort:
     * the pod sees the external IP (here the stand-in for a node's address), not the client. With
     * Local the client is kept. Both kept the client before.
     */
    @Test
    void anExternalIpWithTheClusterPolicyIsTheSourceTheEndpointSees() {
        Store store = new Store();
        HasMetadata local = new ServiceBuilder((io.fabric8.kubernetes.api.model.Service) withExternalIp(service("kept", "127.2.63.2"),
                "127.4.63.2")).editSpec().withExternalTrafficPolicy("Local").endSpec().build();
        put(store, withExternalIp(service("masq", "127.2.63.1"), "127.4.63.1"), slice("masq", "127.63.0.1"), local, slice("kept", "127.63.0.2"));
        Plan plan = sameAsFresh(store, new PlanBuilder(store, 10256), Plan.empty());
        // the data plane binds a NODE source's nodeIp (SourceAddressTest)
        assertThat(listener(plan, "127.4.63.1")).satisfies(l -> {
            assertThat(l.source()).isEqualTo(Plan.Source.NODE);
            assertThat(l.nodeIp()).isEqualTo("127.4.63.1");
        });
        assertThat(listener(plan, "127.4.63.2").source()).isEqualTo(Plan.Source.CLIENT);
    }

    private static Plan.Listener listener(Plan plan, String ip) {
        return plan.listeners().stream().filter(l -> l.key().address().getAddress().getHostAddress().equals(ip)).findFirst().orElseThrow();
    }

    /**
     * A wildcard address in a LoadBalancer's status is valid to the API server (it checks only that
     * it is an IP) but would open the Service port on every interface: no listener is made for it.
     */
    @Test
    void aWildcardLoadBalancerAddressGetsNoListener() {
        Store store = new Store();
        HasMetadata lb = new ServiceBuilder((io.fabric8.kubernetes.api.model.Service) service("lb", "127.2.62.1"))
                .editSpec().withType("LoadBalancer").editFirstPort().withNodePort(30082).endPort().endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("0.0.0.0").endIngress()
                .addNewIngress().withIp("::").endIngress().addNewIngress().withIp("::ffff:0.0.0.0").endIngress()
                .addNewIngress().withIp("0:0:0:0:0:ffff:0:0").endIngress().addNewIngress().withIp("::0.0.0.0").endIngress()
                .addNewIngress().withIp("127.3.62.1").endIngress().endLoadBalancer().endStatus()
                .build();
        put(store, node("node1", "127.0.62.1", true), lb, slice("lb", "127.62.0.1"));
        Plan plan = sameAsFresh(store, new PlanBuilder(store, 10256), Plan.empty());
        assertThat(plan.listeners()).extracting(l -> l.key().address().getAddress().isAnyLocalAddress()).containsOnly(false);
        assertThat(holder(plan, new Plan.ListenerKey(Plan.Protocol.TCP, new java.net.InetSocketAddress("127.3.62.1", 80))))
                .isEqualTo("default/lb");
    }

    /**
     * In a real cluster kube-proxy serves the ClusterIPs, external IPs, NodePorts and health check
     * ports: the plan holds only the LoadBalancer's listener, to the nodes' NodePorts, checked at
     * kube-proxy's /healthz, or at the Service's healthCheckNodePort with the Local policy; a node
     * labelled to be excluded from load balancers is not among them.
     */
    @Test
    void aLoadBalancersOnlyPlanListensAtTheLoadBalancerAddressesAloneAndChecksTheNodesAsACloudDoes() {
        Store store = new Store();
        HasMetadata cluster = new ServiceBuilder((io.fabric8.kubernetes.api.model.Service) withExternalIp(service("lb", "10.96.0.9"), "10.0.0.9"))
                .editSpec().withType("LoadBalancer").editFirstPort().withNodePort(30083).endPort().endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("127.3.63.1").endIngress().endLoadBalancer().endStatus()
                .build();
        HasMetadata local = new ServiceBuilder((io.fabric8.kubernetes.api.model.Service) service("local", "10.96.0.10"))
                .editSpec().withType("LoadBalancer").withExternalTrafficPolicy("Local").withHealthCheckNodePort(32001)
                .editFirstPort().withNodePort(30084).endPort().endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("127.3.63.2").endIngress().endLoadBalancer().endStatus()
                .build();
        HasMetadata excluded = new io.fabric8.kubernetes.api.model.NodeBuilder((io.fabric8.kubernetes.api.model.Node) node("node3", "127.0.63.3", true))
                .editMetadata().addToLabels("node.kubernetes.io/exclude-from-external-load-balancers", "").endMetadata().build();
        put(store, node("node1", "127.0.63.1", true), node("node2", "127.0.63.2", true), excluded, cluster, slice("lb", "10.244.0.1"),
                local, slice("local", "10.244.0.2"));
        Plan plan = PlanBuilder.loadBalancersOnly(store, 10256).build();
        assertThat(plan.listeners()).extracting(l -> l.key().address().getAddress().getHostAddress() + ":" + l.key().address().getPort())
                .containsExactlyInAnyOrder("127.3.63.1:80", "127.3.63.2:80");
        assertThat(plan.listeners()).extracting(Plan.Listener::role).containsOnly(Plan.Role.LOAD_BALANCER);
        assertThat(plan.healthServers()).isEmpty();
        Plan.Cluster toNodes = plan.clusters().get(holderCluster(plan, "127.3.63.1"));
        assertThat(toNodes.endpoints()).extracting(e -> e.address().getAddress().getHostAddress() + ":" + e.address().getPort())
                .containsExactlyInAnyOrder("127.0.63.1:30083", "127.0.63.2:30083");
        assertThat(toNodes.healthCheck().port()).isEqualTo(10256);
        assertThat(toNodes.healthCheck().path()).isEqualTo("/healthz");
        assertThat(plan.clusters().get(holderCluster(plan, "127.3.63.2")).healthCheck().port()).isEqualTo(32001);
        assertThat(plan.listeners()).extracting(Plan.Listener::active).containsOnly(true);

        // every node excluded (kubeadm labels control-plane nodes so; a one-node cluster has nothing left): connections are refused
        Store alone = new Store();
        put(alone, excluded, cluster, slice("lb", "10.244.0.1"));
        Plan none = PlanBuilder.loadBalancersOnly(alone, 10256).build();
        assertThat(none.listeners()).singleElement().satisfies(l -> assertThat(l.active()).isFalse());
    }

    /**
     * With the Local policy, a node counts as healthy before its first checks where a local endpoint
     * is ready, as its health check port counts them (kube-proxy's): one whose local endpoints are
     * all terminating answers 503, and was taken as healthy until two checks failed.
     */
    @Test
    void aNodeWhoseLocalEndpointsAllTerminateIsNotHealthyAtFirst() {
        Store store = new Store();
        HasMetadata local = new ServiceBuilder((io.fabric8.kubernetes.api.model.Service) service("local", "10.96.0.10"))
                .editSpec().withType("LoadBalancer").withExternalTrafficPolicy("Local").withHealthCheckNodePort(32001)
                .editFirstPort().withNodePort(30084).endPort().endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("127.3.63.2").endIngress().endLoadBalancer().endStatus()
                .build();
        HasMetadata slice = new EndpointSliceBuilder((io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice) slice("local", "10.244.0.2"))
                .editFirstEndpoint().withNodeName("node1").endEndpoint()
                .addNewEndpoint().withAddresses("10.244.0.3").withNodeName("node2")
                .withNewConditions().withReady(false).withServing(true).withTerminating(true).endConditions().endEndpoint()
                .build();
        put(store, node("node1", "127.0.63.1", true), node("node2", "127.0.63.2", true), local, slice);
        Plan plan = new PlanBuilder(store, 10256).build();
        assertThat(plan.clusters().get(holderCluster(plan, "127.3.63.2")).endpoints())
                .extracting(e -> e.nodeName() + " " + e.healthyAtFirst()).containsExactlyInAnyOrder("node1 true", "node2 false");
        assertThat(plan.healthServers()).filteredOn(h -> h.service() != null)
                .extracting(h -> h.nodeName() + " " + h.localEndpoints()).containsExactlyInAnyOrder("node1 1", "node2 0");
    }

    /**
     * The load balancer's nodes, as the service controller's stable node set has them (KEP-3458, GA
     * in 1.30): a node that is not Ready stays (out of rotation until a check passes: its kube-proxy
     * may serve on, and the checks decide), where it was taken out at once and, with every node not
     * Ready, connections were refused; one being deleted, or tainted for deletion by the cluster
     * autoscaler, is left out. A node's IPv4 InternalIP is the one used, where it has two.
     */
    @Test
    void aNodeThatIsNotReadyStaysALoadBalancerTargetAndTheChecksDecide() {
        Store store = new Store();
        HasMetadata lb = new ServiceBuilder((io.fabric8.kubernetes.api.model.Service) service("lb", "10.96.0.9"))
                .editSpec().withType("LoadBalancer").editFirstPort().withNodePort(30083).endPort().endSpec()
                .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("127.3.63.1").endIngress().endLoadBalancer().endStatus()
                .build();
        HasMetadata tainted = new io.fabric8.kubernetes.api.model.NodeBuilder((io.fabric8.kubernetes.api.model.Node) node("node3", "127.0.63.3", true))
                .withNewSpec().addNewTaint().withKey("ToBeDeletedByClusterAutoscaler").withValue("1732000000").withEffect("NoSchedule")
                .endTaint().endSpec().build();
        HasMetadata deleting = new io.fabric8.kubernetes.api.model.NodeBuilder((io.fabric8.kubernetes.api.model.Node) node("node4", "127.0.63.4", true))
                .editMetadata().withDeletionTimestamp("2026-12-01T00:00:00Z").endMetadata().build();
        // an IPv6-primary dual-stack node lists its IPv6 InternalIP first: the load balancer sends to its IPv4 one
        HasMetadata dualStack = new io.fabric8.kubernetes.api.model.NodeBuilder((io.fabric8.kubernetes.api.model.Node) node("node1", "127.0.63.1", true))
                .editStatus().withAddresses(new io.fabric8.kubernetes.api.model.NodeAddress("fd00:63::1", "InternalIP"),
                        new io.fabric8.kubernetes.api.model.NodeAddress("127.0.63.1", "InternalIP")).endStatus().build();
        put(store, dualStack, node("node2", "127.0.63.2", false), tainted, deleting, lb, slice("lb", "10.244.0.1"));
        Plan plan = PlanBuilder.loadBalancersOnly(store, 10256).build();
        assertThat(plan.clusters().get(holderCluster(plan, "127.3.63.1")).endpoints())
                .extracting(e -> e.nodeName() + " ready=" + e.ready() + " healthyAtFirst=" + e.healthyAtFirst())
                .containsExactlyInAnyOrder("node1 ready=true healthyAtFirst=true", "node2 ready=true healthyAtFirst=false");
        assertThat(plan.clusters().get(holderCluster(plan, "127.3.63.1")).endpoints())
                .extracting(e -> e.address().getAddress().getHostAddress()).containsExactlyInAnyOrder("127.0.63.1", "127.0.63.2");
        assertThat(plan.listeners()).singleElement().satisfies(l -> assertThat(l.active()).isTrue());
    }

    private static String holderCluster(Plan plan, String ip) {
        return plan.listeners().stream().filter(l -> l.key().address().getAddress().getHostAddress().equals(ip)).findFirst().orElseThrow().cluster();
    }

    /** Builds, checks the plan against a fresh builder's and the changes against the plan before; returns the plan. */
    private static Plan sameAsFresh(Store store, PlanBuilder builder, Plan before) {
        Plan plan = builder.build();
        Plan fresh = new PlanBuilder(store, 10256).build();
        assertThat(new java.util.HashSet<>(plan.listeners())).isEqualTo(new java.util.HashSet<>(fresh.listeners()));
        assertThat(plan.clusters()).isEqualTo(fresh.clusters());
        assertThat(new java.util.HashSet<>(plan.healthServers())).isEqualTo(new java.util.HashSet<>(fresh.healthServers()));
        assertThat(plan.httpListeners()).isEqualTo(fresh.httpListeners());

        Plan.Changes changes = builder.changes();
        assertThat(changes.from()).isEqualTo(before.version());
        Map<String, Plan.Cluster> clusters = new java.util.HashMap<>(before.clusters());
        changes.clusters().forEach((name, c) -> {
            if (c == null) {
                clusters.remove(name);
            } else {
                clusters.put(name, c);
            }
        });
        assertThat(clusters).isEqualTo(plan.clusters());
        Map<Plan.ListenerKey, Plan.Listener> listeners = new java.util.HashMap<>();
        before.listeners().forEach(l -> listeners.put(l.key(), l));
        changes.listeners().forEach((key, l) -> {
            if (l == null) {
                listeners.remove(key);
            } else {
                listeners.put(key, l);
            }
        });
        assertThat(new java.util.HashSet<>(listeners.values())).isEqualTo(new java.util.HashSet<>(plan.listeners()));
        return plan;
    }

    private static String holder(Plan plan, Plan.ListenerKey key) {
        return plan.listeners().stream().filter(l -> l.key().equals(key)).map(Plan.Listener::service).findFirst().orElse(null);
    }

    private static HasMetadata node(String name, String ip, boolean ready) {
        return new NodeBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress(ip).endAddress()
                .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition().endStatus().build();
    }

    private static HasMetadata withExternalIp(HasMetadata svc, String ip) {
        return new ServiceBuilder((io.fabric8.kubernetes.api.model.Service) svc).editSpec().withExternalIPs(ip).endSpec().build();
    }

    private static HasMetadata nodePort(HasMetadata svc, int port) {
        return new ServiceBuilder((io.fabric8.kubernetes.api.model.Service) svc).editSpec().withType("NodePort")
                .editFirstPort().withNodePort(port).endPort().endSpec().build();
    }

    /**
     * A build that fails halfway (here a Service the API server would have refused, written
     * straight to the store) may have changed part of the kept plan: the next build starts again
     * from nothing, and its changes are from a version no plan has, so the data plane diffs it whole.
     */
    @Test
    void aBuildThatFailsHalfwayIsFollowedByAWholeOne() {
        Store store = new Store();
        put(store, service("a", "127.2.60.1"), slice("a", "127.60.0.1"), service("b", "127.2.60.2"), slice("b", "127.60.0.2"));
        PlanBuilder builder = new PlanBuilder(store, 10256);
        Plan first = builder.build();

        io.fabric8.kubernetes.api.model.Service broken = (io.fabric8.kubernetes.api.model.Service) service("b", "127.2.60.2");
        broken.getSpec().setPorts(null);
        put(store, slice("a", "127.60.0.3"), broken);
        org.assertj.core.api.Assertions.assertThatThrownBy(builder::build).isInstanceOf(NullPointerException.class);

        put(store, service("b", "127.2.60.2"));
        Plan next = builder.build();
        assertThat(builder.changes().from()).as("not the version of any plan: diff it whole").isNotEqualTo(first.version());
        assertThat(new java.util.HashSet<>(next.listeners())).isEqualTo(new java.util.HashSet<>(new PlanBuilder(store, 10256).build().listeners()));
        assertThat(addresses(next, "a")).containsExactly("127.60.0.3");
        assertThat(next.clusters()).isEqualTo(new PlanBuilder(store, 10256).build().clusters());
    }

    private static HasMetadata hostPortPod(String name, String node, String podIp, int hostPort, String hostIp) {
        return new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("web").withImage("portway/echo")
                .addNewPort().withContainerPort(8080).withHostPort(hostPort).withHostIP(hostIp).withProtocol("TCP").endPort()
                .addNewPort().withContainerPort(53).withHostPort(5353).withProtocol("UDP").endPort()
                .endContainer().endSpec()
                .withNewStatus().withPhase("Running").withPodIP(podIp).endStatus().build();
    }

    /**
     * A pod's hostPort is a listener on its node's address to the pod's own, as the CNI portmap
     * plugin maps it: the client's address kept; gone with the pod; a NodePort keeps its address
     * from it, and a hostIP that is not the node's is not listened on.
     */
    @Test
    void aPodsHostPortsListenOnItsNodesAddress() {
        Store store = new Store();
        put(store, node("node1", "127.0.60.1", true), node("node2", "127.0.60.2", true),
                hostPortPod("web", "node1", "127.60.1.5", 8081, null));
        PlanBuilder builder = new PlanBuilder(store, 10256);
        Plan plan = builder.build();
        Plan.Listener tcp = plan.listeners().stream().filter(l -> l.role() == Plan.Role.HOST_PORT && l.key().protocol() == Plan.Protocol.TCP)
                .findFirst().orElseThrow();
        assertThat(tcp.key().toString()).isEqualTo("tcp/127.0.60.1:8081");
        assertThat(tcp.service()).isEqualTo("default/web");
        assertThat(tcp.source()).isEqualTo(Plan.Source.CLIENT);
        assertThat(tcp.active()).isTrue();
        assertThat(plan.clusters().get(tcp.cluster()).endpoints()).extracting(e -> e.address().toString()).containsExactly("/127.60.1.5:8080");
        assertThat(plan.listeners()).anyMatch(l -> l.key().toString().equals("udp/127.0.60.1:5353"));

        // a NodePort on the same port keeps the address; the pod's listener comes back when the Service goes
        put(store, nodePort(service("np", "127.2.60.7"), 8081), slice("np", "127.60.0.7"));
        plan = sameAsFresh(store, builder, plan);
        assertThat(holder(plan, tcp.key())).isEqualTo("default/np");
        Store.Batch batch = store.begin();
        batch.remove(dev.portway.api.ResourceKind.SERVICE, "default", "np");
        batch.commit();
        plan = sameAsFresh(store, builder, plan);
        assertThat(holder(plan, tcp.key())).isEqualTo("default/web");

        // a pod without its address yet has its ports closed (refused); another node's address is not taken
        put(store, hostPortPod("early", "node2", null, 8082, null), hostPortPod("elsewhere", "node2", "127.60.2.5", 8083, "127.0.60.1"));
        plan = sameAsFresh(store, builder, plan);
        assertThat(listener(plan, "127.0.60.2")).satisfies(l -> assertThat(l.active()).isFalse());
        assertThat(plan.listeners()).noneMatch(l -> l.key().address().getPort() == 8083);

        // a name as hostIP is not looked up; a node's health check port, and an init container's port, are not the pod's
        io.fabric8.kubernetes.api.model.Pod odd = (io.fabric8.kubernetes.api.model.Pod) hostPortPod("odd", "node2", "127.60.2.6", 8084,
                "nowhere.invalid");
        odd.getSpec().getContainers().getFirst().getPorts().add(new io.fabric8.kubernetes.api.model.ContainerPortBuilder()
                .withContainerPort(9000).withHostPort(10256).withProtocol("TCP").build());
        odd.getSpec().setInitContainers(List.of(new io.fabric8.kubernetes.api.model.ContainerBuilder().withName("setup").withImage("busybox")
                .addNewPort().withContainerPort(7000).withHostPort(7000).endPort().build()));
        put(store, odd);
        plan = sameAsFresh(store, builder, plan);
        assertThat(plan.listeners()).noneMatch(l -> l.key().address().getPort() == 8084 || l.key().address().getPort() == 7000)
                .noneMatch(l -> l.role() == Plan.Role.HOST_PORT && l.key().address().getPort() == 10256);
        assertThat(plan.healthServers()).anyMatch(h -> h.address().toString().equals("/127.0.60.2:10256"));

        batch = store.begin();
        batch.remove(dev.portway.api.ResourceKind.POD, "default", "web");
        batch.commit();
        plan = sameAsFresh(store, builder, plan);
        assertThat(plan.listeners()).noneMatch(l -> l.service().equals("default/web"));
        assertThat(plan.clusters().values()).noneMatch(c -> c.service().equals("default/web"));
    }
}
