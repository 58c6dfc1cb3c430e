package dev.portway.gateway.conformance;

import dev.portway.admin.PodLogs;
import dev.portway.api.ApiException;
import dev.portway.api.ResourceKind;
import dev.portway.control.ApiServer;
import dev.portway.control.DeleteOptions;
import dev.portway.control.Pods;
import dev.portway.runtime.LocalCluster;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddress;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Runs the {@link Step}s of a {@link ConformanceTest} against a local cluster, each with the
 * semantics of the upstream helper it is named after, every wait bounded by {@link Timeouts}.
 * A step that does not hold fails with an {@link AssertionError} that says which step, which
 * request, what was expected and what came back last.
 */
final class ConformanceRunner {

    static final String GATEWAY_GROUP = "gateway.networking.k8s.io";

    private final LocalCluster cluster;
    private final Timeouts timeouts;
    private final RoundTripper http;
    private final Map<Step.Ref, Long> generations = new HashMap<>();
    /** Gateways a wait for an address gave up on, with their resourceVersion then. */
    private final Map<Step.Ref, String> noAddress = new java.util.concurrent.ConcurrentHashMap<>();
    private final Readiness readiness;

    /** Which objects {@link Step.NamespacesReady} leaves out, and why (see {@link GatewayConformanceTest}). */
    interface Readiness {
        /** Why this pod is not waited for, or null when it is. */
        String skipPod(Pod pod);

        /** Why this Gateway is not waited for, or null when it is. */
        String skipGateway(Gateway gateway);
    }

    private final String controllerName;

    /** {@code trustedCa}: the suite's CA, which signed the TLS Secrets setup made; TLS requests trust it alone. */
    ConformanceRunner(LocalCluster cluster, Timeouts timeouts, Readiness readiness, X509Certificate trustedCa) {
        this(cluster, timeouts, readiness, ConformanceManifests.CONTROLLER_NAME, trustedCa);
    }

    /** A runner that expects route status from {@code controllerName} (the harness's own test uses a stand-in's). */
    ConformanceRunner(LocalCluster cluster, Timeouts timeouts, Readiness readiness, String controllerName, X509Certificate trustedCa) {
        this.cluster = cluster;
        this.timeouts = timeouts;
        this.readiness = readiness;
        this.controllerName = controllerName;
        this.http = new RoundTripper(timeouts.request(), trustedCa);
    }

    void run(ConformanceTest test) {
        for (Step step : test.steps()) {
            run(step, "");
        }
    }

    private void run(Step step, String path) {
        try {
            switch (step) {
                case Step.Group g -> {
                    for (Step s : g.steps()) {
                        run(s, path + g.name() + " > ");
                    }
                }
                case Step.Accepted s -> accepted(s);
                case Step.RouteCondition s -> poll(timeouts.status(), "HTTPRoute " + s.route() + " must have condition " + s.condition()
                        + " for parent " + s.gateway(), () -> routeCondition(s));
                case Step.RouteNoAcceptedParents s -> routeNoAcceptedParents(s);
                case Step.RouteParents s -> poll(timeouts.status(), "HTTPRoute " + s.route() + " must have parents " + s.parents(),
                        () -> routeParents(s.route(), s.parents(), s.namespaceRequired()));
                case Step.RouteLatestConditions s -> poll(timeouts.status(), "HTTPRoute " + s.route()
                        + " must have conditions of its latest generation", () -> routeLatest(s.route()));
                case Step.GatewayZeroRoutes s -> poll(timeouts.status(), "Gateway " + s.gateway()
                        + " must have no listener or one with 0 attachedRoutes", () -> gatewayZeroRoutes(s.gateway()));
                case Step.GatewayListeners s -> poll(timeouts.status(), "Gateway " + s.gateway() + " must have listeners " + s.listeners(),
                        () -> gatewayListeners(s));
                case Step.GatewayCondition s -> poll(timeouts.status(), "Gateway " + s.gateway() + " must have condition " + s.condition(),
                        () -> gatewayCondition(s));
                case Step.GatewayLatestConditions s -> poll(timeouts.status(), "Gateway " + s.gateway()
                        + " must have conditions of its latest generation", () -> gatewayLatest(s.gateway()));
                case Step.GatewayClassAccepted s -> poll(timeouts.gatewayClassAccepted(), "GatewayClass " + s.name()
                        + " must have condition Accepted" + (s.anyStatus() ? "" : "=True"), () -> gatewayClassAccepted(s.name(), s.anyStatus()));
                case Step.GatewayClassLatestConditions s -> poll(timeouts.status(), "GatewayClass " + s.name()
                        + " must have conditions of its latest generation", () -> gatewayClassLatest(s.name()));
                case Step.NamespacesReady s -> poll(timeouts.namespacesReady(), "Gateways and Pods in " + s.namespaces() + " must be ready",
                        () -> namespacesReady(s.namespaces()));
                case Step.Requests s -> requests(s);
                case Step.Weights s -> weights(s);
                case Step.BackendHeaderNamesPod s -> backendHeaderNamesPod(s);
                case Step.Delete s -> delete(s.kind(), s.object());
                case Step.Mutate s -> mutate(s);
                case Step.GenerationChanged s -> generationChanged(s);
                case Step.FillEndpointSlices s -> fillEndpointSlices(s);
            }
        } catch (AssertionError e) {
            if (step instanceof Step.Group || path.isEmpty()) {
                throw e;
            }
            throw new AssertionError(path + e.getMessage(), e.getCause());
        }
    }

