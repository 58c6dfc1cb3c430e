/** Patches as the API server applies them: JSON merge, strategic merge and server-side apply, over one table of merge strategies. */
package dev.portway.api.patch;
