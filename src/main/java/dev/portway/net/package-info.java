/** IPv4 address arithmetic shared by the allocators, validation and the local cluster's address plan. */
package dev.portway.net;