    // ---- waiting ----

    /** Polls {@code check} (null: holds; else why not) every 100 ms until it holds, or fails after {@code timeout}. */
    static void poll(Duration timeout, String what, Supplier<String> check) {
        String[] last = {null};
        boolean held = paced(timeout, (n, previous) -> Duration.ofMillis(100), () -> {
            try {
                last[0] = check.get();
            } catch (RuntimeException e) {
                last[0] = e.toString();
            }
            return last[0] == null;
        });
        if (!held) {
            throw new AssertionError(what + ": not so after " + timeout.toSeconds() + " s; last seen: " + last[0]);
        }
    }

    /**
     * Runs {@code attempt} in this thread until it returns true, {@code interval} apart, for at most
     * {@code timeout}; false when the time ran out.
     */
    private static boolean paced(Duration timeout, org.awaitility.pollinterval.PollInterval interval, java.util.concurrent.Callable<Boolean> attempt) {
        try {
            org.awaitility.Awaitility.await().atMost(timeout).pollInSameThread().pollDelay(Duration.ZERO).pollInterval(interval)
                    .until(attempt);
            return true;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return false;
        }
    }

    /**
     * Upstream's {@code AwaitConvergence}: runs {@code attempt} (null: success; else why not)
     * until it succeeds {@code threshold} times in a row, a second apart after each failure,
     * failing after {@code max}.
     */
    static void awaitConvergence(int threshold, Duration max, String what, Supplier<String> attempt) {
        int[] successes = {0};
        int[] attempts = {0};
        String[] lastFailure = {"none"};
        boolean[] failed = {false};
        // right away after a success, a second after a failure
        boolean converged = paced(max, (n, previous) -> failed[0] ? Duration.ofSeconds(1) : Duration.ofMillis(1), () -> {
            String failure = attempt.get();
            attempts[0]++;
            failed[0] = failure != null;
            if (failure == null) {
                return ++successes[0] >= threshold;
            }
            successes[0] = 0;
            lastFailure[0] = failure;
            return false;
        });
        if (!converged) {
            throw new AssertionError(what + ": timeout after " + attempts[0] + " attempts, " + successes[0] + "/" + threshold
                    + " consecutive successes; last failure: " + lastFailure[0]);
        }
    }


    // ---- reading ----

    private <T extends HasMetadata> Optional<T> get(Class<T> type, Step.Ref ref) {
        return cluster.store().get(type, ref.namespace(), ref.name());
    }

    private static List<Condition> conditions(List<Condition> c) {
        return c == null ? List.of() : c;
    }

    /** Upstream's {@code ConditionsHaveLatestObservedGeneration}: null when none is stale. */
    static String staleConditions(HasMetadata obj, List<Condition> conditions) {
        long generation = obj.getMetadata().getGeneration() == null ? 0 : obj.getMetadata().getGeneration();
        List<String> stale = new ArrayList<>();
        for (Condition c : conditions(conditions)) {
            long observed = c.getObservedGeneration() == null ? 0 : c.getObservedGeneration();
            if (observed != generation) {
                stale.add(c.getType() + " (generation " + observed + ")");
            }
        }
        if (stale.isEmpty()) {
            return null;
        }
        return "expected observedGeneration to be updated to " + generation + " for all conditions, only "
                + (conditions.size() - stale.size()) + "/" + conditions.size() + " were updated. stale conditions are: " + String.join(", ", stale);
    }

    /** Upstream's {@code findConditionInList}. */
    static boolean findCondition(List<Condition> conditions, Step.Cond want) {
        for (Condition c : conditions(conditions)) {
            if (c.getType().equals(want.type()) && (want.status().isEmpty() || want.status().equals(c.getStatus()))
                    && (want.reason().isEmpty() || want.reason().equals(c.getReason()))) {
                return true;
            }
        }
        return false;
    }

    /** Upstream's {@code conditionsMatch}. */
    static boolean conditionsMatch(List<Step.Cond> expected, List<Condition> actual) {
        if (conditions(actual).size() < expected.size()) {
            return false;
        }
        return expected.stream().allMatch(c -> findCondition(actual, c));
    }

    static String show(List<Condition> conditions) {
        List<String> out = new ArrayList<>();
        for (Condition c : conditions(conditions)) {
            out.add(c.getType() + "=" + c.getStatus() + "(" + c.getReason() + ", gen " + c.getObservedGeneration() + ")");
        }
        return out.toString();
    }

    // ---- status steps ----

