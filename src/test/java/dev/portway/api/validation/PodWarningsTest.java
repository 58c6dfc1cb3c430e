package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The warnings kube-apiserver returns with an accepted pod or pod template (pkg/api/pod's
 * {@code GetWarningsForPod}, in its order and words), computed on the object as stored.
 */
class PodWarningsTest {

    private static final String HIDES = "hides previous definition of \"MODE\", which may be dropped when using apply";

    @Test
    void aPodWithEveryKindOfMistakeIsAcceptedWithKubeApiserversWarnings() {
        HasMetadata pod = new TestApi().apply("""
                apiVersion: v1
                kind: Pod
                metadata:
                  name: web.1
                  annotations: {scheduler.alpha.kubernetes.io/critical-pod: ""}
                spec:
                  nodeSelector: {beta.kubernetes.io/os: linux}
                  affinity:
                    nodeAffinity:
                      preferredDuringSchedulingIgnoredDuringExecution:
                      - weight: 1
                        preference:
                          matchExpressions: [{key: failure-domain.beta.kubernetes.io/zone, operator: In, values: ["any string at all"]}]
                    podAntiAffinity:
                      requiredDuringSchedulingIgnoredDuringExecution:
                      - topologyKey: kubernetes.io/hostname
                  topologySpreadConstraints:
                  - {maxSkew: 1, topologyKey: beta.kubernetes.io/arch, whenUnsatisfiable: ScheduleAnyway}
                  hostAliases:
                  - {ip: 127.0.0.9, hostnames: [a]}
                  - {ip: 127.0.0.9, hostnames: [b]}
                  imagePullSecrets: [{name: regcred}, {name: regcred}]
                  containers:
                  - name: app
                    image: portway/echo
                    resources:
                      limits: {memory: 1500m}
                    env:
                    - {name: MODE, value: a}
                    - {name: MODE, value: b}
                    - {name: MODE, value: "$(MODE)-c"}
                    ports:
                    - {containerPort: 8080}
                    - {containerPort: 8080, hostPort: 18080}
                    - {containerPort: 9090, hostIP: 127.0.0.1}
                """).getFirst();
        assertThat(PodWarnings.onWrite(pod, null)).containsExactly(
                "metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: "
                        + "[must not contain dots]",
                "spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use \"kubernetes.io/os\" instead",
                "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].key: "
                        + "failure-domain.beta.kubernetes.io/zone is deprecated since v1.17; use \"topology.kubernetes.io/zone\" instead",
                "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values[0]: "
                        + "any string at all is invalid, a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
                        + "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex "
                        + "used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                "spec.topologySpreadConstraints[0].topologyKey: beta.kubernetes.io/arch is deprecated since v1.14; use \"kubernetes.io/arch\" instead",
                "spec.topologySpreadConstraints[0].labelSelector: a null labelSelector results in matching no pod",
                "metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]: non-functional in v1.16+; use the \"priorityClassName\" field instead",
                "spec.hostAliases[1].ip: duplicate ip \"127.0.0.9\"",
                "spec.imagePullSecrets[1].name: duplicate name \"regcred\"",
                "spec.containers[0].resources.limits[memory]: fractional byte value \"1500m\" is invalid, must be an integer",
                // the request is defaulted from the limit before the warnings are made, as in kube-apiserver
                "spec.containers[0].resources.requests[memory]: fractional byte value \"1500m\" is invalid, must be an integer",
                "spec.containers[0].env[1]: " + HIDES,
                "spec.containers[0].ports[1]: overlapping port definition with spec.containers[0].ports[0]",
                "spec.containers[0].ports[2]: hostIP set without hostPort: {Name: HostPort:0 ContainerPort:9090 Protocol:TCP HostIP:127.0.0.1}",
                "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector: "
                        + "a null labelSelector results in matching no pod");
        assertThat(PodWarnings.onWrite(pod, pod)).as("a pod's update: none").isEmpty();
    }

    /** A Deployment's template is warned of at spec.template, and again on an update only when its spec changed (its generation moved). */
    @Test
    void aTemplatesWarningsAreAtItsPath() {
        TestApi api = new TestApi();
        String yaml = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata:
                      labels: {app: web}
                      annotations: {container.apparmor.security.beta.kubernetes.io/app: runtime/default}
                    spec:
                      nodeSelector: {failure-domain.beta.kubernetes.io/region: west}
                      containers: [{name: app, image: portway/echo}]
                      volumes: [{name: repo, gitRepo: {repository: "https://example.com/repo.git"}}]
                """;
        HasMetadata first = api.apply(yaml).getFirst();
        List<String> warnings = PodWarnings.onWrite(first, null);
        assertThat(warnings).containsExactly(
                "spec.template.spec.nodeSelector[failure-domain.beta.kubernetes.io/region]: deprecated since v1.17; "
                        + "use \"topology.kubernetes.io/region\" instead",
                "spec.template.spec.volumes[0].gitRepo: deprecated in v1.11",
                "spec.template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]: deprecated since v1.30; "
                        + "use the \"appArmorProfile\" field instead");
        HasMetadata labelled = api.apply(yaml.replace("metadata: {name: web}", "metadata: {name: web, labels: {team: a}}")).getFirst();
        assertThat(PodWarnings.onWrite(labelled, first)).as("the spec did not change").isEmpty();
        HasMetadata scaled = api.apply(yaml.replace("spec:\n  selector", "spec:\n  replicas: 3\n  selector")).getFirst();
        assertThat(PodWarnings.onWrite(scaled, labelled)).isEqualTo(warnings);
    }
}
