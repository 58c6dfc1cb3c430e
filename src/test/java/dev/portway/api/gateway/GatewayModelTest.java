package dev.portway.api.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.admin.auth.Pki;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Attachment, hostname intersection, allowedRoutes, ReferenceGrant and reference resolution, on
 * objects as the API server stores them (defaulted), with the reasons the conformance tests expect.
 */
class GatewayModelTest {

    private static final String CLASS = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: GatewayClass
            metadata:
              name: portway
            spec:
              controllerName: portway.dev/gateway-controller
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: GatewayClass
            metadata:
              name: other
            spec:
              controllerName: example.com/other
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              ports:
              - {name: http, port: 80, targetPort: 8080}
              - {name: grpc, port: 9000, appProtocol: kubernetes.io/h2c}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: api
              namespace: team-b
            spec:
              ports:
              - {port: 80}
            """;

    private final TestApi api = new TestApi();

    private GatewayModel model(String yaml) {
        api.apply(CLASS + "---\n" + yaml);
        var store = api.api().store();
        return GatewayModel.build(GatewayModel.CONTROLLER_NAME, store.list(GatewayClass.class), store.list(Gateway.class),
                store.list(HTTPRoute.class), store.list(ReferenceGrant.class), store.list(Service.class), store.list(Namespace.class),
                store.list(Secret.class));
    }

    private static String gateway(String name, String namespace, String listeners) {
        return "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: " + name + "\n  namespace: " + namespace
                + "\nspec:\n  gatewayClassName: portway\n  listeners:\n" + listeners.stripIndent().indent(2) + "---\n";
    }

    private static String route(String name, String namespace, String spec) {
        return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: " + name + "\n  namespace: " + namespace
                + "\nspec:\n" + spec.stripIndent().indent(2) + "---\n";
    }

    private static String reason(RouteParentInfo p) {
        return p.accepted().status() + "/" + p.accepted().reason();
    }

    @Test
    void onlyGatewaysOfPortwaysClassesAreModelled() {
        GatewayModel m = model(gateway("mine", "default", "- {name: http, port: 80, protocol: HTTP}")
                + "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: theirs\nspec:\n  gatewayClassName: other\n"
                + "  listeners:\n  - {name: http, port: 80, protocol: HTTP}\n");
        assertThat(m.gatewayClasses()).extracting(ClassInfo::name).containsExactly("portway");
        assertThat(m.gatewayClasses().getFirst().accepted()).isTrue();
        assertThat(m.gatewayClasses().getFirst().conditions()).extracting(StatusCondition::type).containsExactly("Accepted", "SupportedVersion");
        assertThat(m.gateways()).extracting(GatewayInfo::name).containsExactly("mine");
        GatewayInfo gw = m.gateway("default", "mine").orElseThrow();
        assertThat(gw.accepted()).isEqualTo(StatusCondition.isTrue("Accepted", "Accepted", "Gateway is accepted"));
        ListenerInfo l = gw.listener("http").orElseThrow();
        assertThat(l.supportedKinds()).containsExactly(new ListenerInfo.RouteKind("gateway.networking.k8s.io", "HTTPRoute"));
        assertThat(l.conditions()).extracting(c -> c.type() + "=" + c.status() + "/" + c.reason())
                .containsExactly("Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs", "Conflicted=False/NoConflicts");
        assertThat(l.ready()).isTrue();
    }

    @Test
    void parentRefsSelectListenersBySectionNameAndPort() {
        GatewayModel m = model(gateway("gw", "default", """
                - {name: http, port: 80, protocol: HTTP}
                - {name: alt, port: 8080, protocol: HTTP}
                """)
                + route("by-section", "default", "parentRefs: [{name: gw, sectionName: alt}]")
                + route("by-port", "default", "parentRefs: [{name: gw, port: 80}]")
                + route("whole", "default", "parentRefs: [{name: gw}]")
                + route("no-section", "default", "parentRefs: [{name: gw, sectionName: nope}]")
                + route("no-port", "default", "parentRefs: [{name: gw, port: 81}]")
                + route("section-and-port-disagree", "default", "parentRefs: [{name: gw, sectionName: alt, port: 80}]")
                + route("elsewhere", "default", "parentRefs: [{name: missing}]"));
        assertThat(m.route("default", "by-section").orElseThrow().parents().getFirst().listeners()).containsExactly("alt");
        assertThat(m.route("default", "by-port").orElseThrow().parents().getFirst().listeners()).containsExactly("http");
        assertThat(m.route("default", "whole").orElseThrow().parents().getFirst().listeners()).containsExactly("http", "alt");
        for (String name : List.of("no-section", "no-port", "section-and-port-disagree")) {
            RouteParentInfo p = m.route("default", name).orElseThrow().parents().getFirst();
            assertThat(reason(p)).as(name).isEqualTo("False/NoMatchingParent");
            assertThat(p.resolvedRefs().holds()).as("ResolvedRefs stays true").isTrue();
        }
        assertThat(m.route("default", "no-section").orElseThrow().parents().getFirst().accepted().message())
                .isEqualTo("No listener of Gateway \"default/gw\" matches sectionName \"nope\"");
        assertThat(m.route("default", "elsewhere")).as("a route of no Portway Gateway is not ours to report").isEmpty();
        GatewayInfo gw = m.gateway("default", "gw").orElseThrow();
        assertThat(gw.listener("http").orElseThrow().routes()).extracting(r -> r.route().getMetadata().getName())
                .containsExactlyInAnyOrder("by-port", "whole");
        assertThat(gw.listener("alt").orElseThrow().routes()).extracting(r -> r.route().getMetadata().getName())
                .containsExactlyInAnyOrder("by-section", "whole");
    }

    @Test
    void allowedRoutesDecideWhichNamespacesMayAttach() {
        api.apply("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: labelled
                  labels: {team: a}
                """);
        GatewayModel m = model(gateway("gw", "default", """
                - {name: same, port: 80, protocol: HTTP}
                - name: all
                  port: 81
                  protocol: HTTP
                  allowedRoutes: {namespaces: {from: All}}
                - name: selected
                  port: 82
                  protocol: HTTP
                  allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}
                - name: by-name
                  port: 83
                  protocol: HTTP
                  allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {kubernetes.io/metadata.name: team-b}}}}
                - name: other-kinds
                  port: 84
                  protocol: HTTP
                  allowedRoutes: {kinds: [{kind: GRPCRoute}], namespaces: {from: All}}
                """)
                + route("local", "default", "parentRefs: [{name: gw}]")
                + route("from-a", "team-a", "parentRefs: [{name: gw, namespace: default}]")
                + route("from-b", "team-b", "parentRefs: [{name: gw, namespace: default}]")
                + route("from-labelled", "labelled", "parentRefs: [{name: gw, namespace: default}]")
                + route("only-same", "team-a", "parentRefs: [{name: gw, namespace: default, sectionName: same}]")
                + route("only-grpc", "default", "parentRefs: [{name: gw, sectionName: other-kinds}]"));
        assertThat(m.route("default", "local").orElseThrow().parents().getFirst().listeners()).containsExactly("same", "all");
        assertThat(m.route("team-a", "from-a").orElseThrow().parents().getFirst().listeners()).containsExactly("all");
        assertThat(m.route("team-b", "from-b").orElseThrow().parents().getFirst().listeners()).containsExactly("all", "by-name");
        assertThat(m.route("labelled", "from-labelled").orElseThrow().parents().getFirst().listeners()).containsExactly("all", "selected");
        assertThat(reason(m.route("team-a", "only-same").orElseThrow().parents().getFirst())).isEqualTo("False/NotAllowedByListeners");
        assertThat(reason(m.route("default", "only-grpc").orElseThrow().parents().getFirst())).isEqualTo("False/NotAllowedByListeners");
        ListenerInfo grpc = m.gateway("default", "gw").orElseThrow().listener("other-kinds").orElseThrow();
        assertThat(grpc.supportedKinds()).isEmpty();
        assertThat(grpc.condition("ResolvedRefs").orElseThrow().reason()).isEqualTo("InvalidRouteKinds");
        assertThat(grpc.ready()).isFalse();
    }

    static Stream<Arguments> hostnames() {
        return Stream.of(
                Arguments.of(null, List.of(), Optional.of(List.of())),
                Arguments.of(null, List.of("a.example.com"), Optional.of(List.of("a.example.com"))),
                Arguments.of("very.specific.com", List.of(), Optional.of(List.of("very.specific.com"))),
                Arguments.of("very.specific.com", List.of("non.matching.com", "*.nonmatchingwildcard.io", "very.specific.com"),
                        Optional.of(List.of("very.specific.com"))),
                Arguments.of("*.wildcard.io", List.of("non.matching.com", "wildcard.io", "foo.wildcard.io", "bar.wildcard.io",
                        "foo.bar.wildcard.io"), Optional.of(List.of("foo.wildcard.io", "bar.wildcard.io", "foo.bar.wildcard.io"))),
                Arguments.of("very.specific.com", List.of("non.matching.com", "*.specific.com"), Optional.of(List.of("very.specific.com"))),
                Arguments.of("*.anotherwildcard.io", List.of("*.anotherwildcard.io"), Optional.of(List.of("*.anotherwildcard.io"))),
                Arguments.of("*.example.com", List.of("*.foo.example.com"), Optional.of(List.of("*.foo.example.com"))),
                Arguments.of("*.foo.example.com", List.of("*.example.com"), Optional.of(List.of("*.foo.example.com"))),
                Arguments.of("*.wildcard.io", List.of("specific.but.wrong.com", "wildcard.io"), Optional.empty()),
                Arguments.of("*.example.com", List.of("*.example.org"), Optional.empty()));
    }

    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("hostnames")
    void effectiveHostnamesAreTheIntersection(String listener, List<String> route, Optional<List<String>> expected) {
        assertThat(Hostnames.effective(listener, route)).isEqualTo(expected);
    }

    @Test
    void wildcardsMatchOneOrMoreLabels() {
        assertThat(Hostnames.matches("*.example.com", "a.example.com")).isTrue();
        assertThat(Hostnames.matches("*.example.com", "a.b.example.com")).isTrue();
        assertThat(Hostnames.matches("*.example.com", "example.com")).isFalse();
        assertThat(Hostnames.matches(null, "anything")).isTrue();
    }

    @Test
    void routesAttachWithTheirEffectiveHostnamesAndOnlyAcceptedRoutesCount() {
        GatewayModel m = model(gateway("gw", "default", """
                - {name: specific, port: 80, protocol: HTTP, hostname: very.specific.com}
                - {name: wild, port: 80, protocol: HTTP, hostname: "*.wildcard.io"}
                """)
                + route("both", "default", "parentRefs: [{name: gw}]\nhostnames: [very.specific.com, a.wildcard.io]")
                + route("none", "default", "parentRefs: [{name: gw}]\nhostnames: [wrong.example.com]"));
        RouteParentInfo both = m.route("default", "both").orElseThrow().parents().getFirst();
        assertThat(both.listeners()).containsExactly("specific", "wild");
        assertThat(reason(m.route("default", "none").orElseThrow().parents().getFirst())).isEqualTo("False/NoMatchingListenerHostname");
        ListenerInfo wild = m.gateway("default", "gw").orElseThrow().listener("wild").orElseThrow();
        assertThat(wild.routes()).singleElement().satisfies(r -> {
            assertThat(r.route().getMetadata().getName()).isEqualTo("both");
            assertThat(r.hostnames()).containsExactly("a.wildcard.io");
            assertThat(r.parentRef().index()).isZero();
        });
    }

    @Test
    void backendRefsResolveToServicePortsAcrossNamespacesOnlyWithAGrant() {
        String routes = route("r", "default", """
                parentRefs: [{name: gw}]
                rules:
                - backendRefs:
                  - {name: web, port: 80, weight: 3}
                  - {name: api, namespace: team-b, port: 80}
                  filters:
                  - type: RequestMirror
                    requestMirror: {backendRef: {name: web, port: 80}}
                """);
        GatewayModel before = model(gateway("gw", "default", "- {name: http, port: 80, protocol: HTTP}") + routes);
        RouteInfo r = before.route("default", "r").orElseThrow();
        BackendInfo web = r.backend(0, 0).orElseThrow();
        assertThat(web.resolved()).isTrue();
        assertThat(web.weight()).isEqualTo(3);
        assertThat(web.servicePort().getName()).isEqualTo("http");
        assertThat(r.mirror(0, -1, 0).orElseThrow().resolved()).isTrue();
        BackendInfo cross = r.backend(0, 1).orElseThrow();
        assertThat(cross.reason()).isEqualTo("RefNotPermitted");
        assertThat(r.resolvedRefs()).isEqualTo(StatusCondition.isFalse("ResolvedRefs", "RefNotPermitted", "Service \"team-b/api\" is in "
                + "another namespace and no ReferenceGrant there allows HTTPRoutes of namespace \"default\" to use it"));
        assertThat(reason(r.parents().getFirst())).as("unresolved refs do not unaccept a route").isEqualTo("True/Accepted");

        GatewayModel after = model("""
                apiVersion: gateway.networking.k8s.io/v1beta1
                kind: ReferenceGrant
                metadata:
                  name: from-default
                  namespace: team-b
                spec:
                  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
                  to: [{group: "", kind: Service, name: api}]
                """);
        RouteInfo granted = after.route("default", "r").orElseThrow();
        assertThat(granted.backend(0, 1).orElseThrow().resolved()).isTrue();
        assertThat(granted.resolvedRefs().holds()).isTrue();
    }

    @Test
    void unresolvableBackendsHaveTheSpecsReasons() {
        GatewayModel m = model(gateway("gw", "default", "- {name: http, port: 80, protocol: HTTP}")
                + route("missing", "default", "parentRefs: [{name: gw}]\nrules:\n- backendRefs: [{name: nothing, port: 80}]")
                + route("no-port", "default", "parentRefs: [{name: gw}]\nrules:\n- backendRefs: [{name: web, port: 81}]")
                + route("kind", "default", "parentRefs: [{name: gw}]\nrules:\n- backendRefs: [{group: example.com, kind: Bucket, name: b}]")
                + route("h2c", "default", "parentRefs: [{name: gw}]\nrules:\n- backendRefs: [{name: web, port: 9000}]"));
        assertThat(m.route("default", "missing").orElseThrow().resolvedRefs())
                .isEqualTo(StatusCondition.isFalse("ResolvedRefs", "BackendNotFound", "Service \"default/nothing\" not found"));
        assertThat(m.route("default", "no-port").orElseThrow().resolvedRefs().reason()).isEqualTo("BackendNotFound");
        assertThat(m.route("default", "kind").orElseThrow().resolvedRefs().reason()).isEqualTo("InvalidKind");
        assertThat(m.route("default", "h2c").orElseThrow().resolvedRefs().reason()).isEqualTo("UnsupportedProtocol");
    }

    @Test
    void routesPortwayCannotServeAreNotAccepted() {
        GatewayModel m = model(gateway("gw", "default", "- {name: http, port: 80, protocol: HTTP}")
                + route("regex", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - matches: [{path: {type: RegularExpression, value: "/(a"}}]
                          backendRefs: [{name: web, port: 80}]
                        """)
                + route("backreference", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - matches: [{headers: [{name: X-Pair, type: RegularExpression, value: "(a+)-\\\\1"}]}]
                          backendRefs: [{name: web, port: 80}]
                        """));
        RouteParentInfo p = m.route("default", "regex").orElseThrow().parents().getFirst();
        assertThat(reason(p)).isEqualTo("False/UnsupportedValue");
        assertThat(p.accepted().message()).isEqualTo("spec.rules[0].matches[0].path.value: regular expression \"/(a\" is not supported: "
                + "missing closing ): `/(a`");
        // RE2 has no back-references (a linear-time match cannot): refused, never matched differently
        RouteParentInfo backreference = m.route("default", "backreference").orElseThrow().parents().getFirst();
        assertThat(backreference.accepted().message()).isEqualTo("spec.rules[0].matches[0].headers[0].value: regular expression "
                + "\"(a+)-\\1\" is not supported: invalid escape sequence: `\\1`");
        assertThat(m.gateway("default", "gw").orElseThrow().listener("http").orElseThrow().routes()).isEmpty();
    }

    /**
     * An expression larger than Envoy's default program size is not accepted: tried for every
     * request to the route's hostnames, {@code /(?:(?:a?){1000}){5}} (10,003 instructions)
     * overflowed the event loop's stack on each, and larger nests took gigabytes to compile.
     */
    @Test
    void anExpressionThatCompilesToMoreThanAHundredInstructionsIsNotAccepted() {
        StringBuilder objects = new StringBuilder(gateway("gw", "default", "- {name: http, port: 80, protocol: HTTP}"));
        java.util.Map.of("nested", "{path: {type: RegularExpression, value: \"/(?:(?:a?){1000}){5}\"}}",
                "huge", "{headers: [{name: X-A, type: RegularExpression, value: \"(?:(?:a{1000}){1000}){1000}\"}]}",
                "wide", "{path: {type: RegularExpression, value: \"/x{1,100}\"}}",
                "uuid", "{path: {type: RegularExpression, value: \"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\"}}")
                .forEach((name, match) -> objects.append(route(name, "default",
                        "parentRefs: [{name: gw}]\nrules:\n- matches: [" + match + "]\n  backendRefs: [{name: web, port: 80}]\n")));
        GatewayModel m = model(objects.toString());
        assertThat(m.route("default", "nested").orElseThrow().parents().getFirst().accepted().message())
                .isEqualTo("spec.rules[0].matches[0].path.value: regular expression \"/(?:(?:a?){1000}){5}\" is not supported: "
                        + "the expression is too large: its repetitions multiply past 10000 instructions, and at most 100 are allowed");
        assertThat(reason(m.route("default", "huge").orElseThrow().parents().getFirst())).isEqualTo("False/UnsupportedValue");
        assertThat(m.route("default", "wide").orElseThrow().parents().getFirst().accepted().message())
                .endsWith("is not supported: the expression is too large: it compiles to 202 instructions, and at most 100 are allowed");
        assertThat(reason(m.route("default", "uuid").orElseThrow().parents().getFirst())).isEqualTo("True/Accepted");
    }

    /**
     * re2j never returns from case-folding U+1C80 (google/re2j#168): such an expression is not
     * supported, rather than compiled on the control thread for ever.
     */
    @Test
    void aCaseFoldedExpressionRe2jCannotCompileIsNotAccepted() {
        GatewayModel m = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> model(
                gateway("gw", "default", "- {name: http, port: 80, protocol: HTTP}") + route("fold", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - matches: [{path: {type: RegularExpression, value: '(?i)/\\x{1C80}'}}]
                          backendRefs: [{name: web, port: 80}]
                        """)));
        RouteParentInfo p = m.route("default", "fold").orElseThrow().parents().getFirst();
        assertThat(reason(p)).isEqualTo("False/UnsupportedValue");
        assertThat(p.accepted().message()).endsWith("case-insensitive matching of \\x{1C80} is not supported (at most \\x{FF})");
    }

    /** Valid to the schema, unsendable in HTTP: the route is not accepted, where every request through it failed. */
    @Test
    void aFilterWhoseValuesCannotBeSentIsNotAccepted() {
        GatewayModel m = model(gateway("gw", "default", "- {name: http, port: 80, protocol: HTTP}")
                + route("crlf", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - filters:
                          - type: RequestHeaderModifier
                            requestHeaderModifier: {set: [{name: X-A, value: "v\\r\\nX-B: y"}]}
                          backendRefs: [{name: web, port: 80}]
                        """)
                + route("space", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - filters:
                          - type: URLRewrite
                            urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: "/a b"}}
                          backendRefs: [{name: web, port: 80}]
                        """)
                + route("leading", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - filters:
                          - type: RequestHeaderModifier
                            requestHeaderModifier: {add: [{name: X-Lead, value: " v"}]}
                          backendRefs: [{name: web, port: 80}]
                        """)
                + route("tab", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - filters:
                          - type: ResponseHeaderModifier
                            responseHeaderModifier: {add: [{name: X-Ok, value: "a\\tb c"}]}
                          backendRefs: [{name: web, port: 80}]
                        """));
        RouteParentInfo crlf = m.route("default", "crlf").orElseThrow().parents().getFirst();
        assertThat(reason(crlf)).isEqualTo("False/UnsupportedValue");
        assertThat(crlf.accepted().message()).contains("cannot send the value of X-A: it holds a control character");
        RouteParentInfo space = m.route("default", "space").orElseThrow().parents().getFirst();
        assertThat(reason(space)).isEqualTo("False/UnsupportedValue");
        assertThat(space.accepted().message()).contains("cannot send \"/a b\"");
        assertThat(reason(m.route("default", "leading").orElseThrow().parents().getFirst())).isEqualTo("False/UnsupportedValue");
        assertThat(reason(m.route("default", "tab").orElseThrow().parents().getFirst())).as("a tab and a space inside a value are fine")
                .isEqualTo("True/Accepted");
    }

    @Test
    void aHeaderFilterMayNotChangeTheFramingOrHopByHopFields() {
        GatewayModel m = model(gateway("gw", "default", "- {name: http, port: 80, protocol: HTTP}")
                + route("length", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - filters:
                          - type: RequestHeaderModifier
                            requestHeaderModifier: {set: [{name: X-Tenant, value: a}, {name: Content-Length, value: "10"}]}
                          backendRefs: [{name: web, port: 80}]
                        """)
                + route("connection", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - backendRefs:
                          - name: web
                            port: 80
                            filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {remove: [connection]}}]
                        """)
                + route("fine", "default", """
                        parentRefs: [{name: gw}]
                        rules:
                        - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: X-Tenant, value: a}]}}]
                          backendRefs: [{name: web, port: 80}]
                        """));
        RouteParentInfo length = m.route("default", "length").orElseThrow().parents().getFirst();
        assertThat(reason(length)).isEqualTo("False/UnsupportedValue");
        assertThat(length.accepted().message()).isEqualTo("spec.rules[0]: a RequestHeaderModifier filter cannot change Content-Length:"
                + " the gateway frames messages itself and keeps hop-by-hop fields to their hop");
        assertThat(reason(m.route("default", "connection").orElseThrow().parents().getFirst())).isEqualTo("False/UnsupportedValue");
        assertThat(reason(m.route("default", "fine").orElseThrow().parents().getFirst())).isEqualTo("True/Accepted");
    }

    @Test
    void listenersOfUnsupportedOrConflictingProtocolsAreNotAccepted() {
        GatewayModel m = model(gateway("only-tcp", "default", "- {name: tcp, port: 9000, protocol: TCP}")
                + gateway("mixed", "default", """
                        - {name: http, port: 80, protocol: HTTP}
                        - {name: udp, port: 53, protocol: UDP}
                        - name: https
                          port: 8443
                          protocol: HTTPS
                          tls: {certificateRefs: [{name: cert}]}
                        - {name: plain, port: 8443, protocol: HTTP, hostname: plain.example.com}
                        """));
        GatewayInfo tcp = m.gateway("default", "only-tcp").orElseThrow();
        assertThat(tcp.accepted().status() + "/" + tcp.accepted().reason()).isEqualTo("False/ListenersNotValid");
        assertThat(tcp.listener("tcp").orElseThrow().condition("Accepted").orElseThrow().reason()).isEqualTo("UnsupportedProtocol");
        assertThat(tcp.listener("tcp").orElseThrow().supportedKinds()).isEmpty();
        GatewayInfo mixed = m.gateway("default", "mixed").orElseThrow();
        assertThat(mixed.accepted().status() + "/" + mixed.accepted().reason()).isEqualTo("True/ListenersNotValid");
        assertThat(mixed.listener("plain").orElseThrow().condition("Conflicted").orElseThrow())
                .isEqualTo(StatusCondition.isTrue("Conflicted", "ProtocolConflict", "Listeners on port 8443 use different protocols"));
        assertThat(mixed.listener("http").orElseThrow().ready()).isTrue();
    }

    @Test
    void certificateRefsMustNameUsableTlsSecretsTheGatewayMayUse() throws Exception {
        Pki.KeyAndCert cert = Pki.newCa("www.example.com", Instant.now(), Duration.ofDays(1));
        String crt = Base64.getEncoder().encodeToString(Pki.certPem(cert.cert()).getBytes(StandardCharsets.US_ASCII));
        String key = Base64.getEncoder().encodeToString(Pki.keyPem(cert.key()).getBytes(StandardCharsets.US_ASCII));
        String junk = Base64.getEncoder().encodeToString("Hello world\n".getBytes(StandardCharsets.US_ASCII));
        // openssl pkcs8 -topk8 -v2 aes256: a key the data plane cannot use without its passphrase
        String encrypted = Base64.getEncoder().encodeToString("""
                -----BEGIN ENCRYPTED PRIVATE KEY-----
                MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAixbjs0gQK3rgICCAAw
                DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEJVUiM9IN490NxS70qfOhgwEgZAJ
                wVVb0s1+ZSmRgBgdx32TOr1UFoYnvGc4TgtRCAMnMC/n3kCBAbheLcM47bRybFRa
                edQ6Yy4AQ8ORy1mvUjl+HdsNH250Et8oOzYlVMJywVVE6CKNbBtJpMHQUNaUBYvj
                t9wLNvZSXtEXHKLUJ5Cp4g8fLUByRAqioyUQaEStvPussPrd45acFgM3YGdfcbA=
                -----END ENCRYPTED PRIVATE KEY-----
                """.getBytes(StandardCharsets.US_ASCII));
        String damaged = Base64.getEncoder().encodeToString("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
                .getBytes(StandardCharsets.US_ASCII));
        String secrets = """
                apiVersion: v1
                kind: Secret
                metadata: {name: good}
                type: kubernetes.io/tls
                data: {tls.crt: %s, tls.key: %s}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: malformed}
                type: kubernetes.io/tls
                data: {tls.crt: %s, tls.key: %s}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: elsewhere, namespace: team-b}
                type: kubernetes.io/tls
                data: {tls.crt: %s, tls.key: %s}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: locked}
                type: kubernetes.io/tls
                data: {tls.crt: %s, tls.key: %s}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: damaged}
                type: kubernetes.io/tls
                data: {tls.crt: %s, tls.key: %s}
                ---
                """.formatted(crt, key, junk, junk, crt, key, crt, encrypted, crt, damaged);
        String listeners = """
                - {name: good, port: 443, protocol: HTTPS, hostname: good.example.com, tls: {certificateRefs: [{name: good}]}}
                - {name: missing, port: 443, protocol: HTTPS, hostname: missing.example.com, tls: {certificateRefs: [{name: nope}]}}
                - {name: malformed, port: 443, protocol: HTTPS, hostname: bad.example.com, tls: {certificateRefs: [{name: malformed}]}}
                - {name: kind, port: 443, protocol: HTTPS, hostname: kind.example.com, tls: {certificateRefs: [{kind: WrongKind, name: good}]}}
                - {name: locked, port: 443, protocol: HTTPS, hostname: locked.example.com, tls: {certificateRefs: [{name: locked}]}}
                - {name: damaged, port: 443, protocol: HTTPS, hostname: damaged.example.com, tls: {certificateRefs: [{name: damaged}]}}
                - name: cross
                  port: 443
                  protocol: HTTPS
                  hostname: cross.example.com
                  tls: {certificateRefs: [{name: elsewhere, namespace: team-b}]}
                """;
        GatewayModel m = model(secrets + gateway("gw", "default", listeners));
        GatewayInfo gw = m.gateway("default", "gw").orElseThrow();
        assertThat(gw.listener("good").orElseThrow().ready()).isTrue();
        assertThat(gw.listener("good").orElseThrow().certificateRefs().getFirst().secret().getMetadata().getName()).isEqualTo("good");
        assertThat(gw.listener("good").orElseThrow().tlsMode()).contains("Terminate");
        for (String[] expected : List.of(new String[] {"missing", "InvalidCertificateRef"}, new String[] {"malformed", "InvalidCertificateRef"},
                new String[] {"kind", "InvalidCertificateRef"}, new String[] {"cross", "RefNotPermitted"},
                new String[] {"locked", "InvalidCertificateRef"}, new String[] {"damaged", "InvalidCertificateRef"})) {
            ListenerInfo l = gw.listener(expected[0]).orElseThrow();
            assertThat(l.condition("ResolvedRefs").orElseThrow().reason()).as(expected[0]).isEqualTo(expected[1]);
            assertThat(l.condition("Accepted").orElseThrow().holds()).as(expected[0]).isTrue();
            assertThat(l.ready()).isFalse();
        }
        assertThat(gw.listener("locked").orElseThrow().condition("ResolvedRefs").orElseThrow().message())
                .contains("cannot be used (unencrypted PKCS#8, PKCS#1 or SEC1 PEM is needed)");
        GatewayModel granted = model("""
                apiVersion: gateway.networking.k8s.io/v1beta1
                kind: ReferenceGrant
                metadata: {name: certs, namespace: team-b}
                spec:
                  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: default}]
                  to: [{group: "", kind: Secret}]
                """);
        assertThat(granted.gateway("default", "gw").orElseThrow().listener("cross").orElseThrow().ready()).isTrue();
    }

    @Test
    void overlappingHttpsHostnamesAreFlagged() {
        GatewayModel m = model(gateway("gw", "default", """
                - {name: a, port: 443, protocol: HTTPS, hostname: foo.example.com, tls: {certificateRefs: [{name: c}]}}
                - {name: b, port: 443, protocol: HTTPS, hostname: foo.example.org, tls: {certificateRefs: [{name: c}]}}
                - {name: c, port: 443, protocol: HTTPS, hostname: "*.example.com", tls: {certificateRefs: [{name: c}]}}
                """));
        GatewayInfo gw = m.gateway("default", "gw").orElseThrow();
        assertThat(gw.listener("a").orElseThrow().condition("OverlappingTLSConfig")).map(StatusCondition::reason).contains("OverlappingHostnames");
        assertThat(gw.listener("c").orElseThrow().condition("OverlappingTLSConfig")).isPresent();
        assertThat(gw.listener("b").orElseThrow().condition("OverlappingTLSConfig")).isEmpty();
    }

    @Test
    void requestedAddressesAndUnsupportedOnes() {
        GatewayModel m = model("""
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: fixed}
                spec:
                  gatewayClassName: portway
                  addresses: [{value: 127.3.0.9}]
                  listeners: [{name: http, port: 80, protocol: HTTP}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: named}
                spec:
                  gatewayClassName: portway
                  addresses: [{type: Hostname, value: gw.example.com}]
                  listeners: [{name: http, port: 80, protocol: HTTP}]
                """);
        assertThat(m.gateway("default", "fixed").orElseThrow().requestedAddress()).contains("127.3.0.9");
        assertThat(m.gateway("default", "named").orElseThrow().accepted().reason()).isEqualTo("UnsupportedAddress");
    }
}
