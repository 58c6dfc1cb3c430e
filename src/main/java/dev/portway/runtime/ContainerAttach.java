package dev.portway.runtime;

import dev.portway.admin.PodExec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code kubectl attach} (and {@code kubectl run -it}) to a running container: what it writes from
 * now on, read from its log as it grows (both outputs in one, as its log holds them); and, for a
 * container of {@code stdin: true}, its input, which every attached client writes to. With
 * {@code stdinOnce}, the first client's end of input closes the container's, for good in that run.
 * A client that leaves detaches; the container runs on. The session ends with the container's run.
 */
final class ContainerAttach implements PodExec.Target {

    /** How often a follower looks for more of the log, in milliseconds. */
    private static final long POLL_MILLIS = 20;

    private final ContainerProcess process;
    private final ContainerLog log;
    private final boolean stdin;
    private final boolean stdinOnce;
    private final boolean tty;

    /**
     * On the control thread: {@code process} is the container's running run, {@code log} its log;
     * {@code stdin}, {@code stdinOnce} and {@code tty} its spec's.
     */
    ContainerAttach(ContainerProcess process, ContainerLog log, boolean stdin, boolean stdinOnce, boolean tty) {
        this.process = process;
        this.log = log;
        this.stdin = stdin;
        this.stdinOnce = stdinOnce;
        this.tty = tty;
    }

    /**
     * {@code command} is none: an attach runs nothing. Whether there is a terminal is the
     * container's (it cannot change once it runs), as the kubelet takes it, not the client's.
     */
    @Override
    public PodExec.Session start(List<String> command, boolean stdin, boolean tty) {
        return new Session();
    }

    private final class Session implements PodExec.Session {
        private final CompletableFuture<Void> detached = new CompletableFuture<>();
        private final ContainerExec.Terminal terminal = tty && process.pid() > 0
                ? ProcessHandle.of(process.pid()).map(ContainerExec.Terminal::new).orElse(null) : null;
        private long position = log.end();

        /**
         * The container's input, for a container of {@code stdin: true} (else what is written is
         * dropped, as the kubelet drops it); nothing more reaches it once the client has detached.
         */
        @Override
        public OutputStream stdin() {
            OutputStream to = stdin ? process.stdin() : null;
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (to != null && !detached.isDone()) {
                        to.write(b, off, len);
                    }
                }

                @Override
                public void flush() throws IOException {
                    if (to != null) {
                        to.flush();
                    }
                }

                /** The client's input ended: with stdinOnce, the container's does too. */
                @Override
                public void close() throws IOException {
                    if (to != null && stdinOnce) {
                        to.close();
                    }
                }
            };
        }

        /** The log from where it stood at the attach, as it grows; its end when the run's log ends or the client detaches. */
        @Override
        public InputStream stdout() {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (len == 0) {
                        return 0;
                    }
                    byte[] into = off == 0 && len == b.length ? b : new byte[len];
                    while (!detached.isDone()) {
                        boolean ended = log.finished(); // before the read: what came with the end is read first
                        var chunk = log.read(position, into);
                        if (chunk.count() > 0) {
                            if (into != b) {
                                System.arraycopy(into, 0, b, off, chunk.count());
                            }
                            position = chunk.next();
                            return chunk.count();
                        }
                        position = Math.max(position, chunk.from()); // what was rotated away is skipped
                        if (ended) {
                            return -1;
                        }
                        try {
                            Thread.sleep(POLL_MILLIS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return -1;
                        }
                    }
                    return -1;
                }
            };
        }

        @Override
        public InputStream stderr() {
            return null; // in the log, with the output
        }

        /** Until the run ends (its log then ends too) or the client detaches: an attach itself always succeeds. */
        @Override
        public int waitFor() throws InterruptedException {
            try {
                CompletableFuture.anyOf(process.exit(), detached).get();
            } catch (java.util.concurrent.ExecutionException e) {
                // the run ended all the same
            }
            return 0;
        }

        /** Detaches: the container runs on. */
        @Override
        public void kill() {
            detached.complete(null);
        }

        @Override
        public void resize(int columns, int rows) {
            if (terminal != null) {
                terminal.resize(columns, rows);
            }
        }
    }
}
