/** The store of API objects: desired and observed state, with resource versions and watch events. */
package dev.portway.store;
