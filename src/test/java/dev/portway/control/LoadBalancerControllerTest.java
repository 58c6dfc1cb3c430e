package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.ResourceKind;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.store.Store;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * LoadBalancer addresses from IPAddressPools, with MetalLB's rules: pending while a pool is
 * exhausted and assigned as soon as an address frees, sharing by key, requested addresses and
 * pools, and an address that never moves while its Service lives.
 */
class LoadBalancerControllerTest {

    private final List<ControlPlane> planes = new ArrayList<>();

    @AfterEach
    void close() {
        planes.forEach(ControlPlane::close);
    }

    private ControlPlane start(Store store) {
        ControlPlane control = new ControlPlane(store, ClusterConfig.local(), new Random(7));
        planes.add(control);
        return control;
    }

    private ControlPlane cluster() {
        return withNamespaces(start(new Store()));
    }

    /** {@code control} with the namespaces the Services and pools go in. */
    private static ControlPlane withNamespaces(ControlPlane control) {
        List<HasMetadata> namespaces = new ArrayList<>();
        for (String ns : List.of("default", "metallb-system")) {
            namespaces.add(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build());
        }
        apply(control, namespaces);
        return control;
    }

    private static void apply(ControlPlane control, List<HasMetadata> objects) {
        control.call(() -> control.api().apply(objects, "default", false));
        control.awaitIdle();
    }

    private static void apply(ControlPlane control, String yaml) {
        apply(control, TestApi.decode(yaml));
    }

    static String pool(String name, String addresses, String extra) {
        return """
                apiVersion: metallb.io/v1beta1
                kind: IPAddressPool
                metadata:
                  name: %s
                  namespace: metallb-system
                spec:
                  addresses: [%s]
                %s""".formatted(name, addresses, extra.stripIndent().indent(2));
    }

