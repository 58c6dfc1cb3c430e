package dev.portway.gateway.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The harness's own logic, without a cluster: upstream's CompareRoundTrip semantics, the retry
 * until consistent, the manifest preparation. So that a conformance failure is the gateway's, not
 * the harness's.
 */
class ExpectationsTest {

    private static RoundTripper.RoundTrip echoed(int status, String path, String pod, Map<String, List<String>> requestHeaders,
                                                 Map<String, List<String>> responseHeaders) {
        return new RoundTripper.RoundTrip(
                new RoundTripper.CapturedRequest(path, "example.com", "GET", "HTTP/1.1", requestHeaders, "3000",
                        "gateway-conformance-infra", pod),
                new RoundTripper.CapturedResponse(status, "HTTP/1.1", responseHeaders, "{}", null));
    }

    private static String compare(Exchange e, RoundTripper.RoundTrip got) {
        return Expectations.compare(e, e.received(), got, e.path.split("\\?")[0], 18080, "http");
    }

    @Test
    void statusBackendAndNamespaceAsUpstream() {
        Exchange e = Exchange.request("/one").backend("infra-backend-v1").namespace("gateway-conformance-infra");
        assertThat(compare(e, echoed(200, "/one", "infra-backend-v1-7d9-abcde", Map.of(), Map.of()))).isNull();
        assertThat(compare(e, echoed(200, "/one", "infra-backend-v2-7d9-abcde", Map.of(), Map.of())))
                .isEqualTo("expected pod name to start with infra-backend-v1, got infra-backend-v2-7d9-abcde");
        assertThat(compare(e, echoed(404, "/one", "", Map.of(), Map.of())))
                .startsWith("expected status code to be one of [200], got 404 (HTTP/1.1 404");
        assertThat(compare(e, echoed(200, "/two", "infra-backend-v1-7d9-abcde", Map.of(), Map.of())))
                .isEqualTo("expected path to be /one, got /two");
        // a non-200 expectation compares the status only
        assertThat(compare(Exchange.request("/").status(404), echoed(404, "", "", Map.of(), Map.of()))).isNull();
    }

    @Test
    void timeoutCodesStandForEachOther() {
        Exchange e = Exchange.request("/x?delay=1s").status(504);
        assertThat(compare(e, echoed(408, "", "", Map.of(), Map.of()))).isNull();
        assertThat(compare(e, echoed(200, "/x?delay=1s", "p", Map.of(), Map.of()))).startsWith("expected status code to be one of [504], got 200");
    }

    @Test
    void requestAndResponseHeadersCaseInsensitiveJoinedWithCommas() {
        Exchange e = Exchange.request("/add").expectPath("/add").expectHeader("x-header-add", "a,b").expectAbsent("X-Gone")
                .responseHeader("X-Resp", "v").responseAbsent("X-Not").backend("p").namespace("gateway-conformance-infra");
        assertThat(compare(e, echoed(200, "/add", "p-1-2", Map.of("X-Header-Add", List.of("a", "b")), Map.of("x-resp", List.of("v")))))
                .isNull();
        assertThat(compare(e, echoed(200, "/add", "p-1-2", Map.of("X-Header-Add", List.of("a")), Map.of("x-resp", List.of("v")))))
                .isEqualTo("expected x-header-add header to be set to a,b, got a");
        assertThat(compare(e, echoed(200, "/add", "p-1-2", Map.of("X-Header-Add", List.of("a", "b"), "X-Gone", List.of("1")),
                Map.of("x-resp", List.of("v"))))).isEqualTo("expected X-Gone header to not be set, got [1]");
        assertThat(compare(e, echoed(200, "/add", "p-1-2", Map.of("X-Header-Add", List.of("a", "b")), Map.of("X-Not", List.of("1"), "x-resp", List.of("v")))))
                .isEqualTo("expected X-Not header to not be set, got [1]");
    }

