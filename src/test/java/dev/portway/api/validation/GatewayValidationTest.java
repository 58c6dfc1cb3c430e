package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Gateway API CRDs' schema constraints, defaults and CEL rules, with kube-apiserver's CRD
 * messages (OpenAPI errors as apiextensions-apiserver reports them, CEL failures as
 * {@code Invalid value: "<type>": <rule message>}).
 */
class GatewayValidationTest {

    static String gateway(String spec) {
        return "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n" + spec.stripIndent().indent(2);
    }

    static String route(String spec) {
        return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\nspec:\n" + spec.stripIndent().indent(2);
    }

    private static final String NOT_CHECKED = "<nil>: Invalid value: null: some validation rules were not checked because the "
            + "object was invalid; correct the existing errors to complete validation";

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("listener port 0", gateway("""
                        gatewayClassName: portway
                        listeners:
                        - {name: http, port: 0, protocol: HTTP}
                        """), "The Gateway \"gw\" is invalid: spec.listeners[0].port: Invalid value: 0: spec.listeners[0].port in body "
                        + "should be greater than or equal to 1"),
                Arguments.of("tls on an HTTP listener", gateway("""
                        gatewayClassName: portway
                        listeners:
                        - name: http
                          port: 80
                          protocol: HTTP
                          tls:
                            certificateRefs: [{name: cert}]
                        """), "The Gateway \"gw\" is invalid: spec.listeners: Invalid value: \"array\": tls must not be specified for "
                        + "protocols ['HTTP', 'TCP', 'UDP']"),
                Arguments.of("HTTPS without certificates", gateway("""
                        gatewayClassName: portway
                        listeners:
                        - name: https
                          port: 443
                          protocol: HTTPS
                          tls: {mode: Terminate}
                        """), "The Gateway \"gw\" is invalid: spec.listeners[0].tls: Invalid value: \"object\": certificateRefs or "
                        + "options must be specified when mode is Terminate"),
                Arguments.of("HTTPS passthrough", gateway("""
                        gatewayClassName: portway
                        listeners:
                        - name: https
                          port: 443
                          protocol: HTTPS
                          tls: {mode: Passthrough}
                        """), "The Gateway \"gw\" is invalid: spec.listeners: Invalid value: \"array\": tls mode must be Terminate for "
                        + "protocol HTTPS"),
                Arguments.of("duplicate listener names", gateway("""
                        gatewayClassName: portway
                        listeners:
                        - {name: web, port: 80, protocol: HTTP}
                        - {name: web, port: 8080, protocol: HTTP}
                        """), "The Gateway \"gw\" is invalid: [spec.listeners[1]: Duplicate value: {\"name\":\"web\"}, spec.listeners: "
                        + "Invalid value: \"array\": Listener name must be unique within the Gateway]"),
                Arguments.of("same port, protocol and hostname", gateway("""
                        gatewayClassName: portway
                        listeners:
                        - {name: a, port: 80, protocol: HTTP, hostname: a.example.com}
                        - {name: b, port: 80, protocol: HTTP, hostname: a.example.com}
                        """), "The Gateway \"gw\" is invalid: spec.listeners: Invalid value: \"array\": Combination of port, protocol and "
                        + "hostname must be unique for each listener"),
                Arguments.of("bad hostname and enum", gateway("""
                        gatewayClassName: portway
                        listeners:
                        - name: http
                          port: 80
                          protocol: HTTP
                          hostname: "*.Example.com"
                          allowedRoutes:
                            namespaces: {from: Everywhere}
                        """), "The Gateway \"gw\" is invalid: [spec.listeners[0].allowedRoutes.namespaces.from: Unsupported value: "
                        + "\"Everywhere\": supported values: \"All\", \"Selector\", \"Same\", spec.listeners[0].hostname: Invalid value: "
                        + "\"*.Example.com\": spec.listeners[0].hostname in body should match "
                        + "'^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', " + NOT_CHECKED + "]"),
                Arguments.of("gateway without listeners", gateway("""
                        gatewayClassName: portway
                        """), "The Gateway \"gw\" is invalid: [spec.listeners: Required value, " + NOT_CHECKED + "]"),
                Arguments.of("path match that is not absolute", route("""
                        rules:
                        - matches:
                          - path: {type: PathPrefix, value: api}
                        """), "The HTTPRoute \"r\" is invalid: spec.rules[0].matches[0].path: Invalid value: \"object\": value must be "
                        + "an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"),
                Arguments.of("unknown path match type", route("""
                        rules:
                        - matches:
                          - path: {type: Glob, value: /api}
                        """), "The HTTPRoute \"r\" is invalid: [spec.rules[0].matches[0].path.type: Unsupported value: \"Glob\": supported "
                        + "values: \"Exact\", \"PathPrefix\", \"RegularExpression\", " + NOT_CHECKED + "]"),
                Arguments.of("service backend without port", route("""
                        rules:
                        - backendRefs:
                          - name: web
                        """), "The HTTPRoute \"r\" is invalid: spec.rules[0].backendRefs[0]: Invalid value: \"object\": Must have port "
                        + "for Service reference"),
                Arguments.of("redirect together with backends", route("""
                        rules:
                        - filters:
                          - type: RequestRedirect
                            requestRedirect: {scheme: https}
                          backendRefs:
                          - {name: web, port: 80}
                        """), "The HTTPRoute \"r\" is invalid: spec.rules[0]: Invalid value: \"object\": RequestRedirect filter must not "
                        + "be used together with backendRefs"),
                Arguments.of("filter type without its field", route("""
                        rules:
                        - filters:
                          - type: RequestHeaderModifier
                          backendRefs:
                          - {name: web, port: 80}
                        """), "The HTTPRoute \"r\" is invalid: spec.rules[0].filters[0]: Invalid value: \"object\": "
                        + "filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type"),
                Arguments.of("replacePrefixMatch without a single PathPrefix match", route("""
                        rules:
                        - matches:
                          - path: {type: Exact, value: /old}
                          filters:
                          - type: URLRewrite
                            urlRewrite:
                              path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
                          backendRefs:
                          - {name: web, port: 80}
                        """), "The HTTPRoute \"r\" is invalid: spec.rules[0]: Invalid value: \"object\": When using URLRewrite filter "
                        + "with path.replacePrefixMatch, exactly one PathPrefix match must be specified"),
                Arguments.of("redirect status code", route("""
                        rules:
                        - filters:
                          - type: RequestRedirect
                            requestRedirect: {statusCode: 304}
                        """), "The HTTPRoute \"r\" is invalid: [spec.rules[0].filters[0].requestRedirect.statusCode: Unsupported value: "
                        + "304: supported values: \"301\", \"302\", \"303\", \"307\", \"308\", " + NOT_CHECKED + "]"),
                Arguments.of("backend request timeout longer than the request's", route("""
                        rules:
                        - timeouts: {request: 10s, backendRequest: 1m}
                          backendRefs:
                          - {name: web, port: 80}
                        """), "The HTTPRoute \"r\" is invalid: spec.rules[0].timeouts: Invalid value: \"object\": backendRequest timeout "
                        + "cannot be longer than request timeout"),
                Arguments.of("malformed timeout", route("""
                        rules:
                        - timeouts: {request: 10 seconds}
                        """), "The HTTPRoute \"r\" is invalid: spec.rules[0].timeouts.request: Invalid value: \"10 seconds\": "
                        + "spec.rules[0].timeouts.request in body should match '^([0-9]{1,5}(h|m|s|ms)){1,4}$'"),
                Arguments.of("same parent twice without sectionName", route("""
                        parentRefs:
                        - name: gw
                        - name: gw
                          sectionName: http
                        """), "The HTTPRoute \"r\" is invalid: spec.parentRefs: Invalid value: \"array\": sectionName must be specified "
                        + "when parentRefs includes 2 or more references to the same parent"),
                Arguments.of("weight over the maximum", route("""
                        rules:
                        - backendRefs:
                          - {name: web, port: 80, weight: 1000001}
                        """), "The HTTPRoute \"r\" is invalid: spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: "
                        + "spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000"),
                Arguments.of("too many hostnames", route("""
                        hostnames: [a.io, b.io, c.io, d.io, e.io, f.io, g.io, h.io, i.io, j.io, k.io, l.io, m.io, n.io, o.io, p.io, q.io]
                        """), "The HTTPRoute \"r\" is invalid: [spec.hostnames: Too many: 17: must have at most 16 items, " + NOT_CHECKED + "]"),
                Arguments.of("gatewayclass controller name", """
                        apiVersion: gateway.networking.k8s.io/v1
                        kind: GatewayClass
                        metadata:
                          name: mine
                        spec:
                          controllerName: mine
                        """, "The GatewayClass \"mine\" is invalid: spec.controllerName: Invalid value: \"mine\": spec.controllerName in body "
                        + "should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$'"),
                Arguments.of("reference grant without to", """
                        apiVersion: gateway.networking.k8s.io/v1beta1
                        kind: ReferenceGrant
                        metadata:
                          name: g
                        spec:
                          from:
                          - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: team-a}
                        """, "The ReferenceGrant \"g\" is invalid: [spec.to: Required value, " + NOT_CHECKED + "]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidObjectsAreRejectedWithTheApiServersMessage(String name, String yaml, String expected) {
        assertThat(new TestApi().applyError(yaml)).isEqualTo(expected);
    }

