package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.milan.api.Progress;
import io.milan.trainer.optim.GradScaler;
import org.junit.jupiter.api.Test;

/** What a status report says of float16 loss scaling: the run's skipped steps and the scale, or nothing. */
class SkippedStepsTest {

    @Test
    void aReportCarriesTheRunsSkippedStepsAndTheScale() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                GradScaler scaler = new GradScaler(manager, Device.cpu())) {
            // As restored from a checkpoint of a run that had skipped 3 steps and backed off to 2^13.
            scaler.loadStateJson("{\"scale\":8192.0,\"growth_factor\":2.0,\"backoff_factor\":0.5,"
                    + "\"growth_interval\":2000,\"_growth_tracker\":17,\"milan_skipped_steps\":3}");
            Progress p = new Progress();
            assertSame(p, SkippedSteps.report(p, scaler));
            assertEquals(3L, p.skippedSteps);
            assertEquals(8192.0, p.lossScale);
        }
    }

    @Test
    void withoutLossScalingTheFieldsAreLeftOut() {
        Progress p = SkippedSteps.report(new Progress(), null);
        assertNull(p.skippedSteps, "bf16 and float32 runs skip no steps: the field is absent, not 0");
        assertNull(p.lossScale);
    }
}
