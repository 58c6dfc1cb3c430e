package dev.portway.api.policy;

import dev.portway.api.GoValues;
import dev.portway.api.gateway.StatusCondition;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What Portway makes of the AccessPolicies: which policy guards which HTTPRoute or Ingress, the
 * credentials its Secrets hold, and the status conditions that say so. The plan and the status
 * controller both read it, so that what a policy's status says is what the gateway does.
 *
 * <p>A target is guarded by one policy at most. When several name it, the oldest wins (creation
 * time, then name), as the Gateway API resolves conflicting policies; the others are not applied to
 * it, and say so. A policy guards only targets that exist; it guards one as soon as it appears.
 *
 * <p>Credentials fail closed. A credential source whose Secret is missing, lacks its key or holds
 * nothing usable stays asked for with nothing in it: every method that is not anonymous gets 401
 * until the Secret is fixed, instead of the route opening up. Each source stands alone: a policy with
 * a working token Secret and a missing htpasswd Secret still lets its tokens in.
 */
public final class AccessPolicyModel {

    /** The Secret key of an htpasswd file ({@code basicAuth}), as ingress-nginx and Traefik name it. */
    public static final String HTPASSWD_KEY = "auth";
    /** The Secret key of a token file ({@code bearerTokens}). */
    public static final String TOKENS_KEY = "tokens";

    private static final String HTTP_ROUTE = "HTTPRoute";
    private static final String INGRESS = "Ingress";

    /** A route a policy can guard: an HTTPRoute or an Ingress, by namespace and name. */
    public record Target(String kind, String namespace, String name) {

        public static Target httpRoute(String namespace, String name) {
            return new Target(HTTP_ROUTE, namespace, name);
        }

        public static Target ingress(String namespace, String name) {
            return new Target(INGRESS, namespace, name);
        }

        /** {@code HTTPRoute/prometheus}: the namespace is the policy's. */
        @Override
        public String toString() {
            return kind + "/" + name;
        }
    }

    /**
     * A policy's credentials as read from its Secrets.
     *
     * @param basicAuth    whether the policy asks for Basic credentials (its {@code users} may be empty: then none pass)
     * @param users        user to bcrypt hash
     * @param bearerTokens whether the policy asks for bearer tokens (its {@code tokens} may be empty: then none pass)
     * @param tokens       the tokens that pass
     */
    public record Credentials(boolean basicAuth, Map<String, String> users, boolean bearerTokens, List<String> tokens) {
        public Credentials {
            users = Map.copyOf(users);
            tokens = List.copyOf(tokens);
        }
    }

    /**
     * What the model made of one policy.
     *
     * @param guards       the targets it guards
     * @param accepted     {@code Accepted}: True when it guards a target; False with TargetNotFound or Conflicted
     * @param resolvedRefs {@code ResolvedRefs}: False with SecretNotFound or InvalidSecret
     */
    public record PolicyInfo(AccessPolicy policy, List<Target> guards, Credentials credentials, StatusCondition accepted,
                             StatusCondition resolvedRefs) {
        public PolicyInfo {
            guards = List.copyOf(guards);
        }

        public String namespace() {
            return policy.getMetadata().getNamespace();
        }

        public String name() {
            return policy.getMetadata().getName();
        }
    }

    private final List<PolicyInfo> policies;
    private final Map<Target, PolicyInfo> byTarget;

    private AccessPolicyModel(List<PolicyInfo> policies) {
        this.policies = List.copyOf(policies);
        Map<Target, PolicyInfo> map = new LinkedHashMap<>();
        for (PolicyInfo p : policies) {
            p.guards().forEach(t -> map.put(t, p));
        }
        this.byTarget = map;
    }

    /** Every policy, in the order given. */
    public List<PolicyInfo> policies() {
        return policies;
    }

    /** The policy that guards a target, if any. */
    public Optional<PolicyInfo> guarding(Target target) {
        return Optional.ofNullable(byTarget.get(target));
    }

    public static AccessPolicyModel build(List<AccessPolicy> policies, List<HTTPRoute> routes, List<Ingress> ingresses,
                                          List<Secret> secrets) {
        Set<Target> existing = new HashSet<>();
        routes.forEach(r -> existing.add(Target.httpRoute(r.getMetadata().getNamespace(), r.getMetadata().getName())));
        ingresses.forEach(i -> existing.add(Target.ingress(i.getMetadata().getNamespace(), i.getMetadata().getName())));
        Map<String, Secret> secretsByKey = new LinkedHashMap<>();
        secrets.forEach(s -> secretsByKey.put(s.getMetadata().getNamespace() + "/" + s.getMetadata().getName(), s));
        // the oldest policy claims a target first
        List<AccessPolicy> oldestFirst = new ArrayList<>(policies);
        oldestFirst.sort(Comparator.comparing((AccessPolicy p) -> Objects.toString(p.getMetadata().getCreationTimestamp(), ""))
                .thenComparing(p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName()));
        Map<Target, AccessPolicy> owner = new LinkedHashMap<>();
        for (AccessPolicy p : oldestFirst) {
            for (Target t : targets(p)) {
                if (existing.contains(t)) {
                    owner.putIfAbsent(t, p);
                }
            }
        }
        List<PolicyInfo> out = new ArrayList<>();
        for (AccessPolicy p : policies) {
            out.add(resolve(p, existing, owner, secretsByKey));
        }
        return new AccessPolicyModel(out);
    }

