package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Ingress and IngressClass validation with {@code pkg/apis/networking/validation}'s messages. */
class IngressValidationTest {

    static String ingress(String spec) {
        return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n" + spec.stripIndent().indent(2);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("neither rules nor default backend", ingress("""
                        ingressClassName: portway
                        """), "The Ingress \"web\" is invalid: spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"),
                Arguments.of("path without pathType", ingress("""
                        rules:
                        - http:
                            paths:
                            - path: /
                              backend:
                                service: {name: web, port: {number: 80}}
                        """), "The Ingress \"web\" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"),
                Arguments.of("unknown pathType", ingress("""
                        rules:
                        - http:
                            paths:
                            - path: /
                              pathType: Regex
                              backend:
                                service: {name: web, port: {number: 80}}
                        """), "The Ingress \"web\" is invalid: spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": "
                        + "supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""),
                Arguments.of("relative Prefix path with a dot segment", ingress("""
                        rules:
                        - http:
                            paths:
                            - path: api/./v1
                              pathType: Prefix
                              backend:
                                service: {name: web, port: {number: 80}}
                        """), "The Ingress \"web\" is invalid: [spec.rules[0].http.paths[0].path: Invalid value: \"api/./v1\": must be "
                        + "an absolute path, spec.rules[0].http.paths[0].path: Invalid value: \"api/./v1\": must not contain '/./']"),
                Arguments.of("host that is an IP address", ingress("""
                        rules:
                        - host: 10.0.0.1
                          http:
                            paths:
                            - path: /
                              pathType: Prefix
                              backend:
                                service: {name: web, port: {number: 80}}
                        """), "The Ingress \"web\" is invalid: spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an "
                        + "IP address"),
                Arguments.of("bad wildcard host", ingress("""
                        rules:
                        - host: "foo.*.example.com"
                          http:
                            paths:
                            - path: /
                              pathType: Prefix
                              backend:
                                service: {name: web, port: {number: 80}}
                        """), "The Ingress \"web\" is invalid: spec.rules[0].host: Invalid value: \"foo.*.example.com\": a wildcard DNS-1123 "
                        + "subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric "
                        + "characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is "
                        + "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
                Arguments.of("backend with port name and number", ingress("""
                        defaultBackend:
                          service: {name: web, port: {name: http, number: 80}}
                        """), "The Ingress \"web\" is invalid: spec.defaultBackend: Invalid value: \"\": cannot set both port name & port number"),
                Arguments.of("backend without port", ingress("""
                        defaultBackend:
                          service: {name: Web}
                        """), "The Ingress \"web\" is invalid: [spec.defaultBackend.service.name: Invalid value: \"Web\": a DNS-1035 label "
                        + "must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an "
                        + "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?'), "
                        + "spec.defaultBackend: Required value: port name or number is required]"),
                Arguments.of("class annotation disagreeing with ingressClassName", """
                        apiVersion: networking.k8s.io/v1
                        kind: Ingress
                        metadata:
                          name: web
                          annotations: {kubernetes.io/ingress.class: nginx}
                        spec:
                          ingressClassName: portway
                          defaultBackend:
                            service: {name: web, port: {number: 80}}
                        """, "The Ingress \"web\" is invalid: annotations.kubernetes.io/ingress.class: Invalid value: \"nginx\": must match "
                        + "`ingressClassName` when both are specified"),
                Arguments.of("tls secret name", ingress("""
                        tls:
                        - hosts: [www.example.com]
                          secretName: Bad_Name
                        defaultBackend:
                          service: {name: web, port: {number: 80}}
                        """), "The Ingress \"web\" is invalid: spec.tls[0].secretName: Invalid value: \"Bad_Name\": a lowercase RFC 1123 "
                        + "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
                        + "alphanumeric character (e.g. 'example.com', regex used for validation is "
                        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
                Arguments.of("ingress class controller", """
                        apiVersion: networking.k8s.io/v1
                        kind: IngressClass
                        metadata:
                          name: mine
                        spec:
                          controller: mine
                        """, "The IngressClass \"mine\" is invalid: spec.controller: Invalid value: \"mine\": must be a domain-prefixed path "
                        + "(such as \"acme.io/foo\")"),
                Arguments.of("ingress class parameters scoped to a namespace without one", """
                        apiVersion: networking.k8s.io/v1
                        kind: IngressClass
                        metadata:
                          name: mine
                        spec:
                          controller: example.com/ingress
                          parameters: {kind: Params, name: p, scope: Namespace}
                        """, "The IngressClass \"mine\" is invalid: spec.parameters.namespace: Required value: `parameters.scope` is set to "
                        + "'Namespace'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidObjectsAreRejectedWithTheApiServersMessage(String name, String yaml, String expected) {
        assertThat(new TestApi().applyError(yaml)).isEqualTo(expected);
    }

    @Test
    void validIngressesAreStoredWithAnEmptyStatus() {
        TestApi api = new TestApi();
        Ingress ing = (Ingress) api.apply(ingress("""
                ingressClassName: portway
                tls:
                - hosts: ["*.example.com"]
                  secretName: wildcard
                rules:
                - host: "*.example.com"
                  http:
                    paths:
                    - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
                    - {path: /exact, pathType: Exact, backend: {service: {name: web, port: {number: 8080}}}}
                    - {pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 8080}}}}
                """)).getFirst();
        assertThat(ing.getStatus().getLoadBalancer().getIngress()).isEmpty();
        assertThat(ing.getMetadata().getGeneration()).isEqualTo(1L);
    }

    @Test
    void ingressClassParametersDefaultToClusterScope() {
        IngressClass ic = (IngressClass) new TestApi().apply("""
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata:
                  name: mine
                spec:
                  controller: example.com/ingress
                  parameters: {apiGroup: example.com, kind: Params, name: p}
                """).getFirst();
        assertThat(ic.getSpec().getParameters().getScope()).isEqualTo("Cluster");
    }

    @Test
    void anIngressClassControllerIsImmutable() {
        TestApi api = new TestApi();
        String ic = """
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata:
                  name: mine
                spec:
                  controller: %s
                """;
        api.apply(ic.formatted("example.com/one"));
        assertThat(api.applyError(ic.formatted("example.com/two"))).isEqualTo(
                "The IngressClass \"mine\" is invalid: spec.controller: Invalid value: \"example.com/two\": field is immutable");
    }
}
