package dev.portway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portway.testing.Browser;
import dev.portway.testing.TestCluster;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The live topology page in a real browser (Debian's Chromium, headless): signed in with the link
 * {@code portway ui} prints, it shows what each Service's addresses send to, and follows the
 * cluster as it changes, without a reload. {@code .ci/run} installs Chromium; elsewhere the test
 * is skipped without it, unless {@code PORTWAY_REQUIRE_PACKAGES} is set.
 */
class TopologyPageTest {

    private static TestCluster cluster;
    private static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Browser.executable() != null || System.getenv("PORTWAY_REQUIRE_PACKAGES") != null,
                "Chromium is not installed (apt-get install chromium)");
        cluster = new TestCluster();
        cluster.apply(TestCluster.echoLoadBalancer("web", 2, 8000));
        cluster.awaitReady("web", 2);
        cluster.loadBalancerIp("web");
        cluster.settle();
        browser = Browser.start();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The link portway ui prints: a read-only token minted for the page, in the fragment. */
    private static String signedIn() {
        var admin = new dev.portway.testing.AdminHttp(cluster.local());
        var minted = admin.send(admin.request("/apis/portway.dev/v1/viewertokens").header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build());
        viewerToken = dev.portway.api.Json.readTree(minted.body().getBytes()).path("token").asText();
        return cluster.local().adminUrl() + "/ui/#token=" + viewerToken;
    }

    private static String viewerToken;

    @Test
    void theLinkSignsInAndThePageShowsWhatEachAddressSendsTo() throws Exception {
        try (Browser.Page page = browser.open(signedIn())) {
            String lb = cluster.loadBalancerIp("web") + ":8000";
            String nodePort = cluster.nodeIp(1) + ":" + cluster.nodePort("web");
            String clusterIp = cluster.clusterIp("web") + ":8000";
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(page.text())
                    .contains("default/web").contains("LoadBalancer").contains(lb).contains(nodePort).contains(clusterIp)
                    .contains("live · updated"));
            for (var pod : cluster.pods("web")) {
                assertThat(page.text()).contains(pod.getMetadata().getName());
            }
            // both nodes pass the load balancer's health checks (another test stops one for a while), and both endpoints are ready
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(page.evaluate(
                    "[...document.querySelectorAll('[data-service=\"default/web\"] [data-door=LoadBalancer] .ok')]"
                            + ".map(e => e.textContent).sort().join(',')").asText()).isEqualTo("node1,node2"));
            assertThat(page.evaluate("document.querySelectorAll('[data-service=\"default/web\"] [data-endpoint] .ok.dot').length").asInt())
                    .isEqualTo(2);
            // the token left the address at once, and stays in this tab only
            assertThat(page.evaluate("location.href").asText()).doesNotContain("token").endsWith("/ui/");
            assertThat(page.evaluate("sessionStorage.getItem('portway-token')").asText()).isEqualTo(viewerToken);
            assertThat(page.evaluate("localStorage.length").asInt()).isZero();

            // what a script that got onto the page could do: read, not Secrets; and write nothing, even with the admin token
            assertThat(page.evaluate("fetch('/api/v1/namespaces/default/secrets', {headers: {Authorization: 'Bearer "
                    + viewerToken + "'}}).then(r => r.status)").asInt()).isEqualTo(403);
            assertThat(page.evaluate("fetch('/api/v1/namespaces/default/configmaps', {method: 'POST', headers: {Authorization: 'Bearer "
                    + cluster.local().credentials().token() + "', 'Content-Type': 'application/json'}, "
                    + "body: JSON.stringify({metadata: {name: 'from-a-page'}})}).then(r => r.status)").asInt()).isEqualTo(403);
            assertThat(cluster.local().control().store().get(io.fabric8.kubernetes.api.model.ConfigMap.class, "default", "from-a-page")).isEmpty();
        }
    }

    @Test
    void thePageFollowsTheClusterWithoutAReload() throws Exception {
        try (Browser.Page page = browser.open(signedIn())) {
            await().atMost(Duration.ofSeconds(20)).until(() -> page.text().contains("default/web"));
            page.evaluate("window.loadedOnce = true");
            cluster.apply("""
                    apiVersion: v1
                    kind: Service
                    metadata: {name: later}
                    spec:
                      type: NodePort
                      selector: {app: web}
                      ports: [{port: 8001, targetPort: http}]
                    """);
            await().atMost(Duration.ofSeconds(20)).until(() -> page.text().contains("default/later"));
            assertThat(page.evaluate("window.loadedOnce === true").asBoolean()).as("the same page, not a reload").isTrue();

            // pods whose ports the targetPort does not name are in a slice of no ports: shown, but not as ready
            cluster.apply("""
                    apiVersion: v1
                    kind: Service
                    metadata: {name: misnamed}
                    spec:
                      selector: {app: web}
                      ports: [{port: 8002, targetPort: nope}]
                    """);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(page.evaluate(
                    "document.querySelector('[data-service=\"default/misnamed\"]')?.innerText ?? ''").asText())
                    .contains("no port matches the targetPort"));
            assertThat(page.evaluate("document.querySelectorAll('[data-service=\"default/misnamed\"] [data-endpoint] .ok').length").asInt())
                    .isZero();

            // a Gateway and its route appear with the address the Gateway got
            cluster.apply(TestCluster.httpGateway("front", 8090) + """
                    ---
                    apiVersion: gateway.networking.k8s.io/v1
                    kind: HTTPRoute
                    metadata: {name: to-web}
                    spec:
                      parentRefs: [{name: front}]
                      rules:
                      - backendRefs: [{name: web, port: 8000}]
                    """);
            String gatewayIp = cluster.gatewayAddress("front", 8090).getAddress().getHostAddress();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(page.evaluate(
                    "document.querySelector('[data-gateway=\"default/front\"]')?.innerText ?? ''").asText())
                    .contains(gatewayIp).contains("default/to-web").contains("web:8000"));

            // a node's proxy stopped fails its health check: the page shows the load balancer leaving it out
            cluster.local().control().call(() -> cluster.local().control().api().mutate(io.fabric8.kubernetes.api.model.Node.class,
                    null, "node2", n -> {
                        if (n.getMetadata().getAnnotations() == null) {
                            n.getMetadata().setAnnotations(new java.util.HashMap<>());
                        }
                        n.getMetadata().getAnnotations().put(dev.portway.api.NodeAnnotations.PROXY_STOPPED, "true");
                        return n;
                    }));
            try {
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(page.evaluate(
                        "[...document.querySelectorAll('[data-service=\"default/web\"] [data-door=LoadBalancer] .bad')]"
                                + ".map(e => e.textContent).join(',')").asText()).isEqualTo("node2"));
            } finally {
                cluster.local().control().call(() -> cluster.local().control().api().mutate(io.fabric8.kubernetes.api.model.Node.class,
                        null, "node2", n -> {
                            n.getMetadata().getAnnotations().remove(dev.portway.api.NodeAnnotations.PROXY_STOPPED);
                            return n;
                        }));
            }
        }
    }

    @Test
    void withoutTheTokenThePageAsksForItAndShowsNothingOfTheCluster() throws Exception {
        try (Browser.Page page = browser.open(cluster.local().adminUrl() + "/ui/")) {
            await().atMost(Duration.ofSeconds(20)).until(() -> page.text().contains("sign in to see the cluster"));
            assertThat(page.text()).doesNotContain("default/web");
            assertThat(page.evaluate("document.getElementById('signin').hidden").asBoolean()).isFalse();
        }
        try (Browser.Page page = browser.open(cluster.local().adminUrl() + "/ui/#token=" + "x".repeat(43))) {
            await().atMost(Duration.ofSeconds(20)).until(() -> page.text().contains("the token was refused"));
            assertThat(page.text()).doesNotContain("default/web");
            assertThat(page.evaluate("sessionStorage.getItem('portway-token')").isNull()).as("a refused token is dropped").isTrue();
        }
        // a link whose token cannot go in a header (a newline): the page asks for a token, where it failed every request for good
        try (Browser.Page page = browser.open(cluster.local().adminUrl() + "/ui/#token=%0a")) {
            await().atMost(Duration.ofSeconds(20)).until(() -> page.text().contains("sign in to see the cluster"));
            assertThat(page.evaluate("sessionStorage.getItem('portway-token')").isNull()).isTrue();
        }
    }
}
