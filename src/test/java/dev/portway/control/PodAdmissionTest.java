package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Toleration;
import org.junit.jupiter.api.Test;

/** A new pod as kube-apiserver's default admission plugins leave it: priority, service account, tolerations, QoS class. */
class PodAdmissionTest {

    private final TestApi api = new TestApi();

    private static String pod(String name, String spec) {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                spec:
                %s  containers:
                  - name: c
                    image: busybox
                    command: [sleep, "1"]
                """.formatted(name, spec.stripIndent().indent(2));
    }

    @Test
    void aPlainPodGetsTheDefaultsTheAdmissionPluginsSet() {
        Pod p = (Pod) api.apply(pod("plain", "")).getFirst();
        assertThat(p.getSpec().getPriority()).isZero();
        assertThat(p.getSpec().getPreemptionPolicy()).isEqualTo("PreemptLowerPriority");
        assertThat(p.getSpec().getServiceAccountName()).isEqualTo("default");
        assertThat(p.getSpec().getTolerations()).extracting(Toleration::getKey, Toleration::getOperator, Toleration::getEffect,
                        Toleration::getTolerationSeconds)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("node.kubernetes.io/not-ready", "Exists", "NoExecute", 300L),
                        org.assertj.core.groups.Tuple.tuple("node.kubernetes.io/unreachable", "Exists", "NoExecute", 300L));
        assertThat(p.getStatus().getQosClass()).isEqualTo("BestEffort");
    }

    @Test
    void theQosClassFollowsRequestsAndLimits() {
        String guaranteed = api.apply("""
                apiVersion: v1
                kind: Pod
                metadata: {name: g}
                spec:
                  containers:
                  - name: c
                    image: busybox
                    resources:
                      limits: {cpu: 500m, memory: 64Mi}
                """).getFirst() instanceof Pod p ? p.getStatus().getQosClass() : null;
        assertThat(guaranteed).isEqualTo("Guaranteed");
        String burstable = api.apply("""
                apiVersion: v1
                kind: Pod
                metadata: {name: b}
                spec:
                  containers:
                  - name: c
                    image: busybox
                    resources:
                      requests: {cpu: 100m}
                """).getFirst() instanceof Pod p ? p.getStatus().getQosClass() : null;
        assertThat(burstable).isEqualTo("Burstable");
    }

    @Test
    void aSystemPriorityClassGivesItsPriorityAndAnUnknownOneIsForbidden() {
        Pod critical = (Pod) api.apply(pod("critical", "priorityClassName: system-node-critical\n")).getFirst();
        assertThat(critical.getSpec().getPriority()).isEqualTo(2000001000);
        assertThat(api.applyError(pod("gold", "priorityClassName: gold\n")))
                .isEqualTo("Error from server (Forbidden): pods \"gold\" is forbidden: no PriorityClass with name gold was found");
        assertThat(api.applyError(pod("own", "priority: 7\n"))).isEqualTo("Error from server (Forbidden): pods \"own\" is forbidden: "
                + "the integer value of priority (7) must not be provided in pod spec; "
                + "priority admission controller computed 0 from the given PriorityClass name");
    }

    @Test
    void tolerationsThePodHasAreKept() {
        Pod p = (Pod) api.apply(pod("tolerant", """
                tolerations:
                - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 30}
                """)).getFirst();
        assertThat(p.getSpec().getTolerations()).hasSize(2);
        assertThat(p.getSpec().getTolerations().getFirst().getTolerationSeconds()).isEqualTo(30L);
    }
}
