package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.control.ClusterConfig;
import dev.portway.runtime.LocalCluster;
import dev.portway.runtime.LocalClusterOptions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code portway get} prints what {@code kubectl get} prints, byte for byte: the columns, the
 * cell formats ({@code 80:30007/TCP}, {@code <pending>}, {@code <none>}, {@code None}) and
 * Go's tabwriter alignment.
 */
class GetCommandTest {

    private static final Instant CREATED = Instant.parse("2026-11-26T10:00:00Z");
    private static final Instant NOW = Instant.parse("2026-11-29T11:00:00Z"); // 3d1h later

    private static LocalCluster cluster;
    private static Cli cli;

    @BeforeAll
    static void start() throws Exception {
        ClusterConfig config = ClusterConfig.local().withClock(Clock.fixed(CREATED, ZoneOffset.UTC));
        cluster = new LocalCluster(LocalClusterOptions.defaults().withClusterConfig(config)).start();
        cli = new Cli(Clock.fixed(NOW, ZoneOffset.UTC), cluster);
        Cli.Result applied = cli.runWithInput("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                spec:
                  type: NodePort
                  clusterIP: 127.2.0.11
                  selector: {app: web}
                  ports:
                  - {port: 80, targetPort: 8080, nodePort: 30007}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: lb
                spec:
                  type: LoadBalancer
                  clusterIP: 127.2.0.12
                  selector: {app: web}
                  ports:
                  - {name: http, port: 80, nodePort: 31234}
                  - {name: https, port: 443, nodePort: 30443}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: pending
                spec:
                  type: LoadBalancer
                  loadBalancerClass: example.com/someone-else
                  clusterIP: 127.2.0.13
                  ports:
                  - {port: 80, nodePort: 31000}
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: db
                spec:
                  clusterIP: None
                  selector: {app: db}
                  ports:
                  - port: 5432
                """, "apply", "-f", "-");
        assertThat(applied.exitCode()).as(applied.err()).isZero();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void getSvcPrintsKubectlsTableByteForByte() {
        Cli.Result r = cli.run("get", "svc");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo(
                "NAME      TYPE           CLUSTER-IP   EXTERNAL-IP   PORT(S)                      AGE\n"
                + "db        ClusterIP      None         <none>        5432/TCP                     3d1h\n"
                + "lb        LoadBalancer   127.2.0.12   127.3.0.1     80:31234/TCP,443:30443/TCP   3d1h\n"
                + "pending   LoadBalancer   127.2.0.13   <pending>     80:31000/TCP                 3d1h\n"
                + "web       NodePort       127.2.0.11   <none>        80:30007/TCP                 3d1h\n");
    }

    @Test
    void wideAddsTheSelector() {
        Cli.Result r = cli.run("get", "svc", "web", "db", "-o", "wide");
        assertThat(r.out()).isEqualTo(
                "NAME   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE    SELECTOR\n"
                + "web    NodePort    127.2.0.11   <none>        80:30007/TCP   3d1h   app=web\n"
                + "db     ClusterIP   None         <none>        5432/TCP       3d1h   app=db\n");
    }

    @Test
    void allNamespacesAddsANamespaceColumnAndKindsArePrefixedWhenMixed() {
        // by name across every namespace only what has none (kubectl refuses a Service so, see emptyResults...)
        Cli.Result r = cli.run("get", "svc,ns", "-A");
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).isEqualTo(
                "NAMESPACE   NAME              TYPE           CLUSTER-IP   EXTERNAL-IP   PORT(S)                      AGE\n"
                + "default     service/db        ClusterIP      None         <none>        5432/TCP                     3d1h\n"
                + "default     service/lb        LoadBalancer   127.2.0.12   127.3.0.1     80:31234/TCP,443:30443/TCP   3d1h\n"
                + "default     service/pending   LoadBalancer   127.2.0.13   <pending>     80:31000/TCP                 3d1h\n"
                + "default     service/web       NodePort       127.2.0.11   <none>        80:30007/TCP                 3d1h\n"
                + "\n"
                + "NAME                        STATUS   AGE\n"
                + "namespace/default           Active   3d1h\n"
                + "namespace/kube-node-lease   Active   3d1h\n"
                + "namespace/kube-public       Active   3d1h\n"
                + "namespace/kube-system       Active   3d1h\n"
                + "namespace/metallb-system    Active   3d1h\n");
    }

    @Test
    void yamlAndJsonAndNameOutputs() {
        String yaml = cli.run("get", "svc", "web", "-o", "yaml").out();
        assertThat(yaml).startsWith("apiVersion: v1\nkind: Service\nmetadata:\n").contains("  - nodePort: 30007\n    port: 80\n")
                .contains("clusterIP: 127.2.0.11").contains("ipFamilyPolicy: SingleStack");
        assertThat(cli.run("get", "svc", "web", "-o", "json").out()).startsWith("{\n").contains("\"nodePort\" : 30007");
        assertThat(cli.run("get", "svc", "-o", "name").out()).isEqualTo("service/db\nservice/lb\nservice/pending\nservice/web\n");
        assertThat(cli.run("get", "svc", "-o", "yaml").out()).startsWith("apiVersion: v1\nitems:\n").contains("kind: List\n");
    }

    @Test
    void emptyResultsAndMissingObjectsAreReportedAsKubectlDoes() {
        Cli.Result empty = cli.run("get", "deploy", "-n", "kube-system");
        assertThat(empty.exitCode()).isZero();
        assertThat(empty.out()).isEmpty();
        assertThat(empty.err()).isEqualTo("No resources found in kube-system namespace.\n");
        // for tables only: -o name prints nothing at all, as scripts that read it expect
        Cli.Result names = cli.run("get", "deploy", "-n", "kube-system", "-o", "name");
        assertThat(names.exitCode()).isZero();
        assertThat(names.out() + names.err()).isEmpty();

        Cli.Result acrossNamespaces = cli.run("get", "svc", "web", "-A");
        assertThat(acrossNamespaces.exitCode()).isEqualTo(1);
        assertThat(acrossNamespaces.err()).isEqualTo("error: a resource cannot be retrieved by name across all namespaces\n");

        Cli.Result missing = cli.run("get", "svc", "nope");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("Error from server (NotFound): services \"nope\" not found\n");

        Cli.Result unknown = cli.run("get", "widgets");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).isEqualTo("error: the server doesn't have a resource type \"widgets\"\n");
    }

    @Test
    void describeServiceUsesKubectlsLayout() {
        Cli.Result r = cli.run("describe", "svc", "lb");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("""
                Name:                     lb
                Namespace:                default
                Labels:                   <none>
                Annotations:              metallb.io/ip-allocated-from-pool: portway-default
                Selector:                 app=web
                Type:                     LoadBalancer
                IP Family Policy:         SingleStack
                IP Families:              IPv4
                IP:                       127.2.0.12
                IPs:                      127.2.0.12
                LoadBalancer Ingress:     127.3.0.1 (VIP)
                Port:                     http  80/TCP
                TargetPort:               80/TCP
                NodePort:                 http  31234/TCP
                Endpoints:               \s
                Port:                     https  443/TCP
                TargetPort:               443/TCP
                NodePort:                 https  30443/TCP
                Endpoints:               \s
                Session Affinity:         None
                External Traffic Policy:  Cluster
                Internal Traffic Policy:  Cluster
                Events:
                  Type    Reason       Age   From                Message
                  ----    ------       ----  ----                -------
                  Normal  IPAllocated  3d1h  portway-controller  Assigned IP ["127.3.0.1"]
                """);
    }

    @Test
    void withoutAServerTheCliSaysSo() {
        Cli.Result r = cli.run("get", "svc", "--server", "https://127.0.0.1:1");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: no Portway server at https://127.0.0.1:1 (connection refused); "
                + "start one with \"portway up\", or choose another with --kubeconfig or --context\n");
    }

    /**
     * Cells hold what objects hold, and an Event's message is an exec probe's output: kubectl cuts
     * a cell at its first line break and shows ESC as {@code ^[}, so that a container can neither
     * forge rows nor drive the user's terminal (its title, its screen, its clipboard). Portway
     * printed them as they were.
     */
    @Test
    void aCellIsCutAtItsFirstLineBreakAndItsEscapesAreShownAsKubectlShowsThem() {
        Cli.Result applied = cli.runWithInput("""
                apiVersion: v1
                kind: Event
                metadata: {name: web.probe, namespace: default}
                involvedObject: {kind: Pod, name: web, namespace: default}
                reason: Unhealthy
                type: Warning
                source: {component: kubelet}
                message: "\\e]0;owned\\a\\e[2J\\r\\nNormal   Started   pod/x   fake"
                """, "apply", "-f", "-");
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        Cli.Result r = cli.run("get", "events", "web.probe");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).doesNotContain("\u001b").doesNotContain("fake").contains("^[]0;owned\u0007^[[2J...\n");
        assertThat(r.out().lines()).hasSize(2);
    }

    /** portway apply prints the server's warnings on what it stored, as kubectl prints them. */
    @Test
    void applyPrintsTheApiServersWarnings() {
        Cli.Result applied = cli.runWithInput("""
                apiVersion: v1
                kind: Pod
                metadata: {name: old-label}
                spec:
                  nodeSelector: {beta.kubernetes.io/arch: amd64}
                  containers: [{name: app, image: portway/echo}]
                """, "apply", "-f", "-");
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        assertThat(applied.err()).isEqualTo("Warning: spec.nodeSelector[beta.kubernetes.io/arch]: deprecated since v1.14; "
                + "use \"kubernetes.io/arch\" instead\n");
    }
}