    private static RoundTripper.RoundTrip redirect(int status, String scheme, String host, String port, String path) {
        return new RoundTripper.RoundTrip(new RoundTripper.CapturedRequest("", "", "GET", "", Map.of(), "", "", ""),
                new RoundTripper.CapturedResponse(status, "HTTP/1.1", Map.of(), "", new Exchange.Redirect(scheme, host, port, path)));
    }

    @Test
    void redirectsAsUpstreamWithTheMovedListenerPort() {
        Exchange e = Exchange.request("/original-prefix/lemon").unfollowRedirect().status(302)
                .redirect(null, null, null, "/replacement-prefix/lemon");
        assertThat(compare(e, redirect(302, "http", "127.3.20.1", "", "/replacement-prefix/lemon"))).isNull();
        assertThat(compare(e, redirect(302, "http", "127.3.20.1", "80", "/replacement-prefix/lemon"))).isNull();
        // the listener port the harness moved 80 to is what a redirect that names no port keeps
        assertThat(compare(e, redirect(302, "http", "127.3.20.1", "18080", "/replacement-prefix/lemon"))).isNull();
        assertThat(compare(e, redirect(302, "http", "127.3.20.1", "8080", "/replacement-prefix/lemon")))
                .isEqualTo("for http scheme, expected redirected port to be 80 or not set, got \"8080\"");
        assertThat(compare(e, redirect(302, "http", "127.3.20.1", "", "/original-prefix/lemon")))
                .isEqualTo("expected redirected path to be \"/replacement-prefix/lemon\", got \"/original-prefix/lemon\"");
        Exchange https = Exchange.request("/scheme").unfollowRedirect().status(302).redirect("https", null, null, null);
        assertThat(compare(https, redirect(302, "https", "h", "", "/scheme"))).isNull();
        assertThat(compare(https, redirect(302, "https", "h", "18443", "/scheme")))
                .isEqualTo("for https scheme, expected redirected port to be 443 or not set, got \"18443\"");
        // over TLS to the listener the harness moved 443 to, a redirect that keeps the scheme keeps that port
        Exchange overTls = Exchange.request("/scheme-nil-and-port-nil").unfollowRedirect().status(302)
                .redirect("https", "example.org", null, null);
        assertThat(Expectations.compare(overTls, overTls.received(), redirect(302, "https", "example.org", "18443", "/scheme-nil-and-port-nil"),
                "/scheme-nil-and-port-nil", 18443, "https")).isNull();
        assertThat(Expectations.compare(overTls, overTls.received(), redirect(302, "https", "example.org", "18080", "/scheme-nil-and-port-nil"),
                "/scheme-nil-and-port-nil", 18443, "https"))
                .isEqualTo("for https scheme, expected redirected port to be 443 or not set, got \"18080\"");
        Exchange port = Exchange.request("/port").unfollowRedirect().status(302).redirect(null, "example.org", "8083", null);
        assertThat(compare(port, redirect(302, "http", "example.org", "8083", "/port"))).isNull();
        assertThat(compare(port, redirect(302, "http", "example.org", "", "/port")))
                .isEqualTo("expected redirected port to be \"8083\", got \"\"");
    }

