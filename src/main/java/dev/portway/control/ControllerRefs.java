package dev.portway.control;

import dev.portway.api.Selectors;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.OwnerReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Which objects a controller (a Deployment of its ReplicaSets, a ReplicaSet of its pods) controls,
 * as kube-controller-manager's {@code ControllerRefManager} claims them: the ones that name it as
 * their controller and still match its selector; orphans (no controller) that match, adopted by
 * adding a controller reference; and the ones it controls that no longer match, released by
 * taking the reference away (what {@code kubectl label pod web-x app-} does to quarantine a pod).
 */
final class ControllerRefs {

    private ControllerRefs() {
    }

    /**
     * The objects among {@code candidates} that {@code owner} controls once claimed, adopting and
     * releasing as need be. Nothing is adopted by an owner being deleted, and nothing being deleted
     * is adopted.
     *
     * @param adoptable which orphans may be adopted (the ReplicaSet controller takes active pods only)
     */
    static <T extends HasMetadata> List<T> claim(ApiServer api, Class<T> type, HasMetadata owner, LabelSelector selector,
                                                 List<T> candidates, Predicate<T> adoptable) {
        List<T> claimed = new ArrayList<>();
        boolean ownerDeleting = owner.getMetadata().getDeletionTimestamp() != null;
        for (T o : candidates) {
            boolean matches = Selectors.matches(selector, o.getMetadata().getLabels());
            if (Pods.isControlledBy(o, owner)) {
                if (matches) {
                    claimed.add(o);
                } else if (!ownerDeleting) {
                    release(api, type, o, owner);
                }
            } else if (controllerOf(o) == null && matches && !ownerDeleting && o.getMetadata().getDeletionTimestamp() == null
                    && adoptable.test(o)) {
                adopt(api, type, o, owner).ifPresent(claimed::add);
            }
        }
        return claimed;
    }

    /** The object's controller reference, or null when it has none (an orphan). */
    static OwnerReference controllerOf(HasMetadata o) {
        List<OwnerReference> refs = o.getMetadata().getOwnerReferences();
        return refs == null ? null : refs.stream().filter(r -> Boolean.TRUE.equals(r.getController())).findFirst().orElse(null);
    }

    /** Adds {@code owner}'s controller reference, unless the object got a controller or began its deletion meanwhile. */
    private static <T extends HasMetadata> Optional<T> adopt(ApiServer api, Class<T> type, T o, HasMetadata owner) {
        Optional<T> stored = api.mutate(type, o.getMetadata().getNamespace(), o.getMetadata().getName(), current -> {
            if (current.getMetadata().getDeletionTimestamp() != null || controllerOf(current) != null) {
                return current;
            }
            List<OwnerReference> refs = current.getMetadata().getOwnerReferences() == null ? new ArrayList<>()
                    : new ArrayList<>(current.getMetadata().getOwnerReferences());
            refs.add(Pods.controllerRef(owner));
            current.getMetadata().setOwnerReferences(refs);
            return current;
        });
        return stored.filter(s -> Pods.isControlledBy(s, owner));
    }

    private static <T extends HasMetadata> void release(ApiServer api, Class<T> type, T o, HasMetadata owner) {
        api.mutate(type, o.getMetadata().getNamespace(), o.getMetadata().getName(), current -> {
            if (current.getMetadata().getOwnerReferences() != null) {
                List<OwnerReference> refs = new ArrayList<>(current.getMetadata().getOwnerReferences());
                refs.removeIf(r -> owner.getMetadata().getUid().equals(r.getUid()));
                current.getMetadata().setOwnerReferences(refs.isEmpty() ? null : refs);
            }
            return current;
        });
    }
}
