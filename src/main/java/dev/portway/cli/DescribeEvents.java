package dev.portway.cli;

import dev.portway.api.Times;
import dev.portway.api.print.HumanDuration;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** kubectl's {@code DescribeEvents} and the time helpers its describers share. */
final class DescribeEvents {

    private DescribeEvents() {
    }

    /**
     * {@code Events: <none>} in the fields' column block, or, after a flush, the events table,
     * sorted by last timestamp.
     */
    static void write(List<Event> events, DescribeWriter w, Instant now) {
        if (events.isEmpty()) {
            w.write(DescribeWriter.LEVEL_0, "Events:\t<none>\n");
            return;
        }
        w.flush();
        List<Event> sorted = new ArrayList<>(events);
        GoSort.sort(sorted, Comparator.comparing((Event e) -> instantOrZero(e.getLastTimestamp())));
        w.write(DescribeWriter.LEVEL_0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
        w.write(DescribeWriter.LEVEL_1, "----\t------\t----\t----\t-------\n");
        for (Event e : sorted) {
            String first = e.getEventTime() == null || Times.parse(e.getEventTime().getTime()) == null
                    ? since(e.getFirstTimestamp(), now) : since(e.getEventTime().getTime(), now);
            String interval;
            if (e.getSeries() != null) {
                interval = since(e.getSeries().getLastObservedTime() == null ? null : e.getSeries().getLastObservedTime().getTime(), now)
                        + " (x" + (e.getSeries().getCount() == null ? 0 : e.getSeries().getCount()) + " over " + first + ")";
            } else if (e.getCount() != null && e.getCount() > 1) {
                interval = since(e.getLastTimestamp(), now) + " (x" + e.getCount() + " over " + first + ")";
            } else {
                interval = first;
            }
            String source = e.getSource() == null ? "" : nz(e.getSource().getComponent());
            if (source.isEmpty()) {
                source = nz(e.getReportingComponent());
            }
            w.write(DescribeWriter.LEVEL_1, nz(e.getType()) + "\t" + nz(e.getReason()) + "\t" + interval + "\t" + source + "\t"
                    + trimSpace(nz(e.getMessage())) + "\n");
        }
    }

    /** {@code translateTimestampSince}: how long ago, or {@code <unknown>} for no time. */
    static String since(String timestamp, Instant now) {
        Instant t = Times.parse(timestamp);
        return t == null ? "<unknown>" : humanDuration(Duration.between(t, now));
    }

    /**
     * {@code duration.HumanDuration}, whose seconds are Go's {@code int(d.Seconds())}: truncated
     * toward zero, so up to two seconds in the future is still "0s".
     */
    static String humanDuration(Duration d) {
        if (!d.isNegative()) {
            return HumanDuration.format(d);
        }
        long seconds = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
        return seconds < -1 ? "<invalid>" : "0s";
    }

    /** Go's {@code strings.TrimSpace}: Unicode white space (Go's {@code unicode.IsSpace}) off both ends. */
    static String trimSpace(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isSpace(char c) {
        return switch (c) {
            case '\t', '\n', '\u000b', '\f', '\r', ' ', '\u0085', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000' -> true;
            default -> c >= '\u2000' && c <= '\u200a';
        };
    }

    private static Instant instantOrZero(String timestamp) {
        Instant t = Times.parse(timestamp);
        return t == null ? Instant.MIN : t;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
