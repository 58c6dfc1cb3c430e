package dev.portway.api.validation;

import dev.portway.api.FieldError;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.metallb.L2Advertisement;
import dev.portway.api.policy.AccessPolicy;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.util.List;

/** Validates any object Portway serves, on create and on update, after defaulting. */
public final class Validator {

    private final ValidationOptions options;

    public Validator(ValidationOptions options) {
        this.options = options;
    }

    public ValidationOptions options() {
        return options;
    }

    public List<FieldError> validateCreate(HasMetadata object) {
        return switch (object) {
            case Service s -> ServiceValidation.validate(s, options);
            case Pod p -> PodValidation.validate(p);
            case Deployment d -> AppsValidation.validate(d);
            case ReplicaSet rs -> AppsValidation.validate(rs);
            case EndpointSlice es -> DiscoveryValidation.validate(es, options);
            case Namespace ns -> CoreValidation.validate(ns);
            case ConfigMap cm -> CoreValidation.validate(cm);
            case Secret secret -> CoreValidation.validate(secret);
            case Node node -> CoreValidation.validate(node);
            case IPAddressPool pool -> MetalLbValidation.validate(pool);
            case L2Advertisement ad -> MetalLbValidation.validate(ad);
            case Ingress ing -> IngressValidation.validate(ing);
            case IngressClass ic -> IngressValidation.validate(ic);
            case AccessPolicy policy -> AccessPolicyValidation.validate(policy);
            // ValidateEventCreate's first rule: an Event's metadata as any object's (names, the 256 KiB of annotations)
            // (v1 Events get apimachinery's metadata checks, not core's: a finalizer without a domain is no error)
            case io.fabric8.kubernetes.api.model.Event event -> MetaValidation.customResourceMeta(event.getMetadata(), true,
                    MetaValidation.DNS_SUBDOMAIN, dev.portway.api.FieldPath.of("metadata"));
            default -> GatewayValidation.handles(object) ? GatewayValidation.validate(object) : List.of();
        };
    }

    public List<FieldError> validateUpdate(HasMetadata updated, HasMetadata old) {
        return switch (updated) {
            case Service s -> ServiceValidation.validateUpdate(s, (Service) old, options);
            case Pod p -> PodValidation.validateUpdate(p, (Pod) old);
            case Deployment d -> AppsValidation.validateUpdate(d, (Deployment) old);
            case ReplicaSet rs -> AppsValidation.validateUpdate(rs, (ReplicaSet) old);
            case EndpointSlice es -> DiscoveryValidation.validateUpdate(es, (EndpointSlice) old, options);
            case ConfigMap cm -> CoreValidation.validateUpdate(cm, (ConfigMap) old);
            case Secret secret -> CoreValidation.validateUpdate(secret, (Secret) old);
            case Ingress ing -> IngressValidation.validateUpdate(ing, (Ingress) old);
            case IngressClass ic -> IngressValidation.validateUpdate(ic, (IngressClass) old);
            case HasMetadata crd when GatewayValidation.handles(crd) -> GatewayValidation.validateUpdate(crd, old);
            default -> {
                boolean custom = updated instanceof IPAddressPool || updated instanceof L2Advertisement || updated instanceof AccessPolicy
                        || updated instanceof io.fabric8.kubernetes.api.model.Event;
                var errs = new java.util.ArrayList<>(custom
                        ? MetaValidation.customResourceMetaUpdate(updated.getMetadata(), old.getMetadata(), dev.portway.api.FieldPath.of("metadata"))
                        : MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), dev.portway.api.FieldPath.of("metadata")));
                errs.addAll(validateCreate(updated));
                yield errs;
            }
        };
    }
}
