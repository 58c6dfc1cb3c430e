package dev.portway.api.gateway;

import java.util.List;

/**
 * An HTTPRoute's standing with one of Portway's Gateways: one {@code status.parents[]} entry.
 *
 * @param parentRef    the reference
 * @param accepted     {@code Accepted}: True, or False with {@code NoMatchingParent},
 *                     {@code NotAllowedByListeners}, {@code NoMatchingListenerHostname} or
 *                     {@code UnsupportedValue}
 * @param resolvedRefs {@code ResolvedRefs} of the route (the same for every parent)
 * @param listeners    the names of the listeners it attached to (empty when not accepted)
 */
public record RouteParentInfo(ParentRefInfo parentRef, StatusCondition accepted, StatusCondition resolvedRefs, List<String> listeners) {

    public boolean isAccepted() {
        return accepted.holds();
    }
}
