package dev.portway.admin;

import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A Kubernetes REST path, parsed: {@code /api/v1/namespaces/default/services/web},
 * {@code /apis/apps/v1/deployments}, {@code /api/v1/nodes/node1}. A kind's path exists at every
 * version the kind is served at, and what is answered there is at that version.
 *
 * @param group       the API group ("" for core)
 * @param version     the API version in the path (one the kind is served at, not necessarily its storage version)
 * @param kind        the resource kind, or null for the group's discovery document
 * @param namespace   the namespace in the path, or null (all namespaces, or cluster-scoped)
 * @param name        the object name, or null for the collection
 * @param subresource {@code status} or {@code log}, or null
 */
public record ApiPath(String group, String version, ResourceKind kind, String namespace, String name, String subresource) {

    /** Parses a path; empty if it is not a resource path Portway serves. */
    public static Optional<ApiPath> parse(String path) {
        List<String> segments = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                segments.add(s);
            }
        }
        String group;
        String version;
        int i;
        if (segments.size() >= 2 && segments.get(0).equals("api")) {
            group = "";
            version = segments.get(1);
            i = 2;
        } else if (segments.size() >= 3 && segments.get(0).equals("apis")) {
            group = segments.get(1);
            version = segments.get(2);
            i = 3;
        } else {
            return Optional.empty();
        }
        List<String> rest = segments.subList(i, segments.size());
        if (rest.isEmpty()) {
            return Optional.of(new ApiPath(group, version, null, null, null, null));
        }
        // namespaces/{ns}/{plural}[/{name}[/{sub}]]
        if (rest.get(0).equals("namespaces") && rest.size() >= 3) {
            Optional<ResourceKind> kind = ResourceKind.byGroupAndPlural(group, rest.get(2));
            if (kind.isPresent() && kind.get().namespaced() && kind.get().servedAt(version)) {
                String name = rest.size() >= 4 ? rest.get(3) : null;
                String sub = rest.size() >= 5 ? rest.get(4) : null;
                if (rest.size() > 5) {
                    return Optional.empty();
                }
                return Optional.of(new ApiPath(group, version, kind.get(), rest.get(1), name, sub));
            }
        }
        Optional<ResourceKind> kind = ResourceKind.byGroupAndPlural(group, rest.get(0));
        if (kind.isEmpty() || !kind.get().servedAt(version) || rest.size() > 3) {
            return Optional.empty();
        }
        String name = rest.size() >= 2 ? rest.get(1) : null;
        String sub = rest.size() >= 3 ? rest.get(2) : null;
        if (kind.get().namespaced() && name != null) {
            return Optional.empty();
        }
        return Optional.of(new ApiPath(group, version, kind.get(), null, name, sub));
    }

    /** The path's group version as objects carry it: what is read here is answered at this apiVersion. */
    public String apiVersion() {
        return group.isEmpty() ? version : group + "/" + version;
    }

    /** A stored object as it is answered at this path's version. */
    HasMetadata served(HasMetadata stored) {
        return kind.toVersion(stored, version);
    }
}
