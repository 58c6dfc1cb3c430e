package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.store.Store;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * kube-scheduler's filters as the Scheduler applies them: taints and tolerations, cordons, node
 * affinity, pod affinity and anti-affinity, topology spread and scheduling gates, each pod that
 * cannot go anywhere Pending in kube-scheduler's words (1.34).
 */
class SchedulingFiltersTest {

    private final ControlPlane control = new ControlPlane(new Store(), ClusterConfig.local(), new Random(5));
    private final Scheduler scheduler;

    SchedulingFiltersTest() {
        TestApi.apply(control, List.of(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build(),
                new NamespaceBuilder().withNewMetadata().withName("other").withLabels(Map.of("team", "blue")).endMetadata().build()));
        scheduler = control.call(() -> new Scheduler(control));
    }

    @AfterEach
    void close() {
        control.close();
    }

    private static HasMetadata node(String name, Map<String, String> labels, List<Taint> taints, boolean cordoned) {
        return new NodeBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata()
                .withNewSpec().withTaints(taints).withUnschedulable(cordoned ? true : null).endSpec()
                .withNewStatus().addNewCondition().withType("Ready").withStatus("True").endCondition()
                .withAllocatable(Map.of("pods", new Quantity("110"))).endStatus().build();
    }

    private static HasMetadata node(String name, String zone) {
        return node(name, Map.of("kubernetes.io/hostname", name, "topology.kubernetes.io/zone", zone), List.of(), false);
    }

    private void apply(List<HasMetadata> objects) {
        TestApi.apply(control, new ArrayList<>(objects));
    }

    private void apply(String yaml) {
        TestApi.apply(control, TestApi.decode(yaml));
    }

