package dev.portway.gateway.conformance;

import static dev.portway.gateway.conformance.Tables.accepted;
import static dev.portway.gateway.conformance.Tables.get;
import static dev.portway.gateway.conformance.Tables.group;
import static dev.portway.gateway.conformance.Tables.requests;
import static dev.portway.gateway.conformance.Tables.resolvedRefs;
import static dev.portway.gateway.conformance.Tables.routeCondition;
import static dev.portway.gateway.conformance.Tables.test;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portway.testing.TestApi;
import dev.portway.testing.TestCluster;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddressBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKindBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatusBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The harness end to end, apart from Portway's gateway: a stand-in controller (of a GatewayClass of its own) writes the
 * status a gateway controller would (the Gateway's address is a Service in front of an echo-basic
 * pod, listening on the listener's moved port), so that the runner's real path (apply, status
 * waits, requests through the round tripper, upstream's comparisons, mirror log checks, weights)
 * can be seen to pass when the expectations hold, and to fail, in bounded time and with a message
 * that says which case, which request, what came back, when they do not. Its manifests are the
 * harness's own, not upstream's.
 */
class ConformanceHarnessTest {

    private static final String NS = "harness-infra";
    private static final Step.Ref GW = Step.Ref.of(NS, "harness-gw");
    private static final Step.Ref ROUTE = Step.Ref.of(NS, "harness-route");
    private static final Step.Ref NO_ADDRESS = Step.Ref.of(NS, "no-address-gw");

    /** The stand-in's own class: Portway's gateway controller (which now exists) leaves its Gateways alone. */
    private static final String STAND_IN = "example.net/harness-stand-in";

    private static final String MANIFESTS = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: GatewayClass
            metadata:
              name: harness
            spec:
              controllerName: example.net/harness-stand-in
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: harness-infra
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: echo-v1
              namespace: harness-infra
            spec:
              replicas: 1
              selector:
                matchLabels: {app: echo-v1}
              template:
                metadata:
                  labels: {app: echo-v1}
                spec:
                  containers:
                  - name: echo-v1
                    image: registry.k8s.io/gateway-api/echo-basic:v1.5.1
                    env:
                    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                    - {name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: echo-v1
              namespace: harness-infra
            spec:
              selector: {app: echo-v1}
              ports:
              - {port: 8080, targetPort: 3000}
            ---
            # stands in for the gateway's data plane: the listener's port (80, moved to 18080) in front of echo-v1
            apiVersion: v1
            kind: Service
            metadata:
              name: stand-in-data-plane
              namespace: harness-infra
            spec:
              selector: {app: echo-v1}
              ports:
              - {port: 18080, targetPort: 3000}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: harness-gw
              namespace: harness-infra
            spec:
              gatewayClassName: harness
              listeners:
              - name: http
                port: 80
                protocol: HTTP
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: no-address-gw
              namespace: harness-infra
            spec:
              gatewayClassName: harness
              listeners:
              - name: http
                port: 80
                protocol: HTTP
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: harness-route
              namespace: harness-infra
            spec:
              parentRefs:
              - name: harness-gw
              rules:
              - backendRefs:
                - name: echo-v1
                  port: 8080
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: mutable-route
              namespace: harness-infra
            spec:
              parentRefs:
              - name: harness-gw
                port: 80
              rules:
              - backendRefs:
                - name: echo-v1
                  port: 8080
            """;

    private static final Timeouts TIMEOUTS = new Timeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(3),
            Duration.ofSeconds(20), Duration.ofSeconds(4), Duration.ofSeconds(5), 3);

    private static TestCluster cluster;
    private static ConformanceRunner runner;
    private static ScheduledExecutorService standIn;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster();
        runner = new ConformanceRunner(cluster.local(), TIMEOUTS, new ConformanceRunner.Readiness() {
            @Override
            public String skipPod(Pod pod) {
                return null;
            }

            @Override
            public String skipGateway(Gateway gateway) {
                return NO_ADDRESS.name().equals(gateway.getMetadata().getName()) ? "the stand-in controller leaves it alone" : null;
            }
        }, STAND_IN, null);
        List<HasMetadata> objects = new ArrayList<>();
        for (HasMetadata o : TestApi.decode(MANIFESTS)) {
            HasMetadata prepared = ConformanceManifests.prepare(o);
            // back to the stand-in's class (preparing makes every Gateway Portway's, as upstream's suite makes them its gateway's)
            if (prepared instanceof Gateway gw) {
                gw.getSpec().setGatewayClassName("harness");
            } else if (prepared instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass gc) {
                gc.getSpec().setControllerName(STAND_IN);
            }
            objects.add(prepared);
        }
        runner.apply("the harness's manifests", objects);
        standIn = Executors.newSingleThreadScheduledExecutor();
        standIn.scheduleWithFixedDelay(ConformanceHarnessTest::writeStatus, 0, 100, TimeUnit.MILLISECONDS);
        ConformanceRunner.poll(Duration.ofSeconds(20), "echo-v1 must be ready", () -> runner.namespacesReady(List.of(NS)));
    }

    @AfterAll
    static void stop() {
        if (standIn != null) {
            standIn.shutdownNow();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Condition condition(String type, String reason, Long generation) {
        return new ConditionBuilder().withType(type).withStatus("True").withReason(reason).withMessage("")
                .withObservedGeneration(generation).withLastTransitionTime("2026-01-01T00:00:00Z").build();
    }

    /** What a gateway controller would write for harness-gw and harness-route (and nothing for no-address-gw). */
    private static void writeStatus() {
        var local = cluster.local();
        local.control().call(() -> {
            Service plane = local.store().get(Service.class, NS, "stand-in-data-plane").orElse(null);
            if (plane == null || plane.getSpec().getClusterIP() == null) {
                return null;
            }
            local.control().api().mutate(Gateway.class, NS, GW.name(), gw -> {
                Long g = gw.getMetadata().getGeneration();
                gw.setStatus(new io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusBuilder()
                        .withAddresses(new GatewayStatusAddressBuilder().withType("IPAddress").withValue(plane.getSpec().getClusterIP()).build())
                        .withConditions(condition("Accepted", "Accepted", g), condition("Programmed", "Programmed", g))
                        .withListeners(new ListenerStatusBuilder().withName("http").withAttachedRoutes(1)
                                .withSupportedKinds(new RouteGroupKindBuilder().withGroup("gateway.networking.k8s.io").withKind("HTTPRoute").build())
                                .withConditions(condition("Accepted", "Accepted", g), condition("ResolvedRefs", "ResolvedRefs", g),
                                        condition("Programmed", "Programmed", g))
                                .build())
                        .build());
                return gw;
            });
            local.control().api().mutate(HTTPRoute.class, NS, ROUTE.name(), route -> {
                Long g = route.getMetadata().getGeneration();
                ParentReference ref = new ParentReferenceBuilder().withGroup("gateway.networking.k8s.io").withKind("Gateway")
                        .withNamespace(NS).withName(GW.name()).build();
                route.setStatus(new io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatusBuilder()
                        .withParents(new RouteParentStatusBuilder().withParentRef(ref).withControllerName(STAND_IN)
                                .withConditions(condition("Accepted", "Accepted", g), condition("ResolvedRefs", "ResolvedRefs", g)).build())
                        .build());
                return route;
            });
            return null;
        });
    }

    @Test
    void passesWhenTheGatewayAnswersAsExpected() {
        ConformanceTest t = test("HarnessPasses").manifests("tests/none.yaml").steps(
                accepted(GW, ROUTE),
                resolvedRefs(ROUTE, GW),
                requests(GW,
                        get("/").backend("echo-v1").namespace(NS),
                        get("/a/b?c=d").host("example.com").header("X-Some", "value").backend("echo-v1").namespace(NS),
                        get("/").backendSets("X-Header-Set", "v").responseHeader("X-Header-Set", "v").responseAbsent("X-Header-Remove")
                                .backend("echo-v1").namespace(NS),
                        get("/status/404").status(404),
                        get("/").method("POST").backend("echo-v1").namespace(NS),
                        // the request reaches echo-v1, whose log is where the mirror check looks
                        get("/mirror").expectPath("/mirror").backend("echo-v1").namespace(NS).mirroredTo(NS, "echo-v1")),
                new Step.Weights(GW, get("/").status(200).namespace(NS), Map.of("echo-v1", 1.0)));
        runner.run(t);
    }

    @Test
    void failsWithWhichCaseWhichRequestAndWhatCameBack() {
        ConformanceTest t = test("HarnessFails").manifests("tests/none.yaml").steps(
                group("Simple HTTP request should reach infra-backend",
                        requests(GW, get("/").backend("echo-v2").namespace(NS), get("/").status(404))));
        long start = System.nanoTime();
        assertThatThrownBy(() -> runner.run(t))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Simple HTTP request should reach infra-backend > 2 of 2 requests to Gateway harness-infra/harness-gw "
                        + "did not get the expected response:")
                .hasMessageContaining("case 0 request to '/' should go to echo-v2: GET http://")
                .hasMessageContaining(":18080/: timeout after ")
                .hasMessageContaining("last failure: expected pod name to start with echo-v2, got echo-v1-")
                .hasMessageContaining("case 1 request to '/' should receive one of [404]")
                .hasMessageContaining("last failure: expected status code to be one of [404], got 200 (HTTP/1.1 200");
        // upstream's MaxTimeToConsistency, the cases in parallel
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(TIMEOUTS.consistency().plusSeconds(3));
    }

    @Test
    void failsWhenTheGatewayHasNoAddress() {
        ConformanceTest t = test("HarnessNoAddress").manifests("tests/none.yaml").steps(accepted(NO_ADDRESS, ROUTE));
        assertThatThrownBy(() -> runner.run(t))
                .isInstanceOf(AssertionError.class)
                .hasMessageStartingWith("Gateway harness-infra/no-address-gw must have an address in status.addresses: not so after 3 s; "
                        + "last seen: ")
                // the API server's "Waiting for controller" status, which no controller updated
                .hasMessageContaining("stale conditions are: Accepted (generation 0), Programmed (generation 0)");
        // unchanged since, it is not waited for again
        long start = System.nanoTime();
        assertThatThrownBy(() -> runner.run(t))
                .isInstanceOf(AssertionError.class)
                .hasMessageStartingWith("Gateway harness-infra/no-address-gw must have an address in status.addresses: it had none "
                        + "after 3 s in an earlier test, and has not changed since");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void failsWhenTheRouteDoesNotHaveTheCondition() {
        ConformanceTest t = test("HarnessCondition").manifests("tests/none.yaml").steps(
                routeCondition(ROUTE, GW, "ResolvedRefs", "False", "RefNotPermitted"));
        assertThatThrownBy(() -> runner.run(t))
                .isInstanceOf(AssertionError.class)
                .hasMessageStartingWith("HTTPRoute harness-infra/harness-route must have condition ResolvedRefs=False (RefNotPermitted) "
                        + "for parent harness-infra/harness-gw: not so after 3 s; last seen: status.parents "
                        + "[{gateway.networking.k8s.io/Gateway harness-infra/harness-gw controller " + STAND_IN + " "
                        + "[Accepted=True(Accepted, gen ");
    }

    @Test
    void changesAnObjectThroughTheApiAsPreparedAndChecksItsGeneration() {
        Step.Ref route = Step.Ref.of(NS, "mutable-route");
        HTTPRoute before = cluster.local().store().get(HTTPRoute.class, NS, route.name()).orElseThrow();
        assertThat(before.getSpec().getParentRefs().getFirst().getPort()).as("parentRef port 80, moved").isEqualTo(18080);
        runner.run(test("HarnessMutate").manifests("tests/none.yaml").steps(
                new Step.Mutate(dev.portway.api.ResourceKind.HTTP_ROUTE, route,
                        o -> ((HTTPRoute) o).getSpec().getRules().getFirst().getBackendRefs().getFirst().setName("echo-v2"))));
        HTTPRoute after = cluster.local().store().get(HTTPRoute.class, NS, route.name()).orElseThrow();
        assertThat(after.getSpec().getRules().getFirst().getBackendRefs().getFirst().getName()).isEqualTo("echo-v2");
        assertThat(after.getSpec().getParentRefs().getFirst().getPort()).as("moved once, not twice").isEqualTo(18080);
        // whether the API server moved the generation is the API server's business; that the step sees it is the harness's
        assertThatThrownBy(() -> runner.run(test("HarnessNoChange").manifests("tests/none.yaml").steps(
                new Step.Mutate(dev.portway.api.ResourceKind.HTTP_ROUTE, route, o -> { }),
                new Step.GenerationChanged(dev.portway.api.ResourceKind.HTTP_ROUTE, route))))
                .hasMessageStartingWith("HTTPRoute harness-infra/mutable-route: generation should change after an update, still ");
    }

    @Test
    void failsWhenNothingListens() {
        ConformanceTest t = test("HarnessRefused").manifests("tests/none.yaml").steps(
                requests(GW, get("/").port(81).backend("echo-v1").namespace(NS)));
        assertThatThrownBy(() -> runner.run(t))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining(":18081/")
                .hasMessageContaining("last failure: request failed, not ready yet: ");
    }
}
