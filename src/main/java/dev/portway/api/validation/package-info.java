/** Validation of API objects with the Kubernetes API server's field paths and messages. */
package dev.portway.api.validation;
