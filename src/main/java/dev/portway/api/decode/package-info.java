/** Reading manifests: YAML and JSON documents with line numbers, decoded strictly into API objects. */
package dev.portway.api.decode;
