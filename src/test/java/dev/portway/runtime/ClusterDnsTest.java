package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.api.Json;
import dev.portway.plan.DnsZone;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Pod;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster names for local pods: the pod's resolv.conf and hosts file as the kubelet writes them,
 * and real processes (glibc's {@code getent}) resolving Services, headless Services and a Service
 * created after the pod, through their own /etc files in a mount namespace.
 */
class ClusterDnsTest {

    @Nested
    class Files_ {

        private final PodDns.HostResolver host = new PodDns.HostResolver(List.of("192.0.2.53"), List.of("corp.example"), List.of("rotate"));

        private Pod pod(String yamlSpec) {
            return Json.read("""
                    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "shop"}, "spec": %s}
                    """.formatted(yamlSpec).getBytes(java.nio.charset.StandardCharsets.UTF_8), Pod.class);
        }

        @Test
        void clusterFirstGetsTheClusterSearchPathAndTheClusterServer() throws Exception {
            Pod p = pod("{\"containers\": []}");
            assertThat(PodDns.resolvConf(p, host, InetAddress.getByName("127.2.0.10"), "cluster.local")).isEqualTo("""
                    search shop.svc.cluster.local svc.cluster.local cluster.local corp.example
                    nameserver 127.2.0.10
                    options ndots:5
                    """);
            // no server (hosts mode): the same search path, the machine's nameservers for other names
            assertThat(PodDns.resolvConf(p, host, null, "cluster.local"))
                    .contains("search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 192.0.2.53\n");
        }

        @Test
        void defaultNoneAndDnsConfigAreHonoured() throws Exception {
            InetAddress dns = InetAddress.getByName("127.2.0.10");
            assertThat(PodDns.resolvConf(pod("{\"dnsPolicy\": \"Default\", \"containers\": []}"), host, dns, "cluster.local"))
                    .isEqualTo("search corp.example\nnameserver 192.0.2.53\noptions rotate\n");
            // hostNetwork with ClusterFirst is Default, as the kubelet has it
            assertThat(PodDns.resolvConf(pod("{\"hostNetwork\": true, \"containers\": []}"), host, dns, "cluster.local"))
                    .isEqualTo("search corp.example\nnameserver 192.0.2.53\noptions rotate\n");
            assertThat(PodDns.resolvConf(pod("""
                    {"dnsPolicy": "None", "dnsConfig": {"nameservers": ["192.0.2.1"], "searches": ["a.example"],
                     "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}, "containers": []}"""), host, dns, "cluster.local"))
                    .isEqualTo("search a.example\nnameserver 192.0.2.1\noptions ndots:2 edns0\n");
            assertThat(PodDns.resolvConf(pod("""
                    {"dnsConfig": {"options": [{"name": "ndots", "value": "1"}]}, "containers": []}"""), host, dns, "cluster.local"))
                    .endsWith("options ndots:1\n");
        }

        @Test
        void theHostsFileIsTheKubeletsWithHostAliasesAndInHostsModeTheClusterNames() throws Exception {
            Pod p = pod("""
                    {"hostname": "web-0", "subdomain": "web", "hostAliases": [{"ip": "192.0.2.7", "hostnames": ["db", "db.local"]}],
                     "containers": []}""");
            String kubelet = PodDns.hostsFile(p, "127.1.1.5", null);
            assertThat(kubelet).startsWith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
                    .contains("127.1.1.5\tweb-0.web.shop.svc.cluster.local\tweb-0\n")
                    .endsWith("\n# Entries added by HostAliases.\n192.0.2.7\tdb\tdb.local\n");
            DnsZone zone = new DnsZone("cluster.local", Map.of(
                    "api.shop.svc.cluster.local", List.of(InetAddress.getByName("127.2.0.20")),
                    "db.other.svc.cluster.local", List.of(InetAddress.getByName("127.2.0.21")),
                    "peers.shop.svc.cluster.local", List.of(InetAddress.getByName("127.1.1.8"), InetAddress.getByName("127.1.1.9"))), Map.of());
            String hosts = PodDns.hostsFile(p, "127.1.1.5", zone);
            assertThat(hosts).startsWith(kubelet)
                    // the pod's own namespace: the short name too; another namespace: from svc.ns on
                    .contains("127.2.0.20\tapi.shop.svc.cluster.local api.shop.svc api.shop api\n")
                    .contains("127.2.0.21\tdb.other.svc.cluster.local db.other.svc db.other\n")
                    .contains("127.1.1.8\tpeers.shop.svc.cluster.local peers.shop.svc peers.shop peers\n")
                    .contains("127.1.1.9\tpeers.shop.svc.cluster.local peers.shop.svc peers.shop peers\n");
            assertThat(PodDns.hostsFile(pod("{\"dnsPolicy\": \"Default\", \"containers\": []}"), "127.1.1.5", zone))
                    .as("dnsPolicy Default: no cluster names").doesNotContain("api.shop");
        }

        @Test
        void aProbeHostResolvesThroughTheSearchPath(@TempDir Path dir) throws Exception {
            ClusterDns dns = new ClusterDns(DnsOptions.defaults().withMode(DnsOptions.Mode.HOSTS), PodSandbox.disabled("test"), null);
            assertThat(dns.resolve("10.0.0.1", "shop")).isEqualTo("10.0.0.1");
            assertThat(dns.resolve("unknown", "shop")).isEqualTo("unknown");
        }

        @Test
        void aRewriteKeepsTheFileSoABindMountSeesIt(@TempDir Path dir) throws Exception {
            Path etc = dir.resolve("etc");
            ClusterDns dns = new ClusterDns(DnsOptions.defaults().withMode(DnsOptions.Mode.HOSTS), PodSandbox.detect(dir.resolve("check")), null);
            org.junit.jupiter.api.Assumptions.assumeTrue(dns.active(), "user namespaces are not allowed here");
            Pod p = pod("{\"containers\": []}");
            dns.writeFiles(p, "127.1.1.5", etc);
            Object inode = Files.getAttribute(etc.resolve("hosts"), "unix:ino");
            dns.rewriteHosts(p, "127.1.1.5", etc);
            assertThat(Files.getAttribute(etc.resolve("hosts"), "unix:ino")).isEqualTo(inode);
        }
    }

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    /** The names a pod's loop resolves, each printed as {@code name=ip ip ...}, a block per round. */
    private static final String NAMES = "pushgateway pushgateway.default pushgateway.default.svc.cluster.local peers "
            + "web-0.peers.default.svc.cluster.local late-svc.default.svc late-svc db";

    @Test
    void aPodResolvesServicesHeadlessServicesAndAServiceCreatedAfterIt() {
        org.junit.jupiter.api.Assumptions.assumeTrue(cluster.local().kubelet().dns().active(), cluster.local().kubelet().dnsSummary());
        cluster.apply(TestCluster.echoDeployment("peer", 2, null) + """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: pushgateway}
                spec:
                  selector: {app: nobody}
                  ports: [{name: http, port: 9091}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: peers}
                spec:
                  clusterIP: None
                  selector: {app: peer}
                  ports: [{name: http, port: 8080}]
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: resolver}
                spec:
                  hostname: web-0
                  subdomain: peers
                  hostAliases: [{ip: 192.0.2.7, hostnames: [db]}]
                  containers:
                  - name: app
                    image: busybox
                    command: [sh, -c]
                    args:
                    - |
                      cat /etc/resolv.conf
                      i=0
                      while [ $i -lt 600 ]; do
                        for n in %s; do echo "$n=$(getent ahostsv4 $n | cut -d' ' -f1 | sort -u | tr '\\n' ' ')"; done
                        echo ---; i=$((i+1)); sleep 0.2
                      done
                """.formatted(NAMES));
        cluster.awaitReady("peer", 2);
        String pushgateway = cluster.clusterIp("pushgateway");
        String peerIps = cluster.pods("peer").stream().map(p -> p.getStatus().getPodIP()).sorted().collect(Collectors.joining(" ")) + " ";
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            Map<String, String> r = lastRound(cluster.log("resolver"));
            assertThat(r).containsEntry("pushgateway", pushgateway + " ")
                    .containsEntry("pushgateway.default", pushgateway + " ")
                    .containsEntry("pushgateway.default.svc.cluster.local", pushgateway + " ")
                    .containsEntry("peers", peerIps)
                    .containsEntry("db", "192.0.2.7 ")
                    .containsEntry("late-svc", "");
        });
        assertThat(cluster.log("resolver"))
                .startsWith("search default.svc.cluster.local svc.cluster.local cluster.local")
                .contains("options ndots:5");
        String self = cluster.pod("resolver").getStatus().getPodIP();
        assertThat(lastRound(cluster.log("resolver"))).containsEntry("web-0.peers.default.svc.cluster.local", self + " ");

        cluster.apply("""
                apiVersion: v1
                kind: Service
                metadata: {name: late-svc}
                spec:
                  selector: {app: nobody}
                  ports: [{port: 8080}]
                """);
        String late = cluster.clusterIp("late-svc");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(lastRound(cluster.log("resolver")))
                .containsEntry("late-svc", late + " ").containsEntry("late-svc.default.svc", late + " "));
    }

    @Test
    void aProbeFindsItsHostByTheClusterName() {
        cluster.apply(TestCluster.echoBackend("probed", 1) + """
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: prober}
                spec:
                  containers:
                  - name: app
                    image: busybox
                    command: [sleep, "600"]
                    readinessProbe:
                      httpGet: {host: probed, port: 8000, path: /}
                      periodSeconds: 1
                """);
        await().atMost(Duration.ofSeconds(20)).until(() -> dev.portway.control.Pods.isReady(cluster.pod("prober")));
    }

    /** The last complete round of the resolver's loop: name to its addresses. */
    private static Map<String, String> lastRound(String log) {
        String[] rounds = log.split("---\n");
        if (rounds.length < 2) {
            return Map.of();
        }
        String round = rounds[rounds.length - (log.endsWith("---\n") ? 1 : 2)];
        return Arrays.stream(round.split("\n")).filter(l -> l.contains("=")).collect(Collectors.toMap(
                l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1), (a, b) -> b));
    }
}
