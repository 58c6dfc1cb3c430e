package dev.portway.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link Store} on disk, so that a local cluster comes back after a stop or a crash with
 * every object, and so every allocation (ClusterIPs, NodePorts and external IPs live in the
 * objects), as etcd keeps a cluster's.
 *
 * <p>Two files in the data directory: {@value #SNAPSHOT}, every object at one revision, replaced
 * atomically (write, fsync, rename, fsync the directory); and {@value #JOURNAL}, one JSON line per
 * change since, appended and fsynced before the change is acknowledged (the store calls its
 * watchers inside the commit), one line per commit batch. While it cannot write (a full disk),
 * and once it is closed, the API's clients' writes are refused ({@link #notKept}): the batch that
 * found the failure, and Portway's own changes meanwhile, are kept in memory until a snapshot
 * succeeds, and a crash before that loses them. On start the snapshot is read and the
 * journal replayed; a last line cut short by a crash is dropped (its batch was never acknowledged), anything else unreadable
 * stops the start with the file's path, and nothing is replaced. Events are not kept (they are
 * an hour's history in Kubernetes, and the kubelet writes many), only the revisions they took, so
 * that no revision a client saw before a crash is handed out again after it.
 *
 * <p>Every method runs on the thread that commits to the store (the control thread).
 */
public final class StoreJournal implements AutoCloseable {

    /** The files hold every object, Secrets too: readable and writable by this user only. */
    private static final java.nio.file.attribute.FileAttribute<?> PRIVATE =
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));


    private static final Logger log = LoggerFactory.getLogger(StoreJournal.class);

    public static final String SNAPSHOT = "objects.json";
    public static final String JOURNAL = "journal.jsonl";
    /** The journal is folded into a new snapshot when it grows past this. */
    private static final long COMPACT_BYTES = 32L * 1024 * 1024;
    /** How often a journal that cannot write tries a whole snapshot again. */
    private static final long RETRY_EVERY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    /** A data file that cannot be read: the start stops, and the file stays as it is. */
    public static final class CorruptStateException extends IOException {
        public CorruptStateException(Path file, String detail) {
            super(file + ": " + detail + " (the file is left as it is: move it aside to start with an empty cluster, "
                    + "or start with --ephemeral)");
        }
    }

    /** What the data directory held: the objects and the revision they are at. */
    public record Restored(List<HasMetadata> objects, long revision) {
    }

    private final Path dir;
    private final Store store;
    private final Consumer<List<WatchEvent>> watcher = this::append;
    private FileChannel journal;
    private long journalBytes;
    private boolean failed;
    /** Closed: the state was written for good (Portway is stopping). */
    private boolean closed;
    /** What the last failed write said. */
    private String lastFailure = "";
    /** While failing: when the next whole snapshot may be tried (System.nanoTime). */
    private long nextRetryNanos;
    /** Snapshots begun (tests: how often a failing journal retries). */
    private int snapshotsBegun;

    private StoreJournal(Path dir, Store store) {
        this.dir = dir;
        this.store = store;
    }

    /** Reads the data directory (empty, or missing: no objects). */
    public static Restored load(Path dir) throws IOException {
        Map<String, HasMetadata> objects = new LinkedHashMap<>();
        long revision = 0;
        Path snapshot = dir.resolve(SNAPSHOT);
        if (Files.exists(snapshot)) {
            JsonNode root;
            try {
                root = Json.readTree(Files.readAllBytes(snapshot));
            } catch (RuntimeException e) {
                throw new CorruptStateException(snapshot, "not valid JSON: " + e.getMessage());
            }
            if (!root.path("revision").canConvertToLong() || !root.path("objects").isArray()) {
                throw new CorruptStateException(snapshot, "not a Portway snapshot (no revision and objects)");
            }
            revision = root.path("revision").asLong();
            int i = 0;
            for (JsonNode entry : root.path("objects")) {
                HasMetadata o = decode(snapshot, "object " + i++, entry);
                objects.put(key(o), o);
            }
        }
        Path journal = dir.resolve(JOURNAL);
        if (Files.exists(journal)) {
            byte[] bytes = Files.readAllBytes(journal);
            String text = new String(bytes, StandardCharsets.UTF_8);
            String[] lines = text.split("\n", -1);
            // the last element is what follows the last newline: a record cut short by a crash, never acknowledged
            for (int n = 0; n < lines.length - 1; n++) {
                if (lines[n].isEmpty()) {
                    continue;
                }
                JsonNode record;
                try {
                    record = Json.readTree(lines[n].getBytes(StandardCharsets.UTF_8));
                } catch (RuntimeException e) {
                    throw new CorruptStateException(journal, "line " + (n + 1) + " is not valid JSON: " + e.getMessage());
                }
                long rv = record.path("rv").asLong(-1);
                if (rv <= revision) {
                    continue; // already in the snapshot
                }
                if (!record.path("batch").isArray()) {
                    throw new CorruptStateException(journal, "line " + (n + 1) + " is not a batch of changes");
                }
                for (JsonNode change : record.path("batch")) {
                    HasMetadata o = decode(journal, "line " + (n + 1), change);
                    if ("DELETED".equals(change.path("type").asText())) {
                        objects.remove(key(o));
                    } else {
                        objects.put(key(o), o);
                    }
                }
                revision = rv;
            }
            if (!lines[lines.length - 1].isEmpty()) {
                log.warn("{}: dropped a last record cut short ({} bytes): its change had not been acknowledged", journal,
                        lines[lines.length - 1].length());
            }
        }
        return new Restored(List.copyOf(objects.values()), revision);
    }

    /**
     * Starts keeping {@code store} in {@code dir}: writes a snapshot of it now (folding in the
     * journal read before), then journals every change.
     */
    public static StoreJournal open(Path dir, Store store) throws IOException {
        Files.createDirectories(dir);
        StoreJournal j = new StoreJournal(dir, store);
        j.snapshot();
        store.watch(j.watcher);
        return j;
    }

    private static HasMetadata decode(Path file, String where, JsonNode entry) throws CorruptStateException {
        ResourceKind kind;
        try {
            kind = ResourceKind.valueOf(entry.path("kind").asText());
        } catch (IllegalArgumentException e) {
            throw new CorruptStateException(file, where + ": unknown kind " + entry.path("kind"));
        }
        try {
            HasMetadata o = Json.convert(entry.path("object"), kind.type());
            if (o == null || o.getMetadata() == null || o.getMetadata().getName() == null) {
                throw new CorruptStateException(file, where + ": an object without a name");
            }
            return o;
        } catch (IllegalArgumentException e) {
            throw new CorruptStateException(file, where + ": not a " + kind + ": " + e.getMessage());
        }
    }

    private static String key(HasMetadata o) {
        return o.getKind() + "/" + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
    }

    /**
     * Called inside the store's commit, on the committing thread: the change is on disk before it is
     * acknowledged. A batch is one line, so a batch comes back whole or not at all.
     */
    private void append(List<WatchEvent> events) {
        if (failed) {
            // a whole snapshot at most once a second: one per commit, inside the commit, would hold every
            // write of the API behind the serializing of every object for as long as the disk stays full
            long now = System.nanoTime();
            if (now - nextRetryNanos >= 0) {
                nextRetryNanos = now + RETRY_EVERY_NANOS;
                retrySnapshot();
            }
            return;
        }
        ArrayNode records = Json.mapper().createArrayNode();
        for (WatchEvent e : events) {
            if (e.kind() == ResourceKind.EVENT) {
                continue;
            }
            ObjectNode record = records.addObject();
            record.put("type", e.type().name());
            record.put("kind", e.kind().name());
            record.put("rv", e.revision());
            record.set("object", Json.tree(e.object()));
        }
        if (events.isEmpty()) {
            return;
        }
        // The batch's last revision, even when only Events (which are not kept) took it: a client may
        // hold it and resume a watch from it after a restart, so the restored store must start past
        // it. A batch of Events alone is written without fsync: a killed process loses no write the
        // kernel took, and the next change's fsync takes this line with it.
        ObjectNode batch = Json.mapper().createObjectNode();
        batch.put("rv", events.getLast().revision());
        batch.set("batch", records);
        boolean sync = !records.isEmpty();
        try {
            if (journal == null) {
                journal = FileChannel.open(dir.resolve(JOURNAL), java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND, java.nio.file.LinkOption.NOFOLLOW_LINKS), PRIVATE);
                syncDirectory(); // the new file's name is as durable as what is written into it
            }
            ByteBuffer buf = ByteBuffer.wrap((Json.write(batch) + "\n").getBytes(StandardCharsets.UTF_8));
            journalBytes += buf.remaining();
            while (buf.hasRemaining()) {
                journal.write(buf);
            }
            if (sync) {
                journal.force(false);
            }
            if (journalBytes > COMPACT_BYTES) {
                snapshot();
            }
        } catch (IOException e) {
            // the cluster goes on in memory; later commits try a whole snapshot (once a second) until one succeeds
            failed = true;
            lastFailure = e.toString();
            nextRetryNanos = System.nanoTime() + RETRY_EVERY_NANOS;
            log.error("cannot write {} (revision {}): changes are not kept on disk until a snapshot succeeds: {}",
                    dir.resolve(JOURNAL), events.getLast().revision(), e.toString());
        }
    }

    /** After a failed write: a whole snapshot keeps everything again (the store has every change). */
    private void retrySnapshot() {
        try {
            snapshot();
            failed = false;
            log.warn("{} written again: changes are kept on disk again", dir.resolve(SNAPSHOT));
        } catch (IOException e) {
            // still failing: the next commit tries again
        }
    }

    /** Writes every object as the new snapshot (atomically), then empties the journal. */
    public void snapshot() throws IOException {
        snapshotsBegun++;
        Store.Snapshot all = store.snapshotAll();
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("revision", all.revision());
        ArrayNode objects = root.putArray("objects");
        for (HasMetadata o : all.items()) {
            ResourceKind kind = ResourceKind.of(o);
            if (kind == null || kind == ResourceKind.EVENT) {
                continue;
            }
            ObjectNode entry = objects.addObject();
            entry.put("kind", kind.name());
            entry.set("object", Json.tree(o));
        }
        Path tmp = dir.resolve(SNAPSHOT + ".tmp");
        Files.deleteIfExists(tmp); // a new file of this user's (never through a link left there)
        try (FileChannel ch = FileChannel.open(tmp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                java.nio.file.LinkOption.NOFOLLOW_LINKS), PRIVATE)) {
            ByteBuffer buf = ByteBuffer.wrap(Json.writeBytes(root));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, dir.resolve(SNAPSHOT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir.resolve(SNAPSHOT), StandardCopyOption.REPLACE_EXISTING);
        }
        syncDirectory();
        // the snapshot holds everything now: the journal starts over
        if (journal != null) {
            journal.close();
            journal = null;
        }
        Files.deleteIfExists(dir.resolve(JOURNAL));
        journalBytes = 0;
        syncDirectory();
    }

    /**
     * Why changes are not kept on disk now, or null when they are; on the committing (control)
     * thread. While they are not, a whole snapshot is tried again at most once a second from here
     * too, so that a cluster whose clients are refused (and so commit nothing) comes back by itself
     * once the disk has room.
     */
    public String notKept() {
        if (closed) {
            return "Portway is stopping: the cluster's state is written to " + dir + " and closed, and writes are refused";
        }
        if (!failed) {
            return null;
        }
        long now = System.nanoTime();
        if (now - nextRetryNanos >= 0) {
            nextRetryNanos = now + RETRY_EVERY_NANOS;
            retrySnapshot();
        }
        return failed ? "the cluster's state cannot be written to " + dir + " now (" + lastFailure
                + "): writes are refused until it can; reads go on" : null;
    }

    /** Whether changes are not being kept on disk now (a write failed, and no snapshot has succeeded since). */
    boolean failing() {
        return failed;
    }

    int snapshotsBegun() {
        return snapshotsBegun;
    }

    private void syncDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // some file systems cannot sync a directory; the rename is as durable as they make it
        }
    }

    /** Stops journaling, with a last snapshot (a clean stop leaves no journal to replay). */
    @Override
    public void close() throws IOException {
        closed = true; // what clients write from now on would not be kept: refused ({@link #notKept})
        store.unwatch(watcher);
        snapshot(); // atomic: even after a failed write, a clean stop keeps what the store holds
        if (journal != null) {
            journal.close();
            journal = null;
        }
    }

}
