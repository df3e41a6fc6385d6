package io.milan.operator.status;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** RFC 3339 timestamps at second precision, as Kubernetes writes them. */
public final class Timestamps {
    private Timestamps() {
    }

    public static String format(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
    }

    public static Instant parse(String s) {
        return s == null ? null : Instant.parse(s);
    }
}
