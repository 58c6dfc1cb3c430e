/**
 * Portway in a real Kubernetes cluster ({@code portway controller}): the LoadBalancer
 * implementation for the cluster's Services, as MetalLB or cloud-provider-kind are. It mirrors
 * the cluster's Services, Nodes and EndpointSlices into a store of its own, runs the same
 * LoadBalancer controller and plan as the local cluster does, writes each address it assigns back
 * to the Service's {@code status.loadBalancer}, and balances each LoadBalancer address to the
 * nodes' NodePorts, which kube-proxy serves.
 */
package dev.portway.incluster;
