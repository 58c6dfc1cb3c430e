package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.ResourceKind;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Portway's own apply of an object applied before merges as {@code kubectl apply} does (three
 * ways, in the spec): what the manifest names is set, what the last applied manifest named and
 * this one does not is removed, and what neither named (set by an admission step, a controller
 * or a scale) stays as it is.
 */
class ApplyAgainTest {

    private static final String POD = """
            apiVersion: v1
            kind: Pod
            metadata: {name: solo}
            spec:
              containers:
              - name: main
                image: portway/echo
            """;

    /** A Deployment "web" of {@code containers} (the list's YAML lines, as under {@code containers:}). */
    private static String deployment(String containers) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                """ + containers.stripIndent().indent(6);
    }

    private static ApiServer.Applied applyAgain(TestApi api, String yaml) {
        return api.api().apply(TestApi.decode(yaml), "default", false).getFirst();
    }

    /**
     * An unchanged Pod manifest applied again is unchanged, where it was refused ("pod updates may
     * not change fields other than..."): the replacement lacked the tolerations and service
     * account admission gave the Pod. An image change goes through and keeps them.
     */
    @Test
    void anUnchangedPodManifestAppliedAgainIsUnchanged() {
        TestApi api = new TestApi();
        Pod created = (Pod) api.apply(POD).getFirst();
        assertThat(created.getSpec().getTolerations()).hasSize(2);
        assertThat(applyAgain(api, POD).action()).isEqualTo(ApiServer.Action.UNCHANGED);

        ApiServer.Applied changed = applyAgain(api, POD.replace("portway/echo", "portway/echo:2"));
        assertThat(changed.action()).isEqualTo(ApiServer.Action.CONFIGURED);
        Pod pod = (Pod) changed.object();
        assertThat(pod.getSpec().getContainers().getFirst().getImage()).isEqualTo("portway/echo:2");
        assertThat(pod.getSpec().getTolerations()).isEqualTo(created.getSpec().getTolerations());
        assertThat(pod.getSpec().getServiceAccountName()).isEqualTo("default");
    }

    /**
     * A Deployment switched to {@code Recreate} loses the {@code rollingUpdate} its defaults gave
     * it ({@code strategy} keeps only the keys the manifest names: kubectl's retainKeys); it was
     * refused ("may not be specified when strategy `type` is 'Recreate'").
     */
    @Test
    void aDeploymentSwitchedToRecreateLosesItsRollingUpdate() {
        TestApi api = new TestApi();
        String deployment = deployment("- {name: main, image: portway/echo}");
        Deployment first = (Deployment) api.apply(deployment).getFirst();
        assertThat(first.getSpec().getStrategy().getRollingUpdate()).isNotNull();
        Deployment recreated = (Deployment) applyAgain(api, deployment.replace("spec:\n  selector", "spec:\n  strategy: {type: Recreate}\n  selector"))
                .object();
        assertThat(recreated.getSpec().getStrategy().getType()).isEqualTo("Recreate");
        assertThat(recreated.getSpec().getStrategy().getRollingUpdate()).isNull();
    }

    /**
     * A Deployment scaled after its apply keeps its scale when a manifest without {@code replicas}
     * is applied again (it went back to 1); a field the last manifest had and this one drops is
     * removed (an environment variable), and a container this one drops goes.
     */
    @Test
    void whatNoManifestNamedStaysAndWhatTheLastOneNamedGoes() {
        TestApi api = new TestApi();
        String deployment = deployment("""
                - name: main
                  image: portway/echo
                  env: [{name: MODE, value: fast}, {name: DEBUG, value: "1"}]
                - name: side
                  image: portway/echo
                """);
        api.apply(deployment);
        api.api().scale(ResourceKind.DEPLOYMENT, "default", "web", 5, null, WriteOptions.DEFAULT);

        Deployment again = (Deployment) applyAgain(api, deployment
                .replace(", {name: DEBUG, value: \"1\"}", "")
                .replace("      - name: side\n        image: portway/echo\n", "")).object();
        assertThat(again.getSpec().getReplicas()).as("the scale, which no manifest named").isEqualTo(5);
        var containers = again.getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).extracting(c -> c.getName()).containsExactly("main");
        assertThat(containers.getFirst().getEnv()).extracting(e -> e.getName()).isEqualTo(List.of("MODE"));
    }

    /** A last-applied annotation that is no manifest (anyone may write it) is the request's fault, as kubectl refuses it, not a server error. */
    @Test
    void aLastAppliedAnnotationThatIsNoManifestIsABadRequest() {
        TestApi api = new TestApi();
        String configMap = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: c}
                data: {a: "1"}
                """;
        api.apply(configMap);
        io.fabric8.kubernetes.api.model.ConfigMap live = dev.portway.api.Json.copy((io.fabric8.kubernetes.api.model.ConfigMap)
                api.api().store().get(ResourceKind.CONFIG_MAP, "default", "c").orElseThrow());
        live.getMetadata().getAnnotations().put(ApiServer.LAST_APPLIED, "not json");
        api.api().update(live, "default");
        assertThat(api.applyError(configMap)).contains("annotation of c is not a JSON object");
        // empty, or null: none, as kubectl takes them
        for (String none : List.of("", "null")) {
            io.fabric8.kubernetes.api.model.ConfigMap again = dev.portway.api.Json.copy((io.fabric8.kubernetes.api.model.ConfigMap)
                    api.api().store().get(ResourceKind.CONFIG_MAP, "default", "c").orElseThrow());
            again.getMetadata().getAnnotations().put(ApiServer.LAST_APPLIED, none);
            api.api().update(again, "default");
            api.apply(configMap);
        }
    }
}
