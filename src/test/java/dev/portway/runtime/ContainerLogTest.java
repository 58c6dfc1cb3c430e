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

    /** A clock the test moves. */
    private static final class StepClock extends java.time.Clock {
        java.time.Instant now = java.time.Instant.parse("2026-12-01T10:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            return now;
        }
    }

    private static long nanos(String time) {
        java.time.Instant t = java.time.Instant.parse(time);
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    @Test
    void eachWriteKeepsItsTimeForSinceAndTimestamps() throws Exception {
        StepClock clock = new StepClock();
        ContainerLog log = new ContainerLog(dir, 0, 64, 3, clock);
        write(log, "at ten\n");
        clock.now = clock.now.plusSeconds(60);
        write(log, "a minute on\n");
        clock.now = clock.now.plusSeconds(60);
        write(log, "two minutes on\n");
        assertThat(readFrom(log, log.sinceStart(nanos("2026-12-01T10:00:30Z")), 5)).isEqualTo("a minute on\ntwo minutes on\n");
        assertThat(readFrom(log, log.sinceStart(nanos("2026-12-01T10:01:00Z")), 5)).isEqualTo("a minute on\ntwo minutes on\n");
        assertThat(readFrom(log, log.sinceStart(nanos("2026-12-01T10:05:00Z")), 5)).isEmpty();
        assertThat(readFrom(log, log.sinceStart(nanos("2026-12-01T09:00:00Z")), 5)).startsWith("at ten");
        assertThat(log.writtenAt(0)).isEqualTo(nanos("2026-12-01T10:00:00Z"));
        assertThat(log.writtenAt(7 + 3)).isEqualTo(nanos("2026-12-01T10:01:00Z"));
        // rotation drops the oldest files and the times of what they held; the kept bytes keep theirs
        for (int i = 0; i < 20; i++) {
            clock.now = clock.now.plusSeconds(1);
            write(log, "filler line " + i + "\n");
        }
        assertThat(log.begin()).isPositive();
        assertThat(log.sinceStart(nanos("2026-12-01T09:00:00Z"))).isEqualTo(log.begin());
        assertThat(log.writtenAt(log.end() - 1)).isEqualTo(clock.now.getEpochSecond() * 1_000_000_000L);
    }

    @Test
    void writeTimesStayBoundedAndNeverLaterThanTheirBytes() {
        WriteTimes times = new WriteTimes();
        for (int i = 0; i < 5 * WriteTimes.MAX; i++) {
            times.add(i * 10L, 1_000L + i);
        }
        assertThat(times.size()).isLessThanOrEqualTo(WriteTimes.MAX);
        for (long position : new long[] {0, 5, 12_345, 10L * (5 * WriteTimes.MAX - 1)}) {
            assertThat(times.at(position, -1)).isLessThanOrEqualTo(1_000L + position / 10).isGreaterThanOrEqualTo(1_000L);
        }
        // --since never leaves out a write at or after its time, however thinned: at most it starts a little early
        for (long since : new long[] {1_000L, 1_007L, 50_001L, 1_000L + 5 * WriteTimes.MAX - 3}) {
            assertThat(times.firstAtOrAfter(since, -1)).isLessThanOrEqualTo((since - 1_000L) * 10);
        }
        // ... and a time after every write finds nothing
        assertThat(times.firstAtOrAfter(1_000L + 5 * WriteTimes.MAX, -1)).isEqualTo(-1);
        // a clock stepped back stamps no write earlier than the one before
        WriteTimes back = new WriteTimes();
        back.add(0, 500);
        back.add(10, 100);
        assertThat(back.at(10, -1)).isEqualTo(500);
        assertThat(back.firstAtOrAfter(501, -7)).isEqualTo(-7);
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