    /** Upstream's {@code WaitForGatewayAddress}: the address of the Gateway and the port of the listener (the first when null). */
    String[] gatewayAddress(Step.Ref gateway, String listenerName) {
        String[] result = new String[2];
        // a Gateway that got no address in a whole wait, and has not changed since, is not waited for
        // again by the next test: so a run against a gateway with no data plane ends in minutes
        String gaveUpAt = noAddress.get(gateway);
        Optional<Gateway> now = get(Gateway.class, gateway);
        if (gaveUpAt != null && now.isPresent() && gaveUpAt.equals(now.get().getMetadata().getResourceVersion())) {
            throw new AssertionError("Gateway " + gateway + " must have an address in status.addresses: it had none after "
                    + timeouts.gatewayAddress().toSeconds() + " s in an earlier test, and has not changed since (resourceVersion "
                    + gaveUpAt + ")");
        }
        try {
            waitForAddress(gateway, listenerName, result);
        } catch (AssertionError e) {
            get(Gateway.class, gateway).ifPresent(gw -> noAddress.put(gateway, gw.getMetadata().getResourceVersion()));
            throw e;
        }
        return result;
    }

    private void waitForAddress(Step.Ref gateway, String listenerName, String[] result) {
        poll(timeouts.gatewayAddress(), "Gateway " + gateway + " must have an address in status.addresses", () -> {
            Optional<Gateway> found = get(Gateway.class, gateway);
            if (found.isEmpty()) {
                return "no Gateway " + gateway;
            }
            Gateway gw = found.get();
            List<Condition> conds = gw.getStatus() == null ? List.of() : gw.getStatus().getConditions();
            String stale = staleConditions(gw, conds);
            if (stale != null) {
                return stale;
            }
            List<Listener> listeners = gw.getSpec().getListeners();
            Listener listener = listeners.getFirst();
            if (listenerName != null && !listenerName.isEmpty()) {
                for (Listener l : listeners) {
                    if (listenerName.equals(l.getName())) {
                        listener = l;
                    }
                }
            }
            List<GatewayStatusAddress> addresses = gw.getStatus() == null || gw.getStatus().getAddresses() == null
                    ? List.of() : gw.getStatus().getAddresses();
            for (GatewayStatusAddress a : addresses) {
                if (a.getType() != null) {
                    result[0] = a.getValue();
                    result[1] = Integer.toString(listener.getPort());
                    return null;
                }
            }
            return "status.addresses " + addresses + ", status.conditions " + show(conds);
        });
    }

    private void accepted(Step.Accepted s) {
        gatewayAddress(s.gateway(), s.listeners().isEmpty() ? null : s.listeners().getFirst());
        Step.Cond accepted = new Step.Cond("Accepted", "True", "Accepted");
        for (Step.Ref route : s.routes()) {
            List<Step.ParentExpect> parents = new ArrayList<>();
            int n = Math.max(1, s.listeners().size());
            for (int i = 0; i < n; i++) {
                parents.add(new Step.ParentExpect(s.gateway(), List.of(accepted)));
            }
            boolean namespaceRequired = !route.namespace().equals(s.gateway().namespace());
            poll(timeouts.status(), "HTTPRoute " + route + " must be Accepted by Gateway " + s.gateway(),
                    () -> routeParents(route, parents, namespaceRequired));
        }
        List<Step.Cond> required = List.of(Step.Cond.of("ResolvedRefs", "True"), Step.Cond.of("Accepted", "True"), Step.Cond.of("Programmed", "True"));
        poll(timeouts.status(), "every listener of Gateway " + s.gateway() + " must have " + required, () -> {
            Optional<Gateway> gw = get(Gateway.class, s.gateway());
            if (gw.isEmpty()) {
                return "no Gateway " + s.gateway();
            }
            List<ListenerStatus> listeners = gw.get().getStatus() == null || gw.get().getStatus().getListeners() == null
                    ? List.of() : gw.get().getStatus().getListeners();
            for (ListenerStatus l : listeners) {
                for (Step.Cond c : required) {
                    if (!findCondition(l.getConditions(), c)) {
                        return "listener " + l.getName() + " conditions " + show(l.getConditions());
                    }
                }
            }
            return null;
        });
    }

    private List<RouteParentStatus> parents(HTTPRoute route) {
        return route.getStatus() == null || route.getStatus().getParents() == null ? List.of() : route.getStatus().getParents();
    }

    private String routeCondition(Step.RouteCondition s) {
        Optional<HTTPRoute> found = get(HTTPRoute.class, s.route());
        if (found.isEmpty()) {
            return "no HTTPRoute " + s.route();
        }
        HTTPRoute route = found.get();
        boolean seen = false;
        for (RouteParentStatus p : parents(route)) {
            String stale = staleConditions(route, p.getConditions());
            if (stale != null) {
                return "parent " + describe(p.getParentRef()) + ": " + stale;
            }
            ParentReference ref = p.getParentRef();
            if (ref.getName().equals(s.gateway().name()) && (ref.getNamespace() == null || ref.getNamespace().equals(s.gateway().namespace()))
                    && findCondition(p.getConditions(), s.condition())) {
                seen = true;
            }
        }
        return seen ? null : "status.parents " + describeParents(route);
    }

