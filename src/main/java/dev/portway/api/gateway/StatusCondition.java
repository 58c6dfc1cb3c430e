package dev.portway.api.gateway;

/**
 * One status condition as the model computes it ({@code metav1.Condition} without the bookkeeping
 * fields, which the controller adds: {@code observedGeneration}, {@code lastTransitionTime}).
 *
 * @param type    {@code Accepted}, {@code Programmed}, {@code ResolvedRefs}, {@code Conflicted}, ...
 * @param status  {@code True}, {@code False} or {@code Unknown}
 * @param reason  the spec's reason ({@code NoMatchingParent}, {@code BackendNotFound}, ...)
 * @param message for people
 */
public record StatusCondition(String type, String status, String reason, String message) {

    public static StatusCondition isTrue(String type, String reason, String message) {
        return new StatusCondition(type, "True", reason, message);
    }

    public static StatusCondition isFalse(String type, String reason, String message) {
        return new StatusCondition(type, "False", reason, message);
    }

    public boolean holds() {
        return "True".equals(status);
    }
}
