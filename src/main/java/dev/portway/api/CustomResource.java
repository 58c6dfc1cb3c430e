package dev.portway.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;

/**
 * What every kind Portway writes by hand carries besides its spec and status: {@code apiVersion},
 * {@code kind} and {@code metadata}, as a custom resource has them. fabric8's generated kinds carry
 * their own; Portway's (MetalLB's, and its AccessPolicy) share these, so that each is its schema only.
 * Subclasses keep the annotations that make them a kind ({@code @Group}, {@code @Version},
 * {@code @Kind}, {@code @Plural}) and their own Jackson settings.
 */
public abstract class CustomResource implements HasMetadata {

    private String apiVersion;
    private String kind;
    private ObjectMeta metadata;

    protected CustomResource(String apiVersion, String kind) {
        this.apiVersion = apiVersion;
        this.kind = kind;
    }

    /** APIVersion defines the versioned schema of this representation of an object. */
    @Override
    @JsonProperty("apiVersion")
    public String getApiVersion() {
        return apiVersion;
    }

    @Override
    public void setApiVersion(String apiVersion) {
        this.apiVersion = apiVersion;
    }

    /** Kind is a string value representing the REST resource this object represents. */
    @Override
    @JsonProperty("kind")
    public String getKind() {
        return kind;
    }

    public void setKind(String kind) {
        this.kind = kind;
    }

    /** Standard object's metadata. */
    @Override
    @JsonProperty("metadata")
    public ObjectMeta getMetadata() {
        return metadata;
    }

    @Override
    public void setMetadata(ObjectMeta metadata) {
        this.metadata = metadata;
    }
}