    private void routeNoAcceptedParents(Step.RouteNoAcceptedParents s) {
        boolean[] emptyChecked = {false};
        String[] last = {null};
        boolean held = paced(timeouts.status(), (n, previous) -> Duration.ofSeconds(1), () -> {
            Optional<HTTPRoute> found = get(HTTPRoute.class, s.route());
            if (found.isEmpty()) {
                last[0] = "no HTTPRoute " + s.route();
                return false;
            }
            List<RouteParentStatus> actual = parents(found.get());
            if (actual.isEmpty()) {
                if (emptyChecked[0]) {
                    return true;
                }
                emptyChecked[0] = true;
                last[0] = "no parents yet (seen once)";
                return false;
            }
            if (actual.size() > 1) {
                last[0] = "status.parents " + describeParents(found.get());
                return false;
            }
            String stale = staleConditions(found.get(), actual.getFirst().getConditions());
            if (stale == null && conditionsMatch(List.of(Step.Cond.of("Accepted", "False")), actual.getFirst().getConditions())) {
                return true;
            }
            last[0] = stale != null ? stale : "status.parents " + describeParents(found.get());
            return false;
        });
        if (!held) {
            throw new AssertionError("HTTPRoute " + s.route() + " must have no accepted parents: not so after "
                    + timeouts.status().toSeconds() + " s; last seen: " + last[0]);
        }
    }

    /** Upstream's {@code parentsForRouteMatch} (with each parent's conditions of the route's generation). */
    private String routeParents(Step.Ref routeRef, List<Step.ParentExpect> expected, boolean namespaceRequired) {
        Optional<HTTPRoute> found = get(HTTPRoute.class, routeRef);
        if (found.isEmpty()) {
            return "no HTTPRoute " + routeRef;
        }
        HTTPRoute route = found.get();
        List<RouteParentStatus> actual = parents(route);
        for (RouteParentStatus p : actual) {
            String stale = staleConditions(route, p.getConditions());
            if (stale != null) {
                return "parent " + describe(p.getParentRef()) + ": " + stale;
            }
        }
        for (Step.ParentExpect e : expected) {
            boolean matched = false;
            for (RouteParentStatus a : actual) {
                ParentReference ref = a.getParentRef();
                if (!controllerName.equals(a.getControllerName())
                        || !GATEWAY_GROUP.equals(ref.getGroup()) || !"Gateway".equals(ref.getKind())
                        || !e.gateway().name().equals(ref.getName())) {
                    continue;
                }
                if (!e.gateway().namespace().equals(ref.getNamespace()) && (namespaceRequired || ref.getNamespace() != null)) {
                    continue;
                }
                if (conditionsMatch(e.conditions(), a.getConditions())) {
                    matched = true;
                }
            }
            if (!matched) {
                return "no parent (controllerName " + controllerName + ", group " + GATEWAY_GROUP
                        + ", kind Gateway, " + e.gateway() + ") with " + e.conditions() + "; status.parents " + describeParents(route);
            }
        }
        return null;
    }

    private String routeLatest(Step.Ref ref) {
        Optional<HTTPRoute> found = get(HTTPRoute.class, ref);
        if (found.isEmpty()) {
            return "no HTTPRoute " + ref;
        }
        for (RouteParentStatus p : parents(found.get())) {
            String stale = staleConditions(found.get(), p.getConditions());
            if (stale != null) {
                return "parent " + describe(p.getParentRef()) + ": " + stale;
            }
        }
        return null;
    }

    private static String describe(ParentReference r) {
        return (r.getGroup() == null ? "" : r.getGroup() + "/") + (r.getKind() == null ? "" : r.getKind() + " ")
                + (r.getNamespace() == null ? "" : r.getNamespace() + "/") + r.getName()
                + (r.getSectionName() == null ? "" : " section " + r.getSectionName()) + (r.getPort() == null ? "" : " port " + r.getPort());
    }

    private String describeParents(HTTPRoute route) {
        List<String> out = new ArrayList<>();
        for (RouteParentStatus p : parents(route)) {
            out.add("{" + describe(p.getParentRef()) + " controller " + p.getControllerName() + " " + show(p.getConditions()) + "}");
        }
        return out.toString();
    }

    private Optional<String> gatewayStale(Gateway gw) {
        return Optional.ofNullable(staleConditions(gw, gw.getStatus() == null ? List.of() : gw.getStatus().getConditions()));
    }

    private static List<ListenerStatus> listenerStatuses(Gateway gw) {
        return gw.getStatus() == null || gw.getStatus().getListeners() == null ? List.of() : gw.getStatus().getListeners();
    }

    private String gatewayZeroRoutes(Step.Ref ref) {
        Optional<Gateway> found = get(Gateway.class, ref);
        if (found.isEmpty()) {
            return "no Gateway " + ref;
        }
        Optional<String> stale = gatewayStale(found.get());
        if (stale.isPresent()) {
            return stale.get();
        }
        List<ListenerStatus> ls = listenerStatuses(found.get());
        if (ls.isEmpty() || (ls.size() == 1 && Objects.equals(ls.getFirst().getAttachedRoutes(), 0))) {
            return null;
        }
        return "status.listeners " + describeListeners(ls);
    }

    private static String describeListeners(List<ListenerStatus> ls) {
        List<String> out = new ArrayList<>();
        for (ListenerStatus l : ls) {
            List<String> kinds = new ArrayList<>();
            for (RouteGroupKind k : l.getSupportedKinds() == null ? List.<RouteGroupKind>of() : l.getSupportedKinds()) {
                kinds.add(k.getKind());
            }
            out.add("{" + l.getName() + " attachedRoutes " + l.getAttachedRoutes() + " supportedKinds " + kinds + " " + show(l.getConditions()) + "}");
        }
        return out.toString();
    }

