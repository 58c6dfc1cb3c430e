/**
 * The Gateway API as Portway implements it, as a pure model: which Gateways are Portway's, which
 * HTTPRoutes attach to which of their listeners and with which effective hostnames, which
 * references resolve, and the status conditions the Gateway API specification defines for all of
 * it. Built from a snapshot of objects by {@link dev.portway.api.gateway.GatewayModel#build}; no
 * I/O, no store. The control plane writes its conditions as status; the data plane turns its
 * accepted routes into L7 routes.
 */
package dev.portway.api.gateway;
