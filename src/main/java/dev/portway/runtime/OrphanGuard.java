package dev.portway.runtime;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure no container process outlives Portway, even when Portway is killed with SIGKILL
 * and runs no code of its own at the end.
 *
 * <p>Every container runs as the leader of its own process group ({@code setsid}), so one
 * signal reaches it and everything it started. A small shell, itself in a session of its own,
 * holds the other end of a pipe from Portway and keeps the list of live groups, which Portway
 * sends it one line at a time ({@code +pgid}, {@code -pgid}). Its {@code read} returns end of
 * file when Portway's end of the pipe closes, which the kernel does however Portway ends; the
 * shell then sends SIGTERM to every group still listed, and SIGKILL a second later. No polling,
 * and no reliance on the parent-death signal (which fires when the spawning <em>thread</em>
 * ends, and reaches one process, not a group).
 *
 * <p>The same shell sends the signals Portway asks for ({@code !KILL pgid}): a group signal
 * without forking a {@code kill} process each time.
 */
final class OrphanGuard implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(OrphanGuard.class);

    static final Path SETSID = Path.of("/usr/bin/setsid");

    private static final String SCRIPT = """
            groups=' '
            while IFS= read -r line; do
              case $line in
                +*) groups="$groups${line#+} " ;;
                -*) id=${line#-}
                    case $groups in *" $id "*) groups="${groups%% $id *} ${groups#* $id }" ;; esac ;;
                !*) set -- ${line#!}; kill -"$1" -"$2" 2>/dev/null ;;
              esac
            done
            case $groups in *[0-9]*)
              for g in $groups; do kill -TERM -"$g" 2>/dev/null; done
              sleep 1
              for g in $groups; do kill -KILL -"$g" 2>/dev/null; done ;;
            esac
            """;

    private final Process watchdog;
    private final OutputStream pipe;
    private boolean broken;

    private OrphanGuard(Process watchdog) {
        this.watchdog = watchdog;
        this.pipe = watchdog.getOutputStream();
    }

    /** Whether containers can run in process groups of their own here. */
    static boolean supported() {
        return Files.isExecutable(SETSID);
    }

    /** Starts the watchdog shell. */
    static OrphanGuard start() throws IOException {
        Process p = new ProcessBuilder(SETSID.toString(), "/bin/sh", "-c", SCRIPT)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        return new OrphanGuard(p);
    }

    /** The process group {@code pgid} is to be ended with Portway. */
    void watch(long pgid) {
        send("+" + pgid);
    }

    /** Whether processes can still be started under this guard (it is not closed, its shell runs). */
    synchronized boolean open() {
        return !broken;
    }

    /** The group {@code pgid} is gone. */
    void forget(long pgid) {
        send("-" + pgid);
    }

    /** Sends {@code signal} (TERM, KILL...) to every process of the group {@code pgid}. */
    void signalGroup(long pgid, String signal) {
        send("!" + signal + " " + pgid);
    }

    private synchronized void send(String line) {
        if (broken) {
            return;
        }
        try {
            pipe.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            pipe.flush();
        } catch (IOException e) {
            broken = true;
            log.warn("the process watchdog is gone ({}); container processes may outlive Portway", e.toString());
        }
    }

    /** Closes the pipe: the watchdog ends every group still listed, then exits. */
    @Override
    public synchronized void close() {
        try {
            pipe.close();
        } catch (IOException e) {
            // already gone
        }
        broken = true;
        try {
            watchdog.waitFor(3, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
