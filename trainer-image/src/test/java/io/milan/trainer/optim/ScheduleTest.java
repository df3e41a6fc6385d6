package io.milan.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleTest {

    // Pretraining ViT-B recipe: blr 1.5e-4, 256 × 8 GPUs × accum 2 → lr 2.4e-3; 400 epochs, 40 warmup.
    private final CosineSchedule pretrain = new CosineSchedule(2.4e-3, 0.0, 40, 400);

    @Test
    void lrFromBlrUsesTheEffectiveBatch() {
        assertEquals(2.4e-3, CosineSchedule.absoluteLr(null, 1.5e-4, 256, 2, 8), 1e-15);
        assertEquals(4e-4, CosineSchedule.absoluteLr(null, 1e-4, 128, 1, 8), 1e-15);
        assertEquals(3.2, CosineSchedule.absoluteLr(null, 0.05, 2048, 1, 8), 1e-12);
        assertEquals(0.01, CosineSchedule.absoluteLr(0.01, 1.5e-4, 256, 2, 8), 0.0);
    }

    @Test
    void warmupIsLinearFromZero() {
        assertEquals(0.0, pretrain.lrAt(0.0), 0.0);
        assertEquals(2.4e-3 * 0.5 / 40, pretrain.lrAt(0.5), 1e-18);
        assertEquals(2.4e-3 / 2, pretrain.lrAt(20.0), 1e-18);
        // Fractional epoch inside warmup: epoch 3, iteration 125 of 625 → 3.2 / 40 of the peak.
        assertEquals(2.4e-3 * 3.2 / 40, pretrain.lrAt(3 + 125.0 / 625), 1e-18);
    }

    @Test
    void cosineAfterWarmup() {
        assertEquals(2.4e-3, pretrain.lrAt(40.0), 1e-18);                 // peak
        assertEquals(2.4e-3 / 2, pretrain.lrAt(220.0), 1e-15);            // half way: cos(π/2) = 0
        assertEquals(2.4e-3 * 0.5 * (1 + Math.cos(Math.PI / 4)), pretrain.lrAt(130.0), 1e-15); // quarter
        assertEquals(0.0, pretrain.lrAt(400.0), 1e-18);                   // end
        CosineSchedule finetune = new CosineSchedule(4e-4, 1e-6, 5, 100);
        assertEquals(1e-6 + (4e-4 - 1e-6) * 0.5, finetune.lrAt(52.5), 1e-15);
        assertEquals(1e-6, finetune.lrAt(100.0), 1e-18);
    }

    @Test
    void noWarmupStartsAtThePeak() {
        CosineSchedule s = new CosineSchedule(1.0, 0.0, 0, 10);
        assertEquals(1.0, s.lrAt(0.0), 0.0);
        assertEquals(0.5, s.lrAt(5.0), 1e-15);
    }

    @Test
    void badScheduleArgumentsNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CosineSchedule(1e-3, 0, 10, 10));
        assertTrue(e.getMessage().contains("warmup_epochs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1e-3, 1e-2, 1, 10));
        assertTrue(e.getMessage().contains("min_lr"), e.getMessage());
    }

    @Test
    void accumulationOfTwoOverSevenIterations() {
        AccumulationSchedule s = new AccumulationSchedule(2, 7);
        assertEquals(List.of(0, 2, 4, 6), matching(7, s::setsLearningRate));
        assertEquals(List.of(1, 3, 5), matching(7, s::isStepBoundary));
        assertEquals(List.of(6), matching(7, s::isDiscarded)); // the trailing half group is never stepped
        assertEquals(3, s.optimizerStepsPerEpoch());
        assertEquals(0.5, s.lossScale(), 0.0);
    }

    @Test
    void accumulationOfThreeOverSevenIterations() {
        AccumulationSchedule s = new AccumulationSchedule(3, 7);
        assertEquals(List.of(0, 3, 6), matching(7, s::setsLearningRate));
        assertEquals(List.of(2, 5), matching(7, s::isStepBoundary));
        assertEquals(List.of(6), matching(7, s::isDiscarded));
        assertEquals(2, s.optimizerStepsPerEpoch());
        assertEquals(1.0 / 3, s.lossScale(), 0.0);
        assertEquals(5 + 3.0 / 7, s.fractionalEpoch(5, 3), 0.0);
    }

    @Test
    void noAccumulationStepsEveryIteration() {
        AccumulationSchedule s = new AccumulationSchedule(1, 7);
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), matching(7, s::isStepBoundary));
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), matching(7, s::setsLearningRate));
        assertEquals(List.of(), matching(7, s::isDiscarded));
    }

    @Test
    void everyStepBoundaryClosesAGroupThatSetTheLr() {
        for (int accum = 1; accum <= 5; accum++) {
            AccumulationSchedule s = new AccumulationSchedule(accum, 23);
            int lastLrSet = -1;
            for (int it = 0; it < 23; it++) {
                if (s.setsLearningRate(it)) {
                    lastLrSet = it;
                }
                if (s.isStepBoundary(it)) {
                    assertEquals(accum - 1, it - lastLrSet, "accum " + accum + " it " + it);
                }
            }
        }
    }

    private static List<Integer> matching(int n, java.util.function.IntPredicate p) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (p.test(i)) {
                out.add(i);
            }
        }
        return out;
    }
}
