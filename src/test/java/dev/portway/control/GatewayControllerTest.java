package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.store.Store;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The status the Gateway API spec defines, written from the model (GatewayClass, Gateway and its
 * listeners, HTTPRoute parents, with observedGeneration), and addresses from the IPAddressPools for
 * Gateways and Ingresses, shared with LoadBalancer Services.
 */
class GatewayControllerTest {

    private final List<ControlPlane> planes = new ArrayList<>();

    @AfterEach
    void close() {
        planes.forEach(ControlPlane::close);
    }

    private static final String BASE = """
            apiVersion: metallb.io/v1beta1
            kind: IPAddressPool
            metadata: {name: pool, namespace: metallb-system}
            spec:
              addresses: [127.3.9.1-127.3.9.2]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: GatewayClass
            metadata: {name: portway}
            spec: {controllerName: portway.dev/gateway-controller}
            ---
            apiVersion: networking.k8s.io/v1
            kind: IngressClass
            metadata:
              name: portway
              annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
            spec: {controller: portway.dev/ingress-controller}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              ports: [{port: 80}]
            """;

    private ControlPlane cluster() {
        ControlPlane control = new ControlPlane(new Store(), ClusterConfig.local(), new Random(7));
        planes.add(control);
        control.addController(new GatewayController(control));
        List<HasMetadata> namespaces = new ArrayList<>();
        for (String ns : List.of("default", "team-a", "metallb-system")) {
            namespaces.add(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build());
        }
        control.call(() -> control.api().apply(namespaces, "default", false));
        apply(control, BASE);
        return control;
    }

    private static void apply(ControlPlane control, String yaml) {
        control.call(() -> control.api().apply(TestApi.decode(yaml), "default", false));
        control.awaitIdle();
    }

    private static String conditions(List<Condition> conditions) {
        return String.join(", ", conditions.stream().map(c -> c.getType() + "=" + c.getStatus() + "/" + c.getReason()).toList());
    }

