package dev.portway.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plan of Services and their slices, rebuilt after each change from what changed only. */
class PlanBuilderTest {

    private static HasMetadata service(String name, String clusterIp) {
        return new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP(clusterIp)
                .addNewPort().withName("http").withPort(80).withProtocol("TCP").withNewTargetPort(8080).endPort().endSpec()
                .build();
    }

    private static HasMetadata slice(String service, String address) {
        return new EndpointSliceBuilder().withNewMetadata().withName(service + "-1").withNamespace("default")
                .withLabels(Map.of("kubernetes.io/service-name", service)).endMetadata()
                .withAddressType("IPv4")
                .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort()
                .addNewEndpoint().withAddresses(address).withNewConditions().withReady(true).endConditions().endEndpoint()
                .build();
    }

    private static void put(Store store, HasMetadata... objects) {
        Store.Batch batch = store.begin();
        for (HasMetadata o : objects) {
            batch.put(o);
        }
        batch.commit();
    }

    @Test
    void aChangedSliceRebuildsItsServiceOnlyAndTheOthersAreTheSameObjects() {
        Store store = new Store();
        put(store, new NodeBuilder().withNewMetadata().withName("node1").endMetadata()
                        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("127.0.60.1").endAddress()
                        .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build(),
                service("a", "127.2.60.1"), slice("a", "127.60.0.1"), service("b", "127.2.60.2"), slice("b", "127.60.0.2"));
        PlanBuilder builder = new PlanBuilder(store, 10256);
        Plan first = builder.build();
        Plan.Cluster a = first.clusters().get("default/a:80/TCP");
        Plan.Cluster b = first.clusters().get("default/b:80/TCP");
        assertThat(b.endpoints()).extracting(e -> e.address().getAddress().getHostAddress()).containsExactly("127.60.0.2");

        put(store, slice("b", "127.60.0.3"));
        Plan second = builder.build();
        assertThat(second.clusters().get("default/a:80/TCP")).as("Service a is as it was: the same object").isSameAs(a);
        assertThat(second.clusters().get("default/b:80/TCP").endpoints()).extracting(e -> e.address().getAddress().getHostAddress())
                .containsExactly("127.60.0.3");
        assertThat(second.listeners()).filteredOn(l -> l.service().equals("default/a")).first()
                .isSameAs(first.listeners().stream().filter(l -> l.service().equals("default/a")).findFirst().orElseThrow());

        // a Service that is gone takes its part of the plan with it
        Store.Batch delete = store.begin();
        delete.remove(dev.portway.api.ResourceKind.SERVICE, "default", "a");
        delete.commit();
        Plan third = builder.build();
        assertThat(third.clusters()).doesNotContainKey("default/a:80/TCP").containsKey("default/b:80/TCP");
        assertThat(third.listeners()).extracting(Plan.Listener::service).containsExactly("default/b");
    }
}
