package dev.portway.control;

/**
 * A level-triggered controller: each pass brings what it owns to the desired state in the store
 * and writes only what differs. Runs on the control thread after every committed change.
 *
 * <p>A controller may read the whole store on each pass (most do; their kinds are few), or, where
 * the objects are many, keep what it needs from the store's events and look again only at the
 * keys that changed, as Kubernetes' informers and work queues do ({@link EndpointSliceController},
 * {@link LoadBalancerController}, the plan). Its first pass reads everything.
 */
public interface Controller {

    void reconcile();
}
