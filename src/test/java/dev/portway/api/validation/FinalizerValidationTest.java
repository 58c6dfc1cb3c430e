package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestApi;
import org.junit.jupiter.api.Test;

/**
 * Finalizer names, as kube-apiserver judges them: each a qualified name, not both {@code orphan}
 * and {@code foregroundDeletion}, and on a built-in kind one without a domain must be a standard
 * one (a custom resource only gets a warning for it). They were not checked at all.
 */
class FinalizerValidationTest {

    private static String configMap(String finalizers) {
        return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  finalizers: " + finalizers + "\n";
    }

    @Test
    void aFinalizerMustBeAQualifiedNameAndABuiltInKindsAStandardOneOrQualifiedByADomain() {
        TestApi api = new TestApi();
        assertThat(api.applyError(configMap("[\"my finalizer\"]"))).isEqualTo("The ConfigMap \"c\" is invalid: ["
                + "metadata.finalizers: Invalid value: \"my finalizer\": name part must consist of alphanumeric characters, '-', '_' or '.', "
                + "and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                + "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), "
                + "metadata.finalizers[0]: Invalid value: \"my finalizer\": name is neither a standard finalizer name nor is it fully qualified]");
        assertThat(api.applyError(configMap("[my-finalizer]"))).isEqualTo("The ConfigMap \"c\" is invalid: "
                + "metadata.finalizers[0]: Invalid value: \"my-finalizer\": name is neither a standard finalizer name nor is it fully qualified");
        assertThat(api.applyError(configMap("[orphan, foregroundDeletion]"))).isEqualTo("The ConfigMap \"c\" is invalid: "
                + "metadata.finalizers: Invalid value: [\"orphan\",\"foregroundDeletion\"]: finalizer orphan and foregroundDeletion cannot be both set");
        api.apply(configMap("[example.com/cleanup, kubernetes, orphan]"));
    }

    @Test
    void aCustomResourcesFinalizerWithoutADomainIsAcceptedAndAnUpdateIsJudgedToo() {
        TestApi api = new TestApi();
        String route = """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: r, finalizers: [my-finalizer]}
                spec:
                  rules:
                  - backendRefs: [{name: web, port: 80}]
                """;
        api.apply(route);
        assertThat(api.applyError(route.replace("[my-finalizer]", "[\"bad name\"]"))).startsWith("The HTTPRoute \"r\" is invalid: "
                + "metadata.finalizers: Invalid value: \"bad name\": name part must consist of alphanumeric characters");
        // an update of a built-in kind too
        api.apply(configMap("[example.com/cleanup]"));
        assertThat(api.applyError(configMap("[orphan, foregroundDeletion]"))).isEqualTo("The ConfigMap \"c\" is invalid: "
                + "metadata.finalizers: Invalid value: [\"orphan\",\"foregroundDeletion\"]: finalizer orphan and foregroundDeletion cannot be both set");
    }
}
