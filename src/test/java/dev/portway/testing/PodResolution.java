package dev.portway.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a pod's process resolves, with glibc's {@code getent hosts} (not {@code ahosts}: its AI_ADDRCONFIG finds nothing where loopback is the only network): a Service by its short, namespaced
 * and full names, a headless Service to its ready pods' IPs, the pod's own hostname under its
 * subdomain, a hostAlias, and a Service created after the pod. The same check runs with names in
 * the pods' hosts files and with the cluster DNS server.
 */
public final class PodResolution {

    private PodResolution() {
    }

    /** The names a pod's loop resolves, each printed as {@code name=ip ip ...}, a block per round. */
    private static final String NAMES = "pushgateway pushgateway.default pushgateway.default.svc.cluster.local peers "
            + "web-0.peers.default.svc.cluster.local late-svc.default.svc late-svc db";

    /** Runs the resolver pod in {@code cluster} and checks what it resolves. */
    public static void check(TestCluster cluster) {
        if (cluster.local().store().get(io.fabric8.kubernetes.api.model.Service.class, "default", "pushgateway").isEmpty()) {
            cluster.apply("""
                    apiVersion: v1
                    kind: Service
                    metadata: {name: pushgateway}
                    spec:
                      selector: {app: nobody}
                      ports: [{name: http, port: 9091}]
                    """);
        }
        cluster.apply(TestCluster.echoDeployment("peer", 2, null) + """
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
                        for n in %s; do echo "$n=$(getent hosts $n | cut -d' ' -f1 | sort -u | tr '\\n' ' ')"; done
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
