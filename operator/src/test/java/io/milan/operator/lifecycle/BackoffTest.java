package io.milan.operator.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.milan.api.RestartPolicy;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void doublesFromTheFirstDelayUpToTheCap() {
        RestartPolicy p = new RestartPolicy();
        p.backoffSeconds = 10;
        p.maxBackoffSeconds = 60;
        assertEquals(Duration.ofSeconds(10), Backoff.delay(p, 1));
        assertEquals(Duration.ofSeconds(20), Backoff.delay(p, 2));
        assertEquals(Duration.ofSeconds(40), Backoff.delay(p, 3));
        assertEquals(Duration.ofSeconds(60), Backoff.delay(p, 4));
        assertEquals(Duration.ofSeconds(60), Backoff.delay(p, 500), "no overflow");
    }

    @Test
    void zeroBackoffRestartsAtOnce() {
        RestartPolicy p = new RestartPolicy();
        p.backoffSeconds = 0;
        assertEquals(Duration.ZERO, Backoff.delay(p, 3));
    }

    @Test
    void aRefusedCreateWaitsAsLongAsTheRefusalHasLastedBetweenFiveSecondsAndFiveMinutes() {
        Instant first = Instant.parse("2026-12-06T12:00:00Z");
        assertEquals(Duration.ofSeconds(5), Backoff.refusedCreate(first, first));
        assertEquals(Duration.ofSeconds(5), Backoff.refusedCreate(first, first.plusSeconds(5)));
        assertEquals(Duration.ofSeconds(10), Backoff.refusedCreate(first, first.plusSeconds(10)));
        assertEquals(Duration.ofSeconds(20), Backoff.refusedCreate(first, first.plusSeconds(20)));
        assertEquals(Duration.ofMinutes(5), Backoff.refusedCreate(first, first.plus(Duration.ofHours(3))));
        assertEquals(Duration.ofSeconds(5), Backoff.refusedCreate(first, first.minusSeconds(30)), "clock skew");
    }
}
