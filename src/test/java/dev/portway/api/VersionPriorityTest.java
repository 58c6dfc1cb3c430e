package dev.portway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The order of a group's versions, as apimachinery's own tests state it ({@code version/helpers_test.go}). */
class VersionPriorityTest {

    @ParameterizedTest(name = "{0} preferred over {1}: {2}")
    @CsvSource({
            "v1, v2, false",
            "v2, v1, true",
            "v10, v2, true",
            "v1, v2alpha1, true",
            "v1, v2beta1, true",
            "v1alpha2, v1alpha1, true",
            "v1beta1, v2alpha3, true",
            "v1alpha10, v1alpha2, true",
            "v1beta10, v1beta2, true",
            "foo, v1beta2, false",
            "bar, foo, true",
            "version1, version2, true",
            "version1, version10, true",
    })
    void comparesAsKubeApiserverDoes(String a, String b, boolean aPreferred) {
        assertThat(VersionPriority.compare(a, b) > 0).isEqualTo(aPreferred);
        assertThat(VersionPriority.compare(b, a) > 0).isEqualTo(!aPreferred);
    }

    @Test
    void sortsTheMostPreferredFirst() {
        List<String> versions = new ArrayList<>(List.of("v1alpha1", "v1beta1", "foo", "v1", "v1beta2", "v2"));
        versions.sort(VersionPriority.PREFERRED_FIRST);
        assertThat(versions).containsExactly("v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo");
    }
}
