/** The local cluster: nodes on loopback addresses, the kubelet that runs pods, and the pieces wired together. */
package dev.portway.runtime;
