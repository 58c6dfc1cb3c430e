package dev.portway.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.admin.PodLogs;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerLogTest {

    @TempDir
    Path dir;

    private static void write(ContainerLog log, String text) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        log.append(b, 0, b.length);
    }

    private static String readFrom(ContainerLog log, long position, int bufferSize) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[bufferSize];
        for (PodLogs.Chunk c = log.read(position, buf); c.count() > 0; c = log.read(position, buf)) {
            out.write(buf, 0, c.count());
            position = c.next();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void rotatesAtTheSizeCapAndKeepsAtMostMaxFiles() throws Exception {
        ContainerLog log = new ContainerLog(dir, 0, 100, 3);
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            String line = "line %02d of the log\n".formatted(i);
            all.append(line);
            write(log, line);
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted()).containsExactly("0.log", "0.log.1", "0.log.2");
        }
        assertThat(Files.size(dir.resolve("0.log.1"))).isEqualTo(100);
        assertThat(log.end()).isEqualTo(all.length());
        assertThat(log.begin()).isGreaterThan(0).isLessThanOrEqualTo(all.length() - 200);
        // what is kept reads back as the end of the stream, across files, whatever the buffer size
        String kept = all.substring((int) log.begin());
        assertThat(readFrom(log, 0, 7)).isEqualTo(kept);
        assertThat(readFrom(log, 0, 4096)).isEqualTo(kept);
    }

    @Test
    void tailFindsTheStartOfTheLastLines() throws Exception {
        ContainerLog log = new ContainerLog(dir, 0, 64, 10);
        for (int i = 1; i <= 20; i++) {
            write(log, "l" + i + "\n");
        }
        assertThat(readFrom(log, log.tailStart(3), 5)).isEqualTo("l18\nl19\nl20\n");
        assertThat(readFrom(log, log.tailStart(0), 5)).isEmpty();
        assertThat(readFrom(log, log.tailStart(100), 5)).startsWith("l1\n").endsWith("l20\n");
        write(log, "no newline yet");
        assertThat(readFrom(log, log.tailStart(2), 5)).isEqualTo("l20\nno newline yet");
    }

    @Test
    void aFollowerSeesNewBytesAndTheEnd() throws Exception {
        ContainerLog log = new ContainerLog(dir, 2, 1024, 2);
        long pos = log.tailStart(-1);
        byte[] buf = new byte[16];
        assertThat(log.read(pos, buf).count()).isZero();
        assertThat(log.finished()).isFalse();
        write(log, "hello\n");
        PodLogs.Chunk c = log.read(pos, buf);
        assertThat(new String(buf, 0, c.count(), StandardCharsets.UTF_8)).isEqualTo("hello\n");
        log.drain(new java.io.ByteArrayInputStream("bye\n".getBytes(StandardCharsets.UTF_8)));
        assertThat(log.finished()).isTrue();
        assertThat(readFrom(log, c.next(), 16)).isEqualTo("bye\n");
        assertThat(dir.resolve("2.log")).hasContent("hello\nbye");
    }
}
