package dev.portway.admin;

/**
 * Where the admin API reads containers' logs ({@code GET /api/v1/namespaces/NS/pods/NAME/log}):
 * the local kubelet.
 */
public interface PodLogs {

    /**
     * One container's log: its current run, or with {@code previous} the run before.
     *
     * @param container the container's name, or null when the pod has just one
     * @throws dev.portway.api.ApiException with the API server's message when there is no such log
     */
    LogStream open(String namespace, String pod, String container, boolean previous);

    /** {@code t} in nanoseconds since the epoch, as logs' times are given. */
    static long epochNanos(java.time.Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    /** A log that may still be growing, read by position in the whole stream. */
    interface LogStream {

        /** The position the last {@code lines} lines begin at; all that is kept when negative. */
        long tailStart(int lines);

        /**
         * Reads bytes from {@code position} (or from the oldest byte kept, if that is later) into
         * {@code buf}; a count of 0 means nothing more is there yet.
         */
        Chunk read(long position, byte[] buf);

        /** The position just past the last byte written so far. */
        long end();

        /** No more bytes will come: the run has ended. */
        boolean finished();

        /**
         * The position of the first byte written at or after {@code epochNanos} (nanoseconds since
         * the epoch): where {@code sinceSeconds} and {@code sinceTime} start; {@link #end} when none.
         */
        default long sinceStart(long epochNanos) {
            return tailStart(-1);
        }

        /** When the byte at {@code position} was written, in nanoseconds since the epoch (for {@code timestamps}). */
        default long writtenAt(long position) {
            return System.currentTimeMillis() * 1_000_000L;
        }
    }

    /** {@code count} bytes were read, from stream position {@code from}. */
    record Chunk(long from, int count) {

        public long next() {
            return from + count;
        }
    }
}
