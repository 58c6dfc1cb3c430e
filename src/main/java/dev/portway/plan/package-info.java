/** The immutable plan the control plane hands the data plane, and how it is derived from the store. */
package dev.portway.plan;
