package dev.portway.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.testing.RawHttp;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The L7 gateway configured as users configure it: a Gateway and HTTPRoutes (and an Ingress)
 * applied to a local cluster, requests on the Gateway's address. The precedence table of the
 * Gateway API spec, a route whose Service appears later, and the Ingress mapping.
 */
class GatewayRoutingTest {

    private static final String[] BACKENDS = {"exact", "prefix-foo", "longer", "root", "method", "header", "host", "wild", "older",
            "newer", "query", "regex"};
    private static TestCluster cluster;
    private static InetSocketAddress gateway;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster();
        StringBuilder yaml = new StringBuilder();
        for (String b : BACKENDS) {
            yaml.append(TestCluster.echoBackend(b, 1)).append("---\n");
        }
        yaml.append(TestCluster.httpGateway("web", 18080)).append("""
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: table}
                spec:
                  parentRefs: [{name: web}]
                  rules:
                  - matches: [{path: {type: Exact, value: /foo}}]
                    backendRefs: [{name: exact, port: 8000}]
                  - matches: [{path: {type: PathPrefix, value: /foo}}]
                    backendRefs: [{name: prefix-foo, port: 8000}]
                  - matches: [{path: {type: PathPrefix, value: /foo/bar}}]
                    backendRefs: [{name: longer, port: 8000}]
                  - matches: [{path: {type: PathPrefix, value: /}}]
                    backendRefs: [{name: root, port: 8000}]
                  - matches: [{path: {type: PathPrefix, value: /foo}, method: POST}]
                    backendRefs: [{name: method, port: 8000}]
                  - matches: [{path: {type: PathPrefix, value: /foo}, headers: [{name: X-Team, value: blue}]}]
                    backendRefs: [{name: header, port: 8000}]
                  - matches: [{path: {type: PathPrefix, value: /foo}, queryParams: [{name: v, value: "2"}]}]
                    backendRefs: [{name: query, port: 8000}]
                  - matches: [{path: {type: Exact, value: /caf%c3%a9}}]
                    backendRefs: [{name: exact, port: 8000}]
                  - matches: [{path: {type: PathPrefix, value: /%7Euser}}]
                    backendRefs: [{name: longer, port: 8000}]
                  - matches: [{path: {type: RegularExpression, value: "/re/[0-9]+"}}]
                    backendRefs: [{name: regex, port: 8000}]
                  - matches: [{path: {type: RegularExpression, value: "/backtrack/(.*a){12}"}}]
                    backendRefs: [{name: regex, port: 8000}]
                  - matches: [{path: {type: PathPrefix, value: /re-header}, headers: [{name: X-Re, type: RegularExpression, value: ".*.*.*=.*"}]}]
                    backendRefs: [{name: regex, port: 8000}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: host}
                spec:
                  parentRefs: [{name: web}]
                  hostnames: [a.example.com]
                  rules:
                  - backendRefs: [{name: host, port: 8000}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: wild}
                spec:
                  parentRefs: [{name: web}]
                  hostnames: ["*.example.com"]
                  rules:
                  - backendRefs: [{name: wild, port: 8000}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: narrow}
                spec:
                  parentRefs: [{name: web}]
                  hostnames: [n.example.com]
                  rules:
                  - matches: [{path: {type: PathPrefix, value: /narrow}}]
                    backendRefs: [{name: host, port: 8000}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: zz-older}
                spec:
                  parentRefs: [{name: web}]
                  hostnames: [tie.test]
                  rules:
                  - matches: [{path: {type: PathPrefix, value: /tie}}]
                    backendRefs: [{name: older, port: 8000}]
                """);
        cluster.apply(yaml.toString());
        for (String b : BACKENDS) {
            cluster.awaitReady(b, 1);
        }
        // the newer route is created a second later: creation time, not its name (which sorts first), decides the tie
        Instant older = Instant.now();
        await().atMost(Duration.ofSeconds(3)).until(() -> Instant.now().getEpochSecond() > older.getEpochSecond());
        cluster.apply("""
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: aa-newer}
                spec:
                  parentRefs: [{name: web}]
                  hostnames: [tie.test]
                  rules:
                  - matches: [{path: {type: PathPrefix, value: /tie}}]
                    backendRefs: [{name: newer, port: 8000}]
                """);
        gateway = cluster.gatewayAddress("web", 18080);
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static String pod(String host, String method, String path, String header) throws Exception {
        try (RawHttp c = new RawHttp(gateway)) {
            RawHttp.Response r = c.send(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + (header == null ? "" : header + "\r\n")
                    + "Content-Length: 0\r\n\r\n").read();
            assertThat(r.status()).as("%s %s %s", host, method, path).isEqualTo(200);
            String pod = r.header("x-portway-pod");
            return pod.substring(0, pod.indexOf('-', pod.indexOf('-') + 1) < 0 ? pod.length() : pod.lastIndexOf('-', pod.lastIndexOf('-') - 1));
        }
    }

