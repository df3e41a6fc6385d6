package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The grace period the trainer plans its stop with (the stop itself: SigtermTest, with real processes). */
class GracefulStopTest {

    @Test
    void theGracePeriodIsThePodsFromTheEnvironmentAndKubernetesDefaultWithout() {
        assertEquals(Duration.ofSeconds(30), GracefulStop.graceFrom(Map.of()));
        assertEquals(Duration.ofSeconds(45), GracefulStop.graceFrom(Map.of("MILAN_TERMINATION_GRACE_SECONDS", "45")));
        assertEquals(Duration.ZERO, GracefulStop.graceFrom(Map.of("MILAN_TERMINATION_GRACE_SECONDS", "0")));
    }

    @Test
    void aBadGracePeriodIsAConfigurationErrorNamingTheVariable() {
        for (String bad : new String[] {"-1", "soon", "1.5"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GracefulStop.graceFrom(Map.of("MILAN_TERMINATION_GRACE_SECONDS", bad)));
            assertTrue(e.getMessage().startsWith("MILAN_TERMINATION_GRACE_SECONDS must be a whole number"),
                    e.getMessage());
        }
    }
}
