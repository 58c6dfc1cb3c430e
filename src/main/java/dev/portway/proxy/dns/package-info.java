/**
 * Cluster DNS: a server that answers for the names of Services, pods and Gateways from a
 * {@link dev.portway.plan.DnsZone}, and forwards other questions to the host's nameservers.
 */
package dev.portway.proxy.dns;