    private static final String GATEWAY = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: gw}
            spec:
              gatewayClassName: portway
              listeners:
              - {name: http, port: 80, protocol: HTTP}
              - name: https
                port: 443
                protocol: HTTPS
                tls: {certificateRefs: [{name: missing-cert}]}
            """;

    @Test
    void gatewaysGetAnAddressAndTheSpecsStatus() {
        ControlPlane control = cluster();
        Store store = control.store();
        assertThat(conditions(store.get(GatewayClass.class, null, "portway").orElseThrow().getStatus().getConditions()))
                .isEqualTo("Accepted=True/Accepted, SupportedVersion=True/SupportedVersion");
        apply(control, GATEWAY + """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: r}
                spec:
                  parentRefs: [{name: gw, sectionName: http}, {name: gw, sectionName: nope}]
                  rules:
                  - backendRefs: [{name: web, port: 80}]
                """);
        Gateway gw = store.get(Gateway.class, "default", "gw").orElseThrow();
        assertThat(gw.getStatus().getAddresses()).singleElement().satisfies(a -> {
            assertThat(a.getType()).isEqualTo("IPAddress");
            assertThat(a.getValue()).isEqualTo("127.3.9.1");
        });
        assertThat(conditions(gw.getStatus().getConditions())).isEqualTo("Accepted=True/Accepted, Programmed=True/Programmed");
        assertThat(gw.getStatus().getConditions()).allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(1L));
        ListenerStatus http = gw.getStatus().getListeners().get(0);
        assertThat(http.getName()).isEqualTo("http");
        assertThat(http.getAttachedRoutes()).isEqualTo(1);
        assertThat(http.getSupportedKinds()).singleElement().satisfies(k -> assertThat(k.getKind()).isEqualTo("HTTPRoute"));
        assertThat(conditions(http.getConditions())).isEqualTo(
                "Accepted=True/Accepted, ResolvedRefs=True/ResolvedRefs, Conflicted=False/NoConflicts, Programmed=True/Programmed");
        ListenerStatus https = gw.getStatus().getListeners().get(1);
        assertThat(conditions(https.getConditions())).isEqualTo(
                "Accepted=True/Accepted, ResolvedRefs=False/InvalidCertificateRef, Conflicted=False/NoConflicts, Programmed=False/Invalid");

        HTTPRoute r = store.get(HTTPRoute.class, "default", "r").orElseThrow();
        assertThat(r.getStatus().getParents()).hasSize(2);
        assertThat(r.getStatus().getParents().get(0).getControllerName()).isEqualTo("portway.dev/gateway-controller");
        assertThat(r.getStatus().getParents().get(0).getParentRef().getSectionName()).isEqualTo("http");
        assertThat(conditions(r.getStatus().getParents().get(0).getConditions())).isEqualTo("Accepted=True/Accepted, ResolvedRefs=True/ResolvedRefs");
        assertThat(conditions(r.getStatus().getParents().get(1).getConditions()))
                .isEqualTo("Accepted=False/NoMatchingParent, ResolvedRefs=True/ResolvedRefs");

        List<Event> events = EventRecorder.about(store, gw);
        assertThat(events).extracting(Event::getReason).containsExactly("IPAllocated");
        assertThat(events.getFirst().getMessage()).isEqualTo("Assigned IP [\"127.3.9.1\"]");
    }

    @Test
    void theAddressStaysAndTheObservedGenerationFollows() {
        ControlPlane control = cluster();
        apply(control, GATEWAY);
        apply(control, GATEWAY.replace("port: 80,", "port: 8080,"));
        Gateway gw = control.store().get(Gateway.class, "default", "gw").orElseThrow();
        assertThat(gw.getMetadata().getGeneration()).isEqualTo(2L);
        assertThat(gw.getStatus().getAddresses().getFirst().getValue()).isEqualTo("127.3.9.1");
        assertThat(gw.getStatus().getConditions()).allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(2L));
        // a LoadBalancer Service takes the pool's other address: the pool is shared
        apply(control, """
                apiVersion: v1
                kind: Service
                metadata: {name: lb}
                spec:
                  type: LoadBalancer
                  ports: [{port: 80}]
                """);
        Service lb = control.store().get(Service.class, "default", "lb").orElseThrow();
        assertThat(lb.getStatus().getLoadBalancer().getIngress().getFirst().getIp()).isEqualTo("127.3.9.2");
        // deleting the Gateway frees its address
        control.call(() -> control.api().delete(ResourceKind.GATEWAY, "default", "gw", DeleteOptions.DEFAULT));
        control.awaitIdle();
        apply(control, GATEWAY.replace("name: gw", "name: gw2"));
        assertThat(control.store().get(Gateway.class, "default", "gw2").orElseThrow().getStatus().getAddresses().getFirst().getValue())
                .isEqualTo("127.3.9.1");
    }

    @Test
    void aGatewayWithoutAnAddressIsNotProgrammed() {
        ControlPlane control = cluster();
        apply(control, """
                apiVersion: v1
                kind: Service
                metadata: {name: lb1}
                spec: {type: LoadBalancer, ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: lb2}
                spec: {type: LoadBalancer, ports: [{port: 80}]}
                """);
        apply(control, GATEWAY);
        Gateway gw = control.store().get(Gateway.class, "default", "gw").orElseThrow();
        assertThat(gw.getStatus().getAddresses()).isEmpty();
        assertThat(conditions(gw.getStatus().getConditions())).isEqualTo("Accepted=True/Accepted, Programmed=False/AddressNotAssigned");
        assertThat(EventRecorder.about(control.store(), gw)).extracting(Event::getReason).containsExactly("AllocationFailed");
    }

    @Test
    void gatewaysRequestAddressesAndPools() {
        ControlPlane control = cluster();
        apply(control, GATEWAY.replace("spec:\n", "spec:\n  addresses: [{value: 127.3.9.2}]\n"));
        assertThat(control.store().get(Gateway.class, "default", "gw").orElseThrow().getStatus().getAddresses().getFirst().getValue())
                .isEqualTo("127.3.9.2");
    }

    @Test
    void ingressesOfTheClassOrOfNoClassShareTheClasssAddress() {
        ControlPlane control = cluster();
        apply(control, """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: named}
                spec:
                  ingressClassName: portway
                  defaultBackend: {service: {name: web, port: {number: 80}}}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: unnamed, namespace: team-a}
                spec:
                  defaultBackend: {service: {name: web, port: {number: 80}}}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: other}
                spec:
                  ingressClassName: nginx
                  defaultBackend: {service: {name: web, port: {number: 80}}}
                """);
        Store store = control.store();
        assertThat(store.get(Ingress.class, "default", "named").orElseThrow().getStatus().getLoadBalancer().getIngress())
                .singleElement().satisfies(i -> assertThat(i.getIp()).isEqualTo("127.3.9.1"));
        assertThat(store.get(Ingress.class, "team-a", "unnamed").orElseThrow().getStatus().getLoadBalancer().getIngress())
                .singleElement().satisfies(i -> assertThat(i.getIp()).isEqualTo("127.3.9.1"));
        assertThat(store.get(Ingress.class, "default", "other").orElseThrow().getStatus().getLoadBalancer().getIngress()).isEmpty();
        // an Ingress that leaves the class loses the address
        apply(control, """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: named}
                spec:
                  ingressClassName: nginx
                  defaultBackend: {service: {name: web, port: {number: 80}}}
                """);
        assertThat(store.get(Ingress.class, "default", "named").orElseThrow().getStatus().getLoadBalancer().getIngress()).isEmpty();
        assertThat(Json.write(store.get(Ingress.class, "team-a", "unnamed").orElseThrow().getStatus())).contains("127.3.9.1");
    }
}
