package dev.portway.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.gateway.GatewayModel;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassBuilder;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class DnsZoneBuilderTest {

    private static HasMetadata gateway(String name, String ip) {
        return new GatewayBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .withNewSpec().withGatewayClassName("portway").endSpec()
                .withNewStatus().addNewAddress().withType("IPAddress").withValue(ip).endAddress().endStatus().build();
    }

    /**
     * A Gateway is {@code <gateway>-<class>} in its namespace (GEP-1762). Its name may hold dots and
     * be 253 characters long, which is no DNS label: such a record could not even be written (a
     * label over 63 bytes), and the query for its address went unanswered.
     */
    @Test
    void aGatewayWhoseNameIsNoLabelHasNoName() throws Exception {
        Store store = new Store();
        Store.Batch batch = store.begin();
        batch.put(new GatewayClassBuilder().withNewMetadata().withName("portway").endMetadata()
                .withNewSpec().withControllerName(GatewayModel.CONTROLLER_NAME).endSpec().build());
        batch.put(gateway("web", "127.3.0.5"));
        batch.put(gateway("a.b", "127.3.0.6"));
        batch.put(gateway("x".repeat(60), "127.3.0.7"));
        batch.commit();
        DnsZone zone = DnsZoneBuilder.build(store);
        assertThat(zone.lookup("web-portway.default.svc.cluster.local")).containsExactly(InetAddress.getByName("127.3.0.5"));
        assertThat(zone.lookup("a.b-portway.default.svc.cluster.local")).isEmpty();
        assertThat(zone.lookup("x".repeat(60) + "-portway.default.svc.cluster.local")).isEmpty();
        assertThat(zone.addresses()).hasSize(1);
    }

    /** An ExternalName Service is a CNAME of its externalName (in lower case, without the trailing dot), and nothing else. */
    @Test
    void anExternalNameServiceIsACnameOfItsExternalName() {
        Store store = new Store();
        Store.Batch batch = store.begin();
        batch.put(new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withName("db").withNamespace("shop").endMetadata()
                .withNewSpec().withType("ExternalName").withExternalName("DB.Example.com.").endSpec().build());
        batch.commit();
        DnsZone zone = DnsZoneBuilder.build(store);
        assertThat(zone.aliases()).containsExactly(java.util.Map.entry("db.shop.svc.cluster.local", "db.example.com"));
        assertThat(zone.exists("db.shop.svc.cluster.local")).isTrue();
        assertThat(zone.addresses()).isEmpty();
        assertThat(zone.services()).isEmpty();
    }
}
