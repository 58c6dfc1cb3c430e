package dev.portway.api.validation;

/**
 * Where Portway's validation deliberately differs from the API server's.
 *
 * @param allowLoopback accept loopback addresses in endpoints and externalIPs. True in local
 *                      mode, where 127.0.0.0/8 is the cluster network itself; false in a real
 *                      cluster, as the API server has it.
 */
public record ValidationOptions(boolean allowLoopback) {

    public static final ValidationOptions LOCAL = new ValidationOptions(true);
    public static final ValidationOptions CLUSTER = new ValidationOptions(false);
}
