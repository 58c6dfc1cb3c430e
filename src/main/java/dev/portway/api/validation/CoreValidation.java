package dev.portway.api.validation;

import static dev.portway.api.validation.MetaValidation.nz;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** Namespace, ConfigMap, Secret and Node validation ({@code pkg/apis/core/validation}). */
public final class CoreValidation {

    private static final int MAX_SECRET_SIZE = 1024 * 1024;
    private static final String IMMUTABLE_SET = "field is immutable when `immutable` is set";

    private CoreValidation() {
    }

    public static List<FieldError> validate(Namespace ns) {
        return MetaValidation.objectMeta(ns.getMetadata(), false, MetaValidation.DNS_LABEL, FieldPath.of("metadata"));
    }

    public static List<FieldError> validate(ConfigMap cm) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(cm.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        long size = 0;
        Map<String, String> data = cm.getData() == null ? Map.of() : new TreeMap<>(cm.getData());
        Map<String, String> binary = cm.getBinaryData() == null ? Map.of() : new TreeMap<>(cm.getBinaryData());
        for (Map.Entry<String, String> e : data.entrySet()) {
            FieldPath p = FieldPath.of("data").key(e.getKey());
            Names.configMapKey(e.getKey()).forEach(msg -> errs.add(FieldError.invalid(p, e.getKey(), msg)));
            if (binary.containsKey(e.getKey())) {
                errs.add(FieldError.invalid(p, e.getKey(), "duplicate of key present in binaryData"));
            }
            size += dev.portway.api.GoValues.len(e.getValue());
        }
        for (Map.Entry<String, String> e : binary.entrySet()) {
            FieldPath p = FieldPath.of("binaryData").key(e.getKey());
            Names.configMapKey(e.getKey()).forEach(msg -> errs.add(FieldError.invalid(p, e.getKey(), msg)));
            size += nz(e.getValue()).length() * 3L / 4;
        }
        if (size > MAX_SECRET_SIZE) {
            errs.add(FieldError.tooLong(FieldPath.of(""), MAX_SECRET_SIZE));
        }
        return errs;
    }

    public static List<FieldError> validateUpdate(ConfigMap updated, ConfigMap old) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        if (Boolean.TRUE.equals(old.getImmutable())) {
            if (!Boolean.TRUE.equals(updated.getImmutable())) {
                errs.add(FieldError.forbidden(FieldPath.of("immutable"), IMMUTABLE_SET));
            }
            if (!Objects.equals(updated.getData(), old.getData())) {
                errs.add(FieldError.forbidden(FieldPath.of("data"), IMMUTABLE_SET));
            }
            if (!Objects.equals(updated.getBinaryData(), old.getBinaryData())) {
                errs.add(FieldError.forbidden(FieldPath.of("binaryData"), IMMUTABLE_SET));
            }
        }
        errs.addAll(validate(updated));
        return errs;
    }

    public static List<FieldError> validate(Secret secret) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(secret.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        long size = 0;
        for (Map.Entry<String, String> e : new TreeMap<>(secret.getData() == null ? Map.<String, String>of() : secret.getData()).entrySet()) {
            FieldPath p = FieldPath.of("data").key(e.getKey());
            Names.configMapKey(e.getKey()).forEach(msg -> errs.add(FieldError.invalid(p, e.getKey(), msg)));
            size += nz(e.getValue()).length() * 3L / 4;
        }
        for (Map.Entry<String, String> e : new TreeMap<>(secret.getStringData() == null ? Map.<String, String>of() : secret.getStringData()).entrySet()) {
            FieldPath p = FieldPath.of("data").key(e.getKey());
            Names.configMapKey(e.getKey()).forEach(msg -> errs.add(FieldError.invalid(p, e.getKey(), msg)));
            size += dev.portway.api.GoValues.len(e.getValue());
        }
        if (size > MAX_SECRET_SIZE) {
            errs.add(FieldError.tooLong(FieldPath.of("data"), MAX_SECRET_SIZE));
        }
        Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
        Map<String, String> stringData = secret.getStringData() == null ? Map.of() : secret.getStringData();
        String type = nz(secret.getType());
        if (type.equals("kubernetes.io/tls")) {
            for (String key : List.of("tls.crt", "tls.key")) {
                if (!data.containsKey(key) && !stringData.containsKey(key)) {
                    errs.add(FieldError.required(FieldPath.of("data").key(key), ""));
                }
            }
        } else if (type.equals("kubernetes.io/basic-auth")) {
            boolean any = data.containsKey("username") || data.containsKey("password")
                    || stringData.containsKey("username") || stringData.containsKey("password");
            if (!any) {
                errs.add(FieldError.required(FieldPath.of("data").key("username"), ""));
                errs.add(FieldError.required(FieldPath.of("data").key("password"), ""));
            }
        }
        return errs;
    }

    public static List<FieldError> validateUpdate(Secret updated, Secret old) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        errs.addAll(MetaValidation.immutable(nz(updated.getType()), nz(old.getType()), FieldPath.of("type")));
        if (Boolean.TRUE.equals(old.getImmutable())) {
            if (!Boolean.TRUE.equals(updated.getImmutable())) {
                errs.add(FieldError.forbidden(FieldPath.of("immutable"), IMMUTABLE_SET));
            }
            if (!Objects.equals(updated.getData(), old.getData())) {
                errs.add(FieldError.forbidden(FieldPath.of("data"), IMMUTABLE_SET));
            }
        }
        errs.addAll(validate(updated));
        return errs;
    }

    public static List<FieldError> validate(Node node) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.objectMeta(node.getMetadata(), false, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        if (node.getSpec() != null && node.getSpec().getPodCIDRs() != null) {
            List<String> cidrs = node.getSpec().getPodCIDRs();
            for (int i = 0; i < cidrs.size(); i++) {
                FieldPath p = FieldPath.of("spec", "podCIDRs").index(i);
                String value = cidrs.get(i);
                Names.cidr(value).forEach(msg -> errs.add(FieldError.invalid(p, value, msg)));
            }
        }
        errs.addAll(dev.portway.api.NodeAnnotations.validate(node));
        return errs;
    }
}
