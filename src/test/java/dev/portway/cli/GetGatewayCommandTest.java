package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.control.ClusterConfig;
import dev.portway.runtime.LocalCluster;
import dev.portway.testing.TestCluster;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code portway get} for the Gateway API kinds (the CRDs' printer columns) and for Ingress and
 * IngressClass (kubectl's printers), on a local cluster with its built-in {@code portway} classes.
 */
class GetGatewayCommandTest {

    private static final Instant CREATED = Instant.parse("2026-11-26T10:00:00Z");
    private static final Instant NOW = Instant.parse("2026-11-29T11:00:00Z"); // 3d1h later

    private static LocalCluster cluster;
    private static Cli cli;

    @BeforeAll
    static void start() throws Exception {
        ClusterConfig config = ClusterConfig.local().withClock(Clock.fixed(CREATED, ZoneOffset.UTC));
        cluster = new LocalCluster(TestCluster.options().withClusterConfig(config)).start();
        cli = new Cli(Clock.fixed(NOW, ZoneOffset.UTC), cluster);
        Cli.Result applied = cli.runWithInput("""
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata:
                  name: web
                spec:
                  gatewayClassName: portway
                  listeners:
                  - {name: http, port: 8080, protocol: HTTP}
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata:
                  name: elsewhere
                spec:
                  gatewayClassName: someone-else
                  listeners:
                  - {name: http, port: 8080, protocol: HTTP}
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata:
                  name: app
                spec:
                  parentRefs: [{name: web}]
                  hostnames: [app.example.com, www.example.com]
                  rules:
                  - backendRefs: [{name: app, port: 80}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata:
                  name: any-host
                spec:
                  parentRefs: [{name: web}]
                ---
                apiVersion: gateway.networking.k8s.io/v1beta1
                kind: ReferenceGrant
                metadata:
                  name: grant
                spec:
                  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: team-a}]
                  to: [{group: "", kind: Service}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: ReferenceGrant
                metadata:
                  name: grant-v1
                spec:
                  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: team-b}]
                  to: [{group: "", kind: Service}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: shop
                spec:
                  tls:
                  - hosts: [shop.example.com]
                    secretName: shop-tls
                  rules:
                  - host: shop.example.com
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}
                  - host: www.example.com
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: other
                spec:
                  ingressClassName: nginx
                  defaultBackend: {service: {name: shop, port: {number: 80}}}
                ---
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata:
                  name: writes
                spec:
                  targetRefs:
                  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}
                  - {group: networking.k8s.io, kind: Ingress, name: shop}
                  basicAuth: {secretRef: {name: missing}}
                  anonymousMethods: [GET]
                ---
                apiVersion: policy.portway.dev/v1alpha1
                kind: AccessPolicy
                metadata:
                  name: stray
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: gone}]
                  allowedMethods: [GET]
                """, "apply", "-f", "-");
        assertThat(applied.exitCode()).as(applied.err()).isZero();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    /** What kubectl's tabwriter makes of these rows: columns padded to their widest cell plus three spaces. */
    private static String table(String[]... rows) {
        int[] widths = new int[rows[0].length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                sb.append(i == row.length - 1 ? row[i] : String.format("%-" + (widths[i] + 3) + "s", row[i]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    @Test
    void gatewayClassesShowTheirControllerAndAcceptance() {
        assertThat(cli.run("get", "gatewayclass").out()).isEqualTo(
                "NAME      CONTROLLER                       ACCEPTED   AGE\n"
                + "portway   portway.dev/gateway-controller   True       3d1h\n");
        assertThat(cli.run("get", "gc", "-o", "wide").out()).isEqualTo(
                "NAME      CONTROLLER                       ACCEPTED   AGE    DESCRIPTION\n"
                + "portway   portway.dev/gateway-controller   True       3d1h   Portway's L7 gateway\n");
    }

    @Test
    void gatewaysShowTheirAddressOnceProgrammed() {
        assertThat(cli.run("get", "gateways").out()).isEqualTo(table(
                new String[] {"NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"},
                new String[] {"elsewhere", "someone-else", "", "Unknown", "3d1h"},
                new String[] {"web", "portway", TestCluster.poolIp(1), "True", "3d1h"}));
    }

    @Test
    void httpRoutesShowTheirHostnames() {
        assertThat(cli.run("get", "httproute").out()).isEqualTo(
                "NAME       HOSTNAMES                               AGE\n"
                + "any-host                                           3d1h\n"
                + "app        [\"app.example.com\",\"www.example.com\"]   3d1h\n");
        assertThat(cli.run("get", "httproute", "app", "-o", "yaml").out())
                .contains("    controllerName: portway.dev/gateway-controller\n")
                .contains("      reason: Accepted\n")
                .contains("      reason: BackendNotFound\n");
    }

    @Test
    void describeShowsTheObjectAndItsEvents() {
        Cli.Result r = cli.run("describe", "gateway", "web");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Name:         web\nNamespace:    default\n")
                .contains("    type: Programmed\n")
                .contains("IPAllocated");
    }

    @Test
    void accessPoliciesShowTheirTargetsAndAcceptance() {
        assertThat(cli.run("get", "accesspolicies").out()).isEqualTo(table(
                new String[] {"NAME", "TARGETS", "ACCEPTED", "AGE"},
                new String[] {"stray", "HTTPRoute/gone", "False", "3d1h"},
                new String[] {"writes", "HTTPRoute/app,Ingress/shop", "True", "3d1h"}));
        assertThat(cli.run("get", "apol", "writes").exitCode()).isZero();
        Cli.Result r = cli.run("describe", "accesspolicy", "writes");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Name:         writes\nNamespace:    default\n")
                .contains("    reason: SecretNotFound\n")
                .contains("    message: Secret \"missing\" (basicAuth) not found; until then no one passes with those credentials");
    }

    @Test
    void referenceGrantsAppliedAtEitherVersionShowNameAndAge() {
        assertThat(cli.run("get", "referencegrants").out()).isEqualTo("NAME       AGE\ngrant      3d1h\ngrant-v1   3d1h\n");
        assertThat(cli.run("get", "refgrant", "grant-v1").out()).isEqualTo("NAME       AGE\ngrant-v1   3d1h\n");
    }

    @Test
    void ingressesShowClassHostsAddressAndPorts() {
        assertThat(cli.run("get", "ing").out()).isEqualTo(table(
                new String[] {"NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"},
                new String[] {"other", "nginx", "*", "", "80", "3d1h"},
                new String[] {"shop", "<none>", "shop.example.com,www.example.com", TestCluster.poolIp(2), "80, 443", "3d1h"}));
        assertThat(cli.run("get", "ingressclass").out()).isEqualTo(
                "NAME      CONTROLLER                       PARAMETERS   AGE\n"
                + "portway   portway.dev/ingress-controller   <none>       3d1h\n");
    }
}
