package dev.portway.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.decode.Manifests;
import dev.portway.api.decode.ObjectDecoder;
import dev.portway.control.ApiServer;
import dev.portway.control.ClusterConfig;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * An API server with an empty store and the usual namespaces, driven directly from one test
 * thread, and helpers to apply YAML to it.
 */
public final class TestApi {

    private final ApiServer api;

    public TestApi() {
        this(ClusterConfig.local());
    }

    public TestApi(ClusterConfig config) {
        this.api = new ApiServer(new Store(), config, new Random(42));
        List<HasMetadata> namespaces = new ArrayList<>();
        for (String ns : List.of("default", "team-a", "team-b", "metallb-system")) {
            namespaces.add(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build());
        }
        api.apply(namespaces, "default", false);
    }

    public ApiServer api() {
        return api;
    }

    /** Decodes YAML that must be well-formed. */
    public static List<HasMetadata> decode(String yaml) {
        Manifests.Loaded loaded = Manifests.loadText("test.yaml", yaml);
        assertThat(loaded.problems()).as("decode problems").isEmpty();
        return loaded.objects().stream().map(ObjectDecoder.Decoded::object).toList();
    }

    /** Applies YAML; returns the stored objects. */
    public List<HasMetadata> apply(String yaml) {
        return api.apply(decode(yaml), "default", false).stream().map(ApiServer.Applied::object).toList();
    }

    /** Applies YAML that must fail; returns the kubectl message of each failure, one per line. */
    public String applyError(String yaml) {
        try {
            api.apply(decode(yaml), "default", false);
        } catch (ApiServer.ApplyException e) {
            return String.join("\n", e.failures().stream().map(f -> f.error().kubectlMessage()).toList());
        }
        throw new AssertionError("expected the apply to fail:\n" + yaml);
    }

    /** Applies {@code objects} through {@code control}'s API server, as portway apply does, and waits for the passes it queues. */
    public static void apply(dev.portway.control.ControlPlane control, List<HasMetadata> objects) {
        control.call(() -> control.api().apply(objects, "default", false));
        control.awaitIdle();
    }
}
