/** Portway's AccessPolicy ({@code policy.portway.dev/v1alpha1}): who may use a route, and how much. */
package dev.portway.api.policy;
