package dev.portway.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Lists in pages, as kube-apiserver serves {@code limit} and {@code continue}: a page holds at most
 * {@code limit} objects in key order (namespace, then name), and its {@code metadata.continue}
 * token names where the next page starts and the revision the first page was read at. Every page
 * of one list is read from that revision, so the pages add up to one consistent list. etcd keeps
 * the past for a while (until it compacts, every 5 minutes by default); the store keeps no past
 * states, so the snapshot a first page was cut from is kept here for as long, a few at a time. A
 * token whose snapshot is gone (and whose revision is no longer the store's) is answered as etcd's
 * compaction is: 410 Expired, with a token that continues at the current revision instead
 * ({@code rv} -1), an inconsistent list the client may choose.
 *
 * <p>The token is kube-apiserver's ({@code storage.EncodeContinue}): unpadded base64url of
 * {@code {"v":"meta.k8s.io/v1","rv":REVISION,"start":"KEY\u0000"}}, where KEY is the last
 * object's key below the list's prefix (the name in one namespace; namespace/name across them).
 */
final class ListPages {

    /** How long a first page's snapshot is kept: etcd's default compaction interval. */
    static final Duration RETENTION = Duration.ofMinutes(5);
    /** How many snapshots are kept at once, the oldest going first. */
    static final int MAX_SNAPSHOTS = 16;
    /**
     * How many objects the kept snapshots may hold in all, the oldest going first past it: a kept
     * snapshot holds the versions of its objects that the store has since replaced, so any client
     * that may list (a viewer link too) could otherwise pin 16 past generations of a busy kind.
     */
    static final int MAX_KEPT_OBJECTS = 50_000;

    static final String CONTINUE_EXPIRED = "The provided continue parameter is too old to display a consistent list result. "
            + "You can start a new list without the continue parameter, or use the continue token in this response to retrieve "
            + "the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that "
            + "were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

    /** One page: its objects, the revision it was read at, the token of the next page (or null), and what is left when known. */
    record Page(List<HasMetadata> items, long revision, String continueToken, Long remainingItemCount) {
    }

    private record Key(ResourceKind kind, String namespace, long revision) {
    }

    private record Kept(Store.Snapshot snapshot, Instant until) {
    }

    private final Clock clock;
    private final int maxSnapshots;
    private final int maxObjects;
    private final Map<Key, Kept> kept = new LinkedHashMap<>();

    ListPages(Clock clock) {
        this(clock, MAX_SNAPSHOTS, MAX_KEPT_OBJECTS);
    }

    ListPages(Clock clock, int maxSnapshots, int maxObjects) {
        this.clock = clock;
        this.maxSnapshots = maxSnapshots;
        this.maxObjects = maxObjects;
    }

    /**
     * The page {@code limit} (null or below 1: no limit) and {@code continueToken} (null or empty:
     * the first page) ask for, of the objects {@code matches} takes; {@code current} reads the
     * store now. {@code selective}: a label or field selector filters, so how many are left is
     * not known without reading them all (kube-apiserver leaves {@code remainingItemCount} out
     * then too).
     */
    Page page(ResourceKind kind, String namespace, Long limit, String continueToken, boolean selective,
              Predicate<HasMetadata> matches, java.util.function.Supplier<Store.Snapshot> current) {
        boolean paged = limit != null && limit > 0;
        if (continueToken == null || continueToken.isEmpty()) {
            Store.Snapshot snapshot = current.get();
            Page page = cut(kind, namespace, snapshot, null, paged ? limit : Long.MAX_VALUE, selective, matches);
            if (page.continueToken() != null) {
                keep(new Key(kind, namespace, snapshot.revision()), snapshot);
            }
            return page;
        }
        Token token = Token.decode(continueToken);
        Store.Snapshot snapshot = token.revision() < 0 ? null : kept(new Key(kind, namespace, token.revision()));
        boolean keptAlready = snapshot != null; // its 5 minutes run from its first page, as etcd's history does from its write
        if (token.revision() < 0) {
            // the inconsistent continuation a 410 offered: the current state, from the same key on (its own
            // next token names the revision it was read at, as etcd's does)
            snapshot = current.get();
        } else if (snapshot == null) {
            Store.Snapshot now = current.get();
            if (now.revision() != token.revision()) {
                ApiException expired = new ApiException(Statuses.gone(CONTINUE_EXPIRED));
                expired.status().getMetadata().setContinue(new Token(-1, token.start()).encode());
                throw expired;
            }
            snapshot = now; // nothing changed since: the current state is the one asked for
        }
        Page page = cut(kind, namespace, snapshot, token.start(), paged ? limit : Long.MAX_VALUE, selective, matches);
        if (page.continueToken() != null && !keptAlready) {
            keep(new Key(kind, namespace, snapshot.revision()), snapshot);
        }
        return page;
    }

    /** The page of {@code snapshot} from after {@code start} (a relative key and a NUL, or null: the first). */
    private static Page cut(ResourceKind kind, String namespace, Store.Snapshot snapshot, String start, long limit, boolean selective,
                            Predicate<HasMetadata> matches) {
        List<HasMetadata> items = new ArrayList<>();
        List<HasMetadata> all = snapshot.items();
        int i = 0;
        if (start != null) {
            while (i < all.size() && relativeKey(kind, namespace, all.get(i)).compareTo(start) < 0) {
                i++;
            }
        }
        String last = null;
        for (; i < all.size() && items.size() < limit; i++) {
            HasMetadata o = all.get(i);
            if (matches.test(o)) {
                items.add(o);
                last = relativeKey(kind, namespace, o);
            }
        }
        // more objects after the page: the next page starts after the last one given (etcd's key + "\0")
        boolean more = false;
        int left = 0;
        for (int j = i; j < all.size(); j++) {
            if (matches.test(all.get(j))) {
                more = true;
                left++;
                if (selective) {
                    break;
                }
            }
        }
        if (!more || last == null) {
            return new Page(items, snapshot.revision(), null, null);
        }
        return new Page(items, snapshot.revision(), new Token(snapshot.revision(), last + "\u0000").encode(),
                selective ? null : (long) left);
    }

    /** The object's key below the list's prefix: its name in one namespace, namespace/name across them. */
    private static String relativeKey(ResourceKind kind, String namespace, HasMetadata o) {
        String name = o.getMetadata().getName();
        return kind.namespaced() && namespace == null ? o.getMetadata().getNamespace() + "/" + name : name;
    }

    private synchronized void keep(Key key, Store.Snapshot snapshot) {
        expire();
        kept.remove(key);
        kept.put(key, new Kept(snapshot, clock.instant().plus(RETENTION)));
        long objects = 0;
        for (Kept k : kept.values()) {
            objects += k.snapshot().items().size();
        }
        for (Iterator<Kept> it = kept.values().iterator(); (kept.size() > maxSnapshots || objects > maxObjects) && it.hasNext();) {
            objects -= it.next().snapshot().items().size();
            it.remove();
        }
    }

    private synchronized Store.Snapshot kept(Key key) {
        expire();
        Kept k = kept.get(key);
        return k == null ? null : k.snapshot();
    }

    private void expire() {
        Instant now = clock.instant();
        kept.values().removeIf(k -> !k.until().isAfter(now));
    }

    /** {@code storage.continueToken}: the revision the list is read at (-1: the current one), and the key it goes on from. */
    record Token(long revision, String start) {

        String encode() {
            ObjectNode n = Json.mapper().createObjectNode();
            n.put("v", "meta.k8s.io/v1");
            n.put("rv", revision);
            n.put("start", start);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(Json.writeBytes(n));
        }

        /** {@code storage.DecodeContinue}, with kube-apiserver's answer to a token it cannot read: 400, "invalid continue token". */
        static Token decode(String token) {
            JsonNode n;
            try {
                byte[] raw = Base64.getUrlDecoder().decode(token.getBytes(StandardCharsets.US_ASCII));
                n = Json.mapper().readTree(raw);
            } catch (IllegalArgumentException | java.io.IOException e) {
                throw invalid("continue key is not valid: " + e.getMessage());
            }
            if (n == null || !n.isObject()) {
                throw invalid("continue key is not valid");
            }
            if (!n.path("v").asText("").equals("meta.k8s.io/v1")) {
                throw invalid("continue key is not valid");
            }
            long rv = n.path("rv").asLong(0);
            if (rv == 0) {
                throw invalid("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
            }
            String start = n.path("start").asText("");
            if (start.isEmpty()) {
                throw invalid("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)");
            }
            return new Token(rv, start);
        }

        private static ApiException invalid(String why) {
            return new ApiException(Statuses.badRequest("invalid continue token: " + why));
        }
    }
}