    @Test
    void convergenceNeedsConsecutiveSuccessesAndEndsInTime() {
        AtomicInteger calls = new AtomicInteger();
        // fail, succeed, fail, then succeed three times
        List<String> script = java.util.Arrays.asList("no", null, "no", null, null, null);
        ConformanceRunner.awaitConvergence(3, Duration.ofSeconds(10), "case", () -> script.get(calls.getAndIncrement()));
        assertThat(calls.get()).isEqualTo(6);

        long start = System.nanoTime();
        assertThatThrownBy(() -> ConformanceRunner.awaitConvergence(3, Duration.ofMillis(1500), "case 0 request to '/'",
                () -> "expected status code to be one of [200], got 404"))
                .isInstanceOf(AssertionError.class)
                .hasMessageMatching("case 0 request to '/': timeout after 2 attempts, 0/3 consecutive successes; last failure: "
                        + "expected status code to be one of \\[200\\], got 404");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void pollEndsInTimeWithWhatItLastSaw() {
        assertThatThrownBy(() -> ConformanceRunner.poll(Duration.ofMillis(300), "Gateway a/b must have an address", () -> "status.addresses []"))
                .hasMessage("Gateway a/b must have an address: not so after 0 s; last seen: status.addresses []");
    }

    @Test
    void preparesManifestsAsUpstreamsApplierAndMovesPrivilegedListenerPorts() {
        Gateway gw = new GatewayBuilder().withNewMetadata().withName("g").endMetadata()
                .withNewSpec().withGatewayClassName("{GATEWAY_CLASS_NAME}")
                .addNewListener().withName("http").withPort(80).withProtocol("HTTP").endListener()
                .addNewListener().withName("https").withPort(443).withProtocol("HTTPS").endListener()
                .addNewListener().withName("alt").withPort(8080).withProtocol("HTTP").endListener()
                .endSpec().build();
        ConformanceManifests.prepare(gw);
        assertThat(gw.getSpec().getGatewayClassName()).isEqualTo("portway");
        assertThat(gw.getSpec().getListeners()).extracting(l -> l.getPort()).containsExactly(18080, 18443, 8080);
        ConformanceManifests.prepare(gw);
        assertThat(gw.getSpec().getListeners()).extracting(l -> l.getPort()).containsExactly(18080, 18443, 8080);

        GatewayClass gc = new GatewayClassBuilder().withNewMetadata().withName("c").endMetadata()
                .withNewSpec().withControllerName("{GATEWAY_CONTROLLER_NAME}").endSpec().build();
        ConformanceManifests.prepare(gc);
        assertThat(gc.getSpec().getControllerName()).isEqualTo("portway.dev/gateway-controller");

        HTTPRoute route = new HTTPRouteBuilder().withNewMetadata().withName("r").endMetadata()
                .withNewSpec().addNewParentRef().withName("g").withPort(81).endParentRef().addNewParentRef().withName("g").endParentRef()
                .addNewRule().addNewFilter().withType("RequestRedirect").withNewRequestRedirect().withPort(80).endRequestRedirect().endFilter()
                .addNewBackendRef().withName("b").withPort(8080).endBackendRef().endRule().endSpec().build();
        ConformanceManifests.prepare(route);
        assertThat(route.getSpec().getParentRefs()).extracting(r -> r.getPort()).containsExactly(18081, null);
        // what is not a listener port stays
        assertThat(route.getSpec().getRules().getFirst().getFilters().getFirst().getRequestRedirect().getPort()).isEqualTo(80);
        assertThat(route.getSpec().getRules().getFirst().getBackendRefs().getFirst().getPort()).isEqualTo(8080);
    }

    @Test
    void everyPortedTestHasAnUpstreamNameAndManifests() {
        List<ConformanceTest> tests = GatewayConformanceTest.ported();
        assertThat(tests).extracting(ConformanceTest::shortName).doesNotHaveDuplicates();
        for (ConformanceTest t : tests) {
            assertThat(t.manifests()).as(t.shortName()).isNotEmpty().allMatch(m -> m.startsWith("tests/") && m.endsWith(".yaml"));
            assertThat(t.steps()).as(t.shortName()).isNotEmpty();
            assertThat(t.features()).as(t.shortName()).contains(Feature.GATEWAY);
        }
        assertThat(Exchange.request("/").header("Version", "one").caseName(3)).isEqualTo("3 request to '/' with headers should receive one of [200]");
        assertThat(Exchange.request("/s1").host("very.specific.com").backend("infra-backend-v1").caseName(0))
                .isEqualTo("0 request to 'very.specific.com/s1' should go to infra-backend-v1");
    }

    @Test
    void weightsNameTheBackendByThePodName() {
        assertThat(ConformanceRunner.backendOf("infra-backend-v1-6f9c5d7b8-x2x4k")).isEqualTo("infra-backend-v1");
        assertThat(ConformanceRunner.backendOf("pod")).isEqualTo("pod");
    }
}
