package dev.portway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.cli.CliDriver;
import dev.portway.testing.Kubectl;
import dev.portway.testing.TestCluster;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real kubectl against {@code portway up}, as a user drives it: {@code up} runs in a JVM of
 * its own (Portway's main class, as the launcher runs it), writes its kubeconfig, and every step
 * here is a kubectl command through that kubeconfig, checked the way a user reads its output.
 * The steps build on each other, in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubectlTest {

    @TempDir
    static Path dir;

    private static Process up;
    private static Path kubeconfig;
    private static Kubectl kubectl;
    private static Path app;
    private static String clusterIp;

    @BeforeAll
    static void portwayUp() throws Exception {
        Kubectl.requireInstalled();
        Path state = dir.resolve("xdg").resolve("portway"); // where up keeps its state by default, with XDG_STATE_HOME=dir/xdg
        Path empty = dir.resolve("empty.yaml");
        Files.writeString(empty, """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: sandbox
                """);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.portway.cli.Main",
                "up", "-f", empty.toString(), "--state-dir", state.toString(), "--admin-address", "127.0.0.1:0",
                // addresses of this JVM's own, so the test runs beside another portway up
                "--node-addresses", "127.0." + TestCluster.BLOCK + ".0/24", "--pod-addresses", "127." + TestCluster.BLOCK + ".0.0/16",
                "--default-pool", TestCluster.POOL));
        up = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("up.log").toFile()).start();
        kubeconfig = state.resolve("kubeconfig");
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            if (!up.isAlive()) {
                throw new AssertionError("portway up exited:\n" + Files.readString(dir.resolve("up.log")));
            }
            return Files.readString(dir.resolve("up.log")).contains("kubectl: export KUBECONFIG=" + kubeconfig);
        });
        kubectl = new Kubectl(kubeconfig, dir.resolve("home"));
        app = dir.resolve("app.yaml");
        Files.copy(resource("/examples/seed/app.yaml"), app);
    }

    @AfterAll
    static void portwayDown() throws Exception {
        if (up != null) {
            up.destroy(); // SIGTERM: portway up stops its pods and exits
            if (!up.waitFor(20, TimeUnit.SECONDS)) {
                up.destroyForcibly();
            }
        }
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(KubectlTest.class.getResource(name).toURI());
    }

    @Test
    @Order(1)
    void applyCreatesTheBuiltInExample() {
        assertThat(kubectl.run("apply", "-f", app.toString()).ok())
                .isEqualTo("deployment.apps/my-app created\nservice/my-service created\nservice/my-service-lb created\n");
    }

    @Test
    @Order(2)
    void getSvcPrintsTheServerSideTable() {
        String table = kubectl.run("get", "svc").ok();
        assertThat(table.lines().findFirst().orElseThrow())
                .matches("NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\\(S\\) +AGE");
        assertThat(table).containsPattern("(?m)^my-service +NodePort +127\\.2\\.\\d+\\.\\d+ +<none> +80:30007/TCP +\\d+s$");
        assertThat(table).containsPattern("(?m)^my-service-lb +LoadBalancer +127\\.2\\.\\d+\\.\\d+ +\\S+ +80:3\\d{4}/TCP +\\d+s$");
        String wide = kubectl.run("get", "svc", "my-service", "-o", "wide").ok();
        assertThat(wide).containsPattern("SELECTOR\\n").contains("app=MyApp");
        clusterIp = kubectl.run("get", "svc", "my-service", "-o", "jsonpath={.spec.clusterIP}").ok();
        assertThat(clusterIp).startsWith("127.2.");
    }

    @Test
    @Order(3)
    void jsonpathShowsTheLoadBalancerAddress() {
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(kubectl.run("get", "svc", "my-service-lb", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}").ok())
                        .isEqualTo(TestCluster.poolIp(1)));
    }

    @Test
    @Order(4)
    void describeSvcShowsTheNodePortAndEndpoints() {
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(kubectl.run("get", "deploy", "my-app").ok()).containsPattern("my-app +4/4 +4 +4 "));
        String described = kubectl.run("describe", "svc", "my-service").ok();
        assertThat(described).startsWith("Name:                     my-service\nNamespace:                default\n")
                .contains("Type:                     NodePort\n")
                .contains("IP:                       " + clusterIp + "\n")
                .contains("NodePort:                 <unset>  30007/TCP\n")
                .containsPattern("Endpoints: +127\\." + TestCluster.BLOCK + "\\.\\d+\\.\\d+:8080,")
                .endsWith("Events:                   <none>\n");
    }

    @Test
    @Order(5)
    void portwaysOwnCliFindsTheClusterWithNoFlags() throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.portway.cli.Main", "get", "svc", "my-service");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("KUBECONFIG");
        pb.environment().remove("PORTWAY_SERVER");
        pb.environment().put("XDG_STATE_HOME", dir.resolve("xdg").toString());
        Process get = pb.start();
        String out = new String(get.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(get.waitFor()).as(out).isZero();
        assertThat(out).containsPattern("(?m)^my-service +NodePort +127\\.2\\.");
    }

    /**
     * The API server refuses a client's TLS 1.2 renegotiation (a handshake's CPU, as often as the
     * client likes). Tested against {@code portway up} in a JVM of its own, because the JDK reads
     * its switch once, at the process's first server handshake.
     */
    @Test
    @Order(5)
    void theApiServerRefusesATls12Renegotiation() throws Exception {
        com.fasterxml.jackson.databind.JsonNode cluster = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(kubeconfig.toFile()).path("clusters").get(0).path("cluster");
        java.net.URI server = java.net.URI.create(cluster.path("server").asText());
        var ca = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(
                new java.io.ByteArrayInputStream(java.util.Base64.getDecoder().decode(cluster.path("certificate-authority-data").asText())));
        byte[] version = ("GET /version HTTP/1.1\r\nHost: " + server.getAuthority() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        try (var socket = (javax.net.ssl.SSLSocket) dev.portway.testing.AdminHttp.trusting(ca).getSocketFactory()
                .createSocket(server.getHost(), server.getPort())) {
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(version);
            assertThat(answerHead(socket)).startsWith("HTTP/1.1 200 ");
            String afterRenegotiating;
            try {
                socket.startHandshake(); // a second handshake on the established session
                socket.getOutputStream().write(version);
                afterRenegotiating = answerHead(socket);
            } catch (IOException refused) {
                afterRenegotiating = refused.toString();
            }
            assertThat(afterRenegotiating).doesNotStartWith("HTTP/1.1");
        }
    }

    /** An answer's head, its body read past by its Content-Length; empty at the end of the stream. */
    private static String answerHead(javax.net.ssl.SSLSocket socket) throws IOException {
        var in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return head.toString();
            }
            head.append((char) b);
        }
        java.util.regex.Matcher length = Pattern.compile("(?im)^content-length: *(\\d+)").matcher(head);
        if (length.find()) {
            in.readNBytes(Integer.parseInt(length.group(1)));
        }
        return head.toString();
    }

    @Test
    @Order(5)
    void portwayGetPrintsWhatKubectlGetPrints() {
        // the same server, the same columns (Tables serves kubectl's tables and prints Portway's):
        // ages tick between the two runs, so each pair is taken again until both fall in one second
        for (String type : List.of("svc", "deploy", "rs", "pods", "nodes", "ns", "endpointslices", "cm", "ipaddresspools")) {
            for (String[] flags : List.of(new String[] {}, new String[] {"-o", "wide"}, new String[] {"-A"})) {
                List<String> args = new ArrayList<>(List.of("get", type));
                args.addAll(List.of(flags));
                assertPortwayPrintsWhatKubectlPrints(args.toArray(String[]::new));
            }
        }
    }

    /**
     * kubectl lists in chunks ({@code limit}, 500 by default) and follows the {@code continue} token
     * of each; one at a time it asks once per pod, and lists what one request lists.
     */
    @Test
    @Order(5)
    void getInChunksOfOneFollowsTheContinueTokens() {
        String whole = kubectl.run("get", "pods", "-A", "--chunk-size=0", "-o", "name").ok();
        assertThat(whole.lines()).hasSizeGreaterThanOrEqualTo(4);
        Kubectl.Result chunked = kubectl.run("get", "pods", "-A", "--chunk-size=1", "-o", "name", "-v=6");
        assertThat(chunked.ok()).isEqualTo(whole);
        // -v=6 logs each request: one per pod and a last one, each after the first with the token of the one before
        assertThat(chunked.err().lines().filter(l -> l.contains("/api/v1/pods?") && l.contains("limit=1")))
                .hasSize((int) whole.lines().count())
                .allMatch(l -> l.contains("200 OK"));
        assertThat(chunked.err().lines().filter(l -> l.contains("/api/v1/pods?") && l.contains("continue=")))
                .hasSize((int) whole.lines().count() - 1);
    }

    /** Runs both until their outputs fall in one second (ages tick between the runs), then compares them. */
    private static void assertPortwayPrintsWhatKubectlPrints(String... args) {
        CliDriver portway = new CliDriver(java.time.Clock.systemUTC(), kubeconfig);
        String theirs = null;
        String ours = null;
        for (int attempt = 0; attempt < 6 && (theirs == null || !theirs.equals(ours)); attempt++) {
            theirs = kubectl.run(args).ok();
            ours = portway.run(args).out();
        }
        assertThat(ours).as("portway " + String.join(" ", args)).isEqualTo(theirs);
    }

    @Test
    @Order(6)
    void anEditedFileReappliedChangesTheServiceInPlace() throws IOException {
        Files.writeString(app, Files.readString(app).replace("    targetPort: 8080\n    nodePort: 30007",
                "    targetPort: 8080\n    nodePort: 30008"));
        assertThat(Files.readString(app)).contains("nodePort: 30008");
        assertThat(kubectl.run("apply", "-f", app.toString()).ok())
                .isEqualTo("deployment.apps/my-app unchanged\nservice/my-service configured\nservice/my-service-lb unchanged\n");
        assertThat(kubectl.run("get", "svc", "my-service", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].nodePort}").ok())
                .isEqualTo(clusterIp + " 30008");
        assertThat(kubectl.run("apply", "-f", app.toString()).ok()).contains("service/my-service unchanged");
    }

    @Test
    @Order(7)
    void theSeedsVerbatimYamlIsRefusedNamingSpecApp() throws Exception {
        Kubectl.Result r = kubectl.run("apply", "-f", resource("/seed/nodeport.yaml").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("strict decoding error: unknown field \"spec.app\"");
    }

    @Test
    @Order(8)
    void serverSideApplyCreatesThenDropsWhatTheManagerNoLongerApplies() throws IOException {
        Path ssa = dir.resolve("ssa.yaml");
        Files.writeString(ssa, """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                  labels: {team: a}
                data:
                  color: blue
                  size: large
                """);
        assertThat(kubectl.run("apply", "--server-side", "-f", ssa.toString()).ok()).isEqualTo("configmap/settings serverside-applied\n");
        Files.writeString(ssa, Files.readString(ssa).replace("  size: large\n", ""));
        assertThat(kubectl.run("apply", "--server-side", "-f", ssa.toString()).ok()).isEqualTo("configmap/settings serverside-applied\n");
        assertThat(kubectl.run("get", "cm", "settings", "-o", "jsonpath={.data}").ok()).isEqualTo("{\"color\":\"blue\"}");
        assertThat(kubectl.run("get", "cm", "settings", "-o", "jsonpath={.metadata.managedFields[0].manager}").ok()).isEqualTo("kubectl");
    }

    @Test
    @Order(9)
    void aWatchSeesADeletedPodGo() throws Exception {
        Path out = dir.resolve("watch.out");
        Process watch = kubectl.start(out, "get", "pods", "--watch", "--output-watch-events");
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.readString(out).lines().count() >= 5);
            String pod = Files.readString(out).lines().skip(1).findFirst().orElseThrow().split(" +")[1];
            assertThat(kubectl.run("delete", "pod", pod).ok()).isEqualTo("pod \"" + pod + "\" deleted\n");
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(Files.readString(out)).containsPattern("(?m)^DELETED +" + pod + " "));
        } finally {
            watch.destroy();
            watch.waitFor(5, TimeUnit.SECONDS);
        }
        // the ReplicaSet replaces it; rollout status follows the Deployment through a watch
        assertThat(kubectl.run("rollout", "status", "deployment/my-app", "--timeout=30s").ok())
                .isEqualTo("deployment \"my-app\" successfully rolled out\n");
    }

    @Test
    @Order(10)
    void createSubcommandsWriteInProtobuf() {
        // kubectl's typed clients send application/vnd.kubernetes.protobuf
        assertThat(kubectl.run("create", "namespace", "team-x").ok()).isEqualTo("namespace/team-x created\n");
        assertThat(kubectl.run("create", "configmap", "cm1", "-n", "team-x", "--from-literal=a=b").ok())
                .isEqualTo("configmap/cm1 created\n");
        assertThat(kubectl.run("create", "secret", "generic", "s1", "-n", "team-x", "--from-literal=pw=hunter2").ok())
                .isEqualTo("secret/s1 created\n");
        assertThat(kubectl.run("create", "deployment", "idle", "-n", "team-x", "--image=nginx", "--replicas=0").ok())
                .isEqualTo("deployment.apps/idle created\n");
        assertThat(kubectl.run("get", "cm", "cm1", "-n", "team-x", "-o", "jsonpath={.data.a}").ok()).isEqualTo("b");
        assertThat(kubectl.run("get", "secret", "s1", "-n", "team-x", "-o", "jsonpath={.data.pw}").ok()).isEqualTo("aHVudGVyMg==");
        assertThat(kubectl.run("get", "deploy", "idle", "-n", "team-x", "-o", "jsonpath={.spec.replicas}").ok()).isEqualTo("0");
        assertThat(kubectl.run("get", "ns", "team-x").ok()).containsPattern("team-x +Active ");
    }

    @Test
    @Order(11)
    void explainReadsTheOpenApiDocuments() {
        String explained = kubectl.run("explain", "service.spec.type").ok();
        assertThat(explained).startsWith("KIND:       Service\nVERSION:    v1\n\nFIELD: type <string>\n")
                .contains("type determines how the Service is exposed. Defaults to ClusterIP.");
        assertThat(kubectl.run("explain", "deployment.spec.replicas").ok()).contains("FIELD: replicas <integer>");
    }

    @Test
    @Order(11)
    void anAccessPolicyIsAppliedListedAndExplainedAsACustomResource() {
        String policy = """
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata: {name: stack-writes}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: prometheus}]
                  allowedMethods: [GET, HEAD]
                """;
        assertThat(kubectl.runWithInput(policy, "apply", "-f", "-").ok()).isEqualTo("accesspolicy.policy.portway.dev/stack-writes created\n");
        // a custom resource: kubectl's client-side apply sends a JSON merge patch
        assertThat(kubectl.runWithInput(policy.replace("[GET, HEAD]", "[GET]"), "apply", "-f", "-").ok())
                .isEqualTo("accesspolicy.policy.portway.dev/stack-writes configured\n");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(kubectl.run("get", "apol").ok())
                .containsPattern("(?m)^NAME +TARGETS +ACCEPTED +AGE\n").containsPattern("(?m)^stack-writes +HTTPRoute/prometheus +False +\\d+s$"));
        assertThat(kubectl.run("get", "accesspolicy", "stack-writes", "-o", "jsonpath={.status.conditions[0].reason}").ok())
                .isEqualTo("TargetNotFound");
        Kubectl.Result invalid = kubectl.runWithInput(policy.replace("[GET, HEAD]", "[get]"), "apply", "-f", "-");
        assertThat(invalid.exitCode()).isEqualTo(1);
        assertThat(invalid.err()).contains("spec.allowedMethods[0]: Invalid value: \"get\"");
        assertThat(kubectl.run("explain", "accesspolicy.spec.rateLimit.burst").ok())
                .startsWith("GROUP:      policy.portway.dev\nKIND:       AccessPolicy\nVERSION:    v1alpha1\n\nFIELD: burst <integer>\n")
                .contains("How many requests a client may make at once after being idle");
    }

    @Test
    @Order(11)
    void aReferenceGrantAppliesAtV1AndV1beta1AndIsListedAtThePreferredV1() {
        String grant = """
                apiVersion: gateway.networking.k8s.io/%s
                kind: ReferenceGrant
                metadata: {name: %s}
                spec:
                  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: team-x}]
                  to: [{group: "", kind: Service}]
                """;
        String atV1 = grant.formatted("v1", "from-v1");
        String atV1beta1 = grant.formatted("v1beta1", "from-v1beta1");
        assertThat(kubectl.runWithInput(atV1, "apply", "-f", "-").ok()).isEqualTo("referencegrant.gateway.networking.k8s.io/from-v1 created\n");
        assertThat(kubectl.runWithInput(atV1beta1, "apply", "-f", "-").ok())
                .isEqualTo("referencegrant.gateway.networking.k8s.io/from-v1beta1 created\n");
        // a re-apply reads the object at its manifest's version and patches it there
        assertThat(kubectl.runWithInput(atV1, "apply", "-f", "-").ok()).isEqualTo("referencegrant.gateway.networking.k8s.io/from-v1 unchanged\n");
        assertThat(kubectl.runWithInput(atV1beta1.replace("kind: Service}", "kind: Service, name: web}"), "apply", "-f", "-").ok())
                .isEqualTo("referencegrant.gateway.networking.k8s.io/from-v1beta1 configured\n");
        assertThat(kubectl.run("get", "referencegrants").ok())
                .containsPattern("(?m)^NAME +AGE$").containsPattern("(?m)^from-v1 +\\d+s$").containsPattern("(?m)^from-v1beta1 +\\d+s$");
        String yaml = kubectl.run("get", "referencegrants.v1.gateway.networking.k8s.io", "-o", "yaml").ok();
        assertThat(Pattern.compile("(?m)^- apiVersion: gateway\\.networking\\.k8s\\.io/v1\n  kind: ReferenceGrant$").matcher(yaml).results())
                .as(yaml).hasSize(2);
        assertThat(yaml).contains("    name: from-v1\n").contains("    name: from-v1beta1\n").contains("    name: web\n");
        assertThat(kubectl.run("get", "referencegrants.v1beta1.gateway.networking.k8s.io", "-o", "jsonpath={.items[*].apiVersion}").ok())
                .isEqualTo("gateway.networking.k8s.io/v1beta1 gateway.networking.k8s.io/v1beta1");
        assertThat(kubectl.run("api-resources", "--api-group=gateway.networking.k8s.io").ok())
                .containsPattern("(?m)^referencegrants +refgrant +gateway\\.networking\\.k8s\\.io/v1 +true +ReferenceGrant$");
        assertThat(kubectl.run("explain", "referencegrants").ok())
                .startsWith("GROUP:      gateway.networking.k8s.io\nKIND:       ReferenceGrant\nVERSION:    v1\n");
        assertPortwayPrintsWhatKubectlPrints("get", "refgrant");
    }

    @Test
    @Order(12)
    void deleteRemovesWhatTheFileNames() {
        assertThat(kubectl.run("delete", "-f", app.toString()).ok())
                .isEqualTo("deployment.apps \"my-app\" deleted\nservice \"my-service\" deleted\nservice \"my-service-lb\" deleted\n");
        Kubectl.Result svc = kubectl.run("get", "svc");
        assertThat(svc.out()).isEmpty();
        assertThat(svc.err()).isEqualTo("No resources found in default namespace.\n");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(kubectl.run("get", "pods").err()).isEqualTo("No resources found in default namespace.\n"));
    }

    /**
     * kubectl's scheduling verbs: a taint keeps a pod off its node, a cordon too, and a gated pod
     * waits, printed as kubectl prints it; untainting and uncordoning (a PATCH each) let them back.
     */
    @Test
    @Order(13)
    void taintCordonAndSchedulingGatesKeepPodsOffNodesAsKubeSchedulerDoes() {
        assertThat(kubectl.run("taint", "nodes", "node1", "dedicated=gpu:NoSchedule").ok()).isEqualTo("node/node1 tainted\n");
        assertThat(kubectl.run("-n", "sandbox", "run", "plain", "--image=portway/echo").ok()).isEqualTo("pod/plain created\n");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(kubectl.run("-n", "sandbox", "get", "pod", "plain", "-o", "jsonpath={.spec.nodeName}").ok()).isEqualTo("node2"));
        assertThat(kubectl.run("cordon", "node2").ok()).isEqualTo("node/node2 cordoned\n");
        assertThat(kubectl.run("-n", "sandbox", "run", "waiting", "--image=portway/echo").ok()).isEqualTo("pod/waiting created\n");
        assertThat(kubectl.run("-n", "sandbox", "run", "gated", "--image=portway/echo",
                "--overrides={\"spec\":{\"schedulingGates\":[{\"name\":\"example.com/quota\"}]}}").ok()).isEqualTo("pod/gated created\n");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(kubectl.run("-n", "sandbox", "get", "events",
                "--field-selector", "involvedObject.name=waiting", "-o", "jsonpath={.items[*].message}").ok())
                .isEqualTo("0/2 nodes are available: 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable. "
                        + "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."));
        assertThat(kubectl.run("-n", "sandbox", "get", "pod", "gated", "--no-headers").ok()).contains(" SchedulingGated ");
        assertThat(kubectl.run("taint", "nodes", "node1", "dedicated-").ok()).isEqualTo("node/node1 untainted\n");
        assertThat(kubectl.run("uncordon", "node2").ok()).isEqualTo("node/node2 uncordoned\n");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(kubectl.run("-n", "sandbox", "get", "pod", "waiting", "-o", "jsonpath={.spec.nodeName}").ok()).isNotEmpty());
        assertThat(kubectl.run("-n", "sandbox", "get", "pod", "gated", "-o", "jsonpath={.spec.nodeName}").ok()).isEmpty();
        assertThat(kubectl.run("-n", "sandbox", "delete", "pod", "plain", "waiting", "gated", "--grace-period=0").ok()).contains("deleted");
    }

    /** kube-apiserver's warnings on an accepted pod reach kubectl as Warning headers, which it prints to stderr. */
    @Test
    @Order(14)
    void theApiServersWarningsArePrintedByKubectl() {
        Kubectl.Result created = kubectl.runWithInput("""
                apiVersion: v1
                kind: Pod
                metadata: {name: warned, namespace: sandbox}
                spec:
                  nodeSelector: {beta.kubernetes.io/os: linux}
                  containers: [{name: app, image: portway/echo, env: [{name: A, value: one}, {name: A, value: two}]}]
                """, "apply", "-f", "-");
        assertThat(created.ok()).isEqualTo("pod/warned created\n");
        assertThat(created.err()).isEqualTo("Warning: spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; "
                + "use \"kubernetes.io/os\" instead\n"
                + "Warning: spec.containers[0].env[1]: hides previous definition of \"A\", which may be dropped when using apply\n");
        assertThat(kubectl.run("-n", "sandbox", "delete", "pod", "warned", "--grace-period=0").ok()).contains("deleted");
    }

    /**
     * kubectl drain: a cordon, then an eviction of each pod (policy/v1, in protobuf), and the
     * Deployment's replacements go to the other node; with --disable-eviction, DELETEs whose
     * options are in protobuf.
     */
    @Test
    @Order(15)
    void drainEvictsThePodsAndTheirReplacementsGoElsewhere() {
        assertThat(kubectl.run("-n", "sandbox", "create", "deployment", "drained", "--image=portway/echo", "--replicas=2").ok())
                .isEqualTo("deployment.apps/drained created\n");
        assertThat(kubectl.run("-n", "sandbox", "rollout", "status", "deployment/drained", "--timeout=30s").ok()).contains("successfully");
        Kubectl.Result drain = kubectl.run("drain", "node1", "--timeout=30s");
        assertThat(drain.ok()).contains("node/node1 drained");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(kubectl.run("-n", "sandbox", "get", "pods",
                "-l", "app=drained", "--field-selector", "status.phase=Running", "-o", "jsonpath={.items[*].spec.nodeName}").ok())
                .isEqualTo("node2 node2"));
        assertThat(kubectl.run("uncordon", "node1").ok()).isEqualTo("node/node1 uncordoned\n");
        assertThat(kubectl.run("drain", "node2", "--disable-eviction", "--timeout=30s").ok()).contains("node/node2 drained");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(kubectl.run("-n", "sandbox", "get", "pods",
                "-l", "app=drained", "--field-selector", "status.phase=Running", "-o", "jsonpath={.items[*].spec.nodeName}").ok())
                .isEqualTo("node1 node1"));
        assertThat(kubectl.run("uncordon", "node2").ok()).isEqualTo("node/node2 uncordoned\n");
        assertThat(kubectl.run("-n", "sandbox", "delete", "deployment", "drained").ok()).contains("deleted");
    }

    /**
     * kubectl exec over WebSocket (v5.channel.k8s.io, what kubectl 1.30 and later ask for first):
     * the command's output and error output apart, its exit code as kubectl's, its input from
     * kubectl's, the container's environment, the container's sandbox joined (Portway's state
     * directory is an empty one, the container's processes are seen, no capabilities), and
     * kube-apiserver's answers when the container is not there; kubectl cp, which is tar through
     * exec, both ways.
     */
    @Test
    @Order(16)
    void execRunsACommandInTheContainerWithItsStreamsAndExitCode() throws IOException {
        assertThat(kubectl.runWithInput("""
                apiVersion: v1
                kind: Pod
                metadata: {name: shell, namespace: sandbox}
                spec:
                  containers:
                  - {name: main, image: busybox, command: [sh, -c, "sleep 3600"], env: [{name: GREETING, value: hello from the pod}]}
                """, "apply", "-f", "-").ok()).isEqualTo("pod/shell created\n");
        assertThat(kubectl.run("-n", "sandbox", "wait", "--for=condition=Ready", "pod/shell", "--timeout=30s").ok()).contains("condition met");

        Kubectl.Result r = kubectl.run("-n", "sandbox", "exec", "shell", "--", "sh", "-c", "echo out $GREETING; echo err >&2; exit 3");
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.out()).isEqualTo("out hello from the pod\n");
        assertThat(r.err()).isEqualTo("err\ncommand terminated with exit code 3\n");
        assertThat(kubectl.runWithInput("one\ntwo\nthree\n", "-n", "sandbox", "exec", "-i", "shell", "--", "sh", "-c", "wc -l").ok().strip())
                .isEqualTo("3");
        // more than the connection and the command's pipes hold at once, both ways
        assertThat(kubectl.runWithInput("x".repeat(3 << 20), "-n", "sandbox", "exec", "-i", "shell", "--", "wc", "-c").ok().strip())
                .isEqualTo(Integer.toString(3 << 20));
        assertThat(kubectl.run("-n", "sandbox", "exec", "shell", "--", "head", "-c", Integer.toString(3 << 20), "/dev/zero").ok())
                .hasSize(3 << 20);
        Path state = dir.resolve("xdg").resolve("portway");
        try (var files = Files.list(state)) {
            assertThat(files.count()).isPositive();
        }
        assertThat(kubectl.run("-n", "sandbox", "exec", "shell", "--", "ls", "-A", state.toString()).ok()).isEmpty();
        // in the container's own namespaces: its processes are there to see (and signal), with no capabilities
        assertThat(kubectl.run("-n", "sandbox", "exec", "shell", "--", "sh", "-c",
                "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done").ok()).contains("sleep 3600");
        assertThat(kubectl.run("-n", "sandbox", "exec", "shell", "--", "grep", "CapEff", "/proc/self/status").ok())
                .isEqualTo("CapEff:\t0000000000000000\n");

        Kubectl.Result missing = kubectl.run("-n", "sandbox", "exec", "shell", "--", "no-such-command");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("error: exec: \"no-such-command\": executable file not found in $PATH\n");
        Kubectl.Result noContainer = kubectl.run("-n", "sandbox", "exec", "shell", "-c", "other", "--", "true");
        assertThat(noContainer.exitCode()).isEqualTo(1);
        assertThat(noContainer.err()).isEqualTo("Error from server (BadRequest): container other is not valid for pod shell\n");
        assertThat(kubectl.run("-n", "sandbox", "exec", "nobody", "--", "true").err())
                .isEqualTo("Error from server (NotFound): pods \"nobody\" not found\n");

        Path in = Files.writeString(dir.resolve("to-pod.txt"), "copied in\n");
        assertThat(kubectl.run("cp", in.toString(), "sandbox/shell:" + dir.resolve("in-pod.txt")).exitCode()).isZero();
        assertThat(Files.readString(dir.resolve("in-pod.txt"))).isEqualTo("copied in\n");
        assertThat(kubectl.run("cp", "sandbox/shell:" + dir.resolve("in-pod.txt"), dir.resolve("back.txt").toString()).exitCode()).isZero();
        assertThat(Files.readString(dir.resolve("back.txt"))).isEqualTo("copied in\n");
    }

    /**
     * kubectl exec -it: the command gets a terminal (what is typed is echoed back by it), of the size
     * of kubectl's, and a kubectl that goes away ends the command. kubectl runs under script(1) here,
     * for a terminal of its own.
     */
    @Test
    @Order(17)
    void execWithATerminalAndACommandThatEndsWithItsClient() throws Exception {
        StringBuffer seen = new StringBuffer();
        Process terminal = inTerminal("-n sandbox exec -it shell -- sh", seen);
        var typed = terminal.getOutputStream();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(seen.toString()).containsPattern("[#$] ")); // the prompt
        // what is typed is echoed by the command's terminal, then its answers; the size is kubectl's once
        // stty has set it, just after the start
        awaitTyped(typed, seen, "stty size", "stty size\r\n30 100\r\n");
        awaitTyped(typed, seen, "echo $((6 * 7))", "echo $((6 * 7))\r\n42\r\n");
        typed.write("exit 4\n".getBytes(StandardCharsets.UTF_8));
        typed.flush();
        assertThat(terminal.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(terminal.exitValue()).isEqualTo(4);

        String seconds = Long.toString(100_000 + ProcessHandle.current().pid()); // this run's alone
        Process left = kubectl.start(dir.resolve("left.log"), "-n", "sandbox", "exec", "shell", "--", "sleep", seconds);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(sleeping(seconds))
                .as("the command runs; kubectl printed: " + Files.readString(dir.resolve("left.log"))).isTrue());
        left.destroy();
        await().atMost(Duration.ofSeconds(20)).until(() -> !sleeping(seconds));

        // and the container's end ends it, as it ends the container's own processes
        Process stayed = kubectl.start(dir.resolve("stayed.log"), "-n", "sandbox", "exec", "shell", "--", "sleep", seconds + "1");
        await().atMost(Duration.ofSeconds(20)).until(() -> sleeping(seconds + "1"));
        assertThat(kubectl.run("-n", "sandbox", "delete", "pod", "shell", "--grace-period=1").ok()).contains("deleted");
        await().atMost(Duration.ofSeconds(20)).until(() -> !sleeping(seconds + "1"));
        assertThat(stayed.waitFor(20, TimeUnit.SECONDS)).isTrue();
    }

    /** Whether a process of this machine runs {@code sleep SECONDS}. */
    private static boolean sleeping(String seconds) {
        return ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().map(c -> c.endsWith("sleep " + seconds)).orElse(false));
    }

    /**
     * kubectl port-forward, as kubectl 1.31 and later ask for it (SPDY through a WebSocket): a
     * Service's port, resolved by kubectl to a pod, reaches the pod for an HTTP request and for a
     * megabyte echoed each way (past any SPDY window, which neither side keeps); a port the pod
     * does not listen on gets the kubelet's message, and the local connection is closed.
     */
    @Test
    @Order(18)
    void portForwardReachesThePodsPortThroughAServiceAndSaysWhyWhenItCannot() throws Exception {
        echoPodAndService("forwarded", "{port: 80, targetPort: 8080}");
        Path log = dir.resolve("port-forward.log");
        Path failingLog = dir.resolve("port-forward-failing.log");
        Process forward = kubectl.start(log, "-n", "sandbox", "port-forward", "svc/forwarded", ":80");
        Process failing = kubectl.start(failingLog, "-n", "sandbox", "port-forward", "pod/forwarded", ":9");
        try {
            int http = forwardedFrom(log, 8080);
            int closed = forwardedFrom(failingLog, 9);

            var client = java.net.http.HttpClient.newHttpClient();
            var answer = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + http + "/"))
                    .header("Accept", "application/json").build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.body()).contains("\"forwarded\"");

            byte[] sent = new byte[1 << 20];
            new java.util.Random(7).nextBytes(sent);
            sent[0] = 'x'; // not the start of an HTTP request: the echo server echoes the bytes
            try (var socket = new java.net.Socket("127.0.0.1", http)) {
                socket.setSoTimeout(20_000);
                Thread writer = Thread.ofVirtual().start(() -> {
                    try {
                        socket.getOutputStream().write(sent);
                        socket.getOutputStream().flush();
                    } catch (IOException e) {
                        // the read below fails too
                    }
                });
                byte[] got = socket.getInputStream().readNBytes(sent.length);
                writer.join();
                assertThat(got).isEqualTo(sent);
            }

            try (var socket = new java.net.Socket("127.0.0.1", closed)) {
                socket.setSoTimeout(20_000);
                assertThat(socket.getInputStream().read()).isEqualTo(-1);
            }
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(Files.readString(failingLog))
                    .contains("error forwarding port 9 to pod forwarded, uid "));
        } finally {
            for (Process p : List.of(forward, failing)) {
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
        assertThat(kubectl.run("-n", "sandbox", "delete", "pod/forwarded", "svc/forwarded", "--grace-period=0").ok()).contains("deleted");
    }

    /**
     * kubectl run -it --rm: a pod with stdin and a terminal (script(1) gives it one), attached to
     * as it runs (pods/attach over WebSocket): what is typed reaches its shell, the shell's answers
     * come back at kubectl's terminal size, and when the shell exits kubectl deletes the pod.
     */
    @Test
    @Order(19)
    void runInteractivelyAttachesToThePodsTerminalAndDeletesItAfter() throws Exception {
        StringBuffer seen = new StringBuffer();
        Process terminal = inTerminal("-n sandbox run talk -it --rm --restart=Never --image=busybox --command -- sh", seen);
        var typed = terminal.getOutputStream();
        try {
            // the shell's first prompt came before the attach, as on a cluster: kubectl says so, and Enter brings another
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(seen.toString())
                    .contains("If you don't see a command prompt, try pressing enter."));
            typed.write("\n".getBytes(StandardCharsets.UTF_8));
            typed.flush();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(seen.toString()).containsPattern("[#$] "));
            awaitTyped(typed, seen, "stty size", "\r\n30 100\r\n");
            awaitTyped(typed, seen, "echo $((6 * 7))", "\r\n42\r\n");
            typed.write("exit\n".getBytes(StandardCharsets.UTF_8));
            typed.flush();
            assertThat(terminal.waitFor(30, TimeUnit.SECONDS)).as(seen.toString()).isTrue();
        } finally {
            terminal.destroy();
        }
        assertThat(terminal.exitValue()).as(seen.toString()).isZero();
        assertThat(seen.toString()).contains("pod \"talk\" deleted");
        assertThat(kubectl.run("-n", "sandbox", "get", "pod", "talk").err()).contains("NotFound");

        // tty: true alone: the shell waits on its terminal, as on a runtime's, and does not end at an empty input;
        // script(1) runs its line with /bin/sh, and the container gets its own SHELL back
        assertThat(kubectl.runWithInput("""
                apiVersion: v1
                kind: Pod
                metadata: {name: waits, namespace: sandbox}
                spec:
                  containers: [{name: main, image: busybox, command: [sh], tty: true, env: [{name: SHELL, value: /bin/false}]}]
                """, "apply", "-f", "-").ok()).isEqualTo("pod/waits created\n");
        assertThat(kubectl.run("-n", "sandbox", "wait", "--for=condition=Ready", "pod/waits", "--timeout=30s").ok()).contains("met");
        assertThat(kubectl.run("-n", "sandbox", "exec", "waits", "--", "sh", "-c", "echo $SHELL").ok()).isEqualTo("/bin/false\n");
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() -> kubectl.run("-n", "sandbox", "get", "pod", "waits",
                "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}").ok().equals("Running 0"));
        assertThat(kubectl.run("-n", "sandbox", "delete", "pod", "waits", "--grace-period=0").ok()).contains("deleted");
    }

    /**
     * Starts kubectl with {@code args} under script(1), in a terminal of 100 x 30, its output (echo
     * included) gathered into {@code seen} as it comes.
     */
    private static Process inTerminal(String args, StringBuffer seen) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("script", "-q", "-e", "-c", "stty cols 100 rows 30; exec " + Kubectl.binary() + " " + args,
                "/dev/null");
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("HOME", dir.resolve("home").toString());
        pb.redirectErrorStream(true);
        Process terminal = pb.start();
        Thread.ofVirtual().start(() -> {
            byte[] buf = new byte[4096];
            try (var out = terminal.getInputStream()) {
                for (int n; (n = out.read(buf)) > 0;) {
                    seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // ended
            }
        });
        return terminal;
    }

    /**
     * The proxy subresources, as {@code kubectl get --raw} and {@code kubectl proxy} use them: a
     * request reaches a ready pod behind a Service by the Service's port, with what the client
     * sent and without the admin's token, and kube-apiserver's errors come back as kubectl prints
     * them.
     */
    @Test
    @Order(20)
    void theProxySubresourcesCarryRequestsToThePodsAsKubectlProxyUsesThem() throws Exception {
        echoPodAndService("proxied", "{name: web, port: 80, targetPort: 8080}");
        String base = "/api/v1/namespaces/sandbox/services/proxied:80/proxy";
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(kubectl.run("get", "--raw", base + "/hello?x=1").ok())
                .contains("\"pod\":\"proxied\"").contains("\"uri\":\"/hello?x=1\"")
                .contains("\"X-Forwarded-Uri\":\"" + base + "/hello\"").doesNotContain("Authorization"));
        assertThat(kubectl.run("get", "--raw", "/api/v1/namespaces/sandbox/pods/proxied/proxy/direct").ok())
                .contains("\"uri\":\"/direct\"");
        assertThat(kubectl.run("get", "--raw", "/api/v1/namespaces/sandbox/services/proxied:81/proxy/").err())
                .isEqualTo("Error from server (ServiceUnavailable): no service port 81 found for service \"proxied\"\n");
        assertThat(kubectl.run("get", "--raw", "/api/v1/namespaces/sandbox/pods/proxied:9/proxy/").err())
                .startsWith("Error from server (ServiceUnavailable): error trying to reach service: dial tcp ")
                .endsWith(":9: connect: connection refused\n");

        Path log = dir.resolve("kubectl-proxy.log");
        Process proxy = kubectl.start(log, "proxy", "--port=0");
        try {
            Pattern serving = Pattern.compile("Starting to serve on 127\\.0\\.0\\.1:(\\d+)");
            int[] port = new int[1];
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                var m = serving.matcher(Files.readString(log));
                assertThat(m.find()).as(Files.readString(log)).isTrue();
                port[0] = Integer.parseInt(m.group(1));
            });
            // HTTP/1.1: kubectl proxy takes Java's default offer of h2c for an upgrade it must dial through, and fails it (500)
            var client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
            String local = "http://127.0.0.1:" + port[0] + "/api/v1/namespaces/sandbox/services/proxied:web/proxy";
            var root = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(local)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(root.statusCode()).isEqualTo(301);
            assertThat(root.headers().firstValue("Location")).contains("/api/v1/namespaces/sandbox/services/proxied:web/proxy/");
            var posted = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(local + "/form"))
                    .header("Content-Type", "text/plain").POST(java.net.http.HttpRequest.BodyPublishers.ofString("twelve bytes")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(posted.statusCode()).isEqualTo(200);
            assertThat(posted.body()).contains("pod: proxied\n").contains("request: POST /form HTTP/1.1\n")
                    .contains("body: 12 bytes\n").doesNotContain("Authorization");
        } finally {
            proxy.destroy();
            proxy.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(kubectl.run("-n", "sandbox", "delete", "pod/proxied", "svc/proxied", "--grace-period=0").ok()).contains("deleted");
    }

    /** A pod of the echo server listening on 8080 in {@code sandbox}, ready, and a Service of its name with {@code ports}. */
    private static void echoPodAndService(String name, String ports) {
        assertThat(kubectl.runWithInput("""
                apiVersion: v1
                kind: Pod
                metadata: {name: %1$s, namespace: sandbox, labels: {app: %1$s}}
                spec:
                  containers: [{name: echo, image: portway/echo, ports: [{containerPort: 8080}]}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: %1$s, namespace: sandbox}
                spec:
                  selector: {app: %1$s}
                  ports: [%2$s]
                """.formatted(name, ports), "apply", "-f", "-").ok()).isEqualTo("pod/" + name + " created\nservice/" + name + " created\n");
        assertThat(kubectl.run("-n", "sandbox", "wait", "--for=condition=Ready", "pod/" + name, "--timeout=30s").ok()).contains("met");
    }

    /** Types {@code line} (again each second) until the terminal shows {@code answer}. */
    private static void awaitTyped(java.io.OutputStream typed, StringBuffer seen, String line, String answer) {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            if (!seen.toString().contains(answer)) {
                typed.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                typed.flush();
            }
            assertThat(seen.toString()).contains(answer);
        });
    }

    /** The local port kubectl port-forward printed for {@code remote} ({@code Forwarding from 127.0.0.1:N -> remote}). */
    private static int forwardedFrom(Path log, int remote) {
        Pattern from = Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+) -> " + remote + "\n");
        int[] port = new int[1];
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            var m = from.matcher(Files.readString(log));
            assertThat(m.find()).as(Files.readString(log)).isTrue();
            port[0] = Integer.parseInt(m.group(1));
        });
        return port[0];
    }
}