    /** Upstream's {@code gatewayListenersMatch}. */
    private String gatewayListeners(Step.GatewayListeners s) {
        Optional<Gateway> found = get(Gateway.class, s.gateway());
        if (found.isEmpty()) {
            return "no Gateway " + s.gateway();
        }
        Optional<String> stale = gatewayStale(found.get());
        if (stale.isPresent()) {
            return stale.get();
        }
        List<ListenerStatus> actual = listenerStatuses(found.get());
        String seen = "; status.listeners " + describeListeners(actual);
        if (actual.size() != s.listeners().size()) {
            return "expected " + s.listeners().size() + " Gateway status listeners, got " + actual.size() + seen;
        }
        for (Step.ListenerExpect e : s.listeners()) {
            ListenerStatus a = actual.stream().filter(l -> e.name().equals(l.getName())).findFirst().orElse(null);
            if (a == null) {
                return "expected status for listener " + e.name() + " to be present" + seen;
            }
            List<RouteGroupKind> kinds = a.getSupportedKinds() == null ? List.of() : a.getSupportedKinds();
            if (e.supportedKinds().isEmpty() && !kinds.isEmpty()) {
                return "expected list of SupportedKinds was empty, but the actual list for comparison was not" + seen;
            }
            for (String kind : e.supportedKinds()) {
                boolean present = kinds.stream().anyMatch(k -> kind.equals(k.getKind())
                        && GATEWAY_GROUP.equals(k.getGroup() == null ? GATEWAY_GROUP : k.getGroup()));
                if (!present) {
                    return "expected Group:" + GATEWAY_GROUP + " Kind:" + kind + " to be present in SupportedKinds" + seen;
                }
            }
            if (!Objects.equals(a.getAttachedRoutes(), e.attachedRoutes())) {
                return "expected AttachedRoutes of " + e.name() + " to be " + e.attachedRoutes() + ", got " + a.getAttachedRoutes() + seen;
            }
            if (!conditionsMatch(e.conditions(), a.getConditions())) {
                return "expected Conditions of " + e.name() + " to be " + e.conditions() + seen;
            }
        }
        return null;
    }

    private String gatewayCondition(Step.GatewayCondition s) {
        Optional<Gateway> found = get(Gateway.class, s.gateway());
        if (found.isEmpty()) {
            return "no Gateway " + s.gateway();
        }
        Optional<String> stale = gatewayStale(found.get());
        if (stale.isPresent()) {
            return stale.get();
        }
        List<Condition> conds = found.get().getStatus() == null ? List.of() : found.get().getStatus().getConditions();
        return findCondition(conds, s.condition()) ? null : "status.conditions " + show(conds);
    }

    private String gatewayLatest(Step.Ref ref) {
        Optional<Gateway> found = get(Gateway.class, ref);
        if (found.isEmpty()) {
            return "no Gateway " + ref;
        }
        return gatewayStale(found.get()).orElse(null);
    }

    String gatewayClassAccepted(String name, boolean anyStatus) {
        Optional<GatewayClass> found = get(GatewayClass.class, new Step.Ref(null, name));
        if (found.isEmpty()) {
            return "no GatewayClass " + name;
        }
        List<Condition> conds = found.get().getStatus() == null ? List.of() : found.get().getStatus().getConditions();
        String stale = staleConditions(found.get(), conds);
        if (stale != null) {
            return stale + "; status.conditions " + show(conds);
        }
        if (findCondition(conds, Step.Cond.of("Accepted", anyStatus ? "" : "True"))) {
            return null;
        }
        return "status.conditions " + show(conds) + (conds == null || conds.isEmpty()
                ? " (no controller has written its status: is a controller of " + found.get().getSpec().getControllerName() + " running?)" : "");
    }

    private String gatewayClassLatest(String name) {
        Optional<GatewayClass> found = get(GatewayClass.class, new Step.Ref(null, name));
        if (found.isEmpty()) {
            return "no GatewayClass " + name;
        }
        return staleConditions(found.get(), found.get().getStatus() == null ? List.of() : found.get().getStatus().getConditions());
    }

    /** Upstream's {@code NamespacesMustBeReady}, less what {@link Readiness} leaves out. */
    String namespacesReady(List<String> namespaces) {
        for (String ns : namespaces) {
            for (Gateway gw : cluster.store().list(Gateway.class, ns)) {
                var annotations = gw.getMetadata().getAnnotations();
                if (annotations != null && "true".equals(annotations.get("gateway-api/skip-this-for-readiness"))) {
                    continue;
                }
                if (readiness.skipGateway(gw) != null) {
                    continue;
                }
                String name = ns + "/" + gw.getMetadata().getName();
                Optional<String> stale = gatewayStale(gw);
                if (stale.isPresent()) {
                    return "Gateway " + name + " " + stale.get();
                }
                List<Condition> conds = gw.getStatus() == null ? List.of() : gw.getStatus().getConditions();
                if (!findCondition(conds, Step.Cond.of("Accepted", "True"))) {
                    return "Gateway " + name + " not Accepted yet: " + show(conds);
                }
                if (!findCondition(conds, Step.Cond.of("Programmed", "True"))) {
                    return "Gateway " + name + " not Programmed yet: " + show(conds);
                }
            }
            List<Pod> pods = cluster.store().list(Pod.class, ns);
            if (pods.isEmpty()) {
                return "no pods deployed yet in " + ns;
            }
            for (Pod pod : pods) {
                if (readiness.skipPod(pod) != null) {
                    continue;
                }
                boolean succeeded = pod.getStatus() != null && "Succeeded".equals(pod.getStatus().getPhase());
                if (!Pods.isReady(pod) && !succeeded && pod.getMetadata().getDeletionTimestamp() == null) {
                    return "Pod " + ns + "/" + pod.getMetadata().getName() + " not ready yet";
                }
            }
        }
        return null;
    }

