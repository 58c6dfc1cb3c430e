/** The Kubernetes API as Portway serves it: kinds, errors, defaulting, decoding and validation. */
package dev.portway.api;