    private static List<Target> targets(AccessPolicy p) {
        List<Target> out = new ArrayList<>();
        String ns = p.getMetadata().getNamespace();
        List<PolicyTargetReference> refs = p.getSpec() == null ? null : p.getSpec().getTargetRefs();
        for (PolicyTargetReference ref : refs == null ? List.<PolicyTargetReference>of() : refs) {
            Target t = ref == null ? null : new Target(ref.getKind(), ns, ref.getName());
            if (t != null && (HTTP_ROUTE.equals(ref.getKind()) || INGRESS.equals(ref.getKind())) && !out.contains(t)) {
                out.add(t);
            }
        }
        return out;
    }

    private static PolicyInfo resolve(AccessPolicy p, Set<Target> existing, Map<Target, AccessPolicy> owner, Map<String, Secret> secrets) {
        List<Target> guards = new ArrayList<>();
        List<String> conflicts = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Target t : targets(p)) {
            if (!existing.contains(t)) {
                missing.add(t + " not found");
            } else if (owner.get(t) == p) {
                guards.add(t);
            } else {
                conflicts.add(t + " is guarded by the older AccessPolicy " + GoValues.quote(owner.get(t).getMetadata().getName()));
            }
        }
        List<String> problems = new ArrayList<>(conflicts);
        problems.addAll(missing);
        StatusCondition accepted;
        if (!guards.isEmpty()) {
            accepted = StatusCondition.isTrue("Accepted", "Accepted", "Guards " + String.join(", ", guards.stream().map(Target::toString).toList())
                    + (problems.isEmpty() ? "" : "; " + String.join("; ", problems)));
        } else if (!conflicts.isEmpty()) {
            accepted = StatusCondition.isFalse("Accepted", "Conflicted", String.join("; ", problems));
        } else {
            accepted = StatusCondition.isFalse("Accepted", "TargetNotFound", String.join("; ", problems));
        }
        SecretReader reader = new SecretReader(p.getMetadata().getNamespace(), secrets);
        AccessPolicySpec spec = p.getSpec() == null ? new AccessPolicySpec() : p.getSpec();
        Map<String, String> users = Map.of();
        if (spec.getBasicAuth() != null) {
            users = reader.read("basicAuth", spec.getBasicAuth(), HTPASSWD_KEY, text -> {
                CredentialFiles.Htpasswd h = CredentialFiles.htpasswd(text);
                return new SecretReader.Entries<>(h.users(), h.users().size(), h.users().size() == 1 ? "user" : "users", h.skipped());
            }, Map.of());
        }
        List<String> tokens = List.of();
        if (spec.getBearerTokens() != null) {
            tokens = reader.read("bearerTokens", spec.getBearerTokens(), TOKENS_KEY, text -> {
                CredentialFiles.Tokens t = CredentialFiles.tokens(text);
                return new SecretReader.Entries<>(t.tokens(), t.tokens().size(), t.tokens().size() == 1 ? "token" : "tokens", t.skipped());
            }, List.of());
        }
        Credentials credentials = new Credentials(spec.getBasicAuth() != null, users, spec.getBearerTokens() != null, tokens);
        return new PolicyInfo(p, guards, credentials, accepted, reader.condition());
    }

    /** The Secrets of one policy's namespace, read one credential source at a time, with what went wrong. */
    private static final class SecretReader {

        /** What a credential file held: the usable part, how many entries (and their noun), and what was skipped. */
        record Entries<T>(T value, int count, String noun, List<String> skipped) {
        }

        private final String namespace;
        private final Map<String, Secret> secrets;
        private final List<String> read = new ArrayList<>();
        private final List<String> notFound = new ArrayList<>();
        private final List<String> invalid = new ArrayList<>();

        SecretReader(String namespace, Map<String, Secret> secrets) {
            this.namespace = namespace;
            this.secrets = secrets;
        }

        /** The usable entries of {@code source}'s Secret, or {@code none} (nothing passes) when it does not resolve. */
        <T> T read(String field, SecretSource source, String key, Function<String, Entries<T>> parse, T none) {
            String name = source.getSecretRef() == null ? "" : Objects.toString(source.getSecretRef().getName(), "");
            String what = "Secret " + GoValues.quote(name) + " (" + field + ")";
            Secret secret = secrets.get(namespace + "/" + name);
            if (secret == null) {
                notFound.add(what + " not found");
                return none;
            }
            String encoded = secret.getData() == null ? null : secret.getData().get(key);
            if (encoded == null) {
                invalid.add(what + " has no key " + GoValues.quote(key));
                return none;
            }
            String text;
            try {
                text = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                invalid.add(what + ": key " + GoValues.quote(key) + " is not base64");
                return none;
            }
            Entries<T> entries = parse.apply(text.replace("\r\n", "\n"));
            String skipped = entries.skipped().isEmpty() ? "" : " (skipped " + String.join("; ", entries.skipped()) + ")";
            if (entries.count() == 0) {
                invalid.add(what + " has no usable " + entries.noun() + " under key " + GoValues.quote(key) + skipped);
                return none;
            }
            read.add(field + ": " + entries.count() + " " + entries.noun() + " from Secret " + GoValues.quote(name) + skipped);
            return entries.value();
        }

        /** ResolvedRefs: False while any source does not resolve (its credentials pass no one meanwhile). */
        StatusCondition condition() {
            List<String> problems = new ArrayList<>(notFound);
            problems.addAll(invalid);
            if (!problems.isEmpty()) {
                return StatusCondition.isFalse("ResolvedRefs", notFound.isEmpty() ? "InvalidSecret" : "SecretNotFound",
                        String.join("; ", problems) + "; until then no one passes with those credentials (the policy fails closed)");
            }
            return StatusCondition.isTrue("ResolvedRefs", "ResolvedRefs", read.isEmpty() ? "No Secret is referenced" : String.join("; ", read));
        }
    }
}