    private void delete(ResourceKind kind, Step.Ref ref) {
        try {
            cluster.control().call(() -> cluster.control().api().delete(kind, ref.namespace(), ref.name(), DeleteOptions.DEFAULT));
        } catch (ApiException e) {
            throw new AssertionError("cannot delete " + kind.kind() + " " + ref + ": " + e.getMessage(), e);
        }
        cluster.control().awaitIdle();
    }

    private void mutate(Step.Mutate s) {
        HasMetadata current = cluster.store().get(s.kind(), s.object().namespace(), s.object().name())
                .orElseThrow(() -> new AssertionError("no " + s.kind().kind() + " " + s.object() + " to change"));
        HasMetadata copy = dev.portway.api.Json.copy(current);
        generations.put(s.object(), current.getMetadata().getGeneration());
        s.change().accept(copy);
        ConformanceManifests.prepare(copy);
        try {
            cluster.control().call(() -> cluster.control().api().update(copy, s.object().namespace()));
        } catch (ApiException e) {
            throw new AssertionError("cannot update " + s.kind().kind() + " " + s.object() + ": " + e.getMessage(), e);
        }
        cluster.control().awaitIdle();
    }

    private void generationChanged(Step.GenerationChanged s) {
        HasMetadata now = cluster.store().get(s.kind(), s.object().namespace(), s.object().name())
                .orElseThrow(() -> new AssertionError("no " + s.kind().kind() + " " + s.object()));
        Long before = generations.get(s.object());
        if (Objects.equals(before, now.getMetadata().getGeneration())) {
            throw new AssertionError(s.kind().kind() + " " + s.object() + ": generation should change after an update, still " + before);
        }
    }

    private void fillEndpointSlices(Step.FillEndpointSlices s) {
        List<Pod> pods = cluster.store().list(Pod.class, s.namespace()).stream()
                .filter(p -> p.getMetadata().getLabels() != null && s.app().equals(p.getMetadata().getLabels().get("app")))
                .toList();
        if (pods.isEmpty()) {
            throw new AssertionError("expected '" + s.app() + "' to have running Pods");
        }
        for (String prefix : s.slices()) {
            for (String family : List.of("ip4", "ip6")) {
                String name = prefix + "-" + family;
                EndpointSlice slice = get(EndpointSlice.class, new Step.Ref(s.namespace(), name))
                        .orElseThrow(() -> new AssertionError("no EndpointSlice " + s.namespace() + "/" + name));
                List<Endpoint> endpoints = new ArrayList<>();
                for (Pod pod : pods) {
                    String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
                    if (ip == null || ip.contains(":") != family.equals("ip6")) {
                        continue;
                    }
                    endpoints.add(new EndpointBuilder().withAddresses(ip)
                            .withNewConditions().withReady(true).withServing(true).withTerminating(false).endConditions()
                            .withNodeName(pod.getSpec().getNodeName())
                            .withNewTargetRef().withKind("Pod").withName(pod.getMetadata().getName())
                            .withNamespace(pod.getMetadata().getNamespace()).withUid(pod.getMetadata().getUid()).endTargetRef()
                            .build());
                }
                if (endpoints.isEmpty()) {
                    continue;
                }
                EndpointSlice copy = dev.portway.api.Json.copy(slice);
                copy.setEndpoints(endpoints);
                try {
                    cluster.control().call(() -> cluster.control().api().update(copy, s.namespace()));
                } catch (ApiException e) {
                    throw new AssertionError("cannot update EndpointSlice " + s.namespace() + "/" + name + ": " + e.getMessage(), e);
                }
            }
        }
        cluster.control().awaitIdle();
    }

    // ---- requests ----

    /** One request as sent: where (over TLS when {@code tls} is not null), and the path and expectations it was sent with. */
    private record Prepared(String address, int port, String method, String host, String path, Map<String, String> headers,
                            Exchange.Received received, String sentPath, RoundTripper.Tls tls) {

        RoundTripper.RoundTrip send(RoundTripper http) throws IOException {
            return http.roundTrip(address, port, method, host, path, headers, tls);
        }

        /** The request, as a failure message names it. */
        String describe(Exchange e) {
            return method + " " + (tls == null ? "http" : "https") + "://" + address + ":" + port + path
                    + (host.isEmpty() ? "" : " (Host: " + host + ")")
                    + (tls == null ? "" : " (SNI: " + tls.serverName() + (tls.h2() ? ", HTTP/2" : "") + ")")
                    + (e.headers.isEmpty() ? "" : " headers " + e.headers);
        }
    }

