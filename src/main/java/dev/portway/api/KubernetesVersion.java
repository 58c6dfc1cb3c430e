package dev.portway.api;

/** The one Kubernetes release whose API server Portway matches, rule for rule and message for message. */
public final class KubernetesVersion {

    public static final String MAJOR = "1";
    public static final String MINOR = "34";
    public static final String GIT_VERSION = "v1.34.0";

    private KubernetesVersion() {
    }
}
