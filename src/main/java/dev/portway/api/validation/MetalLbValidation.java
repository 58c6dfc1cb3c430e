package dev.portway.api.validation;

import static dev.portway.api.validation.MetaValidation.nz;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.metallb.L2Advertisement;
import dev.portway.net.AddressRange;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * IPAddressPool validation with MetalLB's rules and wording ({@code internal/config/config.go}
 * and its webhooks): pools live in MetalLB's namespace, every address entry is a CIDR or a
 * {@code start-end} range. Overlaps with other pools are checked by the allocator, which sees them all.
 */
public final class MetalLbValidation {

    /** The namespace MetalLB reads its configuration from. */
    public static final String NAMESPACE = "metallb-system";

    private MetalLbValidation() {
    }

    public static List<FieldError> validate(IPAddressPool pool) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.customResourceMeta(pool.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        errs.addAll(namespace(pool.getMetadata() == null ? "" : nz(pool.getMetadata().getNamespace())));
        FieldPath addressesPath = FieldPath.of("spec", "addresses");
        List<String> addresses = pool.getSpec() == null || pool.getSpec().getAddresses() == null
                ? List.of() : pool.getSpec().getAddresses();
        if (addresses.isEmpty()) {
            errs.add(FieldError.required(addressesPath, "pool has no prefixes defined"));
        }
        String name = pool.getMetadata() == null ? "" : nz(pool.getMetadata().getName());
        for (int i = 0; i < addresses.size(); i++) {
            String entry = nz(addresses.get(i));
            try {
                AddressRange.parse(entry);
            } catch (IllegalArgumentException e) {
                errs.add(FieldError.invalid(addressesPath.index(i), entry,
                        "invalid CIDR " + dev.portway.api.GoValues.quote(entry) + " in pool " + dev.portway.api.GoValues.quote(name)
                                + ": " + e.getMessage()));
            }
        }
        if (pool.getSpec() != null && pool.getSpec().getServiceAllocation() != null) {
            FieldPath sa = FieldPath.of("spec", "serviceAllocation");
            Set<String> seen = new HashSet<>();
            List<String> namespaces = pool.getSpec().getServiceAllocation().getNamespaces();
            for (int i = 0; namespaces != null && i < namespaces.size(); i++) {
                if (!seen.add(namespaces.get(i))) {
                    errs.add(FieldError.invalid(sa.child("namespaces").index(i), namespaces.get(i),
                            "duplicate definition in namespaces field"));
                }
            }
            var selectors = pool.getSpec().getServiceAllocation().getServiceSelectors();
            for (int i = 0; selectors != null && i < selectors.size(); i++) {
                errs.addAll(MetaValidation.labelSelector(selectors.get(i), sa.child("serviceSelectors").index(i)));
            }
            Integer priority = pool.getSpec().getServiceAllocation().getPriority();
            if (priority != null) {
                errs.addAll(MetaValidation.nonNegative(priority, sa.child("priority")));
            }
        }
        return errs;
    }

    /**
     * MetalLB refuses a pool whose addresses overlap another pool's: an error for each entry of
     * {@code pool} that does (entries that do not parse are {@link #validate}'s to report).
     */
    public static List<FieldError> overlaps(IPAddressPool pool, java.util.Collection<IPAddressPool> others) {
        List<FieldError> errs = new ArrayList<>();
        List<String> entries = pool.getSpec() == null || pool.getSpec().getAddresses() == null ? List.of() : pool.getSpec().getAddresses();
        for (int i = 0; i < entries.size(); i++) {
            AddressRange range = parseOrNull(entries.get(i));
            if (range == null) {
                continue;
            }
            for (IPAddressPool other : others) {
                if (other.getMetadata().getName().equals(pool.getMetadata().getName()) || other.getSpec() == null
                        || other.getSpec().getAddresses() == null) {
                    continue;
                }
                for (String otherEntry : other.getSpec().getAddresses()) {
                    AddressRange otherRange = parseOrNull(otherEntry);
                    if (otherRange != null && range.overlaps(otherRange)) {
                        errs.add(FieldError.invalid(FieldPath.of("spec", "addresses").index(i), entries.get(i),
                                "CIDR " + dev.portway.api.GoValues.quote(entries.get(i)) + " in pool "
                                        + dev.portway.api.GoValues.quote(pool.getMetadata().getName()) + " overlaps with already defined CIDR "
                                        + dev.portway.api.GoValues.quote(otherEntry) + " (pool "
                                        + dev.portway.api.GoValues.quote(other.getMetadata().getName()) + ")"));
                    }
                }
            }
        }
        return errs;
    }

    private static AddressRange parseOrNull(String entry) {
        try {
            return AddressRange.parse(entry);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public static List<FieldError> validate(L2Advertisement ad) {
        List<FieldError> errs = new ArrayList<>(
                MetaValidation.customResourceMeta(ad.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        errs.addAll(namespace(ad.getMetadata() == null ? "" : nz(ad.getMetadata().getNamespace())));
        return errs;
    }

    private static List<FieldError> namespace(String namespace) {
        if (!namespace.isEmpty() && !namespace.equals(NAMESPACE)) {
            return List.of(FieldError.invalid(FieldPath.of("metadata", "namespace"), namespace,
                    "resource must be created in " + NAMESPACE + " namespace"));
        }
        return List.of();
    }
}