    private Prepared prepare(Exchange e, String[] gwAddr, String requestId, boolean tls) {
        int port = e.port != 0 ? PortMap.map(e.port) : Integer.parseInt(gwAddr[1]);
        String path = e.path;
        Exchange.Received received = e.received();
        if (requestId != null) {
            path = addQueryParam(path, "gateway-api-conformance-request-id", requestId);
            received = new Exchange.Received(received.path().isEmpty() ? path
                    : addQueryParam(received.path(), "gateway-api-conformance-request-id", requestId),
                    received.host(), received.method(), received.headers(), received.absentHeaders());
        }
        Map<String, String> headers = new LinkedHashMap<>(e.headers);
        List<String> set = new ArrayList<>();
        e.backendSetResponseHeaders.forEach((k, v) -> set.add(k + ":" + v));
        headers.put("X-Echo-Set-Header", String.join(",", set));
        int q = path.indexOf('?');
        return new Prepared(gwAddr[0], port, e.sentMethod(), e.host, path, headers, received, q < 0 ? path : path.substring(0, q),
                tls ? new RoundTripper.Tls(e.serverName, e.h2) : null);
    }

    private static String addQueryParam(String path, String name, String value) {
        return path + (path.contains("?") ? "&" : "?") + name + "=" + value;
    }

    /** One round trip compared; null when it is what {@code e} expects. */
    private String attempt(Exchange e, Prepared p) {
        RoundTripper.RoundTrip got;
        try {
            got = p.send(http);
        } catch (IOException | RuntimeException ex) {
            return "request failed, not ready yet: " + ex.getMessage();
        }
        return Expectations.compare(e, p.received(), got, p.sentPath(), p.port(), p.tls() == null ? "http" : "https");
    }

    /** Upstream's {@code MakeRequestAndExpectEventuallyConsistentResponse}, plus the mirror log checks. */
    private void expect(Exchange e, int i, String[] gwAddr, boolean tls) {
        String requestId = e.mirroredTo.isEmpty() ? null : UUID.randomUUID().toString();
        Prepared p = prepare(e, gwAddr, requestId, tls);
        String what = "case " + e.caseName(i) + ": " + p.describe(e);
        awaitConvergence(timeouts.consecutive(), timeouts.consistency(), what, () -> attempt(e, p));
        for (String backend : e.mirroredTo) {
            Pattern line = Pattern.compile("Echoing back request made to " + Pattern.quote(p.path()) + " to client");
            poll(timeouts.request(), what + ": the request must be mirrored to " + e.mirrorNamespace + "/" + backend
                    + " (a line \"Echoing back request made to " + p.path() + " to client\" in its pods' logs)", () -> {
                for (Pod pod : cluster.store().list(Pod.class, e.mirrorNamespace)) {
                    if (pod.getMetadata().getLabels() != null && backend.equals(pod.getMetadata().getLabels().get("app"))
                            && line.matcher(log(pod)).find()) {
                        return null;
                    }
                }
                return "not in the logs of the pods labelled app=" + backend;
            });
        }
    }

