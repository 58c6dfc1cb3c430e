/** How objects print: the table columns the API server serves and kubectl shows, and kubectl's durations. */
package dev.portway.api.print;
