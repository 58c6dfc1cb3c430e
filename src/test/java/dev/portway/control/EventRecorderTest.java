package dev.portway.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.store.Store;
import dev.portway.testing.StepClock;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Events live an hour after their last change, as kube-apiserver's --event-ttl has them. */
class EventRecorderTest {

    private final StepClock clock = new StepClock(Instant.parse("2026-11-30T09:00:00Z"));
    private final ControlPlane control = new ControlPlane(new Store(), ClusterConfig.local().withClock(clock), new Random(9));

    @AfterEach
    void close() {
        control.close();
    }

    @Test
    void anEventUnchangedForAnHourGoes() {
        TestApi.apply(control, List.of(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build()));
        HasMetadata ns = control.store().list(io.fabric8.kubernetes.api.model.Namespace.class).getFirst();
        control.call(() -> {
            control.events().normal(ns, "Old", "recorded first", "test");
            clock.advance(Duration.ofMinutes(40));
            control.events().normal(ns, "Recent", "recorded later", "test");
            clock.advance(Duration.ofMinutes(25));
            return control.events().expire();
        });
        assertThat(control.store().list(Event.class)).extracting(Event::getReason).containsExactly("Recent");
    }

    /** The hour counts from this server's writes: an Event's own timestamps are whatever its writer put there. */
    @Test
    void anEventsOwnTimestampsDoNotSetItsHour() {
        TestApi.apply(control, List.of(new NamespaceBuilder().withNewMetadata().withName("default").endMetadata().build()));
        TestApi.apply(control, TestApi.decode("""
                apiVersion: v1
                kind: Event
                metadata: {name: from-the-future}
                involvedObject: {kind: Namespace, name: default}
                reason: Posted
                lastTimestamp: "2099-01-01T00:00:00Z"
                """));
        clock.advance(Duration.ofMinutes(61));
        control.call(() -> control.events().expire());
        assertThat(control.store().list(Event.class)).isEmpty();
    }
}
