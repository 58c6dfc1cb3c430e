/** The admin HTTP server: the Kubernetes REST API over the store, health, metrics. */
package dev.portway.admin;
