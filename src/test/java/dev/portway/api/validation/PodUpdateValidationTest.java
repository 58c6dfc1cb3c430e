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
}
