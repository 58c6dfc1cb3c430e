/** Who may use the API server: its CA and certificates, and the bearer token, kept in the state directory. */
package dev.portway.admin.auth;
