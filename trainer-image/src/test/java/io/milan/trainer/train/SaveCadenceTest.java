package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.milan.trainer.dist.DistConfig;
import io.milan.trainer.dist.SaveAgreement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * When mid-epoch checkpoints fall due, on a clock the test moves (several ranks agreeing on a time-based save:
 * PretrainRunTest's two-process mid-epoch resume).
 */
class SaveCadenceTest {

    @Test
    void everyNthStepOfTheRun() {
        try (SaveCadence cadence = new SaveCadence(true, 3, Duration.ZERO, null, () -> 0)) {
            List<Long> due = new ArrayList<>();
            for (long step = 1; step <= 10; step++) {
                if (cadence.dueAfterStep(step)) {
                    due.add(step);
                }
            }
            assertEquals(List.of(3L, 6L, 9L), due);
        }
    }

    @Test
    void minutesCountFromTheLastCheckpointOfAnyKind() {
        AtomicLong now = new AtomicLong();
        long minute = Duration.ofMinutes(1).toNanos();
        try (SaveCadence cadence = new SaveCadence(true, 0, Duration.ofMinutes(30),
                SaveAgreement.join(DistConfig.single()), now::get)) {
            List<Long> due = new ArrayList<>();
            for (long step = 1; step <= 100; step++) {
                now.addAndGet(minute); // one step a minute
                if (step == 50) {
                    cadence.saved(); // an epoch-end checkpoint
                }
                if (cadence.dueAfterStep(step)) {
                    due.add(step);
                    cadence.saved();
                }
            }
            // One process saves at the step where the interval has passed: 30 minutes after the start; then the
            // epoch end at step 50 restarts the interval, so not at 60 but at 80.
            assertEquals(List.of(30L, 80L), due);
        }
    }

    @Test
    void zeroTurnsBothOff() {
        try (SaveCadence cadence = new SaveCadence(true, 0, Duration.ZERO, null, System::nanoTime)) {
            for (long step = 1; step <= 100; step++) {
                assertEquals(false, cadence.dueAfterStep(step));
            }
        }
    }
}
