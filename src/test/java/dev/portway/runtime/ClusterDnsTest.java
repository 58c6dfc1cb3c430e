package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.api.Json;
import dev.portway.plan.DnsZone;
import dev.portway.testing.PodResolution;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Pod;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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

    @Test
    void aPodResolvesServicesHeadlessServicesAndAServiceCreatedAfterIt() {
        org.junit.jupiter.api.Assumptions.assumeTrue(cluster.local().kubelet().dns().active(), cluster.local().kubelet().dnsSummary());
        assertThat(cluster.local().kubelet().dnsSummary()).contains("/etc/hosts instead");
        PodResolution.check(cluster);
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

}
