package dev.portway.gateway.conformance;

import dev.portway.api.decode.Manifests;
import dev.portway.api.decode.ObjectDecoder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The upstream conformance manifests, read as written and prepared as upstream's
 * {@code kubernetes.Applier} prepares them: every Gateway gets the GatewayClass under test
 * ({@code portway}), every GatewayClass the controller under test
 * ({@code portway.dev/gateway-controller}). And one change of the harness's own, {@link PortMap}:
 * listener ports (and the parentRef ports that name them) below 1024 move up.
 *
 * <p>Where they are read from, the first that has {@code base/manifests.yaml}: the directory the
 * system property {@value #PROPERTY} names; the test classpath's {@code gateway-conformance/};
 * a {@code shared/gateway-conformance/} directory in the working directory or any directory above
 * it (CI's copy of the steering repository's {@code shared/} sits beside the clone). Each holds
 * upstream's {@code conformance/} layout: {@code base/manifests.yaml}, {@code tests/*.yaml}.
 */
final class ConformanceManifests {

    static final String PROPERTY = "portway.gateway.conformance.manifests";
    static final String GATEWAY_CLASS = "portway";
    static final String CONTROLLER_NAME = "portway.dev/gateway-controller";
    static final String BASE = "base/manifests.yaml";

    private final String where;
    private final Path dir;

    private ConformanceManifests(String where, Path dir) {
        this.where = where;
        this.dir = dir;
    }

    /** Null when the manifests are found; else where they were looked for (the reason the suite is skipped). */
    static String whyMissing() {
        try {
            locate();
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /** Finds the manifests, or says where they were looked for. */
    static ConformanceManifests locate() {
        List<String> tried = new ArrayList<>();
        String property = System.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) {
            Path p = Path.of(property);
            if (Files.isRegularFile(p.resolve(BASE))) {
                return new ConformanceManifests(p.toString(), p);
            }
            tried.add(p.resolve(BASE) + " (-D" + PROPERTY + ")");
        }
        if (ConformanceManifests.class.getClassLoader().getResource("gateway-conformance/" + BASE) != null) {
            return new ConformanceManifests("classpath:gateway-conformance/", null);
        }
        tried.add("classpath:gateway-conformance/" + BASE);
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path p = d.resolve("shared").resolve("gateway-conformance");
            if (Files.isRegularFile(p.resolve(BASE))) {
                return new ConformanceManifests(p.toString(), p);
            }
            tried.add(p.resolve(BASE).toString());
        }
        throw new IllegalStateException("the Gateway API conformance manifests are not here: looked for " + String.join(", ", tried)
                + ". They are upstream's data files (kubernetes-sigs/gateway-api " + GatewayConformanceTest.UPSTREAM_VERSION
                + ", conformance/base/manifests.yaml and conformance/tests/*.yaml, Apache-2.0): see docs/gateway-conformance.md");
    }

    /** Where they were found, for messages. */
    String where() {
        return where;
    }

    /** The text of {@code path} (relative to upstream's {@code conformance/}, e.g. {@code tests/httproute-weight.yaml}). */
    String text(String path) {
        try {
            if (dir != null) {
                return Files.readString(dir.resolve(path), StandardCharsets.UTF_8);
            }
            try (InputStream in = ConformanceManifests.class.getClassLoader().getResourceAsStream("gateway-conformance/" + path)) {
                if (in == null) {
                    throw new IOException("no such resource");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read conformance manifest " + path + " from " + where + ": " + e.getMessage(), e);
        }
    }

    /** The objects of {@code path}, decoded as {@code portway apply} decodes them, and prepared. */
    List<HasMetadata> load(String path) {
        Manifests.Loaded loaded = Manifests.loadText(path, text(path));
        if (!loaded.problems().isEmpty()) {
            throw new IllegalStateException("conformance manifest " + path + " does not decode: " + loaded.problems());
        }
        List<HasMetadata> objects = new ArrayList<>();
        for (ObjectDecoder.Decoded d : loaded.objects()) {
            objects.add(prepare(d.object()));
        }
        return objects;
    }

    /** Upstream's {@code prepareGateway} / {@code prepareGatewayClass}, then {@link PortMap}. */
    static HasMetadata prepare(HasMetadata object) {
        if (object instanceof Gateway gw && gw.getSpec() != null) {
            gw.getSpec().setGatewayClassName(GATEWAY_CLASS);
            mapListenerPorts(gw);
        } else if (object instanceof GatewayClass gc && gc.getSpec() != null) {
            gc.getSpec().setControllerName(CONTROLLER_NAME);
        } else if (object instanceof HTTPRoute route && route.getSpec() != null && route.getSpec().getParentRefs() != null) {
            for (ParentReference ref : route.getSpec().getParentRefs()) {
                if (ref.getPort() != null) {
                    ref.setPort(PortMap.map(ref.getPort()));
                }
            }
        }
        return object;
    }

    /** {@link PortMap} over a Gateway's listeners (idempotent: a mapped port stays). */
    static void mapListenerPorts(Gateway gw) {
        if (gw.getSpec().getListeners() == null) {
            return;
        }
        for (Listener l : gw.getSpec().getListeners()) {
            if (l.getPort() != null) {
                l.setPort(PortMap.map(l.getPort()));
            }
        }
    }
}
