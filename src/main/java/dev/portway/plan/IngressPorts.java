package dev.portway.plan;

/**
 * Where the Ingress controller listens on its address: 80 and 443 as every Ingress controller
 * does, or others where the ports below 1024 are not to be had (an ordinary user's tests).
 */
public record IngressPorts(int http, int https) {

    public static final IngressPorts DEFAULT = new IngressPorts(80, 443);

    public IngressPorts {
        if (http < 1 || http > 65535 || https < 1 || https > 65535 || http == https) {
            throw new IllegalArgumentException("ingress ports " + http + " and " + https + " (expected two different ports, 1-65535)");
        }
    }
}
