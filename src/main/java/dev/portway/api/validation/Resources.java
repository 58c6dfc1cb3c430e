package dev.portway.api.validation;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.Quantities;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Container {@code resources}, as the API server's {@code ValidateContainerResourceRequirements}
 * checks them ({@code pkg/apis/core/validation}, {@code pkg/apis/core/helper}): resource names,
 * quantities, and requests against limits.
 */
final class Resources {

    private static final Set<String> STANDARD_CONTAINER = Set.of("cpu", "memory", "ephemeral-storage");
    private static final Set<String> STANDARD = Set.of("cpu", "memory", "ephemeral-storage", "requests.cpu",
            "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
            "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
            "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports", "services.loadbalancers");
    private static final Set<String> STANDARD_INTEGER = Set.of("pods", "services", "replicationcontrollers",
            "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims", "services.nodeports",
            "services.loadbalancers");

    private Resources() {
    }

    /** {@code validateResourceRequirements} with {@code validateContainerResourceName}. */
    static List<FieldError> containerRequirements(ResourceRequirements requirements, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (requirements == null) {
            return errs;
        }
        // Go walks these maps in random order; Portway reports them sorted by name.
        Map<String, Quantity> limits = sorted(requirements.getLimits());
        Map<String, Quantity> requests = sorted(requirements.getRequests());
        FieldPath limPath = path.child("limits");
        FieldPath reqPath = path.child("requests");
        boolean limCpuOrMemory = false;
        boolean reqCpuOrMemory = false;
        boolean hugePages = false;
        for (Map.Entry<String, Quantity> e : limits.entrySet()) {
            FieldPath p = limPath.key(e.getKey());
            errs.addAll(containerResourceName(e.getKey(), p));
            errs.addAll(quantityValue(e.getKey(), e.getValue(), p));
            hugePages |= isHugePages(e.getKey());
            limCpuOrMemory |= e.getKey().equals("cpu") || e.getKey().equals("memory");
        }
        for (Map.Entry<String, Quantity> e : requests.entrySet()) {
            String name = e.getKey();
            FieldPath p = reqPath.key(name);
            errs.addAll(containerResourceName(name, p));
            errs.addAll(quantityValue(name, e.getValue(), p));
            Optional<BigDecimal> request = value(e.getValue());
            if (limits.containsKey(name)) {
                Optional<BigDecimal> limit = value(limits.get(name));
                if (request.isPresent() && limit.isPresent()) {
                    int cmp = request.get().compareTo(limit.get());
                    String limitText = Quantities.canonical(limits.get(name));
                    if (cmp != 0 && !overcommitAllowed(name)) {
                        errs.add(FieldError.invalid(reqPath, Quantities.canonical(e.getValue()),
                                "must be equal to " + name + " limit of " + limitText));
                    } else if (cmp > 0) {
                        errs.add(FieldError.invalid(reqPath, Quantities.canonical(e.getValue()),
                                "must be less than or equal to " + name + " limit of " + limitText));
                    }
                }
            } else if (!overcommitAllowed(name)) {
                errs.add(FieldError.required(limPath, "Limit must be set for non overcommitable resources"));
            }
            hugePages |= isHugePages(name);
            reqCpuOrMemory |= name.equals("cpu") || name.equals("memory");
        }
        if (!limCpuOrMemory && !reqCpuOrMemory && hugePages) {
            errs.add(FieldError.forbidden(path, "HugePages require cpu or memory"));
        }
        return errs;
    }

    private static Map<String, Quantity> sorted(Map<String, Quantity> map) {
        Map<String, Quantity> sorted = new TreeMap<>();
        if (map != null) {
            map.forEach((k, v) -> sorted.put(k == null ? "" : k, v));
        }
        return sorted;
    }

    private static Optional<BigDecimal> value(Quantity q) {
        return Quantities.parse(q).map(Quantities.Parsed::value);
    }

    /** {@code validateContainerResourceName}, with {@code validateResourceName} before it. */
    static List<FieldError> containerResourceName(String name, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        List<String> qualified = Names.qualifiedName(name);
        if (!qualified.isEmpty()) {
            qualified.forEach(msg -> errs.add(FieldError.invalid(path, name, msg)));
        } else if (!name.contains("/") && !STANDARD.contains(name) && !isHugePages(name)) {
            errs.add(FieldError.invalid(path, name, "must be a standard resource type or fully qualified"));
        }
        if (!name.contains("/")) {
            if (!STANDARD_CONTAINER.contains(name) && !isHugePages(name)) {
                errs.add(FieldError.invalid(path, name, "must be a standard resource for containers"));
            }
        } else if (!isNative(name) && !isExtended(name)) {
            errs.add(FieldError.invalid(path, name, "doesn't follow extended resource name standard"));
        }
        return errs;
    }

    /** {@code ValidateResourceQuantityValue}: not negative; whole for integer resources. */
    static List<FieldError> quantityValue(String name, Quantity quantity, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        Optional<BigDecimal> v = value(quantity);
        if (v.isEmpty()) {
            return errs;
        }
        if (v.get().signum() < 0) {
            errs.add(FieldError.invalid(path, Quantities.canonical(quantity), MetaValidation.IS_NEGATIVE));
        }
        boolean integer = STANDARD_INTEGER.contains(name) || isExtended(name);
        if (integer && v.get().stripTrailingZeros().scale() > 0) {
            errs.add(FieldError.invalid(path, quantity, "must be an integer"));
        }
        return errs;
    }

    static boolean isHugePages(String name) {
        return name.startsWith("hugepages-");
    }

    /** No prefix, or a kubernetes.io/ one. */
    static boolean isNative(String name) {
        return !name.contains("/") || name.contains("kubernetes.io/");
    }

    /** A domain-prefixed name outside kubernetes.io: {@code example.com/gpu}. */
    static boolean isExtended(String name) {
        if (isNative(name) || name.startsWith("requests.")) {
            return false;
        }
        return Names.qualifiedName("requests." + name).isEmpty();
    }

    /** CPU, memory and other native resources may be overcommitted; hugepages and extended ones not. */
    static boolean overcommitAllowed(String name) {
        return isNative(name) && !isHugePages(name);
    }
}
