package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Pod;
import org.junit.jupiter.api.Test;

/**
 * Pod updates as {@code ValidatePodUpdate} judges them: images (of init containers too), the
 * active deadline set or shortened, tolerations added are fine; containers added or removed and
 * any other change are not. Only image changes were allowed.
 */
class PodUpdateValidationTest {

    private static final String INVALID = "The Pod \"p\" is invalid: ";

    private static String pod(String extra, String image) {
        return """
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  initContainers: [{name: init, image: "%s"}]
                  containers:
                  - {name: a, image: portway/echo, ports: [{containerPort: 8080}]}
                %s""".formatted(image, extra.stripIndent().indent(2));
    }

    @Test
    void theFieldsAPodUpdateMayChangeChange() {
        TestApi api = new TestApi();
        api.apply(pod("", "portway/echo "));
        api.apply(pod("""
                tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
                activeDeadlineSeconds: 100
                """, "portway/echo:2"));
        Pod p = (Pod) api.apply(pod("""
                tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
                activeDeadlineSeconds: 50
                """, "portway/echo:2")).getFirst();
        assertThat(p.getSpec().getInitContainers().getFirst().getImage()).isEqualTo("portway/echo:2");
        assertThat(p.getSpec().getActiveDeadlineSeconds()).isEqualTo(50);
        assertThat(p.getSpec().getTolerations()).extracting(t -> t.getKey()).contains("dedicated");

        assertThat(api.applyError(pod("""
                tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
                activeDeadlineSeconds: 200
                """, "portway/echo:2"))).isEqualTo(INVALID + "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value");
        assertThat(api.applyError(pod("""
                tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
                activeDeadlineSeconds: 50
                """, "portway/echo:2 "))).isEqualTo(INVALID
                + "spec.initContainers[0].image: Invalid value: \"portway/echo:2 \": must not have leading or trailing whitespace");
        assertThat(api.applyError(pod("""
                tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
                activeDeadlineSeconds: 50
                """, "portway/echo:2").replace("ports: [{containerPort: 8080}]", "ports: [{containerPort: 9090}]")))
                .startsWith(INVALID + "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`");
        assertThat(api.applyError(pod("""
                tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
                activeDeadlineSeconds: 50
                """, "portway/echo:2").replace("  - {name: a, image: portway/echo, ports: [{containerPort: 8080}]}\n",
                "  - {name: a, image: portway/echo, ports: [{containerPort: 8080}]}\n  - {name: b, image: portway/echo}\n")))
                .isEqualTo(INVALID + "spec.containers: Forbidden: pod updates may not add or remove containers");
    }

    private static String gated(String selector, String requirements) {
        return pod("""
                schedulingGates: [{name: example.com/quota}]
                nodeSelector: %s
                affinity:
                  nodeAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                      nodeSelectorTerms:
                      - matchExpressions: %s
                """.formatted(selector, requirements), "portway/echo");
    }

    /**
     * A pod with scheduling gates may still be given more placement constraints (KEP-3838, GA in
     * 1.30): keys added to its nodeSelector and requirements added to its required node affinity's
     * terms, as a queueing controller does before it lifts the gate. Nothing else of them may change,
     * with kube's messages; once the gates are gone, neither may be added to. Portway refused both.
     */
    @Test
    void aGatedPodMayGainNodeSelectorKeysAndNodeAffinityRequirements() {
        TestApi api = new TestApi();
        String a = "{key: a, operator: Exists}";
        String b = "{key: b, operator: Exists}";
        api.apply(gated("{a: b}", "[" + a + "]"));
        Pod p = (Pod) api.apply(gated("{a: b, c: d}", "[" + a + ", " + b + "]")).getFirst();
        assertThat(p.getSpec().getNodeSelector()).containsEntry("c", "d");
        assertThat(p.getSpec().getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms().getFirst().getMatchExpressions()).hasSize(2);

        assertThat(api.applyError(gated("{a: z, c: d}", "[" + a + ", " + b + "]"))).isEqualTo(INVALID
                + "spec.nodeSelector: Invalid value: {\"a\":\"z\",\"c\":\"d\"}: only additions to spec.nodeSelector are allowed"
                + " (no mutations or deletions)");
        assertThat(api.applyError(gated("{a: b, c: d}", "[" + b + "]"))).isEqualTo(INVALID
                + "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]: Invalid value: "
                + "{\"MatchExpressions\":[{\"Key\":\"b\",\"Operator\":\"Exists\",\"Values\":null}],\"MatchFields\":null}: "
                + "only additions are allowed (no mutations or deletions)");
        assertThat(api.applyError(gated("{a: b, c: d}", "[" + a + ", " + b + "]")
                .replace("- matchExpressions:", "- matchFields: [{key: metadata.name, operator: In, values: [n1]}]\n"
                        + "        - matchExpressions:"))).isEqualTo(INVALID
                + "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Invalid value: "
                + "[{\"MatchExpressions\":null,\"MatchFields\":[{\"Key\":\"metadata.name\",\"Operator\":\"In\",\"Values\":[\"n1\"]}]},"
                + "{\"MatchExpressions\":[{\"Key\":\"a\",\"Operator\":\"Exists\",\"Values\":null},"
                + "{\"Key\":\"b\",\"Operator\":\"Exists\",\"Values\":null}],\"MatchFields\":null}]: "
                + "no additions/deletions to non-empty NodeSelectorTerms list are allowed");

        // the gate lifted, the constraints are fixed again
        String ungated = gated("{a: b, c: d}", "[" + a + ", " + b + "]").replace("  schedulingGates: [{name: example.com/quota}]\n", "");
        api.apply(ungated);
        assertThat(api.applyError(ungated.replace("{a: b, c: d}", "{a: b, c: d, e: f}")))
                .startsWith(INVALID + "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`");
    }
}
