/** MetalLB's API types ({@code metallb.io/v1beta1}), which Portway reads as MetalLB does. */
package dev.portway.api.metallb;