    @Test
    void theCrdDefaultsAreApplied() {
        TestApi api = new TestApi();
        Gateway gw = (Gateway) api.apply(gateway("""
                gatewayClassName: portway
                listeners:
                - name: https
                  port: 443
                  protocol: HTTPS
                  tls:
                    certificateRefs: [{name: cert}]
                """)).getFirst();
        var listener = gw.getSpec().getListeners().getFirst();
        assertThat(listener.getAllowedRoutes().getNamespaces().getFrom()).isEqualTo("Same");
        assertThat(listener.getTls().getMode()).isEqualTo("Terminate");
        assertThat(listener.getTls().getCertificateRefs().getFirst().getKind()).isEqualTo("Secret");
        assertThat(listener.getTls().getCertificateRefs().getFirst().getGroup()).isEmpty();
        assertThat(gw.getStatus().getConditions()).extracting(c -> c.getType() + "=" + c.getStatus() + "/" + c.getReason())
                .containsExactly("Accepted=Unknown/Pending", "Programmed=Unknown/Pending");
        assertThat(gw.getMetadata().getGeneration()).isEqualTo(1L);

        HTTPRoute r = (HTTPRoute) api.apply(route("""
                parentRefs:
                - name: gw
                rules:
                - backendRefs:
                  - {name: web, port: 80}
                """)).getFirst();
        assertThat(r.getSpec().getParentRefs().getFirst().getGroup()).isEqualTo("gateway.networking.k8s.io");
        assertThat(r.getSpec().getParentRefs().getFirst().getKind()).isEqualTo("Gateway");
        var rule = r.getSpec().getRules().getFirst();
        assertThat(rule.getMatches().getFirst().getPath().getType()).isEqualTo("PathPrefix");
        assertThat(rule.getMatches().getFirst().getPath().getValue()).isEqualTo("/");
        assertThat(rule.getBackendRefs().getFirst().getWeight()).isEqualTo(1);
        assertThat(rule.getBackendRefs().getFirst().getKind()).isEqualTo("Service");
        assertThat(r.getStatus()).isNull();
    }

