package dev.portway.admin;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.ApiException;
import dev.portway.api.FieldSelector;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.Selectors;
import dev.portway.api.print.Tables;
import dev.portway.store.Store;
import dev.portway.store.WatchEvent;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One Kubernetes watch ({@code GET ...?watch=true}): a chunked response of JSON lines
 * {@code {"type":"ADDED","object":{...}}}, as kube-apiserver streams them, each object at the
 * version the watch's path names.
 *
 * <ul>
 * <li>Without a resourceVersion (or with "0") it starts with an ADDED event for every object
 *     that exists, then follows changes; with one, it replays the changes after it from the
 *     store's history. A version older than the history gets an ERROR event carrying a 410
 *     {@code Expired} Status ("too old resource version"), as the API server's watch cache sends
 *     it, and the stream ends: the client lists again.</li>
 * <li>Label and field selectors apply to the object before and after each change: an object that
 *     comes into the selection is ADDED, one that leaves it DELETED.</li>
 * <li>{@code allowWatchBookmarks=true}: a BOOKMARK with the latest resourceVersion every
 *     {@link #BOOKMARK_EVERY}, and when the watch times out.</li>
 * <li>{@code timeoutSeconds} ends the stream (default and maximum 30 minutes); the connection stays open for the next request.</li>
 * </ul>
 *
 * <p>Threads: changes arrive on the control thread, which only filters them and hands them to
 * the connection's event loop; everything else (encoding, writing, timers) happens there. A
 * client that reads too slowly for {@link #MAX_PENDING} events to drain is cut off, and
 * re-lists, as a watch cache cuts off a slow watcher.
 */
final class WatchStream {

    static final Duration BOOKMARK_EVERY = Duration.ofSeconds(60);
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(30);
    private static final int MAX_PENDING = 10_000;
    /** A client that lets this much pile up unread is cut off (it lists again), as a watch cache drops a slow watcher. */
    private static final long MAX_UNREAD_BYTES = 8 * 1024 * 1024;

    private final ChannelHandlerContext ctx;
    private final Store store;
    private final ResourceKind kind;
    private final String namespace;
    /** The version the watch's path names: every object is sent at it. */
    private final String version;
    private final LabelSelector labels;
    private final FieldSelector fields;
    private final boolean bookmarks;
    private final Representation representation;
    private final Tables tables;
    private final String includeObject;
    private final boolean keepAlive;
    private final boolean chunked;
    /** Upgraded to a WebSocket ({@link WatchSocket}): each event is a text message, and the end a close. */
    private final boolean websocket;
    private final AtomicInteger pending = new AtomicInteger();
    private final Consumer<List<WatchEvent>> live = this::onBatch;
    private final io.netty.util.concurrent.GenericFutureListener<io.netty.util.concurrent.Future<? super Void>> onClose = f -> stop();
    private final Runnable onEnd;
    /** The revision everything up to has been written (event loop only). */
    private long delivered;
    /** The newest batch the control thread has seen (it writes; the event loop reads, after {@link #pending}). */
    private volatile long seen;
    private boolean columnsSent;
    private boolean ended;
    private ScheduledFuture<?> bookmarkTimer;
    private ScheduledFuture<?> endTimer;
    /** Closes the connection if the first batch is still unread after the hold timeout (cancelled when the watch ends). */
    private ScheduledFuture<?> firstBatchTimer;

    WatchStream(ChannelHandlerContext ctx, Store store, ApiPath path, LabelSelector labels, FieldSelector fields, boolean bookmarks,
                Representation representation, Tables tables, String includeObject, boolean keepAlive, boolean http10, boolean websocket,
                Runnable onEnd) {
        this.ctx = ctx;
        this.onEnd = onEnd;
        this.store = store;
        this.kind = path.kind();
        this.namespace = path.namespace();
        this.version = path.version();
        this.labels = labels;
        this.fields = fields;
        this.bookmarks = bookmarks;
        if (representation == Representation.YAML) {
            throw new ApiException(Statuses.notAcceptable()); // as kube-apiserver: YAML has no stream form
        }
        // metadata informers (client-go's metadata client) decode only PartialObjectMetadata: a whole object failed them
        this.representation = representation;
        this.tables = tables;
        this.includeObject = includeObject;
        // an HTTP/1.0 client reads no chunks: its stream ends with the connection, as Go's server ends it
        this.keepAlive = keepAlive && !http10;
        this.chunked = !http10;
        this.websocket = websocket;
    }

    /**
     * Starts streaming; call on the connection's event loop. {@code initialEvents}: the request's
     * {@code sendInitialEvents} (KEP-3157), null when absent. True: every selected object as ADDED
     * at the current revision (not older than {@code fromRevision}), then, with bookmarks, a
     * BOOKMARK marked {@code k8s.io/initial-events-end} at that revision, as client-go's watch-list
     * reflector waits for. False: no object that is there already, only the changes from then on.
     */
    void start(Long fromRevision, Duration timeout, Boolean initialEvents) {
        assert ctx.executor().inEventLoop();
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, representation.contentType());
        if (chunked) {
            head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        head.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache, private");
        head.headers().set("X-Content-Type-Options", "nosniff"); // as on every other answer
        head.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        if (!websocket) {
            ctx.write(head); // an upgraded connection had its 101
        }
        try {
            boolean fromNow = fromRevision == null || fromRevision == 0;
            if (Boolean.TRUE.equals(initialEvents) || (fromNow && initialEvents == null)) {
                Store.Snapshot snapshot = store.snapshot(kind, namespace);
                List<HasMetadata> initial = snapshot.items().stream().filter(this::selects).toList();
                delivered = snapshot.revision();
                seen = delivered;
                for (HasMetadata o : initial) {
                    writeEvent("ADDED", o);
                }
                if (Boolean.TRUE.equals(initialEvents) && bookmarks) {
                    writeEvent("BOOKMARK", bookmark(delivered, true));
                }
                store.watchFrom(snapshot.revision(), this::deliver, live);
            } else if (fromNow) {
                delivered = store.revision();
                seen = delivered;
                store.watchFrom(delivered, this::deliver, live);
            } else {
                delivered = fromRevision;
                seen = delivered;
                store.watchFrom(fromRevision, this::deliver, live);
            }
        } catch (Store.TooOldException e) {
            writeEvent("ERROR", Statuses.gone(e.getMessage()));
            ctx.flush();
            end();
            return;
        }
        if (ended) {
            return; // the replay of a past revision ended it (more than a client may leave unread): no timers for it
        }
        // registered first, then checked: a connection that closed meanwhile leaves no watcher behind
        ctx.channel().closeFuture().addListener(onClose);
        if (!ctx.channel().isActive()) {
            stop();
            return;
        }
        ctx.flush();
        if (unread() > MAX_UNREAD_BYTES) {
            // the first batch (every object selected) may be larger than what a watcher may leave unread:
            // it gets the hold timeout to read it down, as an answer does, instead of holding it for good
            firstBatchTimer = ctx.executor().schedule(() -> {
                if (!ended && unread() > MAX_UNREAD_BYTES) {
                    ctx.close();
                }
            }, ApiHandler.HOLD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        long timeoutMillis = Math.min(timeout.toMillis(), MAX_TIMEOUT.toMillis());
        endTimer = ctx.executor().schedule(() -> {
            if (bookmarks) {
                writeBookmark();
            }
            end();
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        if (bookmarks) {
            bookmarkTimer = ctx.executor().scheduleAtFixedRate(() -> {
                writeBookmark();
                ctx.flush();
            }, BOOKMARK_EVERY.toMillis(), BOOKMARK_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** On the control thread: keep what concerns this watch and pass it to the event loop, in order. */
    private void onBatch(List<WatchEvent> batch) {
        long top = batch.getLast().revision();
        List<WatchEvent> mine = new ArrayList<>();
        for (WatchEvent e : batch) {
            if (e.kind() == kind && (namespace == null || !kind.namespaced() || namespace.equals(e.object().getMetadata().getNamespace()))) {
                mine.add(e);
            }
        }
        if (mine.isEmpty()) {
            seen = top; // after any earlier batch was counted in pending: see writeBookmark
            return;
        }
        try {
            if (pending.incrementAndGet() > MAX_PENDING) {
                ctx.executor().execute(this::end);
                return;
            }
            ctx.executor().execute(() -> {
                deliver(mine);
                delivered = Math.max(delivered, top);
                pending.decrementAndGet();
            });
            seen = top;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            store.unwatch(live); // the server is stopping
        }
    }

    /** On the event loop: writes the events that pass the selectors. */
    private void deliver(List<WatchEvent> events) {
        if (ended) {
            return;
        }
        boolean wrote = false;
        for (WatchEvent e : events) {
            if (e.kind() != kind || (namespace != null && kind.namespaced() && !namespace.equals(e.object().getMetadata().getNamespace()))) {
                continue;
            }
            delivered = Math.max(delivered, e.revision());
            boolean now = e.type() != WatchEvent.Type.DELETED && selects(e.object());
            boolean before = e.old() != null && selects(e.old());
            String type;
            if (e.type() == WatchEvent.Type.DELETED) {
                type = before ? "DELETED" : null;
            } else if (now && before) {
                type = "MODIFIED";
            } else if (now) {
                type = "ADDED";
            } else if (before) {
                type = "DELETED";
            } else {
                type = null;
            }
            if (type != null) {
                writeEvent(type, e.object());
                wrote = true;
                if (unread() > MAX_UNREAD_BYTES) {
                    // checked at each event: the replay of a past revision may be thousands of them, and was
                    // written whole (tens of megabytes) before the first check. What the socket takes at once
                    // is not left unread: flushed first, and only what is still waiting counts
                    ctx.flush();
                    if (unread() > MAX_UNREAD_BYTES) {
                        end();
                        return;
                    }
                }
            }
        }
        if (wrote) {
            ctx.flush();
        }
    }

    /** Bytes written to the connection that its client has not read yet. */
    private long unread() {
        var outbound = ctx.channel().unsafe().outboundBuffer();
        return outbound == null ? 0 : outbound.totalPendingWriteBytes();
    }

    private boolean selects(HasMetadata o) {
        return (labels == null || Selectors.matches(labels, o.getMetadata().getLabels())) && fields.matches(o);
    }

    private void writeEvent(String type, Object object) {
        ObjectNode event = JsonNodeFactory.instance.objectNode();
        event.put("type", type);
        if (object instanceof HasMetadata o && representation == Representation.TABLE) {
            HasMetadata served = kind.toVersion(o, version);
            event.set("object", Representation.table(kind, List.of(served), tables, null, !columnsSent, includeObject));
            columnsSent = true;
        } else if (object instanceof HasMetadata o && representation == Representation.PARTIAL) {
            event.set("object", Representation.partial(o));
        } else if (object instanceof HasMetadata o) {
            event.set("object", Json.tree(kind.toVersion(o, version)));
        } else {
            event.set("object", Json.tree(object));
        }
        byte[] bytes = Json.writeBytes(event);
        ByteBuf buf = ctx.alloc().buffer(bytes.length + 1);
        buf.writeBytes(bytes).writeByte('\n');
        ctx.write(websocket ? new io.netty.handler.codec.http.websocketx.TextWebSocketFrame(buf) : new DefaultHttpContent(buf));
    }

    private void writeBookmark() {
        if (ended) {
            return;
        }
        // read seen before pending: every batch at or below it that concerns this watch was counted first
        long controlSeen = seen;
        long revision = pending.get() == 0 ? Math.max(delivered, controlSeen) : delivered;
        writeEvent("BOOKMARK", bookmark(revision, false));
    }

    /** A bookmark's object: the kind, and the revision in its metadata (with {@code initialEventsEnd}, its annotation). */
    private ObjectNode bookmark(long revision, boolean initialEventsEnd) {
        ObjectNode object = JsonNodeFactory.instance.objectNode();
        object.put("kind", representation == Representation.PARTIAL ? "PartialObjectMetadata" : kind.kind());
        object.put("apiVersion", representation == Representation.PARTIAL ? "meta.k8s.io/v1" : kind.apiVersion(version));
        ObjectNode metadata = object.putObject("metadata");
        metadata.put("resourceVersion", Long.toString(revision));
        if (initialEventsEnd) {
            metadata.putObject("annotations").put("k8s.io/initial-events-end", "true");
        }
        return object;
    }

    /** Ends the response (the connection stays for the next request when keep-alive). */
    private void end() {
        if (ended) {
            return;
        }
        // what the watch wrote may still wait for its reader: whatever waits on the stream's stop (a
        // viewer's slot, which bounds what the viewers' watches hold) waits for that too, or for the close
        Runnable whenWritten = stopped;
        stopped = null;
        stop();
        if (websocket) {
            WatchSocket.close(ctx);
            if (whenWritten != null) {
                ctx.channel().closeFuture().addListener(f -> whenWritten.run());
            }
            return;
        }
        var f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        if (whenWritten != null) {
            f.addListener(written -> whenWritten.run());
        }
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        } else {
            onEnd.run();
        }
    }

    /**
     * Runs {@code r} once the stream stops, however it stops, and what it wrote has left for its
     * reader or the connection has closed (set before {@link #start}).
     */
    void whenStopped(Runnable r) {
        stopped = r;
    }

    private Runnable stopped;

    private void stop() {
        if (!ended) {
            ended = true;
            if (stopped != null) {
                stopped.run();
            }
            store.unwatch(live);
            ctx.channel().closeFuture().removeListener(onClose);
            if (bookmarkTimer != null) {
                bookmarkTimer.cancel(false);
            }
            if (endTimer != null) {
                endTimer.cancel(false);
            }
            if (firstBatchTimer != null) {
                firstBatchTimer.cancel(false);
            }
        }
    }
}
