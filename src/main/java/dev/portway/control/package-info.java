/**
 * The control plane: the API server's write path (defaulting, validation, allocation) and the
 * controllers that derive state from what users applied.
 */
package dev.portway.control;
