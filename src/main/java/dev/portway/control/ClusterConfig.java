package dev.portway.control;

import dev.portway.api.validation.ValidationOptions;
import dev.portway.control.alloc.PortRange;
import dev.portway.net.Cidr;
import java.time.Clock;
import java.util.Objects;

/**
 * The cluster-wide settings an API server is started with.
 *
 * @param serviceCidr       where ClusterIPs come from ({@code --service-cluster-ip-range})
 * @param nodePortRange     where nodePorts come from ({@code --service-node-port-range})
 * @param validation        where validation departs from the API server's (loopback in local mode)
 * @param loadBalancerClass the {@code spec.loadBalancerClass} this Portway implements; Services
 *                          with no class are handled with the default class only ({@link #handles})
 * @param clock             the time source for timestamps
 * @param nodeCidr          where node addresses must lie (local mode: Portway listens on them), or null for anywhere
 */
public record ClusterConfig(Cidr serviceCidr, PortRange nodePortRange, ValidationOptions validation,
                            String loadBalancerClass, Clock clock, Cidr nodeCidr) {

    public static final String DEFAULT_LOAD_BALANCER_CLASS = "portway.dev/loadbalancer";

    /**
     * Whether an implementation of {@code implemented} handles a LoadBalancer Service of
     * {@code serviceClass} (null: none). A Service that names no class is the cluster's default
     * implementation's: Portway takes it with its default class, as MetalLB does with no
     * {@code --lb-class}; given a class of its own, it leaves them to the default implementation
     * (a cloud's, or another MetalLB), as MetalLB and kube-vip do with theirs, instead of fighting
     * it over their status.
     */
    public static boolean handles(String implemented, String serviceClass) {
        return serviceClass == null ? DEFAULT_LOAD_BALANCER_CLASS.equals(implemented) : serviceClass.equals(implemented);
    }

    public ClusterConfig {
        Objects.requireNonNull(serviceCidr, "serviceCidr");
        Objects.requireNonNull(nodePortRange, "nodePortRange");
        Objects.requireNonNull(validation, "validation");
        Objects.requireNonNull(loadBalancerClass, "loadBalancerClass");
        Objects.requireNonNull(clock, "clock");
    }

    /** Local mode: services on 127.2.0.0/16, nodePorts 30000-32767, loopback allowed. */
    public static ClusterConfig local() {
        return new ClusterConfig(Cidr.of("127.2.0.0/16"), PortRange.DEFAULT_NODE_PORTS, ValidationOptions.LOCAL,
                DEFAULT_LOAD_BALANCER_CLASS, Clock.systemUTC(), Cidr.of("127.0.10.0/24"));
    }

    public ClusterConfig withNodePortRange(PortRange range) {
        return new ClusterConfig(serviceCidr, range, validation, loadBalancerClass, clock, nodeCidr);
    }

    public ClusterConfig withServiceCidr(Cidr cidr) {
        return new ClusterConfig(cidr, nodePortRange, validation, loadBalancerClass, clock, nodeCidr);
    }

    public ClusterConfig withClock(Clock c) {
        return new ClusterConfig(serviceCidr, nodePortRange, validation, loadBalancerClass, c, nodeCidr);
    }

    public ClusterConfig withNodeCidr(Cidr cidr) {
        return new ClusterConfig(serviceCidr, nodePortRange, validation, loadBalancerClass, clock, cidr);
    }
}