    private String log(Pod pod) {
        try {
            PodLogs.LogStream stream = cluster.kubelet().open(pod.getMetadata().getNamespace(), pod.getMetadata().getName(), null, false);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            long pos = stream.tailStart(-1);
            for (var c = stream.read(pos, buf); c.count() > 0; c = stream.read(pos, buf)) {
                out.write(buf, 0, c.count());
                pos = c.next();
            }
            return out.toString(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            return "";
        }
    }

    private void requests(Step.Requests s) {
        String[] gwAddr = gatewayAddress(s.gateway(), s.listener());
        // upstream runs the cases of a test in parallel (t.Parallel): so does the harness, and reports every failure
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < s.exchanges().size(); i++) {
                Exchange e = s.exchanges().get(i);
                int index = i;
                running.add(pool.submit(() -> {
                    try {
                        expect(e, index, gwAddr, s.tls());
                    } catch (AssertionError error) {
                        failures.add(error.getMessage());
                    }
                }));
            }
            for (Future<?> f : running) {
                try {
                    f.get();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted");
                } catch (ExecutionException ex) {
                    failures.add(String.valueOf(ex.getCause()));
                }
            }
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.size() + " of " + s.exchanges().size() + " requests to Gateway " + s.gateway()
                    + " did not get the expected response:\n  " + String.join("\n  ", failures));
        }
    }

    /** Upstream's {@code weight.extractBackendName}: the pod name less its two last dash-separated parts. */
    static String backendOf(String pod) {
        String[] parts = pod.split("-");
        return parts.length < 3 ? pod : String.join("-", java.util.Arrays.copyOf(parts, parts.length - 2));
    }

    private void weights(Step.Weights s) {
        String[] gwAddr = gatewayAddress(s.gateway(), null);
        expect(s.exchange(), 0, gwAddr, false);
        String lastError = null;
        for (int attempt = 1; attempt <= 10; attempt++) {
            lastError = distribution(s, gwAddr);
            if (lastError == null) {
                return;
            }
        }
        throw new AssertionError("weighted distribution tests failed (10 tries); last: " + lastError);
    }

    /** Upstream's {@code TestWeightedDistribution}: 500 requests, 10 at a time, each share within 5 points. */
    private String distribution(Step.Weights s, String[] gwAddr) {
        int total = 500;
        Map<String, Integer> seen = new java.util.concurrent.ConcurrentHashMap<>();
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        Semaphore slots = new Semaphore(10);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < total; i++) {
                pool.submit(() -> {
                    slots.acquireUninterruptibly();
                    try {
                        Prepared p = prepare(s.exchange(), gwAddr, null, false);
                        Map<String, String> headers = new LinkedHashMap<>(p.headers());
                        headers.put("X-Jitter", Long.toString(ThreadLocalRandom.current().nextLong(1_000_000)));
                        RoundTripper.RoundTrip got = http.roundTrip(p.address(), p.port(), p.method(), p.host(), p.path(), headers, null);
                        String failure = Expectations.compare(s.exchange(), p.received(), got, p.sentPath(), p.port(), "http");
                        if (failure != null) {
                            errors.add("response expectation failed for request: " + failure);
                            return;
                        }
                        String backend = backendOf(got.request().pod());
                        if (!s.weights().containsKey(backend)) {
                            errors.add("request was handled by an unexpected pod \"" + got.request().pod() + "\" (extracted backend: \"" + backend + "\")");
                            return;
                        }
                        seen.merge(backend, 1, Integer::sum);
                    } catch (IOException | RuntimeException e) {
                        errors.add("failed to roundtrip request: " + e.getMessage());
                    } finally {
                        slots.release();
                    }
                });
            }
        }
        if (!errors.isEmpty()) {
            return "error while sending requests: " + errors.getFirst();
        }
        List<String> problems = new ArrayList<>();
        long active = s.weights().values().stream().filter(w -> w > 0).count();
        if (seen.size() != active) {
            problems.add("expected " + active + " backends to receive traffic, but got " + seen.size() + " " + seen);
        }
        for (Map.Entry<String, Double> w : s.weights().entrySet()) {
            Integer count = seen.get(w.getKey());
            if (count == null && w.getValue() != 0) {
                problems.add("expect traffic to hit backend \"" + w.getKey() + "\" - but none was received");
                continue;
            }
            double got = (count == null ? 0 : count) / (double) total;
            if (Math.abs(got - w.getValue()) > 0.05) {
                problems.add("backend \"" + w.getKey() + "\" weighted traffic of " + got + " not within tolerance " + w.getValue() + " (+/-0.05)");
            }
        }
        Collections.sort(problems);
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    private void backendHeaderNamesPod(Step.BackendHeaderNamesPod s) {
        String[] gwAddr = gatewayAddress(s.gateway(), null);
        expect(s.exchange(), 0, gwAddr, false);
        Prepared p = prepare(s.exchange(), gwAddr, null, false);
        for (int i = 0; i < s.requests(); i++) {
            RoundTripper.RoundTrip got;
            try {
                got = p.send(http);
            } catch (IOException e) {
                throw new AssertionError("failed to roundtrip request: " + e.getMessage(), e);
            }
            List<String> backends = got.request().headers().get("Backend");
            if (backends == null || backends.size() != 1) {
                throw new AssertionError("expected a single 'Backend' header to have been set, got "
                        + (backends == null ? 0 : backends.size()) + Expectations.summary(got.response()));
            }
            if (!got.request().pod().startsWith(backends.getFirst())) {
                throw new AssertionError("expected the backendRef to have set the correct headers and sent the request to the correct pod, got \""
                        + got.request().pod() + "\", want \"" + backends.getFirst() + "\"");
            }
        }
    }

    // ---- applying ----

    /** Applies objects as {@code portway apply} does, all or nothing; says which object failed and why. */
    List<ApiServer.Applied> apply(String manifest, List<HasMetadata> objects) {
        try {
            return cluster.apply(objects);
        } catch (ApiServer.ApplyException e) {
            List<String> why = new ArrayList<>();
            for (ApiServer.Failure f : e.failures()) {
                why.add(f.key() + ": " + f.error().getMessage());
            }
            throw new AssertionError("applying " + manifest + " failed (nothing applied): " + why, e);
        } catch (ApiException e) {
            throw new AssertionError("applying " + manifest + " failed (nothing applied): " + e.getMessage(), e);
        }
    }

    /** Deletes what a test applied (upstream's cleanup), newest first, and waits until it is gone. */
    void cleanup(List<HasMetadata> objects) {
        List<HasMetadata> reversed = new ArrayList<>(objects);
        Collections.reverse(reversed);
        for (HasMetadata o : reversed) {
            ResourceKind kind = ResourceKind.of(o);
            String ns = kind.namespaced() ? Objects.requireNonNullElse(o.getMetadata().getNamespace(), "default") : null;
            try {
                cluster.control().call(() -> cluster.control().api().delete(kind, ns, o.getMetadata().getName(), DeleteOptions.DEFAULT));
            } catch (ApiException e) {
                // already gone
            }
        }
        poll(timeouts.status(), "objects of the test must be deleted", () -> {
            for (HasMetadata o : reversed) {
                ResourceKind kind = ResourceKind.of(o);
                String ns = kind.namespaced() ? Objects.requireNonNullElse(o.getMetadata().getNamespace(), "default") : null;
                if (cluster.store().get(kind, ns, o.getMetadata().getName()).isPresent()) {
                    return kind.kind() + " " + ns + "/" + o.getMetadata().getName() + " still there";
                }
            }
            return null;
        });
        cluster.control().awaitIdle();
    }
}
