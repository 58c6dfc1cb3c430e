package dev.portway;

/** Portway's version, as built. */
public final class Version {

    public static final String VERSION = readVersion();

    private Version() {
    }

    private static String readVersion() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