    static String lb(String name, String annotations, int port) {
        return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %s
                  annotations: {%s}
                spec:
                  type: LoadBalancer
                  selector: {app: web}
                  ports:
                  - port: %d
                """.formatted(name, annotations, port);
    }

    private static String ip(ControlPlane control, String name) {
        Service svc = control.store().get(Service.class, "default", name).orElseThrow();
        var ingress = svc.getStatus() == null || svc.getStatus().getLoadBalancer() == null ? null
                : svc.getStatus().getLoadBalancer().getIngress();
        return ingress == null || ingress.isEmpty() ? null : ingress.getFirst().getIp();
    }

    private static List<String> events(ControlPlane control, String name) {
        Service svc = control.store().get(Service.class, "default", name).orElseThrow();
        return EventRecorder.about(control.store(), svc).stream().map(e -> e.getReason() + ": " + e.getMessage()).toList();
    }

    @Test
    void aSecondServiceStaysPendingUntilTheOnlyAddressFrees() {
        ControlPlane control = cluster();
        apply(control, pool("one", "127.3.5.1/32", ""));
        apply(control, lb("first", "", 80));
        apply(control, lb("second", "", 80));

        assertThat(ip(control, "first")).isEqualTo("127.3.5.1");
        assertThat(ip(control, "second")).isNull();
        assertThat(events(control, "first")).containsExactly("IPAllocated: Assigned IP [\"127.3.5.1\"]");
        assertThat(events(control, "second")).containsExactly("AllocationFailed: Failed to allocate IP for \"default/second\": no available IPs");
        Service first = control.store().get(Service.class, "default", "first").orElseThrow();
        assertThat(first.getStatus().getLoadBalancer().getIngress().getFirst().getIpMode()).isEqualTo("VIP");
        assertThat(first.getMetadata().getAnnotations()).containsEntry("metallb.io/ip-allocated-from-pool", "one");
        assertThat(control.store().get(IPAddressPool.class, "metallb-system", "one").orElseThrow().getStatus().getAvailableIPv4()).isZero();

        control.call(() -> control.api().delete(ResourceKind.SERVICE, "default", "first", DeleteOptions.DEFAULT));
        control.awaitIdle();

        assertThat(ip(control, "second")).isEqualTo("127.3.5.1");
    }

    /**
     * A Service whose connections start with a PROXY protocol header has its address in ipMode
     * Proxy (KEP-1860), as cloud providers write it for theirs: kube-proxy then sends in-cluster
     * clients of the address through the load balancer, not straight to the pods, which would get
     * no header. Without the annotation it is VIP again.
     */
    @Test
    void anAddressWhoseConnectionsCarryAProxyProtocolHeaderIsInProxyMode() {
        ControlPlane control = cluster();
        apply(control, pool("one", "127.3.5.1/32", ""));
        apply(control, lb("proxied", "portway.dev/proxy-protocol: v2", 80));
        assertThat(ipMode(control, "proxied")).isEqualTo("Proxy");

        apply(control, lb("proxied", "", 80));
        assertThat(ipMode(control, "proxied")).isEqualTo("VIP");
        assertThat(ip(control, "proxied")).isEqualTo("127.3.5.1");
    }

    private static String ipMode(ControlPlane control, String name) {
        return control.store().get(Service.class, "default", name).orElseThrow().getStatus().getLoadBalancer().getIngress().getFirst()
                .getIpMode();
    }

    @Test
    void servicesWithTheSameSharingKeyShareAnAddressWhenTheirPortsDoNotClash() {
        ControlPlane control = cluster();
        apply(control, pool("one", "127.3.5.1/32", ""));
        apply(control, lb("http", "metallb.io/allow-shared-ip: web", 80));
        apply(control, lb("https", "metallb.io/allow-shared-ip: web", 443));
        apply(control, lb("clash", "metallb.io/allow-shared-ip: web", 80));
        apply(control, lb("other-key", "metallb.io/allow-shared-ip: db", 5432));

        assertThat(ip(control, "http")).isEqualTo("127.3.5.1");
        assertThat(ip(control, "https")).isEqualTo("127.3.5.1");
        assertThat(ip(control, "clash")).isNull();
        assertThat(ip(control, "other-key")).isNull();
        assertThat(events(control, "clash")).contains("AllocationFailed: Failed to allocate IP for \"default/clash\": no available IPs");
        assertThat(control.store().get(IPAddressPool.class, "metallb-system", "one").orElseThrow().getStatus().getAssignedIPv4())
                .as("a shared address counts once").isEqualTo(1);
    }

    @Test
    void aRequestedAddressThatIsTakenExplainsWhy() {
        ControlPlane control = cluster();
        apply(control, pool("one", "127.3.5.0/24", ""));
        apply(control, lb("a", "metallb.io/loadBalancerIPs: 127.3.5.7", 80));
        apply(control, lb("b", "metallb.io/loadBalancerIPs: 127.3.5.7", 80));
        apply(control, lb("c", "metallb.io/loadBalancerIPs: 10.9.9.9", 80));
        apply(control, pool("other", "127.3.9.0/24", ""));
        apply(control, lb("d", "metallb.io/loadBalancerIPs: 127.3.5.9, metallb.io/address-pool: other", 80));

        assertThat(ip(control, "a")).isEqualTo("127.3.5.7");
        assertThat(events(control, "b")).containsExactly("AllocationFailed: Failed to allocate IP for \"default/b\": "
                + "can't change sharing key for \"default/b\", address also in use by default/a");
        assertThat(events(control, "c")).containsExactly("AllocationFailed: Failed to allocate IP for \"default/c\": "
                + "[\"10.9.9.9\"] is not allowed in config");
        assertThat(events(control, "d")).containsExactly("AllocationFailed: Failed to allocate IP for \"default/d\": "
                + "requested loadBalancer IP(s) [\"127.3.5.9\"] is not compatible with requested address pool other");
        assertThat(ip(control, "d")).as("the refused address is not kept").isNull();
    }

    @Test
    void poolsArePickedByAnnotationAndAutoAssignFalsePoolsAreOnlyUsedOnRequest() {
        ControlPlane control = cluster();
        apply(control, pool("reserved", "127.3.6.0/24", "autoAssign: false"));
        apply(control, pool("general", "127.3.7.0/24", "avoidBuggyIPs: true"));
        apply(control, lb("plain", "", 80));
        apply(control, lb("pinned", "metallb.io/address-pool: reserved", 80));
        apply(control, lb("legacy", "", 80).replace("  type: LoadBalancer", "  type: LoadBalancer\n  loadBalancerIP: 127.3.6.50"));

        assertThat(ip(control, "plain")).isEqualTo("127.3.7.1");
        assertThat(ip(control, "pinned")).isEqualTo("127.3.6.0");
        assertThat(ip(control, "legacy")).isEqualTo("127.3.6.50");
    }

    /**
     * MetalLB's serviceAllocation: a pool reserved by namespaceSelectors serves only the namespaces
     * they select (it served every namespace: the selectors were not read), and a pool with
     * autoAssign false is not pinned to any Service, only requested by annotation.
     */
    @Test
    void namespaceSelectorsReserveAPoolAndAutoAssignFalseIsNeverPinned() {
        ControlPlane control = cluster();
        apply(control, List.of(new NamespaceBuilder().withNewMetadata().withName("vip").addToLabels("tier", "gold").endMetadata().build()));
        apply(control, pool("gold", "127.3.9.0/24", """
                serviceAllocation:
                  namespaceSelectors: [{matchLabels: {tier: gold}}]"""));
        apply(control, pool("manual", "127.3.8.0/24", """
                autoAssign: false
                serviceAllocation:
                  namespaces: [default]"""));
        apply(control, pool("general", "127.3.7.0/24", ""));
        apply(control, lb("plain", "", 80));
        apply(control, lb("asked", "metallb.io/address-pool: manual", 80));
        apply(control, lb("gold-only", "metallb.io/address-pool: gold", 80));
        apply(control, lb("vip", "", 80).replace("  name: vip\n", "  name: vip\n  namespace: vip\n"));

        assertThat(ip(control, "plain")).as("neither the gold pool nor the manual one").isEqualTo("127.3.7.0");
        assertThat(ip(control, "asked")).isEqualTo("127.3.8.0");
        assertThat(ip(control, "gold-only")).as("default is not a gold namespace").isNull();
        assertThat(events(control, "gold-only")).anyMatch(e -> e.contains("not compatible") || e.contains("no available IPs"));
        Service vip = control.store().get(Service.class, "vip", "vip").orElseThrow();
        assertThat(vip.getStatus().getLoadBalancer().getIngress().getFirst().getIp()).isEqualTo("127.3.9.0");
    }

    @Test
    void anAssignedAddressNeverMovesWhileItsServiceLives() {
        Store store = new Store();
        ControlPlane control = withNamespaces(start(store));
        apply(control, pool("one", "127.3.5.0/24", ""));
        apply(control, lb("older", "", 80));
        apply(control, lb("newer", "", 80));
        String older = ip(control, "older");
        String newer = ip(control, "newer");
        assertThat(older).isEqualTo("127.3.5.0");
        assertThat(newer).isEqualTo("127.3.5.1");

        // Changing the Service keeps its address.
        apply(control, lb("newer", "", 8080));
        assertThat(ip(control, "newer")).isEqualTo(newer);

        // Freeing a lower address does not pull a Service down onto it.
        control.call(() -> control.api().delete(ResourceKind.SERVICE, "default", "older", DeleteOptions.DEFAULT));
        control.awaitIdle();
        assertThat(ip(control, "newer")).isEqualTo(newer);

        // A restarted controller (empty allocator, same store) re-assigns what the Services hold.
        control.close();
        ControlPlane restarted = start(store);
        restarted.awaitIdle();
        apply(restarted, lb("latest", "", 80));
        assertThat(ip(restarted, "newer")).isEqualTo(newer);
        assertThat(ip(restarted, "latest")).isEqualTo("127.3.5.0");
    }

    /** Writes {@code object} into {@code store} as it is, as a change made while no controller ran. */
    private static void writeWhileDown(Store store, HasMetadata object) {
        Store.Batch batch = store.begin();
        batch.put(object);
        batch.commit();
    }

    /**
     * A restarted controller (an empty allocator) went through the Services holding addresses
     * oldest first, and gave one whose address the pools no longer allowed the lowest free address:
     * a later Service's, not taken again yet. That Service then lost its address to the next, and
     * the last had none: three Services moved for one address gone. Every address that may be kept
     * is taken again first now.
     */
    @Test
    void aRestartedControllerGivesNoServiceAnAddressAnotherHolds() {
        Store store = new Store();
        ControlPlane control = withNamespaces(start(store));
        apply(control, pool("one", "127.3.5.10-127.3.5.12", ""));
        for (String name : List.of("a", "b", "c")) {
            apply(control, lb(name, "", 80));
        }
        assertThat(List.of(ip(control, "a"), ip(control, "b"), ip(control, "c"))).containsExactly("127.3.5.10", "127.3.5.11", "127.3.5.12");
        control.close();

        // while no controller runs, the pool loses a's address
        IPAddressPool shrunk = (IPAddressPool) TestApi.decode(pool("one", "127.3.5.11-127.3.5.12", "")).getFirst();
        shrunk.setMetadata(store.get(IPAddressPool.class, "metallb-system", "one").orElseThrow().getMetadata());
        writeWhileDown(store, shrunk);
        ControlPlane restarted = start(store);
        restarted.awaitIdle();
        assertThat(ip(restarted, "b")).isEqualTo("127.3.5.11");
        assertThat(ip(restarted, "c")).isEqualTo("127.3.5.12");
        assertThat(ip(restarted, "a")).as("no address left for it").isNull();
    }

    /**
     * A Service whose requested addresses cannot be read (MetalLB's dual-stack form, which Portway
     * does not serve) was reported and left, its address not taken again after a restart: the next
     * new Service was given it, and both named it in their status.
     */
    @Test
    void aServiceWhoseRequestCannotBeReadKeepsItsAddressAcrossARestart() {
        Store store = new Store();
        ControlPlane control = withNamespaces(start(store));
        apply(control, pool("one", "127.3.5.10-127.3.5.12", ""));
        apply(control, lb("a", "", 80));
        apply(control, lb("b", "", 80));
        assertThat(ip(control, "a")).isEqualTo("127.3.5.10");
        control.close();

        Service a = store.get(Service.class, "default", "a").orElseThrow();
        a.getMetadata().getAnnotations().put("metallb.io/loadBalancerIPs", "127.3.5.10,fd00::10");
        writeWhileDown(store, a);
        ControlPlane restarted = start(store);
        restarted.awaitIdle();
        apply(restarted, lb("c", "", 80));
        assertThat(ip(restarted, "a")).isEqualTo("127.3.5.10");
        assertThat(ip(restarted, "c")).as("not a's").isEqualTo("127.3.5.12");
        assertThat(events(restarted, "a")).anyMatch(e -> e.startsWith("LoadBalancerFailed: invalid requested loadbalancer IPs"));
    }

    /**
     * The address a Service holds is judged before its request is read, as MetalLB's
     * convergeBalancer does. A Service whose request could not be read kept an address its pool no
     * longer allowed in its status; after a restart the allocator did not hold it, and the next
     * Service the pool allows got it too: two Services named one address.
     */
    @Test
    void anAddressNoLongerAllowedIsClearedEvenWhenTheRequestCannotBeRead() {
        Store store = new Store();
        ControlPlane control = withNamespaces(start(store));
        apply(control, List.of(new NamespaceBuilder().withNewMetadata().withName("team").endMetadata().build()));
        apply(control, pool("one", "127.3.5.10-127.3.5.12", ""));
        apply(control, lb("a", "", 80));
        assertThat(ip(control, "a")).isEqualTo("127.3.5.10");
        control.close();

        // while no controller runs: a's request becomes unreadable, and its pool is reserved for another namespace
        Service a = store.get(Service.class, "default", "a").orElseThrow();
        a.getMetadata().getAnnotations().put("metallb.io/loadBalancerIPs", "127.3.5.10,fd00::10");
        writeWhileDown(store, a);
        IPAddressPool reserved = (IPAddressPool) TestApi.decode(pool("one", "127.3.5.10-127.3.5.12", """
                serviceAllocation:
                  namespaces: [team]""")).getFirst();
        reserved.setMetadata(store.get(IPAddressPool.class, "metallb-system", "one").orElseThrow().getMetadata());
        writeWhileDown(store, reserved);
        ControlPlane restarted = start(store);
        restarted.awaitIdle();
        apply(restarted, lb("c", "", 80).replace("  name: c\n", "  name: c\n  namespace: team\n"));
        Service c = restarted.store().get(Service.class, "team", "c").orElseThrow();
        assertThat(c.getStatus().getLoadBalancer().getIngress().getFirst().getIp()).isEqualTo("127.3.5.10");
        assertThat(ip(restarted, "a")).as("not c's too").isNull();
        assertThat(events(restarted, "a")).anyMatch(e -> e.startsWith("ClearAssignment"))
                .anyMatch(e -> e.startsWith("LoadBalancerFailed: invalid requested loadbalancer IPs"));
    }

    /**
     * A Service whose status lost its address (the in-cluster mirror put the cluster's copy back
     * before Portway's write landed) had the address the allocator held for it reused unjudged: when
     * the pools no longer allowed it, the Service stayed pending for good and the address stayed
     * reserved. The held address is judged, as MetalLB judges the status's.
     */
    @Test
    void anAddressHeldForAServiceWhoseStatusLostItIsJudgedToo() {
        ControlPlane control = cluster();
        apply(control, List.of(new NamespaceBuilder().withNewMetadata().withName("team").endMetadata().build()));
        apply(control, pool("one", "127.3.5.10-127.3.5.12", ""));
        apply(control, lb("a", "", 80));
        assertThat(ip(control, "a")).isEqualTo("127.3.5.10");
        // in one pass, as the mirror brings them: the status without its address, and the pool reserved for another namespace
        IPAddressPool reserved = (IPAddressPool) TestApi.decode(pool("one", "127.3.5.10-127.3.5.12", """
                serviceAllocation:
                  namespaces: [team]""")).getFirst();
        control.call(() -> {
            Service a = control.store().get(Service.class, "default", "a").orElseThrow();
            a.getStatus().setLoadBalancer(new io.fabric8.kubernetes.api.model.LoadBalancerStatus());
            a.getMetadata().getAnnotations().remove("metallb.io/ip-allocated-from-pool");
            reserved.setMetadata(control.store().get(IPAddressPool.class, "metallb-system", "one").orElseThrow().getMetadata());
            Store.Batch batch = control.store().begin();
            batch.put(a);
            batch.put(reserved);
            batch.commit();
            return null;
        });
        control.awaitIdle();
        apply(control, lb("c", "", 80).replace("  name: c\n", "  name: c\n  namespace: team\n"));
        Service c = control.store().get(Service.class, "team", "c").orElseThrow();
        assertThat(c.getStatus().getLoadBalancer().getIngress().getFirst().getIp()).as("a's old address is free").isEqualTo("127.3.5.10");
        assertThat(ip(control, "a")).isNull();
        assertThat(events(control, "a")).anyMatch(e -> e.startsWith("ClearAssignment"));
    }

    /**
     * The pools are IPv4. A Service whose families are IPv6 alone (or that requires dual stack), as
     * a dual-stack cluster makes them, got an IPv4 address its clients never look for; it stays
     * pending now, saying why, as MetalLB fails it. (Portway's own API server is IPv4 alone and
     * refuses such Services: this one is put in the store as the in-cluster mirror puts a cluster's.)
     */
    @Test
    void aServiceOfAFamilyThePoolsDoNotHaveStaysPending() {
        ControlPlane control = cluster();
        apply(control, pool("one", "127.3.5.10-127.3.5.12", ""));
        apply(control, lb("v4", "", 80));
        for (String[] shape : new String[][] {{"v6", "[IPv6]", "SingleStack"}, {"both", "[IPv6, IPv4]", "RequireDualStack"}}) {
            Service svc = (Service) TestApi.decode(lb(shape[0], "", 80).replace("  type: LoadBalancer\n",
                    "  type: LoadBalancer\n  clusterIP: fd00::10\n  ipFamilies: " + shape[1] + "\n  ipFamilyPolicy: " + shape[2] + "\n")).getFirst();
            svc.getMetadata().setNamespace("default");
            control.call(() -> {
                Store.Batch batch = control.store().begin();
                batch.put(svc);
                batch.commit();
                return null;
            });
        }
        control.awaitIdle();
        assertThat(ip(control, "v4")).isEqualTo("127.3.5.10");
        assertThat(ip(control, "v6")).isNull();
        assertThat(ip(control, "both")).isNull();
        assertThat(events(control, "v6")).anyMatch(e -> e.contains("no available IPs for IPv6 IPFamily"));
        assertThat(events(control, "both")).anyMatch(e -> e.contains("no available IPs for IPv6 IPFamily"));
    }

    @Test
    void servicesOfAnotherLoadBalancerClassAreLeftAlone() {
        ControlPlane control = cluster();
        apply(control, pool("one", "127.3.5.0/24", ""));
        apply(control, lb("theirs", "", 80).replace("  type: LoadBalancer", "  type: LoadBalancer\n  loadBalancerClass: example.com/other"));
        apply(control, lb("ours", "", 80).replace("  type: LoadBalancer",
                "  type: LoadBalancer\n  loadBalancerClass: " + ClusterConfig.DEFAULT_LOAD_BALANCER_CLASS));
        assertThat(ip(control, "theirs")).isNull();
        assertThat(events(control, "theirs")).isEmpty();
        assertThat(ip(control, "ours")).isEqualTo("127.3.5.0");
    }

    @Test
    void changingTheTypeAwayFromLoadBalancerFreesTheAddress() {
        ControlPlane control = cluster();
        apply(control, pool("one", "127.3.5.1/32", ""));
        apply(control, lb("a", "", 80));
        apply(control, lb("b", "", 80));
        assertThat(ip(control, "a")).isEqualTo("127.3.5.1");
        apply(control, lb("a", "", 80).replace("type: LoadBalancer", "type: NodePort"));
        assertThat(ip(control, "a")).isNull();
        assertThat(ip(control, "b")).isEqualTo("127.3.5.1");
        List<Event> events = EventRecorder.about(control.store(), control.store().get(Service.class, "default", "b").orElseThrow());
        assertThat(events).extracting(Event::getReason).containsExactly("AllocationFailed", "IPAllocated");
    }
}
