/** The {@code portway} command line: kubectl-like commands against a running local cluster. */
package dev.portway.cli;
