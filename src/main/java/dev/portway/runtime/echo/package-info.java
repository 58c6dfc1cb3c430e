/** The built-in echo server that pods with image {@code portway/echo} run. */
package dev.portway.runtime.echo;
