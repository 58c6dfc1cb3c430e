package dev.portway.incluster;

import static dev.portway.testing.StandInCluster.NODE_A;
import static dev.portway.testing.StandInCluster.NODE_B;
import static dev.portway.testing.StandInCluster.PORTWAY_CLASS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.portway.net.Transport;
import dev.portway.testing.Net;
import dev.portway.testing.StandInCluster;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Portway as a cluster's LoadBalancer implementation, against a {@link StandInCluster}: Portway's
 * own API server in the place of kube-apiserver (which cannot run here), watched with fabric8's
 * client as a real one would be (list, then watch over WebSocket).
 */
class InClusterControllerTest {

    private static final String POOLS = StandInCluster.pool("127.0.62.10-127.0.62.11");

    @TempDir
    Path dir;
    private StandInCluster cluster;
    private KubernetesClient client;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeEach
    void startCluster() throws Exception {
        cluster = new StandInCluster(dir.resolve("state"));
        client = new KubernetesClientBuilder().withConfig(cluster.clientConfig()).build();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing.reversed()) {
            c.close();
        }
        client.close();
        cluster.close();
    }

    /** Applies a pool to the cluster, in metallb-system (made if need be). */
    private void applyClusterPool(String pool) {
        TestApi.apply(cluster.control(), TestApi.decode("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: metallb-system
                ---
                """ + pool));
    }

    /** A controller given no pools: the cluster's own are used. */
    private InClusterController controllerOfTheClustersPools() throws Exception {
        InClusterController c = new InClusterController(new InClusterController.Options(PORTWAY_CLASS, cluster.healthPort(),
                Transport.NIO, 1, List.of(), Duration.ofSeconds(20), null));
        closing.add(c);
        return c.start(client);
    }

    private InClusterController controller() throws Exception {
        InClusterController c = new InClusterController(new InClusterController.Options(PORTWAY_CLASS, cluster.healthPort(),
                Transport.NIO, 1, TestApi.decode(POOLS), Duration.ofSeconds(20), null));
        closing.add(c);
        return c.start(client);
    }

    @Test
    void aLoadBalancerServiceGetsAnAddressInItsStatusAndTrafficThereReachesTheNodesNodePorts() throws Exception {
        cluster.serveNodePort(cluster.loadBalancer("web", PORTWAY_CLASS));
        controller();

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            var svc = cluster.service("web");
            assertThat(cluster.ingressIp("web")).isEqualTo("127.0.62.10");
            assertThat(svc.getStatus().getLoadBalancer().getIngress().getFirst().getIpMode()).isEqualTo("VIP");
            assertThat(svc.getMetadata().getAnnotations()).containsEntry("metallb.io/ip-allocated-from-pool", "edge");
        });
        // the controller's event about it, where kubectl describe service finds it
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(cluster.control().store()
                .list(io.fabric8.kubernetes.api.model.Event.class, "default"))
                .anySatisfy(e -> {
                    assertThat(e.getReason()).isEqualTo("IPAllocated");
                    assertThat(e.getMessage()).isEqualTo("Assigned IP [\"127.0.62.10\"]");
                    assertThat(e.getInvolvedObject().getUid()).isEqualTo(cluster.service("web").getMetadata().getUid());
                }));
        Set<String> answered = new HashSet<>();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            answered.add(Net.get("127.0.62.10", 8080, "/").body());
            assertThat(answered).containsExactlyInAnyOrder("node-a", "node-b");
        });

        // a node whose kube-proxy says it is unhealthy leaves the rotation, as with a cloud load balancer
        cluster.setHealthy(NODE_B, false);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (int i = 0; i < 6; i++) {
                assertThat(Net.get("127.0.62.10", 8080, "/").body()).isEqualTo("node-a");
            }
        });

        // the Service gone from the cluster, its address closes
        cluster.delete("web");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThatThrownBy(() -> Net.get("127.0.62.10", 8080, "/")).isInstanceOf(ConnectException.class));
    }

    /**
     * externalTrafficPolicy: Local: each node is checked at the Service's health check node port,
     * where kube-proxy answers 200 only on a node with a local endpoint, as cloud load balancers
     * check. Here kube-proxy says node-b has it (the slice Portway mirrored still says node-a: a
     * pod that moved), and the load balancer goes by the check, as a cloud's, which knows nothing else.
     */
    @Test
    void withTheLocalPolicyTheHealthCheckNodePortDecidesWhichNodesGetTraffic() throws Exception {
        cluster.serveNodePort(cluster.loadBalancer("local", PORTWAY_CLASS, "Local"));
        cluster.serveHealthCheckNodePort(cluster.service("local").getSpec().getHealthCheckNodePort(), StandInCluster.NODE_B);
        controller();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.10".equals(cluster.ingressIp("local")));
        // while node-a leaves the rotation and node-b joins it, a connection may find no node to go to
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> {
            for (int i = 0; i < 6; i++) {
                assertThat(Net.get("127.0.62.10", 8080, "/").body()).isEqualTo("node-b");
            }
        });
    }

    /**
     * {@code portway.dev/proxy-protocol: v2}: the hop to a node's NodePort starts with a PROXY
     * protocol v2 header naming the client and the load balancer's address, as a cloud's Network
     * Load Balancer sends it; kube-proxy passes it on to the pod. Without it the pods saw Portway's
     * machine as every client, whatever the policy.
     */
    @Test
    void withTheProxyProtocolAnnotationTheNodesHopCarriesTheClientsAddress() throws Exception {
        int nodePort = cluster.loadBalancer("proxied", PORTWAY_CLASS);
        client.services().inNamespace("default").withName("proxied").edit(s -> new ServiceBuilder(s)
                .editMetadata().addToAnnotations("portway.dev/proxy-protocol", "v2").endMetadata().build());
        BlockingQueue<String> headers = new LinkedBlockingQueue<>();
        for (String node : List.of(NODE_A, NODE_B)) {
            closing.add(proxyHeaderReader(new InetSocketAddress(node, nodePort), headers));
        }
        controller();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.10".equals(cluster.ingressIp("proxied")));
        // in-cluster clients of the address must come through the load balancer too (KEP-1860)
        await().atMost(Duration.ofSeconds(10)).until(() ->
                "Proxy".equals(cluster.service("proxied").getStatus().getLoadBalancer().getIngress().getFirst().getIpMode()));

        for (int i = 0; i < 2; i++) { // both nodes, round robin
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress("127.0.0.9", 0));
                s.connect(new InetSocketAddress("127.0.62.10", 8080), 5_000);
                s.setSoTimeout(5_000);
                s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                assertThat(headers.poll(5, TimeUnit.SECONDS))
                        .isEqualTo("127.0.0.9:" + s.getLocalPort() + " -> 127.0.62.10:8080, then hello");
                assertThat(s.getInputStream().readAllBytes()).asString().isEqualTo("read");
            }
        }
    }

    /**
     * A node's NodePort that reads a PROXY protocol v2 header (TCP over IPv4) and the 5 bytes after
     * it, puts "SOURCE -> DESTINATION, then BYTES" (or what it found instead) in {@code headers},
     * answers "read" and closes.
     */
    private static AutoCloseable proxyHeaderReader(InetSocketAddress at, BlockingQueue<String> headers)
            throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(at, 16);
        Thread t = Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (Socket c = server.accept()) {
                    c.setSoTimeout(5_000);
                    var in = new DataInputStream(c.getInputStream());
                    byte[] head = new byte[16];
                    in.readFully(head);
                    byte[] signature = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
                    if (!Arrays.equals(head, 0, 12, signature, 0, 12) || head[12] != 0x21 || head[13] != 0x11) {
                        headers.add("no PROXY v2 header for TCP over IPv4: " + HexFormat.of().formatHex(head));
                    } else {
                        byte[] addresses = new byte[((head[14] & 0xff) << 8) | (head[15] & 0xff)];
                        in.readFully(addresses);
                        var b = ByteBuffer.wrap(addresses);
                        byte[] src = new byte[4];
                        byte[] dst = new byte[4];
                        b.get(src).get(dst);
                        int srcPort = b.getShort() & 0xffff;
                        int dstPort = b.getShort() & 0xffff;
                        byte[] bytes = new byte[5];
                        in.readFully(bytes);
                        headers.add(InetAddress.getByAddress(src).getHostAddress() + ":" + srcPort + " -> "
                                + InetAddress.getByAddress(dst).getHostAddress() + ":" + dstPort + ", then "
                                + new String(bytes, StandardCharsets.US_ASCII));
                    }
                    c.getOutputStream().write("read".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    if (!server.isClosed()) {
                        headers.add("failed: " + e);
                    }
                }
            }
        });
        return () -> {
            server.close();
            t.join(5_000);
        };
    }

    @Test
    void aServiceOfAnotherClassIsLeftAlone() throws Exception {
        cluster.loadBalancer("cloudy", StandInCluster.CLOUD_CLASS);
        cluster.loadBalancer("ours", PORTWAY_CLASS);
        controller();
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.ingressIp("ours") != null);
        assertThat(cluster.ingressIp("ours")).isEqualTo("127.0.62.10");
        assertThat(cluster.ingressIp("cloudy")).isNull();
        assertThat(cluster.service("cloudy").getMetadata().getAnnotations()).doesNotContainKey("metallb.io/ip-allocated-from-pool");
    }

    /**
     * Given a class of its own, Portway took Services that name no class as well: the cluster's
     * default implementation (the stand-in's own controller here) took them too, and the two wrote
     * their addresses over each other's. They are the default implementation's now, as with
     * MetalLB's --lb-class.
     */
    @Test
    void givenAClassOfItsOwnServicesThatNameNoneAreLeftToTheDefaultImplementation() throws Exception {
        cluster.loadBalancer("mine", "example.com/portway");
        TestApi.apply(cluster.control(), TestApi.decode("""
                apiVersion: v1
                kind: Service
                metadata: {name: unnamed, namespace: default}
                spec:
                  type: LoadBalancer
                  selector: {app: unnamed}
                  ports: [{port: 8080, targetPort: 80}]
                """));
        String before = cluster.ingressIp("unnamed");
        InClusterController c = new InClusterController(new InClusterController.Options("example.com/portway", cluster.healthPort(),
                Transport.NIO, 1, TestApi.decode(POOLS), Duration.ofSeconds(20), null));
        closing.add(c);
        c.start(client);
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.10".equals(cluster.ingressIp("mine")));
        // what the default implementation gave it, if anything, for a second after Portway served its own
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .until(() -> java.util.Objects.equals(cluster.ingressIp("unnamed"), before));
        // the stand-in's own controller, with no pool, clears what another writes: Portway's own event tells
        assertThat(cluster.control().call(() -> dev.portway.control.EventRecorder.about(cluster.control().store(), cluster.service("unnamed"))))
                .extracting(io.fabric8.kubernetes.api.model.Event::getReason).doesNotContain("IPAllocated");
        assertThat(cluster.service("unnamed").getMetadata().getAnnotations()).doesNotContainKey("metallb.io/ip-allocated-from-pool");
    }

    @Test
    void aPoolForSomeNamespacesServesTheServicesOfNamespacesLabelledSo() throws Exception {
        TestApi.apply(cluster.control(), TestApi.decode("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: default
                  labels:
                    team: edge
                """));
        cluster.loadBalancer("web", PORTWAY_CLASS);
        InClusterController c = new InClusterController(new InClusterController.Options(PORTWAY_CLASS, cluster.healthPort(),
                Transport.NIO, 1, TestApi.decode(StandInCluster.pool("127.0.62.12/32") + """
                          serviceAllocation:
                            namespaceSelectors:
                            - matchLabels:
                                team: edge
                        """), Duration.ofSeconds(20), null));
        closing.add(c);
        c.start(client);
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.12".equals(cluster.ingressIp("web")));
    }

    /** The pools live in a namespace of the controller's own store: the cluster's namespace of that name going takes none of them. */
    @Test
    void theClustersNamespaceOfThePoolsTerminatingTakesNoPoolAlong() throws Exception {
        TestApi.apply(cluster.control(), TestApi.decode("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: metallb-system
                  finalizers: [example.com/hold]
                """));
        cluster.serveNodePort(cluster.loadBalancer("web", PORTWAY_CLASS));
        controller();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.10".equals(cluster.ingressIp("web")));
        cluster.control().call(() -> cluster.control().api().delete(dev.portway.api.ResourceKind.NAMESPACE, null, "metallb-system",
                dev.portway.control.DeleteOptions.DEFAULT));
        assertThat(cluster.control().call(() -> cluster.control().store()
                .get(io.fabric8.kubernetes.api.model.Namespace.class, null, "metallb-system")).orElseThrow()
                .getMetadata().getDeletionTimestamp()).as("terminating, held by its finalizer").isNotNull();

        // a Service made after it still gets the pool's other address, and the first keeps its own
        cluster.loadBalancer("api", PORTWAY_CLASS);
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.11".equals(cluster.ingressIp("api")));
        assertThat(cluster.ingressIp("web")).isEqualTo("127.0.62.10");
        assertThat(Net.get("127.0.62.10", 8080, "/").status()).isEqualTo(200);
    }

    /**
     * A Service that stops being a LoadBalancer has Portway's pool annotation taken off (the API
     * server clears its status.loadBalancer itself, as kube-apiserver's dropTypeDependentFields does).
     */
    @Test
    void aServiceThatStopsBeingALoadBalancerHasItsAddressTakenOff() throws Exception {
        cluster.loadBalancer("web", PORTWAY_CLASS);
        controller();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.10".equals(cluster.ingressIp("web")));
        cluster.toClusterIp("web");
        awaitNoAddress("web");
    }

    /**
     * A write that lands after its Service stopped being a LoadBalancer (it was out as the type
     * changed) leaves Portway's pool annotation on a Service that is not Portway's: it is taken off
     * at that Service's next change, not only at the next start.
     */
    @Test
    void anAddressALateWriteLeftOnAServiceThatLeftIsTakenOffAtItsNextChange() throws Exception {
        cluster.loadBalancer("web", PORTWAY_CLASS);
        controller();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.10".equals(cluster.ingressIp("web")));
        cluster.toClusterIp("web");
        awaitNoAddress("web");
        // the late write, as it lands
        cluster.control().call(() -> {
            io.fabric8.kubernetes.api.model.Service web = cluster.control().store().get(io.fabric8.kubernetes.api.model.Service.class, "default", "web").orElseThrow();
            web.getMetadata().getAnnotations().put("metallb.io/ip-allocated-from-pool", "edge");
            dev.portway.store.Store.Batch batch = cluster.control().store().begin();
            batch.put(web);
            batch.commit();
            return null;
        });
        awaitNoAddress("web");
    }

    @Test
    void aServiceThatStoppedBeingALoadBalancerWhileNoControllerRanHasItsAddressTakenOffAtStart() throws Exception {
        cluster.loadBalancer("web", PORTWAY_CLASS);
        InClusterController first = controller();
        await().atMost(Duration.ofSeconds(10)).until(() -> "edge".equals(cluster.service("web").getMetadata().getAnnotations()
                .get("metallb.io/ip-allocated-from-pool")));
        first.close();
        cluster.toClusterIp("web");
        assertThat(cluster.service("web").getMetadata().getAnnotations()).containsEntry("metallb.io/ip-allocated-from-pool", "edge");
        controller();
        awaitNoAddress("web");
    }

    /**
     * A status write that failed waited for its retry, and was made then whatever had happened
     * meanwhile: a Service that had gone to another implementation's class got Portway's address
     * and pool annotation, an address Portway had freed and would give another Service. A write is
     * judged again as the Service is when it is made, and one for a Service that left is dropped.
     */
    @Test
    void aWriteThatWaitsForItsRetryIsNotMadeForAServiceThatLeftMeanwhile() throws Exception {
        java.util.concurrent.CountDownLatch failed = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger statusWrites = new java.util.concurrent.atomic.AtomicInteger();
        io.fabric8.kubernetes.client.http.Interceptor firstStatusWriteFails = new io.fabric8.kubernetes.client.http.Interceptor() {
            @Override
            public void before(io.fabric8.kubernetes.client.http.BasicBuilder builder, io.fabric8.kubernetes.client.http.HttpRequest request,
                               io.fabric8.kubernetes.client.http.Interceptor.RequestTags tags) {
                if ("PATCH".equals(request.method()) && request.uri().getPath().endsWith("/services/web/status")
                        && statusWrites.getAndIncrement() == 0) {
                    refuse(builder, request); // whatever the Service is then: the writer tries again in a second
                    failed.countDown();
                }
            }
        };
        cluster.loadBalancer("web", PORTWAY_CLASS);
        controllerThrough(firstStatusWriteFails);
        assertThat(failed.await(10, TimeUnit.SECONDS)).as("the first status write was refused").isTrue();
        // before its retry: web goes to another implementation
        cluster.toClusterIp("web");
        cluster.loadBalancer("web", StandInCluster.CLOUD_CLASS);
        // for the retry's time, twice over: no second write, no address
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> statusWrites.get() == 1 && cluster.ingressIp("web") == null);
        assertThat(cluster.service("web").getMetadata().getAnnotations()).doesNotContainKey("metallb.io/ip-allocated-from-pool");
    }

    /**
     * Another writer cleared the status while Portway's write of it was out. Portway queued the same
     * address again, and its finished write took that equal one off the queue with itself: the
     * status stayed cleared for good (the informers have no resync). A finished write now takes off
     * only itself.
     */
    @Test
    void anAddressClearedWhileItsWriteIsOutIsWrittenAgain() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean cleared = new java.util.concurrent.atomic.AtomicBoolean();
        io.fabric8.kubernetes.client.http.Interceptor clearsAfterTheFirstWrite = new io.fabric8.kubernetes.client.http.Interceptor() {
            @Override
            public void after(io.fabric8.kubernetes.client.http.HttpRequest request, io.fabric8.kubernetes.client.http.HttpResponse<?> response,
                              io.fabric8.kubernetes.client.http.AsyncBody.Consumer<java.util.List<ByteBuffer>> consumer) {
                if ("PATCH".equals(request.method()) && request.uri().getPath().endsWith("/services/web/status")
                        && response.code() < 300 && cleared.compareAndSet(false, true)) {
                    // another writer clears it, and Portway sees that (and queues its address again) before this write is done
                    cluster.control().call(() -> cluster.control().api().mutate(io.fabric8.kubernetes.api.model.Service.class, "default", "web",
                            svc -> {
                                svc.getStatus().setLoadBalancer(new io.fabric8.kubernetes.api.model.LoadBalancerStatus());
                                return svc;
                            }));
                    // and holds this write out while it does (the mirror sees the clear, the controller queues the address again)
                    await().atMost(Duration.ofSeconds(5)).until(() -> cluster.ingressIp("web") == null);
                    await().pollDelay(Duration.ofSeconds(1)).until(() -> true);
                }
            }
        };
        cluster.loadBalancer("web", PORTWAY_CLASS);
        controllerThrough(clearsAfterTheFirstWrite);
        await().atMost(Duration.ofSeconds(10)).until(cleared::get);
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.10".equals(cluster.ingressIp("web")));
    }

    /**
     * The cluster refused every status write of one Service (as a webhook may), and the writer's one
     * retry for everything doubled up to 30 s: a new Service's address waited that long too. A
     * refused Service now waits alone.
     */
    @Test
    void aServiceWhoseWritesAreRefusedHoldsNoOtherBack() throws Exception {
        java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        io.fabric8.kubernetes.client.http.Interceptor refusesWeb = new io.fabric8.kubernetes.client.http.Interceptor() {
            @Override
            public void before(io.fabric8.kubernetes.client.http.BasicBuilder builder, io.fabric8.kubernetes.client.http.HttpRequest request,
                               io.fabric8.kubernetes.client.http.Interceptor.RequestTags tags) {
                if ("PATCH".equals(request.method()) && request.uri().getPath().endsWith("/services/web/status")) {
                    refused.incrementAndGet();
                    refuse(builder, request);
                }
            }
        };
        cluster.loadBalancer("web", PORTWAY_CLASS);
        controllerThrough(refusesWeb);
        // refused at once, then after 1, 2 and 4 s: the next retry is 8 s away
        await().atMost(Duration.ofSeconds(20)).until(() -> refused.get() >= 4);
        cluster.loadBalancer("api", PORTWAY_CLASS);
        await().atMost(Duration.ofSeconds(4)).until(() -> "127.0.62.11".equals(cluster.ingressIp("api")));
        assertThat(cluster.ingressIp("web")).isNull();
    }

    /**
     * A status write that lands after its Service was deleted and made again (here, as another
     * implementation's) must not give the new one Portway's address: each patch names the uid of
     * the Service it was judged for, and the cluster refuses it for another (the uid is immutable).
     */
    @Test
    void aWriteForAServiceMadeAgainMeanwhileDoesNotLandOnTheNewOne() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean swapped = new java.util.concurrent.atomic.AtomicBoolean();
        io.fabric8.kubernetes.client.http.Interceptor swapsWeb = new io.fabric8.kubernetes.client.http.Interceptor() {
            @Override
            public void before(io.fabric8.kubernetes.client.http.BasicBuilder builder, io.fabric8.kubernetes.client.http.HttpRequest request,
                               io.fabric8.kubernetes.client.http.Interceptor.RequestTags tags) {
                if ("PATCH".equals(request.method()) && request.uri().getPath().endsWith("/services/web/status")
                        && swapped.compareAndSet(false, true)) {
                    cluster.delete("web");
                    cluster.loadBalancer("web", "example.com/other");
                }
            }
        };
        cluster.loadBalancer("web", PORTWAY_CLASS);
        controllerThrough(swapsWeb);
        await().atMost(Duration.ofSeconds(10)).untilTrue(swapped);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).untilAsserted(() -> {
            assertThat(cluster.service("web").getSpec().getLoadBalancerClass()).isEqualTo("example.com/other");
            assertThat(cluster.ingressIp("web")).isNull();
            assertThat(cluster.service("web").getMetadata().getAnnotations()).doesNotContainKey("metallb.io/ip-allocated-from-pool");
        });
    }

    /** A controller whose client's requests pass {@code interceptor} on their way. */
    private InClusterController controllerThrough(io.fabric8.kubernetes.client.http.Interceptor interceptor) throws Exception {
        KubernetesClient through = new KubernetesClientBuilder().withConfig(cluster.clientConfig())
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("test", interceptor)).build();
        closing.add(through);
        InClusterController c = new InClusterController(new InClusterController.Options(PORTWAY_CLASS, cluster.healthPort(),
                Transport.NIO, 1, TestApi.decode(POOLS), Duration.ofSeconds(20), null));
        closing.add(c);
        return c.start(through);
    }

    /** Makes {@code request} one the API server refuses (400, an unknown fieldValidation), whatever it writes. */
    private static void refuse(io.fabric8.kubernetes.client.http.BasicBuilder builder, io.fabric8.kubernetes.client.http.HttpRequest request) {
        builder.uri(java.net.URI.create(request.uri() + (request.uri().getQuery() == null ? "?" : "&") + "fieldValidation=Bogus"));
    }

    private void awaitNoAddress(String name) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(cluster.ingressIp(name)).isNull();
            assertThat(cluster.service(name).getMetadata().getAnnotations()).doesNotContainKey("metallb.io/ip-allocated-from-pool");
        });
    }

    @Test
    void aRestartedControllerKeepsTheAddressesServicesHoldBeforeItHandsOutNewOnes() throws Exception {
        cluster.loadBalancer("web", PORTWAY_CLASS);
        InClusterController first = controller();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.10".equals(cluster.ingressIp("web")));
        first.close();

        // created while no controller ran, and first in name order: the first pass must not give it web's address
        cluster.loadBalancer("api", PORTWAY_CLASS);
        controller();
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.ingressIp("api") != null);
        assertThat(cluster.ingressIp("api")).isEqualTo("127.0.62.11");
        assertThat(cluster.ingressIp("web")).isEqualTo("127.0.62.10");
    }

    /**
     * Given no pools, the controller takes the cluster's own IPAddressPools in metallb-system, as
     * MetalLB does, and follows them: a Service waits while there is none, and gets its address
     * once one is applied; a pool applied later serves the next Service.
     */
    @Test
    void withoutPoolsGivenTheClustersOwnPoolsAreFollowed() throws Exception {
        cluster.loadBalancer("web", PORTWAY_CLASS);
        InClusterController c = controllerOfTheClustersPools();
        assertThat(c.poolsFromCluster()).isTrue();
        assertThat(c.pools()).isEmpty();
        assertThat(cluster.ingressIp("web")).isNull();

        applyClusterPool(StandInCluster.pool("127.0.62.10/32"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(cluster.ingressIp("web")).isEqualTo("127.0.62.10");
            assertThat(cluster.service("web").getMetadata().getAnnotations()).containsEntry("metallb.io/ip-allocated-from-pool", "edge");
        });

        TestApi.apply(cluster.control(), TestApi.decode(StandInCluster.pool("127.0.62.11/32").replace("name: edge", "name: more")));
        cluster.loadBalancer("api", PORTWAY_CLASS);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(cluster.ingressIp("api")).isEqualTo("127.0.62.11");
            assertThat(cluster.service("api").getMetadata().getAnnotations()).containsEntry("metallb.io/ip-allocated-from-pool", "more");
        });
        assertThat(c.pools()).extracting(p -> p.getMetadata().getName()).containsExactlyInAnyOrder("edge", "more");
        assertThat(cluster.ingressIp("web")).isEqualTo("127.0.62.10");

        // the pool deleted, its Service's address goes with it (the other pool has none free), as MetalLB releases it
        cluster.control().call(() -> cluster.control().api().delete(dev.portway.api.ResourceKind.IP_ADDRESS_POOL, "metallb-system",
                "more", dev.portway.control.DeleteOptions.DEFAULT));
        awaitNoAddress("api");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThatThrownBy(() -> Net.get("127.0.62.11", 8080, "/")).isInstanceOf(ConnectException.class));
        assertThat(cluster.ingressIp("web")).isEqualTo("127.0.62.10");
    }

    /**
     * A cluster without MetalLB's webhook may hold a pool its API server never judged: the
     * controller judges it as Portway's API server does, leaves it out, and serves from the others.
     */
    @Test
    void aClusterPoolThatIsNotValidIsLeftOutAndTheOthersServe() throws Exception {
        applyClusterPool(StandInCluster.pool("127.0.62.12/32"));
        dev.portway.api.metallb.IPAddressPool bad = (dev.portway.api.metallb.IPAddressPool) TestApi.decode(
                StandInCluster.pool("127.0.62.300/32").replace("name: edge", "name: broken")).getFirst();
        bad.getMetadata().setUid("0d6f4a52-3d0b-4a8e-9a43-6f7f2f0c9e11");
        bad.getMetadata().setCreationTimestamp("2026-11-30T00:00:00Z");
        writeUnvalidated(bad);
        cluster.loadBalancer("web", PORTWAY_CLASS);
        InClusterController c = controllerOfTheClustersPools();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.12".equals(cluster.ingressIp("web")));
        assertThat(c.pools()).extracting(p -> p.getMetadata().getName()).containsExactly("edge");
    }

    /**
     * A pool Portway leaves out for its family (a dual-stack one: Portway hands out IPv4 alone) held
     * the controller in "waiting for pools" for good: a deleted pool's addresses were never released,
     * and Portway went on listening on them. Only addresses in a left-out pool's own ranges wait now.
     */
    @Test
    void aPoolLeftOutForItsFamilyHoldsOnlyItsOwnAddresses() throws Exception {
        applyClusterPool(StandInCluster.pool("127.0.62.12/32"));
        dev.portway.api.metallb.IPAddressPool both = (dev.portway.api.metallb.IPAddressPool) TestApi.decode(
                StandInCluster.pool("127.0.62.20/32").replace("name: edge", "name: both")).getFirst();
        both.getSpec().setAddresses(List.of("127.0.62.20/32", "fd00:62::/120"));
        both.getMetadata().setUid("2c1f6a0e-7d4b-4f3e-9b1a-5e8d7c6b4a21");
        both.getMetadata().setCreationTimestamp("2026-11-30T00:00:00Z");
        writeUnvalidated(both);
        cluster.loadBalancer("web", PORTWAY_CLASS);
        InClusterController c = controllerOfTheClustersPools();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.12".equals(cluster.ingressIp("web")));
        assertThat(c.pools()).extracting(p -> p.getMetadata().getName()).containsExactly("edge");

        cluster.control().call(() -> cluster.control().api().delete(dev.portway.api.ResourceKind.IP_ADDRESS_POOL, "metallb-system",
                "edge", dev.portway.control.DeleteOptions.DEFAULT));
        awaitNoAddress("web");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThatThrownBy(() -> Net.get("127.0.62.12", 8080, "/")).isInstanceOf(ConnectException.class));
    }

    /**
     * Two pools that swap their ranges, edited one at a time (each edit alone overlaps the other's
     * old range): judged against each other's last valid version alone, both were refused until some
     * other pool changed. The pools as they now are stand together, and both serve their new ranges.
     */
    @Test
    void poolsThatSwapTheirRangesServeTheNewOnes() throws Exception {
        applyClusterPool(StandInCluster.pool("127.0.62.12/32"));
        applyClusterPool(StandInCluster.pool("127.0.62.13/32").replace("name: edge", "name: side"));
        InClusterController c = controllerOfTheClustersPools();
        await().atMost(Duration.ofSeconds(10)).until(() -> c.pools().size() == 2);
        for (String[] swap : new String[][] {{"edge", "127.0.62.13/32"}, {"side", "127.0.62.12/32"}}) {
            dev.portway.api.metallb.IPAddressPool pool = dev.portway.api.Json.copy(cluster.control().call(() -> cluster.control().store()
                    .get(dev.portway.api.metallb.IPAddressPool.class, "metallb-system", swap[0]).orElseThrow()));
            pool.getSpec().setAddresses(List.of(swap[1]));
            writeUnvalidated(pool);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(c.pools())
                .extracting(p -> p.getMetadata().getName() + " " + p.getSpec().getAddresses())
                .containsExactlyInAnyOrder("edge [127.0.62.13/32]", "side [127.0.62.12/32]"));
    }

    /** Writes a pool straight into the stand-in's store, past its validation, as a cluster without MetalLB's webhook keeps it. */
    private void writeUnvalidated(dev.portway.api.metallb.IPAddressPool pool) {
        cluster.control().call(() -> {
            dev.portway.store.Store.Batch batch = cluster.control().store().begin();
            batch.put(pool);
            batch.commit();
            return null;
        });
    }

    /**
     * Pool edge (127.0.62.13/32) gives web its address under a first controller, which then stops;
     * edge is then written with {@code addresses}, past validation: the pool as written.
     */
    private dev.portway.api.metallb.IPAddressPool webOnEdgeThenEdgeMadeInvalid(List<String> addresses) throws Exception {
        applyClusterPool(StandInCluster.pool("127.0.62.13/32"));
        cluster.loadBalancer("web", PORTWAY_CLASS);
        InClusterController first = controllerOfTheClustersPools();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.13".equals(cluster.ingressIp("web")));
        first.close();
        dev.portway.api.metallb.IPAddressPool edge = cluster.control().call(() -> cluster.control().store()
                .get(dev.portway.api.metallb.IPAddressPool.class, "metallb-system", "edge").orElseThrow());
        dev.portway.api.metallb.IPAddressPool broken = dev.portway.api.Json.copy(edge);
        broken.getSpec().setAddresses(addresses);
        writeUnvalidated(broken);
        return broken;
    }

    /**
     * A pool's last valid version lives in memory only: a controller that starts while a cluster's
     * pool is not valid used to drop it, and cleared (or moved) the addresses its Services held. As
     * MetalLB waits for a valid configuration, nothing is given, cleared or moved until the pools are.
     */
    @Test
    void aControllerThatStartsWhileAPoolIsNotValidWaitsForItAndMovesNothing() throws Exception {
        dev.portway.api.metallb.IPAddressPool broken = webOnEdgeThenEdgeMadeInvalid(List.of("127.0.62.300/32"));
        InClusterController second = controllerOfTheClustersPools();
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).until(() -> "127.0.62.13".equals(cluster.ingressIp("web")));
        assertThat(second.pools()).isEmpty();

        // the pool made valid again: it serves, and web keeps its address
        dev.portway.api.metallb.IPAddressPool mended = dev.portway.api.Json.copy(broken);
        mended.getSpec().setAddresses(List.of("127.0.62.13/32"));
        writeUnvalidated(mended);
        await().atMost(Duration.ofSeconds(10)).until(() -> second.pools().size() == 1);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> "127.0.62.13".equals(cluster.ingressIp("web")));
    }

    /**
     * A pool that was not valid when the controller started, edited into another range that is not
     * valid either: the addresses of its first range still wait (the version that gave them is not
     * known), where the controller used to forget that range and clear the Services holding them.
     */
    @Test
    void aPoolNeverValidSinceTheStartEditedIntoAnotherInvalidRangeStillHoldsItsFirst() throws Exception {
        webOnEdgeThenEdgeMadeInvalid(List.of("127.0.62.13/32", "fd00:62::/120")); // left out: Portway hands out IPv4 alone
        applyClusterPool(StandInCluster.pool("127.0.62.20/32").replace("name: edge", "name: side")); // where web would move
        InClusterController second = controllerOfTheClustersPools();
        assertThat(second.pools()).extracting(p -> p.getMetadata().getName()).containsExactly("side");

        dev.portway.api.metallb.IPAddressPool moved = dev.portway.api.Json.copy(cluster.control().call(() -> cluster.control().store()
                .get(dev.portway.api.metallb.IPAddressPool.class, "metallb-system", "edge").orElseThrow()));
        moved.getSpec().setAddresses(List.of("127.0.62.14/32", "fd00:62::/120"));
        writeUnvalidated(moved);
        // the Service changed: the controller judges its address again
        io.fabric8.kubernetes.api.model.Service touched = dev.portway.api.Json.copy(cluster.service("web"));
        touched.getMetadata().setLabels(java.util.Map.of("touched", "yes"));
        cluster.control().call(() -> cluster.control().api().update(touched, "default"));
        await().atMost(Duration.ofSeconds(5)).until(() -> second.control().call(() -> second.control().store()
                .get(io.fabric8.kubernetes.api.model.Service.class, "default", "web").map(x -> x.getMetadata().getLabels() != null).orElse(false)));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).until(() -> "127.0.62.13".equals(cluster.ingressIp("web")));
        assertThat(second.pools()).extracting(p -> p.getMetadata().getName()).containsExactly("side");
    }

    /**
     * The cluster's pools judged together, as MetalLB judges its configuration: a pool edited into
     * one that is not valid keeps its last valid version in use; of two overlapping pools the later
     * is left out, and serves once the earlier goes.
     */
    @Test
    void aClusterPoolMadeInvalidKeepsItsLastValidVersionAndOverlappingPoolsWaitTheirTurn() throws Exception {
        applyClusterPool(StandInCluster.pool("127.0.62.13/32"));
        cluster.loadBalancer("web", PORTWAY_CLASS);
        InClusterController c = controllerOfTheClustersPools();
        await().atMost(Duration.ofSeconds(10)).until(() -> "127.0.62.13".equals(cluster.ingressIp("web")));

        dev.portway.api.metallb.IPAddressPool edge = cluster.control().call(() -> cluster.control().store()
                .get(dev.portway.api.metallb.IPAddressPool.class, "metallb-system", "edge").orElseThrow());
        dev.portway.api.metallb.IPAddressPool broken = dev.portway.api.Json.copy(edge);
        broken.getSpec().setAddresses(List.of("127.0.62.300/32"));
        writeUnvalidated(broken);
        dev.portway.api.metallb.IPAddressPool late = (dev.portway.api.metallb.IPAddressPool) TestApi.decode(
                StandInCluster.pool("127.0.62.13-127.0.62.14").replace("name: edge", "name: late")).getFirst();
        late.getMetadata().setUid("6b7d0c52-1d2b-4c1e-8f5a-2a4e7e3c9d10");
        late.getMetadata().setCreationTimestamp("2099-01-01T00:00:00Z");
        writeUnvalidated(late);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() ->
                "127.0.62.13".equals(cluster.ingressIp("web")) && c.pools().size() == 1
                        && c.pools().getFirst().getSpec().getAddresses().equals(List.of("127.0.62.13/32")));

        // the earlier pool gone, the later one serves
        cluster.control().call(() -> cluster.control().api().delete(dev.portway.api.ResourceKind.IP_ADDRESS_POOL, "metallb-system",
                "edge", dev.portway.control.DeleteOptions.DEFAULT));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(c.pools()).extracting(p -> p.getMetadata().getName()).containsExactly("late");
            assertThat(cluster.service("web").getMetadata().getAnnotations()).containsEntry("metallb.io/ip-allocated-from-pool", "late");
        });

        // an older pool edited into the range of a newer one that serves: the edit is refused, not the newer pool
        // that did not change (both overlapping stayed in use, and Services' pools flipped to the older)
        dev.portway.api.metallb.IPAddressPool early = (dev.portway.api.metallb.IPAddressPool) TestApi.decode(
                StandInCluster.pool("127.0.62.20/32").replace("name: edge", "name: early")).getFirst();
        early.getMetadata().setUid("0b7d0c52-1d2b-4c1e-8f5a-2a4e7e3c9d11");
        early.getMetadata().setCreationTimestamp("2000-01-01T00:00:00Z");
        writeUnvalidated(early);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.pools().size() == 2);
        dev.portway.api.metallb.IPAddressPool widened = dev.portway.api.Json.copy(cluster.control().call(() -> cluster.control().store()
                .get(dev.portway.api.metallb.IPAddressPool.class, "metallb-system", "early").orElseThrow()));
        widened.getSpec().setAddresses(List.of("127.0.62.8/29", "127.0.62.20/32"));
        writeUnvalidated(widened);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            assertThat(c.pools()).extracting(p -> p.getMetadata().getName() + " " + p.getSpec().getAddresses())
                    .containsExactlyInAnyOrder("late [127.0.62.13-127.0.62.14]", "early [127.0.62.20/32]");
            assertThat(cluster.service("web").getMetadata().getAnnotations()).containsEntry("metallb.io/ip-allocated-from-pool", "late");
        });
    }
}
