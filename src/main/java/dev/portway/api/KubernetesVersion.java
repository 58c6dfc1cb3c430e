package dev.portway.api;

/**
 * The one Kubernetes release whose API server Portway imitates: validation rules, field paths,
 * message wording and value printing are those of this minor version, with its default feature
 * gates. Anything that reports a Kubernetes version ({@code /version}, node info) takes it from
 * here.
 */
public final class KubernetesVersion {

    /** {@code /version} {@code major}. */
    public static final String MAJOR = "1";

    /** {@code /version} {@code minor}. */
    public static final String MINOR = "34";

    /** The release the validation was checked against, as {@code /version} prints {@code gitVersion}. */
    public static final String GIT_VERSION = "v1.34.10";

    private KubernetesVersion() {
    }

    /** {@code 1.34}. */
    public static String minorVersion() {
        return MAJOR + "." + MINOR;
    }

    /** A {@code gitVersion} for Portway build {@code portwayVersion}: {@code v1.34.10-portway.0.3.0}. */
    public static String gitVersion(String portwayVersion) {
        return GIT_VERSION + "-portway." + portwayVersion;
    }
}
