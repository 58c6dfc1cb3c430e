package dev.portway.api;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A field selector ({@code ?fieldSelector=involvedObject.name=web,type!=Normal}), with the
 * fields each kind lets clients select on, as the API server's field label conversions define
 * them ({@code pkg/apis/core/v1/conversion.go} and each registry's {@code GetAttrs}).
 */
public final class FieldSelector {

    /** One {@code field=value} or {@code field!=value}. */
    public record Requirement(String field, boolean equals, String value) {
    }

    private static final Set<String> META = Set.of("metadata.name", "metadata.namespace");

    private static final Map<ResourceKind, Set<String>> FIELDS = Map.of(
            ResourceKind.POD, Set.of("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                    "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
            ResourceKind.EVENT, Set.of("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                    "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                    "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
            ResourceKind.NAMESPACE, Set.of("status.phase"),
            ResourceKind.SECRET, Set.of("type"),
            ResourceKind.NODE, Set.of("spec.unschedulable"),
            ResourceKind.SERVICE, Set.of("spec.clusterIP", "spec.type"),
            ResourceKind.REPLICA_SET, Set.of("status.replicas"));

    private final List<Requirement> requirements;

    private FieldSelector(List<Requirement> requirements) {
        this.requirements = List.copyOf(requirements);
    }

    /** Selects everything. */
    public static final FieldSelector EVERYTHING = new FieldSelector(List.of());

    public List<Requirement> requirements() {
        return requirements;
    }

    /**
     * Parses a selector for objects of {@code kind}.
     *
     * @throws ApiException 400 for a malformed selector or a field the kind cannot select on
     */
    public static FieldSelector parse(String text, ResourceKind kind) {
        if (text == null || text.isBlank()) {
            return EVERYTHING;
        }
        List<Requirement> out = new ArrayList<>();
        for (String term : splitTerms(text)) {
            if (term.isEmpty()) {
                continue;
            }
            int ne = indexOfUnescaped(term, "!=");
            int eq2 = indexOfUnescaped(term, "==");
            int eq = indexOfUnescaped(term, "=");
            String field;
            String value;
            boolean equals;
            if (ne >= 0 && (eq < 0 || ne < eq)) {
                field = term.substring(0, ne);
                value = term.substring(ne + 2);
                equals = false;
            } else if (eq2 >= 0 && eq2 == eq) {
                field = term.substring(0, eq2);
                value = term.substring(eq2 + 2);
                equals = true;
            } else if (eq >= 0) {
                field = term.substring(0, eq);
                value = term.substring(eq + 1);
                equals = true;
            } else {
                throw ApiException.badRequest("invalid selector: '" + text + "'; can't understand '" + term + "'");
            }
            field = field.strip();
            if (!META.contains(field) && !FIELDS.getOrDefault(kind, Set.of()).contains(field)) {
                throw ApiException.badRequest("field label not supported: " + field);
            }
            out.add(new Requirement(field, equals, unescape(value)));
        }
        return new FieldSelector(out);
    }

    public boolean isEverything() {
        return requirements.isEmpty();
    }

    /** The value a requirement on {@code field} must equal, if the selector pins it (to narrow a watch). */
    public String exact(String field) {
        for (Requirement r : requirements) {
            if (r.equals && r.field.equals(field)) {
                return r.value;
            }
        }
        return null;
    }

    public boolean matches(HasMetadata o) {
        for (Requirement r : requirements) {
            String v = Objects.requireNonNullElse(value(o, r.field), "");
            if (r.equals != v.equals(r.value)) {
                return false;
            }
        }
        return true;
    }

    /** The value of a selectable field, as the API server's {@code GetAttrs} renders it. */
    static String value(HasMetadata o, String field) {
        switch (field) {
            case "metadata.name" -> {
                return o.getMetadata().getName();
            }
            case "metadata.namespace" -> {
                return o.getMetadata().getNamespace();
            }
            default -> {
            }
        }
        return switch (o) {
            case Pod p -> switch (field) {
                case "spec.nodeName" -> p.getSpec() == null ? null : p.getSpec().getNodeName();
                case "spec.restartPolicy" -> p.getSpec() == null ? null : p.getSpec().getRestartPolicy();
                case "spec.schedulerName" -> p.getSpec() == null ? null : p.getSpec().getSchedulerName();
                case "spec.serviceAccountName" -> p.getSpec() == null ? null : p.getSpec().getServiceAccountName();
                case "spec.hostNetwork" -> Boolean.toString(p.getSpec() != null && Boolean.TRUE.equals(p.getSpec().getHostNetwork()));
                case "status.phase" -> p.getStatus() == null ? null : p.getStatus().getPhase();
                case "status.podIP" -> p.getStatus() == null ? null : p.getStatus().getPodIP();
                case "status.nominatedNodeName" -> p.getStatus() == null ? null : p.getStatus().getNominatedNodeName();
                default -> null;
            };
            case Event e -> {
                var io = e.getInvolvedObject();
                yield switch (field) {
                    case "involvedObject.kind" -> io == null ? null : io.getKind();
                    case "involvedObject.namespace" -> io == null ? null : io.getNamespace();
                    case "involvedObject.name" -> io == null ? null : io.getName();
                    case "involvedObject.uid" -> io == null ? null : io.getUid();
                    case "involvedObject.apiVersion" -> io == null ? null : io.getApiVersion();
                    case "involvedObject.resourceVersion" -> io == null ? null : io.getResourceVersion();
                    case "involvedObject.fieldPath" -> io == null ? null : io.getFieldPath();
                    case "reason" -> e.getReason();
                    case "reportingComponent" -> e.getReportingComponent();
                    case "source" -> e.getSource() == null ? null : e.getSource().getComponent();
                    case "type" -> e.getType();
                    default -> null;
                };
            }
            case Namespace n -> "status.phase".equals(field) && n.getStatus() != null ? n.getStatus().getPhase() : null;
            case Secret s -> "type".equals(field) ? s.getType() : null;
            case Node n -> "spec.unschedulable".equals(field)
                    ? Boolean.toString(n.getSpec() != null && Boolean.TRUE.equals(n.getSpec().getUnschedulable())) : null;
            case Service s -> s.getSpec() == null ? null : switch (field) {
                case "spec.clusterIP" -> s.getSpec().getClusterIP();
                case "spec.type" -> s.getSpec().getType();
                default -> null;
            };
            case ReplicaSet rs -> "status.replicas".equals(field)
                    ? Integer.toString(rs.getStatus() == null || rs.getStatus().getReplicas() == null ? 0 : rs.getStatus().getReplicas()) : null;
            default -> null;
        };
    }

    private static List<String> splitTerms(String text) {
        List<String> terms = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                cur.append(c).append(text.charAt(++i));
            } else if (c == ',') {
                terms.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        terms.add(cur.toString());
        return terms;
    }

    private static int indexOfUnescaped(String s, String op) {
        for (int i = 0; i + op.length() <= s.length(); i++) {
            if (s.charAt(i) == '\\') {
                i++;
                continue;
            }
            if (s.startsWith(op, i)) {
                return i;
            }
        }
        return -1;
    }

    private static String unescape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                out.append(s.charAt(++i));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