    @Test
    void aGatewayClassControllerNameIsImmutable() {
        TestApi api = new TestApi();
        String gc = """
                apiVersion: gateway.networking.k8s.io/v1
                kind: GatewayClass
                metadata:
                  name: mine
                spec:
                  controllerName: %s
                """;
        api.apply(gc.formatted("example.com/one"));
        assertThat(api.applyError(gc.formatted("example.com/two"))).isEqualTo(
                "The GatewayClass \"mine\" is invalid: spec.controllerName: Invalid value: \"string\": Value is immutable");
    }

    @Test
    void validObjectsAreAccepted() {
        TestApi api = new TestApi();
        api.apply(gateway("""
                gatewayClassName: portway
                listeners:
                - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}
                - name: https
                  port: 443
                  protocol: HTTPS
                  hostname: www.example.com
                  tls:
                    certificateRefs: [{name: cert, namespace: certs}]
                  allowedRoutes:
                    kinds: [{kind: HTTPRoute}]
                    namespaces:
                      from: Selector
                      selector: {matchLabels: {team: a}}
                """));
        api.apply(route("""
                parentRefs:
                - {name: gw, sectionName: http}
                - {name: gw, sectionName: https}
                hostnames: [www.example.com]
                rules:
                - matches:
                  - path: {type: PathPrefix, value: /api}
                    headers: [{name: x-env, value: canary}]
                    queryParams: [{name: debug, type: RegularExpression, value: "^(1|true)$"}]
                    method: GET
                  filters:
                  - type: URLRewrite
                    urlRewrite:
                      path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}
                  - type: RequestHeaderModifier
                    requestHeaderModifier:
                      set: [{name: x-a, value: b}]
                      remove: [x-b]
                  - type: RequestMirror
                    requestMirror:
                      backendRef: {name: shadow, port: 80}
                      percent: 10
                  backendRefs:
                  - {name: web, port: 80, weight: 90}
                  - {name: web-canary, port: 80, weight: 10}
                  timeouts: {request: 10s, backendRequest: 2s}
                - matches:
                  - path: {type: Exact, value: /old}
                  filters:
                  - type: RequestRedirect
                    requestRedirect: {scheme: https, statusCode: 301, path: {type: ReplaceFullPath, replaceFullPath: /new}}
                """));
        api.apply("""
                apiVersion: gateway.networking.k8s.io/v1beta1
                kind: ReferenceGrant
                metadata:
                  name: certs
                  namespace: team-b
                spec:
                  from:
                  - {group: gateway.networking.k8s.io, kind: Gateway, namespace: default}
                  to:
                  - {group: "", kind: Secret}
                """);
    }
}
