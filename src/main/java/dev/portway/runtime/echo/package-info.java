/**
 * The built-in echo server: what pods with image {@code portway/echo} run, and what plays the
 * Gateway API conformance suite's {@code echo-basic} backend ({@link dev.portway.runtime.echo.EchoBasic}).
 */
package dev.portway.runtime.echo;
