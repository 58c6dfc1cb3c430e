package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.TestCluster;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Without a DNS server, cluster names are written into each pod's /etc/hosts, which the pod can
 * write, as in Kubernetes. Portway compared its copy with the new names by reading it whole: a pod
 * that made it gigabytes long (sparse, at no cost to it) threw an OutOfMemoryError on the control
 * thread at every change of the cluster's names, and no pod's names were updated after that.
 */
class PodHostsFileTest {

    @Test
    void aHugeHostsFileIsRewrittenNotRead() throws Exception {
        try (TestCluster cluster = new TestCluster()) {
            Assumptions.assumeTrue(cluster.local().kubelet().dns().active(), cluster.local().kubelet().dnsSummary());
            cluster.apply(TestCluster.shellPod("bloat", "Never", "truncate -s 3G /etc/hosts && echo bloated;"
                    + " while ! grep -q later /etc/hosts; do sleep 0.1; done; echo found; wc -c < /etc/hosts"));
            await().atMost(Duration.ofSeconds(30)).until(() -> cluster.log("bloat").contains("bloated"));
            cluster.apply("""
                    apiVersion: v1
                    kind: Service
                    metadata: {name: later}
                    spec:
                      selector: {app: later}
                      ports: [{port: 8080}]
                    """);
            // "found" and the size are two writes: the size is read once it is there (a run once read between them)
            await().atMost(Duration.ofSeconds(15)).until(() -> cluster.log("bloat").matches("(?s).*found\\n\\s*\\d+\\s*"));
            long size = Long.parseLong(cluster.log("bloat").lines().reduce((a, b) -> b).orElseThrow().trim());
            assertThat(size).isLessThan(64 * 1024);
        }
    }
}
