package dev.portway.control.alloc;

/** A LoadBalancer address that cannot be assigned, with MetalLB's reason. */
public final class LoadBalancerAllocationException extends Exception {

    public LoadBalancerAllocationException(String message) {
        super(message, null, false, false);
    }
}
