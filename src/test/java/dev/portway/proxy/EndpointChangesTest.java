package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.api.ResourceKind;
import dev.portway.cli.CliDriver;
import dev.portway.testing.Net;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Changes apply as a diff: scaling down and deleting pods never send a new connection to a pod
 * that is gone, an open connection survives a re-apply of its Service, and a LoadBalancer Service
 * left pending by an exhausted pool gets the address (and traffic) when the holder goes.
 */
class EndpointChangesTest {

    private TestCluster cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = new TestCluster();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    private static final String SERVICE = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              annotations:
                note: "%s"
            spec:
              type: NodePort
              selector: {app: web}
              ports:
              - {port: 8000, targetPort: http}
            """;

    @Test
    void newConnectionsNeverReachAGonePodAndOpenOnesSurviveAServiceReapply() throws Exception {
        cluster.apply(TestCluster.echoDeployment("web", 4, null) + "---\n" + SERVICE.formatted("v1"));
        cluster.awaitReady("web", 4);
        Set<String> gone = new HashSet<>();
        Set<String> before = names(cluster.pods("web"));

        cluster.apply(TestCluster.echoDeployment("web", 2, null));
        List<Pod> survivors = cluster.awaitReady("web", 2);
        gone.addAll(before);
        gone.removeAll(names(survivors));
        assertThat(gone).hasSize(2);
        assertThat(podsReached(40)).doesNotContainAnyElementsOf(gone).isSubsetOf(names(survivors));

        // Delete one more pod: the ReplicaSet replaces it; the deleted one never answers again.
        String deleted = survivors.getFirst().getMetadata().getName();
        cluster.delete(ResourceKind.POD, deleted);
        gone.add(deleted);
        cluster.settle();
        assertThat(podsReached(40)).doesNotContainAnyElementsOf(gone);
        List<Pod> now = cluster.awaitReady("web", 2);
        assertThat(names(now)).doesNotContain(deleted);

        // An open connection to a surviving pod survives a re-apply of the Service.
        try (Net.Connection open = new Net.Connection(cluster.clusterIp("web"), 8000, "127.0.0.70")) {
            String pod = open.request("/").pod();
            assertThat(names(now)).contains(pod);
            cluster.apply(SERVICE.formatted("v2"));
            cluster.settle();
            assertThat(cluster.service("web").getMetadata().getAnnotations()).containsEntry("note", "v2");
            for (int i = 0; i < 5; i++) {
                assertThat(open.request("/").pod()).isEqualTo(pod);
            }
        }
    }

    private Set<String> podsReached(int requests) throws Exception {
        Set<String> pods = new HashSet<>();
        for (int i = 0; i < requests; i++) {
            pods.add(Net.get(cluster.nodeIp(i % 2 + 1), cluster.nodePort("web"), "/").pod());
        }
        return pods;
    }

    private static Set<String> names(List<Pod> pods) {
        Set<String> names = new HashSet<>();
        pods.forEach(p -> names.add(p.getMetadata().getName()));
        return names;
    }

    /**
     * An endpoint that left, came back and left again drains for its full timeout from the second
     * time: the first drain's timer, finding it gone again, cut its connections short (here 1 s
     * after the second leave instead of 3).
     */
    @SuppressWarnings("try") // the resource is held open, or closed early, on purpose
    @Test
    void anEndpointThatLeavesAgainGetsItsWholeDrain() throws Exception {
        try (java.net.ServerSocket backend = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = backend.getLocalPort();
            String here = TestCluster.serviceTo("again", "portway.dev/drain-timeout: 3s", port, "127.0.0.1");
            String away = TestCluster.serviceTo("again", "portway.dev/drain-timeout: 3s", port, "127.1.200.9");
            cluster.apply(here);
            cluster.settle();
            try (java.net.Socket client = new java.net.Socket(cluster.clusterIp("again"), 8000);
                 java.net.Socket accepted = backend.accept()) {
                cluster.apply(away); // the first drain: 3 s
                cluster.settle();
                long left = System.nanoTime();
                await().atMost(Duration.ofSeconds(2)).until(() -> sinceMillis(left) >= 500);
                cluster.apply(here);
                cluster.settle();
                await().atMost(Duration.ofSeconds(3)).until(() -> sinceMillis(left) >= 1_500);
                cluster.apply(away); // the second: 3 s from here
                cluster.settle();
                long leftAgain = System.nanoTime();
                // open all through the first drain's end (3 s after the first leave), well before the second's
                long openFor = Math.max(0, 3_600 - sinceMillis(left));
                await().during(Duration.ofMillis(openFor)).atMost(Duration.ofMillis(openFor + 1_000))
                        .until(() -> stillOpen(client));
                client.setSoTimeout(10_000);
                int read;
                try {
                    read = client.getInputStream().read();
                } catch (java.io.IOException reset) {
                    read = -1;
                }
                assertThat(read).as("closed at the second drain's end").isEqualTo(-1);
                assertThat(Duration.ofNanos(System.nanoTime() - leftAgain)).isGreaterThan(Duration.ofMillis(2_500));
            }
        }
    }

    private static long sinceMillis(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    /** Whether the proxy keeps {@code client}'s connection open: a short read times out rather than end or fail. */
    private static boolean stillOpen(java.net.Socket client) throws java.io.IOException {
        client.setSoTimeout(20);
        try {
            return client.getInputStream().read() >= 0;
        } catch (java.net.SocketTimeoutException open) {
            return true;
        } catch (java.io.IOException reset) {
            return false;
        }
    }

    /**
     * A connection whose upstream was still being made when its endpoint left: draining looked for
     * the endpoint's connections before this one was tracked, and it stayed open for good (here, the
     * idle timeout of an hour). The backend's accept queue is full, so the proxy's first SYN is
     * dropped and its connect completes on the kernel's retry a second later, after the change.
     */
    @SuppressWarnings("try") // the resource is held open, or closed early, on purpose
    @Test
    void aConnectionMadeWhileItsEndpointLeftDrainsToo() throws Exception {
        try (java.net.ServerSocket backend = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = backend.getLocalPort();
            cluster.apply(TestCluster.serviceTo("late", "portway.dev/drain-timeout: 1s", port, "127.0.0.1"));
            cluster.settle();
            List<java.net.Socket> fillers = new java.util.ArrayList<>();
            try (java.net.Socket client = new java.net.Socket()) {
                for (int i = 0; i < 4; i++) { // the accept queue holds backlog + 1: the proxy's SYN finds it full
                    java.net.Socket f = new java.net.Socket();
                    f.connect(new java.net.InetSocketAddress("127.0.0.1", port), 200);
                    fillers.add(f);
                }
            } catch (java.io.IOException full) {
                // the queue is full: what got in holds it
            }
            int held = cluster.local().dataPlane().clientConnections();
            try (java.net.Socket client = new java.net.Socket()) {
                client.connect(new java.net.InetSocketAddress(cluster.clusterIp("late"), 8000), 5000);
                client.setSoTimeout(10_000);
                // taken by the proxy, whose connect upstream is under way
                await().atMost(Duration.ofSeconds(5)).until(() -> cluster.local().dataPlane().clientConnections() > held);
                cluster.apply(TestCluster.serviceTo("late", "portway.dev/drain-timeout: 1s", port, "127.1.200.9"));
                cluster.settle();
                for (java.net.Socket f : fillers) { // room in the queue: the SYN the kernel sends again gets through
                    f.close();
                }
                for (int i = 0; i < fillers.size(); i++) {
                    backend.accept().close();
                }
                long start = System.nanoTime();
                int read;
                try {
                    read = client.getInputStream().read();
                } catch (java.io.IOException reset) {
                    read = -1;
                }
                assertThat(read).isEqualTo(-1);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
            } finally {
                fillers.forEach(f -> {
                    try {
                        f.close();
                    } catch (java.io.IOException ignored) {
                        // closed
                    }
                });
            }
        }
    }

    @Test
    void connectionsToARemovedEndpointDrainForTheDrainTimeoutThenClose() throws Exception {
        cluster.apply(TestCluster.echoDeployment("web", 1, null));
        Pod pod = cluster.awaitReady("web", 1).getFirst();
        cluster.apply(TestCluster.serviceTo("drained", "portway.dev/drain-timeout: 1s", 8080, pod.getStatus().getPodIP()));
        cluster.settle();
        try (Net.Connection open = new Net.Connection(cluster.clusterIp("drained"), 8000, null)) {
            assertThat(open.request("/").pod()).isEqualTo(pod.getMetadata().getName());
            cluster.apply(TestCluster.serviceTo("drained", "portway.dev/drain-timeout: 1s", 8080, "127.1.200.9"));
            cluster.settle();
            assertThat(open.request("/").pod()).as("still open while draining").isEqualTo(pod.getMetadata().getName());
            await().atMost(Duration.ofSeconds(3)).untilAsserted(() ->
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> open.request("/")).isInstanceOf(java.io.IOException.class));
        }
    }

    @Test
    void aPendingLoadBalancerGetsTheAddressWhenItsHolderGoes() throws Exception {
        String address = TestCluster.spareLoadBalancerIp(9);
        String lb = """
                apiVersion: v1
                kind: Service
                metadata:
                  name: %s
                  annotations:
                    metallb.io/address-pool: one-address
                spec:
                  type: LoadBalancer
                  selector: {app: web}
                  ports:
                  - {port: 8000, targetPort: http}
                """;
        cluster.apply("""
                apiVersion: metallb.io/v1beta1
                kind: IPAddressPool
                metadata:
                  name: one-address
                  namespace: metallb-system
                spec:
                  addresses: [%s/32]
                ---
                """.formatted(address) + TestCluster.echoDeployment("web", 2, null) + "---\n" + lb.formatted("first") + "---\n" + lb.formatted("second"));
        cluster.awaitReady("web", 2);
        assertThat(cluster.loadBalancerIp("first")).isEqualTo(address);
        CliDriver cli = new CliDriver(Clock.systemUTC(), cluster.local());
        assertThat(cli.run("get", "svc", "second").out()).containsPattern("second +LoadBalancer +[0-9.]+ +<pending> +8000:");
        assertThat(cli.run("describe", "svc", "second").out())
                .contains("AllocationFailed", "Failed to allocate IP for \"default/second\": no available IPs in pool one-address");

        cluster.delete(ResourceKind.SERVICE, "first");
        cluster.settle();
        assertThat(cluster.loadBalancerIp("second")).isEqualTo(address);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(Net.get(address, 8000, "/").status()).isEqualTo(200));
    }
}
