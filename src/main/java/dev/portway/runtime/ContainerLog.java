package dev.portway.runtime;

import dev.portway.admin.PodLogs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * What one run of a container wrote to stdout and stderr, kept as the kubelet keeps it: in a
 * file with a size cap, rotated into at most {@code maxFiles} files, the oldest dropped.
 *
 * <p>Files are {@code <dir>/<run>.log} (the current one) and {@code <run>.log.1},
 * {@code <run>.log.2}... (older). Readers ask for bytes by their position in the whole stream
 * since the run began, so a reader that follows the log reads across a rotation without a seam.
 */
final class ContainerLog implements PodLogs.LogStream {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ContainerLog.class);

    /** A file of the log and the stream position its first byte has. */
    private record Segment(Path file, long start) {
    }

    private final Path dir;
    private final int run;
    private final long maxBytes;
    private final int maxFiles;
    private final Deque<Segment> rotated = new ArrayDeque<>();
    private Segment current;
    private OutputStream out;
    private long written;
    private boolean closed;
    /** When each write happened (for {@code sinceSeconds}, {@code sinceTime} and {@code timestamps}). */
    private final WriteTimes times = new WriteTimes();
    private final java.time.Clock clock;

    ContainerLog(Path dir, int run, long maxBytes, int maxFiles) throws IOException {
        this(dir, run, maxBytes, maxFiles, java.time.Clock.systemUTC());
    }

    ContainerLog(Path dir, int run, long maxBytes, int maxFiles, java.time.Clock clock) throws IOException {
        if (maxBytes < 1 || maxFiles < 1) {
            throw new IllegalArgumentException("maxBytes " + maxBytes + ", maxFiles " + maxFiles);
        }
        this.dir = dir;
        this.run = run;
        this.maxBytes = maxBytes;
        this.maxFiles = maxFiles;
        this.clock = clock;
        Files.createDirectories(dir);
        this.current = new Segment(dir.resolve(run + ".log"), 0);
        this.out = Files.newOutputStream(current.file());
    }

    int run() {
        return run;
    }

    /**
     * Copies {@code in} into the log until end of stream; returns when the process has closed its
     * output. When the log cannot be written (a full disk), the output is still read and dropped,
     * so the process never blocks on a full pipe.
     */
    void drain(InputStream in) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                try {
                    append(buf, 0, n);
                } catch (IOException e) {
                    broken(e);
                }
            }
        } catch (IOException e) {
            // the stream was closed under us: the container is gone
        } finally {
            close();
        }
    }

    private synchronized void broken(IOException e) {
        if (!closed) {
            LOG.warn("cannot write the log {}: {}; dropping the rest of this run's output", current.file(), e.toString());
            close();
        }
    }

    synchronized void append(byte[] b, int off, int len) throws IOException {
        if (closed) {
            return;
        }
        if (len > 0) {
            times.add(written, PodLogs.epochNanos(clock.instant()));
        }
        while (len > 0) {
            long room = current.start() + maxBytes - written;
            if (room <= 0) {
                rotate();
                continue;
            }
            int n = (int) Math.min(room, len);
            out.write(b, off, n);
            written += n;
            off += n;
            len -= n;
        }
        out.flush();
    }

    private void rotate() throws IOException {
        out.close();
        // newest first: the file just finished, then the older ones; the oldest beyond maxFiles go
        List<Segment> kept = new ArrayList<>();
        kept.add(current);
        kept.addAll(rotated);
        while (kept.size() > maxFiles - 1) {
            Files.deleteIfExists(kept.removeLast().file());
        }
        // the oldest gets the highest number; renaming it first frees the name the next one takes
        List<Segment> renamed = new ArrayList<>();
        for (int i = kept.size(); i >= 1; i--) {
            Segment s = kept.get(i - 1);
            Path to = dir.resolve(run + ".log." + i);
            Files.move(s.file(), to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            renamed.addFirst(new Segment(to, s.start()));
        }
        rotated.clear();
        rotated.addAll(renamed);
        current = new Segment(dir.resolve(run + ".log"), written);
        out = Files.newOutputStream(current.file());
        times.dropBefore(begin());
    }

    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            out.close();
        } catch (IOException e) {
            // nothing more to keep
        }
    }

    @Override
    public synchronized boolean finished() {
        return closed;
    }

    /** The stream position just past the last byte written. */
    @Override
    public synchronized long end() {
        return written;
    }

    /** The oldest stream position still kept. */
    synchronized long begin() {
        return rotated.isEmpty() ? current.start() : rotated.getLast().start();
    }

    /**
     * Reads up to {@code buf.length} bytes from stream position {@code position} (moved up to the
     * oldest kept byte if rotation dropped it). Returns the position after what was read; equal
     * to {@code from} when nothing more is there yet.
     */
    @Override
    public synchronized PodLogs.Chunk read(long position, byte[] buf) {
        long from = Math.max(position, begin());
        if (from >= written) {
            return new PodLogs.Chunk(from, 0);
        }
        Segment segment = current;
        if (from < current.start()) {
            for (Segment s : rotated) {
                if (from >= s.start()) {
                    segment = s;
                    break;
                }
            }
        }
        long segmentEnd = segment == current ? written : nextStart(segment);
        int n = (int) Math.min(buf.length, segmentEnd - from);
        try (RandomAccessFile f = new RandomAccessFile(segment.file().toFile(), "r")) {
            f.seek(from - segment.start());
            f.readFully(buf, 0, n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new PodLogs.Chunk(from, n);
    }

    private long nextStart(Segment segment) {
        Segment newer = current;
        for (Segment s : rotated) {
            if (s == segment) {
                return newer.start();
            }
            newer = s;
        }
        return current.start();
    }

    @Override
    public synchronized long sinceStart(long epochNanos) {
        return Math.max(begin(), times.firstAtOrAfter(epochNanos, written));
    }

    @Override
    public synchronized long writtenAt(long position) {
        return times.at(position, PodLogs.epochNanos(clock.instant()));
    }

    /** The position where the last {@code lines} lines begin (kubectl logs --tail); negative: all. */
    @Override
    public long tailStart(int lines) {
        long end = end();
        long begin = begin();
        if (lines < 0) {
            return begin;
        }
        if (lines == 0) {
            return end;
        }
        int seen = 0;
        long pos = end;
        byte[] buf = new byte[8192];
        while (pos > begin) {
            long from = Math.max(begin, pos - buf.length);
            int n = (int) (pos - from);
            for (int got = 0; got < n; ) {
                byte[] part = new byte[n - got];
                PodLogs.Chunk r = read(from + got, part);
                System.arraycopy(part, 0, buf, got, r.count());
                if (r.count() == 0) {
                    return begin;
                }
                got += r.count();
            }
            for (int i = n - 1; i >= 0; i--) {
                // a newline ends the line before it; the one that ends the log ends no line to count
                if (buf[i] == '\n' && from + i != end - 1 && ++seen == lines) {
                    return from + i + 1;
                }
            }
            pos = from;
        }
        return begin;
    }
}