    /** A pod named {@code name} with {@code labels} and {@code spec} (YAML under spec; a sleeping container unless it has its own). */
    private static String pod(String name, String labels, String spec) {
        String containers = spec.contains("containers:") ? "" : "containers:\n- {name: main, image: busybox, command: [sleep, '600']}\n";
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  labels: %s
                spec:
                %s
                ---
                """.formatted(name, labels, (spec.stripTrailing() + "\n" + containers).strip().indent(2).stripTrailing());
    }

    private void schedule() {
        control.call(() -> {
            scheduler.reconcile();
            return null;
        });
        control.awaitIdle();
    }

    private Pod stored(String name) {
        return control.store().get(Pod.class, "default", name).orElseThrow();
    }

    private String nodeOf(String name) {
        return stored(name).getSpec().getNodeName();
    }

    private PodCondition scheduled(String name) {
        return stored(name).getStatus().getConditions().stream().filter(c -> c.getType().equals("PodScheduled")).findFirst().orElseThrow();
    }

    @Test
    void aTaintKeepsOutThePodsThatDoNotTolerateIt() {
        Taint gpu = new TaintBuilder().withKey("gpu").withValue("yes").withEffect("NoSchedule").build();
        Taint drain = new TaintBuilder().withKey("drain").withEffect("NoExecute").build();
        Taint soft = new TaintBuilder().withKey("soft").withEffect("PreferNoSchedule").build();
        apply(List.of(node("gpu", Map.of(), List.of(gpu), false), node("draining", Map.of(), List.of(drain), false),
                node("cordoned", Map.of(), List.of(), true), node("soft", Map.of(), List.of(soft), false)));
        apply(pod("plain", "{}", "nodeSelector: {}")
                + pod("tolerant", "{}", """
                        tolerations:
                        - {key: gpu, operator: Equal, value: 'yes', effect: NoSchedule}
                        affinity:
                          nodeAffinity:
                            requiredDuringSchedulingIgnoredDuringExecution:
                              nodeSelectorTerms:
                              - matchFields: [{key: metadata.name, operator: In, values: [gpu]}]
                              - matchFields: [{key: metadata.name, operator: In, values: [draining]}]
                        """)
                + pod("wrong-value", "{}", """
                        tolerations: [{key: gpu, value: 'no', effect: NoSchedule}]
                        affinity:
                          nodeAffinity:
                            requiredDuringSchedulingIgnoredDuringExecution:
                              nodeSelectorTerms:
                              - matchFields: [{key: metadata.name, operator: In, values: [gpu]}]
                        """)
                + pod("everything", "{}", """
                        tolerations: [{operator: Exists}]
                        affinity:
                          nodeAffinity:
                            requiredDuringSchedulingIgnoredDuringExecution:
                              nodeSelectorTerms:
                              - matchFields: [{key: metadata.name, operator: In, values: [cordoned]}]
                        """));
        schedule();
        assertThat(nodeOf("plain")).as("a PreferNoSchedule taint only weighs in scores").isEqualTo("soft");
        assertThat(nodeOf("tolerant")).isEqualTo("gpu");
        assertThat(nodeOf("everything")).as("an empty key with Exists tolerates every taint, a cordon's too").isEqualTo("cordoned");
        assertThat(nodeOf("wrong-value")).isNull();
        assertThat(scheduled("wrong-value").getMessage()).isEqualTo("0/4 nodes are available: 1 node(s) had untolerated taint(s), "
                + "3 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/4 nodes are available: "
                + "4 Preemption is not helpful for scheduling.");
        // a pod that tolerates nothing, and wants a label no node has: each node says why in the first filter it fails
        apply(pod("picky", "{}", """
                affinity:
                  nodeAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                      nodeSelectorTerms:
                      - matchExpressions: [{key: kubernetes.io/hostname, operator: Exists}]
                """));
        schedule();
        assertThat(scheduled("picky").getMessage()).isEqualTo("0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                + "1 node(s) were unschedulable, 2 node(s) had untolerated taint(s). preemption: 0/4 nodes are available: "
                + "4 Preemption is not helpful for scheduling.");
    }

    @Test
    void requiredNodeAffinityPicksTheNodesItsTermsDescribe() {
        apply(List.of(node("small", Map.of("cores", "2", "disk", "hdd"), List.of(), false),
                node("big", Map.of("cores", "16", "disk", "ssd"), List.of(), false),
                node("bare", Map.of(), List.of(), false)));
        apply(pod("fast", "{}", """
                affinity:
                  nodeAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                      nodeSelectorTerms:
                      - matchExpressions: [{key: cores, operator: Gt, values: ['4']}, {key: disk, operator: NotIn, values: [hdd]}]
                """)
                + pod("either", "{}", """
                        affinity:
                          nodeAffinity:
                            requiredDuringSchedulingIgnoredDuringExecution:
                              nodeSelectorTerms:
                              - matchExpressions: [{key: cores, operator: Lt, values: ['4']}]
                              - matchExpressions: [{key: disk, operator: DoesNotExist}]
                        """)
                + pod("nowhere", "{}", """
                        nodeSelector: {disk: ssd}
                        affinity:
                          nodeAffinity:
                            requiredDuringSchedulingIgnoredDuringExecution:
                              nodeSelectorTerms:
                              - matchExpressions: [{key: cores, operator: In, values: ['2']}]
                        """));
        schedule();
        assertThat(nodeOf("fast")).isEqualTo("big");
        assertThat(nodeOf("either")).isIn("small", "bare");
        assertThat(nodeOf("nowhere")).as("nodeSelector and the terms must both match").isNull();
        assertThat(scheduled("nowhere").getMessage()).startsWith("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
    }

    @Test
    void requiredAntiAffinitySpreadsReplicasOneANodeAndTheRestWait() {
        apply(List.of(node("a", "z1"), node("b", "z2")));
        String spec = """
                affinity:
                  podAntiAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                    - labelSelector: {matchLabels: {app: web}}
                      topologyKey: kubernetes.io/hostname
                """;
        apply(pod("web-1", "{app: web}", spec) + pod("web-2", "{app: web}", spec) + pod("web-3", "{app: web}", spec));
        schedule();
        assertThat(List.of(nodeOf("web-1"), nodeOf("web-2"))).containsExactlyInAnyOrder("a", "b");
        assertThat(nodeOf("web-3")).isNull();
        assertThat(scheduled("web-3").getMessage()).isEqualTo("0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. "
                + "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.");
        // a pod the running ones' anti-affinity names is kept off their nodes too, though it says nothing itself
        apply(pod("intruder", "{app: web}", ""));
        schedule();
        assertThat(scheduled("intruder").getMessage()).startsWith("0/2 nodes are available: 2 node(s) didn't satisfy existing pods "
                + "anti-affinity rules.");
        List<String> failed = control.store().list(Event.class).stream().filter(e -> "FailedScheduling".equals(e.getReason()))
                .map(e -> e.getInvolvedObject().getName()).sorted().toList();
        assertThat(failed).containsExactly("intruder", "web-3");
    }

    @Test
    void requiredAffinityFollowsItsGroupAndTheFirstOfAGroupMayStartIt() {
        apply(List.of(node("a", "z1"), node("b", "z2"), node("c", "z2")));
        String together = """
                affinity:
                  podAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                    - labelSelector: {matchLabels: {app: cache}}
                      topologyKey: topology.kubernetes.io/zone
                """;
        apply(pod("cache-1", "{app: cache}", together));
        schedule();
        String zone = nodeOf("cache-1").equals("a") ? "z1" : "z2";
        apply(pod("cache-2", "{app: cache}", together) + pod("cache-3", "{app: cache}", together));
        schedule();
        for (String p : List.of("cache-2", "cache-3")) {
            String node = nodeOf(p);
            assertThat(node.equals("a") ? "z1" : "z2").as(p + " on " + node).isEqualTo(zone);
        }
        // a pod that wants a group none of whose pods exists, and is not of it, waits
        apply(pod("lonely", "{app: client}", together.replace("app: cache", "app: db")));
        schedule();
        assertThat(scheduled("lonely").getMessage()).startsWith("0/3 nodes are available: 3 node(s) didn't match pod affinity rules.");
        // another namespace's pods count only when the term names it
        apply(pod("nearby", "{app: x}", """
                affinity:
                  podAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                    - labelSelector: {matchLabels: {app: remote}}
                      namespaceSelector: {matchLabels: {team: blue}}
                      topologyKey: topology.kubernetes.io/zone
                """));
        schedule();
        assertThat(nodeOf("nearby")).isNull();
        TestApi.apply(control, TestApi.decode(pod("remote", "{app: remote}", "nodeName: c").replace("name: remote", "name: remote\n  namespace: other")));
        schedule();
        assertThat(nodeOf("nearby")).isIn("b", "c");
    }

    @Test
    void topologySpreadKeepsTheSkewOfDoNotScheduleConstraints() {
        apply(List.of(node("a", "z1"), node("b", "z2"), node("c", "z2"),
                node("unlabelled", Map.of(), List.of(), false)));
        String spread = """
                topologySpreadConstraints:
                - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: api}}}
                """;
        StringBuilder pods = new StringBuilder();
        for (int i = 1; i <= 4; i++) {
            pods.append(pod("api-" + i, "{app: api}", spread));
        }
        apply(pods.toString());
        schedule();
        long z1 = 0;
        for (int i = 1; i <= 4; i++) {
            String node = nodeOf("api-" + i);
            assertThat(node).isNotNull().isNotEqualTo("unlabelled");
            z1 += node.equals("a") ? 1 : 0;
        }
        assertThat(z1).as("two in each zone").isEqualTo(2);
        // with its node affinity honoured (the default), a pod held to z2 counts z2 alone: no skew
        apply(pod("api-5", "{app: api}", spread + "nodeSelector: {topology.kubernetes.io/zone: z2}"));
        schedule();
        assertThat(nodeOf("api-5")).isIn("b", "c");
        // with it ignored, z1 counts too: z2 holds 3 against z1's 2, and a 4th there is a skew of 2
        apply(pod("api-6", "{app: api}", spread.replace("maxSkew: 1", "maxSkew: 1, nodeAffinityPolicy: Ignore")
                + "nodeSelector: {topology.kubernetes.io/zone: z2}"));
        schedule();
        assertThat(nodeOf("api-6")).isNull();
        assertThat(scheduled("api-6").getMessage()).isEqualTo("0/4 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, "
                + "2 node(s) didn't match pod topology spread constraints. preemption: 0/4 nodes are available: "
                + "2 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.");
        // an empty selector counts no pod (countPodsMatchSelector): where api-6 could not go, this one can
        apply(pod("any-1", "{app: api}", spread.replace("labelSelector: {matchLabels: {app: api}}", "labelSelector: {}")
                .replace("maxSkew: 1", "maxSkew: 1, nodeAffinityPolicy: Ignore") + "nodeSelector: {topology.kubernetes.io/zone: z2}"));
        schedule();
        assertThat(nodeOf("any-1")).isIn("b", "c");
        // a node without the constraint's key is never a place for the pod
        apply(pod("api-7", "{app: other}", spread.replace("app: api", "app: other")
                + "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n"
                + "      - matchFields: [{key: metadata.name, operator: In, values: [unlabelled]}]\n"));
        schedule();
        assertThat(scheduled("api-7").getMessage()).startsWith("0/4 nodes are available: 1 node(s) didn't match pod topology spread "
                + "constraints (missing required label), 3 node(s) didn't satisfy plugin(s) [NodeAffinity].");
    }

    @Test
    void aGatedPodWaitsUnattemptedUntilItsGatesAreGone() {
        apply(List.of(node("a", "z1")));
        apply(pod("gated", "{}", "schedulingGates: [{name: example.com/quota}]"));
        schedule();
        assertThat(nodeOf("gated")).isNull();
        PodCondition condition = scheduled("gated");
        assertThat(condition.getStatus()).isEqualTo("False");
        assertThat(condition.getReason()).isEqualTo("SchedulingGated");
        assertThat(condition.getMessage()).isEqualTo("Scheduling is blocked due to non-empty scheduling gates");
        assertThat(control.store().list(Event.class)).as("no attempt, so no FailedScheduling").isEmpty();
        assertThat(new dev.portway.api.print.Tables(java.time.Clock.systemUTC()).printed(stored("gated"), false).get(2))
                .as("kubectl get pods' STATUS").isEqualTo("SchedulingGated");
        Pod ungated = stored("gated");
        ungated.getSpec().setSchedulingGates(List.of());
        control.call(() -> control.api().update(ungated, "default"));
        schedule();
        assertThat(nodeOf("gated")).isEqualTo("a");
        assertThat(scheduled("gated").getStatus()).isEqualTo("True");
    }

    /** MatchLabelKeysInPodAffinity and the topology spread selector merge: the pod's own values join the selectors at create. */
    @Test
    void matchLabelKeysAreMergedIntoTheSelectorsWhenThePodIsCreated() {
        apply(pod("merged", "{app: web, pod-template-hash: abc, tier: front}", """
                affinity:
                  podAntiAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                    - labelSelector: {matchLabels: {app: web}}
                      topologyKey: kubernetes.io/hostname
                      matchLabelKeys: [pod-template-hash, absent]
                      mismatchLabelKeys: [tier]
                topologySpreadConstraints:
                - maxSkew: 1
                  topologyKey: kubernetes.io/hostname
                  whenUnsatisfiable: ScheduleAnyway
                  labelSelector: {matchLabels: {app: web}}
                  matchLabelKeys: [pod-template-hash]
                """));
        Pod pod = stored("merged");
        var term = pod.getSpec().getAffinity().getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution().getFirst();
        assertThat(term.getLabelSelector().getMatchExpressions()).extracting(r -> r.getKey() + " " + r.getOperator() + " " + r.getValues())
                .containsExactly("pod-template-hash In [abc]", "tier NotIn [front]");
        assertThat(pod.getSpec().getTopologySpreadConstraints().getFirst().getLabelSelector().getMatchExpressions())
                .extracting(r -> r.getKey() + " " + r.getOperator() + " " + r.getValues()).containsExactly("pod-template-hash In [abc]");
    }

    /** NodePorts: two pods cannot have one host port on a node (0.0.0.0, an unset hostIP, takes it on every address). */
    @Test
    void aHostPortGoesToOnePodANode() {
        apply(List.of(node("a", "z1"), node("b", "z2")));
        String port = """
                containers:
                - name: main
                  image: busybox
                  command: [sleep, '600']
                  ports: [{containerPort: 8080, hostPort: 80}]
                """;
        apply(pod("web-1", "{}", port)
                + pod("web-2", "{}", port)
                + pod("web-3", "{}", port)
                + pod("udp", "{}", port.replace("hostPort: 80}", "hostPort: 80, protocol: UDP}"))
                        );
        schedule();
        assertThat(List.of(nodeOf("web-1"), nodeOf("web-2"))).containsExactlyInAnyOrder("a", "b");
        assertThat(nodeOf("udp")).as("another protocol is another port").isNotNull();
        assertThat(nodeOf("web-3")).isNull();
        assertThat(scheduled("web-3").getMessage()).isEqualTo("0/2 nodes are available: 2 node(s) didn't have free ports for the "
                + "requested pod ports. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.");
    }
}
