package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Status conditions as the Gateway API's CRDs and its rules for writers define them: the CRDs'
 * status defaults (what a GatewayClass or Gateway shows before a controller sees it), and merging a
 * controller's conditions into a list without touching other writers' types, keeping
 * {@code lastTransitionTime} while the status stays the same.
 */
public final class GatewayStatuses {

    /** The CRDs' default {@code lastTransitionTime} for pending conditions. */
    public static final String EPOCH = "1970-01-01T00:00:00Z";

    private GatewayStatuses() {
    }

    private static Condition pending(String type) {
        Condition c = new Condition();
        c.setType(type);
        c.setStatus("Unknown");
        c.setReason("Pending");
        c.setMessage("Waiting for controller");
        c.setLastTransitionTime(EPOCH);
        return c;
    }

    /** A new GatewayClass's status: {@code Accepted: Unknown, Pending}. */
    public static GatewayClassStatus pendingClass() {
        GatewayClassStatus s = new GatewayClassStatus();
        s.setConditions(new ArrayList<>(List.of(pending("Accepted"))));
        return s;
    }

    /** A new Gateway's status: {@code Accepted} and {@code Programmed}, {@code Unknown, Pending}. */
    public static GatewayStatus pendingGateway() {
        GatewayStatus s = new GatewayStatus();
        s.setConditions(new ArrayList<>(List.of(pending("Accepted"), pending("Programmed"))));
        return s;
    }

    /**
     * {@code existing} with {@code wanted} merged in by type: a condition whose status, reason, message
     * and generation are unchanged is kept as it is; a changed one gets {@code now} as its
     * {@code lastTransitionTime} only if its status changed. Conditions of other types stay, in place.
     */
    public static List<Condition> merge(List<Condition> existing, List<StatusCondition> wanted, long generation, String now) {
        List<Condition> out = new ArrayList<>(existing == null ? List.of() : existing);
        for (StatusCondition w : wanted) {
            Condition c = new Condition();
            c.setType(w.type());
            c.setStatus(w.status());
            c.setReason(w.reason());
            c.setMessage(w.message());
            c.setObservedGeneration(generation);
            int at = -1;
            for (int i = 0; i < out.size(); i++) {
                if (Objects.equals(out.get(i).getType(), w.type())) {
                    at = i;
                }
            }
            if (at < 0) {
                c.setLastTransitionTime(now);
                out.add(c);
            } else {
                Condition old = out.get(at);
                c.setLastTransitionTime(Objects.equals(old.getStatus(), w.status()) && old.getLastTransitionTime() != null
                        ? old.getLastTransitionTime() : now);
                out.set(at, c);
            }
        }
        return out;
    }

    /** {@code conditions} with those of {@code types} removed (a controller's negative-polarity conditions that no longer hold). */
    public static List<Condition> without(List<Condition> conditions, List<String> types) {
        List<Condition> out = new ArrayList<>(conditions == null ? List.of() : conditions);
        out.removeIf(c -> types.contains(c.getType()));
        return out;
    }
}