    /**
     * The Gateway API's HTTPRoute precedence, request by request. Paths compare as the gateway
     * normalizes them: a route's escapes in lower-case hex, or of unreserved characters, match.
     * The precedence ranks rules: a request for a route's hostname that none of its rules match
     * goes by the rules of routes with a wildcard that covers it, then of routes with no hostname
     * (before, it got 404, as an Envoy virtual host gives).
     */
    @ParameterizedTest(name = "{1} {2} on {0} {3} -> {4}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            x.test        | GET  | /foo           | -             | exact
            x.test        | POST | /foo           | -             | exact
            x.test        | GET  | /foo/x         | -             | prefix-foo
            x.test        | GET  | /foobar        | -             | root
            x.test        | POST | /foo/x         | -             | method
            x.test        | GET  | /foo/x         | X-Team: blue  | header
            x.test        | POST | /foo/x         | X-Team: blue  | method
            x.test        | GET  | /foo/x?v=2     | -             | query
            x.test        | GET  | /foo/x?v=2     | X-Team: blue  | header
            x.test        | GET  | /foo/x?w=1;v=2 | -             | prefix-foo
            x.test        | GET  | /foo/x?w=1&v=2 | -             | query
            x.test        | GET  | /foo/bar/x     | -             | longer
            x.test        | GET  | /foo/bar/x     | X-Team: blue  | longer
            x.test        | GET  | /other         | -             | root
            x.test        | GET  | /caf%C3%A9     | -             | exact
            x.test        | GET  | /caf%c3%a9     | -             | exact
            x.test        | GET  | /~user/x       | -             | longer
            x.test        | GET  | /%7euser       | -             | longer
            x.test        | GET  | /re/123        | -             | regex
            x.test        | GET  | /re/abc        | -             | root
            a.example.com | GET  | /foo           | -             | host
            b.example.com | GET  | /foo           | -             | wild
            tie.test      | GET  | /tie           | -             | older
            n.example.com | GET  | /narrow/x      | -             | host
            n.example.com | GET  | /other         | -             | wild
            tie.test      | GET  | /other         | -             | root
            tie.test      | GET  | /foo           | -             | exact
            """)
    void precedence(String host, String method, String path, String header, String expected) throws Exception {
        assertThat(pod(host, method, path, header)).isEqualTo(expected);
    }

    /**
     * Expressions that a backtracking engine takes exponential or high polynomial time on
     * ({@code (.*a){12}} on 40 a's and one other character: billions of ways to try, {@code (.*a){20}}
     * hours, but its 113 instructions are past the limit; {@code .*.*.*=.*} on 4,000 characters
     * without {@code =}: minutes) are matched in time linear in the request, as
     * Envoy's RE2 matches them. A client cannot stall the event loop, and with it every
     * connection the loop serves.
     */
    @Test
    void aRegularExpressionCannotBeMadeToBacktrackByARequest() throws Exception {
        String as = "a".repeat(40);
        assertThat(pod("x.test", "GET", "/backtrack/" + as, null)).isEqualTo("regex");
        assertThat(pod("x.test", "GET", "/backtrack/" + as + "!", null)).isEqualTo("root");
        String value = "x".repeat(4_000);
        assertThat(pod("x.test", "GET", "/re-header", "X-Re: " + value + "=")).isEqualTo("regex");
        assertThat(pod("x.test", "GET", "/re-header", "X-Re: " + value)).isEqualTo("root");
    }

    /**
     * A Service that names the Gateway's address and port in externalIPs does not take its
     * traffic (CVE-2020-8554's interception): the Gateway was handed the address and keeps it.
     */
    @Test
    void aServiceNamingTheGatewaysAddressInExternalIpsDoesNotTakeIt() throws Exception {
        cluster.apply(TestCluster.echoDeployment("thief", 1, null) + """
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: thief-ext}
                spec:
                  selector: {app: thief}
                  externalIPs: [%s]
                  ports:
                  - {port: %d, targetPort: http}
                """.formatted(gateway.getAddress().getHostAddress(), gateway.getPort()));
        cluster.awaitReady("thief", 1);
        cluster.settle();
        for (int i = 0; i < 5; i++) {
            assertThat(pod("x.test", "GET", "/other", null)).isEqualTo("root");
        }
        cluster.delete(dev.portway.api.ResourceKind.SERVICE, "thief-ext");
        cluster.settle();
        assertThat(pod("x.test", "GET", "/other", null)).isEqualTo("root");
    }

    private static Condition condition(HTTPRoute r, String type) {
        return r.getStatus().getParents().getFirst().getConditions().stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
    }

    @Test
    void aRouteToAMissingServiceIs500UntilTheServiceAppears() throws Exception {
        cluster.apply("""
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: later}
                spec:
                  parentRefs: [{name: web}]
                  hostnames: [later.test]
                  rules:
                  - backendRefs: [{name: later, port: 8000}]
                """);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HTTPRoute r = cluster.local().store().get(HTTPRoute.class, "default", "later").orElseThrow();
            assertThat(condition(r, "Accepted").getStatus()).isEqualTo("True");
            assertThat(condition(r, "ResolvedRefs").getStatus()).isEqualTo("False");
            assertThat(condition(r, "ResolvedRefs").getReason()).isEqualTo("BackendNotFound");
            assertThat(RawHttp.get(gateway, "later.test", "/").status()).isEqualTo(500);
        });
        cluster.apply("""
                apiVersion: v1
                kind: Service
                metadata: {name: later}
                spec:
                  selector: {app: later}
                  ports:
                  - {port: 8000, targetPort: http}
                """);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HTTPRoute r = cluster.local().store().get(HTTPRoute.class, "default", "later").orElseThrow();
            assertThat(condition(r, "ResolvedRefs").getStatus()).isEqualTo("True");
            RawHttp.Response res = RawHttp.get(gateway, "later.test", "/");
            assertThat(res.status()).as("a Service with no ready endpoint").isEqualTo(503);
            assertThat(res.body()).contains("no ready endpoint for default/later");
        });
        cluster.apply(TestCluster.echoDeployment("later", 1, null));
        cluster.awaitReady("later", 1);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(RawHttp.get(gateway, "later.test", "/").status()).isEqualTo(200));
    }

    /**
     * A filter Portway cannot apply (an ExtensionRef: it has no filter extensions) is never
     * skipped: the requests it was to process get 500, as the Gateway API requires, where they went
     * to the backend unfiltered (a filter meant to authenticate left its route open). Its route is
     * Accepted with ResolvedRefs False (InvalidKind); a rule without it is served.
     */
    @Test
    void aRequestForAFilterPortwayCannotApplyIs500NotUnfiltered() throws Exception {
        cluster.apply("""
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: extension}
                spec:
                  parentRefs: [{name: web}]
                  hostnames: [extension.test]
                  rules:
                  - matches: [{path: {type: PathPrefix, value: /guarded}}]
                    filters:
                    - type: RequestHeaderModifier
                      requestHeaderModifier: {set: [{name: X-Checked, value: "yes"}]}
                    - type: ExtensionRef
                      extensionRef: {group: auth.example.io, kind: SsoFilter, name: sso}
                    backendRefs: [{name: root, port: 8000}]
                  - matches: [{path: {type: PathPrefix, value: /per-backend}}]
                    backendRefs:
                    - name: root
                      port: 8000
                      filters: [{type: ExtensionRef, extensionRef: {group: auth.example.io, kind: SsoFilter, name: sso}}]
                  - matches: [{path: {type: PathPrefix, value: /open}}]
                    backendRefs: [{name: root, port: 8000}]
                """);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HTTPRoute r = cluster.local().store().get(HTTPRoute.class, "default", "extension").orElseThrow();
            assertThat(condition(r, "Accepted").getStatus()).isEqualTo("True");
            assertThat(condition(r, "ResolvedRefs").getReason()).isEqualTo("InvalidKind");
            assertThat(RawHttp.get(gateway, "extension.test", "/open").status()).isEqualTo(200);
        });
        RawHttp.Response guarded = RawHttp.get(gateway, "extension.test", "/guarded/admin");
        assertThat(guarded.status()).isEqualTo(500);
        assertThat(guarded.body()).contains("ExtensionRef filter SsoFilter \"sso\" cannot be applied");
        RawHttp.Response perBackend = RawHttp.get(gateway, "extension.test", "/per-backend");
        assertThat(perBackend.status()).isEqualTo(500);
        assertThat(perBackend.body()).contains("ExtensionRef filter SsoFilter \"sso\" cannot be applied");
    }

    @Test
    void anIngressRoutesOnTheIngressControllersAddress() throws Exception {
        cluster.apply("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: shop}
                spec:
                  ingressClassName: portway
                  defaultBackend:
                    service: {name: root, port: {number: 8000}}
                  rules:
                  - host: shop.test
                    http:
                      paths:
                      - {path: /cart, pathType: Prefix, backend: {service: {name: prefix-foo, port: {number: 8000}}}}
                      - {path: /cart/checkout, pathType: Exact, backend: {service: {name: exact, port: {number: 8000}}}}
                  - host: "*.shop.test"
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: header, port: {number: 8000}}}}
                """);
        InetSocketAddress at = cluster.ingressAddress("shop");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(RawHttp.get(at, "shop.test", "/cart/x").status()).isEqualTo(200));
        assertThat(RawHttp.get(at, "shop.test", "/cart/x").header("x-portway-pod")).startsWith("prefix-foo-");
        assertThat(RawHttp.get(at, "shop.test", "/cart/checkout").header("x-portway-pod")).startsWith("exact-");
        assertThat(RawHttp.get(at, "shop.test", "/elsewhere").header("x-portway-pod")).startsWith("root-");
        assertThat(RawHttp.get(at, "other.test", "/cart").header("x-portway-pod")).as("another host: the default backend").startsWith("root-");
        // an Ingress's wildcard covers one DNS label (the Ingress documentation's own example), a Gateway API one any number
        assertThat(RawHttp.get(at, "eu.shop.test", "/").header("x-portway-pod")).startsWith("header-");
        assertThat(RawHttp.get(at, "a.eu.shop.test", "/").header("x-portway-pod")).as("two labels: the default backend").startsWith("root-");
        assertThat(pod("a.b.example.com", "GET", "/foo", null)).as("a Gateway API wildcard").isEqualTo("wild");

        // another controller's Ingress is not served, whatever address its status holds (here Portway's own, as one
        // that changed class while Portway was down keeps it): it was, by Portway's rules, past the other controller's
        cluster.apply("""
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: foreign}
                spec:
                  ingressClassName: nginx
                  rules:
                  - host: foreign.test
                    http:
                      paths:
                      - {path: /, pathType: Prefix, backend: {service: {name: method, port: {number: 8000}}}}
                """);
        var store = cluster.local().store();
        var foreign = store.get(io.fabric8.kubernetes.api.model.networking.v1.Ingress.class, "default", "foreign").orElseThrow();
        foreign.setStatus(new io.fabric8.kubernetes.api.model.networking.v1.IngressStatusBuilder().withNewLoadBalancer().addNewIngress()
                .withIp(at.getAddress().getHostAddress()).endIngress().endLoadBalancer().build());
        var batch = store.begin();
        batch.put(foreign);
        batch.commit();
        cluster.settle();
        assertThat(RawHttp.get(at, "foreign.test", "/").header("x-portway-pod")).as("shop's default backend, not foreign's rule")
                .startsWith("root-");
    }

    @Test
    void aRequestForAMoreSpecificListenersHostnameIsThatListenersEvenWithoutARouteForIt() throws Exception {
        cluster.apply("""
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: isolated}
                spec:
                  gatewayClassName: portway
                  listeners:
                  - {name: any, protocol: HTTP, port: 18090}
                  - {name: shop, protocol: HTTP, port: 18090, hostname: "*.shop.test"}
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: on-any}
                spec:
                  parentRefs: [{name: isolated, sectionName: any}]
                  hostnames: [www.shop.test, other.test]
                  rules:
                  - backendRefs: [{name: root, port: 8000}]
                """);
        InetSocketAddress at = cluster.gatewayAddress("isolated", 18090);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(RawHttp.get(at, "other.test", "/").status()).isEqualTo(200));
        assertThat(RawHttp.get(at, "www.shop.test", "/").status())
                .as("www.shop.test belongs to the listener *.shop.test, which has no route: not to the route on the other listener")
                .isEqualTo(404);
    }

    @Test
    void aHeadlessServiceIsABackendLikeAnyOther() throws Exception {
        cluster.apply("""
                apiVersion: v1
                kind: Service
                metadata: {name: headless}
                spec:
                  clusterIP: None
                  selector: {app: regex}
                  ports:
                  - {port: 8000, targetPort: http}
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: headless}
                spec:
                  parentRefs: [{name: web}]
                  hostnames: [headless.test]
                  rules:
                  - backendRefs: [{name: headless, port: 8000}]
                """);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(RawHttp.get(gateway, "headless.test", "/").header("x-portway-pod")).startsWith("regex-"));
    }

    static List<String> backends() {
        return List.of(BACKENDS);
    }
}
