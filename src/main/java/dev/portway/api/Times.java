package dev.portway.api;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** Kubernetes timestamps: RFC 3339 in UTC with whole seconds ({@code 2026-11-26T15:35:00Z}). */
public final class Times {

    private Times() {
    }

    public static String format(Instant instant) {
        return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
    }

    /**
     * Go's {@code time.RFC3339Nano} in UTC, as the kubelet stamps log lines: nanoseconds with the
     * fraction's trailing zeros dropped ({@code 2026-12-01T10:00:00.5Z}), and no fraction when it is zero.
     */
    public static String formatNano(Instant instant) {
        String seconds = DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
        if (instant.getNano() == 0) {
            return seconds;
        }
        String fraction = String.format("%09d", instant.getNano()).replaceFirst("0+$", "");
        return seconds.substring(0, seconds.length() - 1) + "." + fraction + "Z";
    }

    /** Parses a timestamp; null or unparsable gives null. */
    public static Instant parse(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }
}
