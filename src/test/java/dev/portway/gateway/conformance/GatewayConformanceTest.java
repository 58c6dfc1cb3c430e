package dev.portway.gateway.conformance;

import dev.portway.admin.auth.Pki;
import dev.portway.api.ResourceKind;
import dev.portway.runtime.LocalCluster;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The Gateway API's own conformance tests (kubernetes-sigs/gateway-api {@value #UPSTREAM_VERSION},
 * {@code conformance/}), ported: one dynamic test per upstream test, by its upstream name, run
 * against a local cluster as upstream's suite runs them against a Kubernetes cluster.
 *
 * <p>Setup, as upstream's {@code ConformanceTestSuite.Setup}: the GatewayClass {@code portway}
 * (controller {@code portway.dev/gateway-controller}; created if the cluster has none) must be
 * Accepted; then the base manifests are applied, the TLS Secrets the suite makes are made, and the
 * Gateways and Pods of the three conformance namespaces must be ready. A setup that fails fails
 * every test with its reason. Then each test applies its manifests (all or nothing), runs its
 * steps ({@link ConformanceRunner}) and deletes what it applied.
 *
 * <p>Where the harness departs from upstream, and why (docs/gateway-conformance.md has it all):
 * listener ports below 1024 move up ({@link PortMap}): tests run as an ordinary user; status waits
 * are 30 s rather than 60-180 s ({@link Timeouts}); readiness leaves out the pods whose images
 * local mode cannot run (CoreDNS, echo-basic's gRPC and TCP modes), which back tests not ported
 * (and, with {@code -Dportway.gateway.conformance.https=false}, the base Gateway with HTTPS
 * listeners); the TLS Secrets are signed by the suite's CA, which TLS requests trust, where
 * upstream makes some of them self-signed and trusts the Secret's own certificate.
 *
 * <p>Run: {@code ./mvnw -B -ntp test -Dtest=GatewayConformanceTest}; one test:
 * {@code -Dportway.gateway.conformance.run=HTTPRouteSimpleSameNamespace} (a comma-separated list).
 * The manifests are upstream's data files: see {@link ConformanceManifests} for where they are read.
 */
class GatewayConformanceTest {

    static final String UPSTREAM_VERSION = "v1.6.1";
    static final String UPSTREAM_COMMIT = "8bb74df00e56ec8f944d48c25e6c1c9c2f6848e3";

    static final String INFRA = Tables.INFRA;
    static final List<String> NAMESPACES = List.of(Tables.INFRA, Tables.APP_BACKEND, Tables.WEB_BACKEND);

    /** The base manifests' Deployments whose images local mode does not run, and why. */
    static final Map<String, String> NOT_RUNNABLE = Map.of(
            "coredns", "image registry.k8s.io/coredns/coredns has no built-in counterpart (it backs TLSRoute tests, not ported)",
            "grpc-infra-backend-v1", "echo-basic's gRPC mode is not built in (GRPCRoute tests are not ported)",
            "grpc-infra-backend-v2", "echo-basic's gRPC mode is not built in (GRPCRoute tests are not ported)",
            "grpc-infra-backend-v3", "echo-basic's gRPC mode is not built in (GRPCRoute tests are not ported)",
            "tcp-backend", "echo-basic's TCP mode is not built in (TCPRoute and TLSRoute tests are not ported)");

    static final String HTTPS_GATEWAY = "same-namespace-with-https-listener";

    private static final Timeouts TIMEOUTS = Timeouts.fromProperties();
    /** The suite's CA: it signs the TLS Secrets setup makes, and the harness's TLS requests trust it alone. */
    private static final Pki.KeyAndCert CA = Pki.newCa("gateway-conformance-ca", Instant.now(), Duration.ofDays(1));
    private static LocalCluster cluster;
    private static ConformanceRunner runner;
    private static ConformanceManifests manifests;
    private static String setupFailure;
    private static boolean setUp;

    /** Every ported test, in upstream's order of kinds: core HTTPRoute, route status, extended HTTPRoute, Gateway. */
    static List<ConformanceTest> ported() {
        List<ConformanceTest> all = new ArrayList<>();
        all.addAll(HttpRouteCoreTests.all());
        all.addAll(HttpRouteStatusTests.all());
        all.addAll(HttpRouteExtendedTests.all());
        all.addAll(GatewayTests.all());
        return all;
    }

    @TestFactory
    Stream<DynamicTest> conformance() {
        String missing = ConformanceManifests.whyMissing();
        if (missing != null) {
            // upstream's data files are not part of this repository: without them there is nothing to run, which is not a failure
            return Stream.of(DynamicTest.dynamicTest("GatewayConformance", () -> Assumptions.abort(missing)));
        }
        String only = System.getProperty("portway.gateway.conformance.run", "");
        Set<String> wanted = only.isBlank() ? Set.of() : Arrays.stream(only.split(",")).map(String::strip).collect(Collectors.toSet());
        return ported().stream()
                .filter(t -> wanted.isEmpty() || wanted.contains(t.shortName()))
                .map(t -> DynamicTest.dynamicTest(t.shortName(), () -> run(t)));
    }

    private static void run(ConformanceTest test) {
        setUp();
        if (setupFailure != null) {
            throw new AssertionError(test.shortName() + ": suite setup failed, so the test did not run: " + setupFailure);
        }
        List<HasMetadata> applied = new ArrayList<>();
        try {
            List<HasMetadata> objects = new ArrayList<>();
            for (String m : test.manifests()) {
                objects.addAll(manifests.load(m));
            }
            runner.apply(String.join(", ", test.manifests()), objects);
            applied.addAll(objects);
            runner.run(test);
        } catch (AssertionError e) {
            throw new AssertionError(test.shortName() + ": " + e.getMessage() + partial(test), e.getCause());
        } catch (RuntimeException e) {
            throw new AssertionError(test.shortName() + ": " + e.getMessage() + partial(test), e);
        } finally {
            if (!applied.isEmpty()) {
                runner.cleanup(applied);
            }
        }
    }

    private static String partial(ConformanceTest test) {
        return test.partial() == null ? "" : "\n(ported in part: " + test.partial() + ")";
    }

    /** Upstream's suite setup, once; what failed is kept for every test to report. */
    private static synchronized void setUp() {
        if (setUp) {
            return;
        }
        setUp = true;
        try {
            manifests = ConformanceManifests.locate();
            cluster = new LocalCluster(TestCluster.options()).start();
            runner = new ConformanceRunner(cluster, TIMEOUTS, readiness(), CA.cert());
            if (cluster.store().get(ResourceKind.GATEWAY_CLASS, null, ConformanceManifests.GATEWAY_CLASS).isEmpty()) {
                runner.apply("GatewayClass " + ConformanceManifests.GATEWAY_CLASS, List.of(new GatewayClassBuilder()
                        .withNewMetadata().withName(ConformanceManifests.GATEWAY_CLASS).endMetadata()
                        .withNewSpec().withControllerName(ConformanceManifests.CONTROLLER_NAME).endSpec().build()));
            }
            ConformanceRunner.poll(TIMEOUTS.gatewayClassAccepted(), "GatewayClass " + ConformanceManifests.GATEWAY_CLASS
                    + " must be Accepted=True (upstream's GWCMustHaveAcceptedConditionTrue)",
                    () -> runner.gatewayClassAccepted(ConformanceManifests.GATEWAY_CLASS, false));
            runner.apply(ConformanceManifests.BASE, manifests.load(ConformanceManifests.BASE));
            runner.apply("the suite's TLS Secrets", secrets(CA));
            ConformanceRunner.poll(TIMEOUTS.namespacesReady(), "Gateways and Pods in " + NAMESPACES + " must be ready "
                    + "(upstream's NamespacesMustBeReady)", () -> runner.namespacesReady(NAMESPACES));
        } catch (AssertionError | RuntimeException | InterruptedException e) {
            setupFailure = e.getMessage();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** What {@link Step.NamespacesReady} leaves out. */
    private static ConformanceRunner.Readiness readiness() {
        boolean https = Boolean.parseBoolean(System.getProperty("portway.gateway.conformance.https", "true"));
        return new ConformanceRunner.Readiness() {
            @Override
            public String skipPod(Pod pod) {
                // a Deployment's pod is named <deployment>-<template hash>-<suffix>
                return NOT_RUNNABLE.get(ConformanceRunner.backendOf(pod.getMetadata().getName()));
            }

            @Override
            public String skipGateway(Gateway gateway) {
                return !https && INFRA.equals(gateway.getMetadata().getNamespace()) && HTTPS_GATEWAY.equals(gateway.getMetadata().getName())
                        ? "-Dportway.gateway.conformance.https=false: the Gateway with HTTPS listeners is not waited for"
                        : null;
            }
        };
    }

    /**
     * The Secrets upstream's setup makes that the base manifests use: serving certificates for the
     * HTTPS Gateway and the TLS backends (the rest of what it makes, CA ConfigMaps and client
     * certificates, serves tests not ported).
     */
    static List<HasMetadata> secrets(Pki.KeyAndCert ca) {
        Instant now = Instant.now();
        List<HasMetadata> out = new ArrayList<>();
        out.add(tlsSecret(ca, Tables.WEB_BACKEND, "certificate", List.of("*"), now));
        out.add(tlsSecret(ca, INFRA, "tls-validity-checks-certificate", List.of("*", "*.org", "*.wildcard.org"), now));
        out.add(tlsSecret(ca, INFRA, "tls-checks-certificate", List.of("abc.example.com", "other.example.com"), now));
        out.add(tlsSecret(ca, INFRA, "tls-passthrough-checks-certificate", List.of("abc.example.com"), now));
        out.add(tlsSecret(ca, Tables.APP_BACKEND, "tls-passthrough-checks-certificate", List.of("abc.example.com"), now));
        out.add(tlsSecret(ca, INFRA, "tls-terminate-checks-certificate", List.of("tls.example.com"), now));
        return out;
    }

    private static HasMetadata tlsSecret(Pki.KeyAndCert ca, String namespace, String name, List<String> hosts, Instant now) {
        Pki.KeyAndCert cert = Pki.newServerCert(ca, hosts.getFirst(), hosts, now, Duration.ofDays(1));
        Base64.Encoder b64 = Base64.getEncoder();
        return new SecretBuilder().withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
                .withType("kubernetes.io/tls")
                .withData(Map.of("tls.crt", b64.encodeToString(Pki.certPem(cert.cert()).getBytes(StandardCharsets.US_ASCII)),
                        "tls.key", b64.encodeToString(Pki.keyPem(cert.key()).getBytes(StandardCharsets.US_ASCII))))
                .build();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }
}
