package io.milan.operator.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.api.RunStatus;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ActiveTimeTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void stretchesAddUpAndTheGapsBetweenThemDoNot() {
        RunStatus s = new RunStatus();
        ActiveTime.start(s, T0, T0.plusSeconds(2));
        assertEquals(Duration.ofSeconds(10), ActiveTime.total(s, T0.plusSeconds(10)));
        ActiveTime.stop(s, T0.plusSeconds(30));
        assertEquals(30L, s.activeSeconds);
        assertNull(s.activeSince);
        assertEquals(Duration.ofSeconds(30), ActiveTime.total(s, T0.plusSeconds(1000)), "suspended: not counted");

        ActiveTime.start(s, T0.plusSeconds(1000), T0.plusSeconds(1000));
        assertTrue(ActiveTime.isRunning(s));
        assertEquals(Duration.ofSeconds(35), ActiveTime.total(s, T0.plusSeconds(1005)));
    }

    @Test
    void anOpenStretchKeepsItsStartAndAStartInTheFutureIsNow() {
        RunStatus s = new RunStatus();
        ActiveTime.start(s, T0.plusSeconds(60), T0);
        assertEquals("2026-01-01T00:00:00Z", s.activeSince, "a Job clock ahead of the operator's is not trusted");
        ActiveTime.start(s, T0.plusSeconds(5), T0.plusSeconds(5));
        assertEquals("2026-01-01T00:00:00Z", s.activeSince, "already running: the stretch goes on");
    }

    @Test
    void stoppingWithNothingOpenOrBeforeTheStartAddsNothing() {
        RunStatus s = new RunStatus();
        ActiveTime.stop(s, T0);
        assertNull(s.activeSeconds);
        assertFalse(ActiveTime.isRunning(s));
        ActiveTime.start(s, T0, T0);
        ActiveTime.stop(s, T0.minusSeconds(5));
        assertEquals(0L, s.activeSeconds);
    }
}
