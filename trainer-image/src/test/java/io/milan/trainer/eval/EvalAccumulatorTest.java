package io.milan.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Evaluation totals: per-batch accumulation, summing across ranks, best accuracy. */
class EvalAccumulatorTest {

    /** A top-k result whose rows are the given class lists. */
    private static TopK top(long[]... rows) {
        float[][] logits = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            logits[i] = new float[rows[i].length];
        }
        return new TopK(rows, logits);
    }

    @Test
    void sumsAcrossRanksEqualOneRankSeeingEverything() {
        long[] r0 = {0, 1, 2, 3, 4};
        long[] r1 = {1, 0, 4, 3, 2};
        long[] r2 = {4, 3, 2, 1, 0};
        // rank 0: two batches; rank 1: one batch
        EvalAccumulator rank0 = new EvalAccumulator();
        rank0.add(top(r0, r1), new long[] {0, 2}, 0.5); // hits@1: 1, hits@5: 2
        rank0.add(top(r2), new long[] {9}, 1.5); // hits: 0, 0
        EvalAccumulator rank1 = new EvalAccumulator();
        rank1.add(top(r2, r0, r1), new long[] {4, 4, 1}, 1.0); // hits@1: 2 (4, 1), hits@5: 3

        assertArrayEquals(new long[] {3, 1, 2, 2}, rank0.counts());
        EvalAccumulator all = rank0.plus(rank1);
        assertArrayEquals(new long[] {6, 3, 5, 3}, all.counts());
        // what an all-reduce of counts() and lossSum() gives
        long[] summed = new long[4];
        for (int i = 0; i < 4; i++) {
            summed[i] = rank0.counts()[i] + rank1.counts()[i];
        }
        EvalAccumulator reduced = EvalAccumulator.fromTotals(summed, rank0.lossSum() + rank1.lossSum());
        EvalAccumulator.Result r = reduced.result();
        assertEquals(50.0, r.acc1(), 1e-12);
        assertEquals(500.0 / 6, r.acc5(), 1e-12);
        assertEquals(1.0, r.loss(), 1e-12); // (0.5 + 1.5 + 1.0) / 3 batches, as the reference's loss meter
        assertEquals(6, r.samples());
        assertEquals(r, all.result());
        assertTrue(r.toString().contains("Acc@1 50.000"), r.toString());
    }

    @Test
    void emptyOrNonFiniteIsAnError() {
        assertThrows(IllegalStateException.class, () -> new EvalAccumulator().result());
        EvalAccumulator a = new EvalAccumulator();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> a.add(top(new long[] {0}), new long[] {0},
                Double.NaN)).getMessage().contains("NaN"));
        assertThrows(IllegalArgumentException.class, () -> EvalAccumulator.fromTotals(new long[3], 0));
    }

    @Test
    void bestAccuracyKeepsTheMaximumAndItsEpoch() {
        BestAccuracy best = new BestAccuracy();
        assertEquals(-1, best.epoch());
        assertTrue(best.update(0, 0.0), "the first epoch is the best so far, even at 0 %");
        assertTrue(best.update(1, 41.5));
        assertFalse(best.update(2, 40.0));
        assertFalse(best.update(3, 41.5), "a tie is not an improvement");
        assertTrue(best.update(4, 60.25));
        assertEquals(60.25, best.best());
        assertEquals(4, best.epoch());
        BestAccuracy resumed = new BestAccuracy(60.25, 4);
        assertFalse(resumed.update(5, 59.0));
        assertEquals(4, resumed.epoch());
        assertThrows(IllegalArgumentException.class, () -> best.update(5, 100.5));
    }
}
