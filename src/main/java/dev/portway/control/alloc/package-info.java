/** Allocators for NodePorts, ClusterIPs and LoadBalancer addresses, with Kubernetes' and MetalLB's rules. */
package dev.portway.control.alloc;
