package dev.portway.gateway.conformance;

import java.util.List;
import java.util.Set;

/**
 * One upstream conformance test ({@code suite.ConformanceTest}): its short name, the features it
 * needs, the manifests it applies (paths under upstream's {@code conformance/}, applied after the
 * base manifests and deleted after the test), and its checks.
 *
 * @param partial what of the upstream test is not ported, or null when all of it is
 */
record ConformanceTest(String shortName, String description, Set<Feature> features, boolean provisional,
                       List<String> manifests, List<Step> steps, String partial) {

    ConformanceTest {
        features = Set.copyOf(features);
        manifests = List.copyOf(manifests);
        steps = List.copyOf(steps);
    }

    @Override
    public String toString() {
        return shortName;
    }
}
